"""End to end (issue 18): a 200-phone firmware campaign against the real server, on SQLite and
PostgreSQL, with a clock the test sets.

The server runs in this process (aiohttp on loopback, its TFTP server too) with an injected
clock; `provisioner firmware add` and `firmware campaign create` run as the real CLI; notices go
to a real SMTP server on loopback (aiosmtpd). Simulated Yealink T21P phones really follow what
their config says: boot (common file, MAC file) with their User-Agent, and when the MAC file
carries `firmware.url`, fetch that image over HTTP (or TFTP with curl, every 50th phone), check
its size and SHA-256 against what the store recorded, "reboot" and boot again with the new
version in their User-Agent. One phone fetches the image and never comes back.

    test_campaign_runs_inside_the_window: announced (mail), reminder the day before, nothing
        before 19:00, the canary (10 of 200) then the rest, the failing phone judged failed at its
        deadline, done before 05:00, and the firmware incident of the upgraded phones resolves
        through the existing recovery path (the phone that never came back stays on it).
    test_campaign_halts_past_the_failure_share: the same campaign where 3 of the 10 canary
        phones never come back halts, opens an incident with them, and the rest never get an
        instruction.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from firmware_catalog import load_catalog
from provisioner import admin, campaign_store
from provisioner.campaigns import BOGOTA
from provisioner.db.models import CampaignPhone, FirmwareCampaign, PhoneState
from provisioner.server import TFTP, build_core, create_app
from provisioner.settings import Settings
from support_link.store import affected_devices, tickets
from support_link.store.models import TicketRecord
from tests.conftest import cli_json, free_port, run_cli
from tests.phones import parse
from tests.test_support_mail import start_smtp

pytestmark = pytest.mark.slow

PHONES = 200
OLD, TARGET = "34.72.0.1", "34.72.0.75"
IMAGE_NAME = f"{TARGET}.rom"
CONTACT = "it@acme.example.co"
SENDER = "mantenimiento@pbx.example.co"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)  # as the server's own clock: datetime.now(UTC)


def bogota(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BOGOTA)


@dataclass
class SimPhone:
    """A Yealink T21P that does what its config says."""

    mac: str
    version: str = OLD
    comes_back: bool = True
    over_tftp: bool = False
    gone: bool = False  # fetched the image and never came back
    images: list[str] = field(default_factory=list)  # firmware URLs it was pointed at

    def user_agent(self) -> str:
        return f"Yealink SIP-T21P {self.version} " + ":".join(self.mac[i:i + 2] for i in range(0, 12, 2))

    async def boot(self, env: Env) -> None:
        """One boot: both files; follow a firmware instruction (then reboot: boot again)."""
        if self.gone:
            return
        headers = {"User-Agent": self.user_agent()}
        async with env.http.get(env.base + "y000000000034.cfg", headers=headers) as response:
            assert response.status == 200
            assert "firmware.url" not in parse("yealink", await response.read())  # a shared file never points
        async with env.http.get(env.base + f"{self.mac}.cfg", headers=headers) as response:
            assert response.status == 200
            url = parse("yealink", await response.read()).get("firmware.url")
        if url is None:
            return
        self.images.append(url)
        if url.rsplit("/", 1)[-1].removesuffix(".rom") == self.version:
            return  # already running that image: a phone does not flash it again
        assert url == env.base + IMAGE_NAME, url
        image = await (self._tftp(env) if self.over_tftp else self._http(env, url))
        # The phone checks what it got before flashing it.
        assert len(image) == env.image_size and hashlib.sha256(image).hexdigest() == env.image_sha256
        if not self.comes_back:
            self.gone = True
            return
        self.version = IMAGE_NAME.removesuffix(".rom")  # flashed; reboots
        await self.boot(env)

    async def _http(self, env: Env, url: str) -> bytes:
        async with env.http.get(url, headers={"User-Agent": self.user_agent()}) as response:
            assert response.status == 200
            return await response.read()

    async def _tftp(self, env: Env) -> bytes:
        dest = env.folder / f"tftp-{self.mac}.rom"
        process = await asyncio.create_subprocess_exec(
            "curl", "-s", "-S", "--max-time", "30", f"tftp://127.0.0.1:{env.tftp_port}/{env.key}/{IMAGE_NAME}",
            "-o", str(dest))
        assert await process.wait() == 0
        return dest.read_bytes()


@dataclass
class Env:
    http: aiohttp.ClientSession
    base: str
    key: str
    tftp_port: int
    folder: Path
    image_sha256: str = ""
    image_size: int = 0


async def boot_all(env: Env, phones: list[SimPhone]) -> None:
    limit = asyncio.Semaphore(40)

    async def one(phone: SimPhone) -> None:
        async with limit:
            await phone.boot(env)

    await asyncio.gather(*(one(phone) for phone in phones))


async def wait_until(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await asyncio.to_thread(check)
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def mac_of(index: int) -> str:
    return f"001565{index:06x}"


def campaign_day() -> date:
    """12 days from today in Bogota: the CLI checks the notice period against the real date."""
    return datetime.now(BOGOTA).date() + timedelta(days=12)


def deploy(sessions, slug: str, first: int) -> tuple[str, list[SimPhone]]:  # type: ignore[no-untyped-def]
    catalog = load_catalog()
    with sessions.begin() as session:
        tenant = admin.create_tenant(session, f"Acme {slug}", "pbx.acme.example.net", slug=slug,
                                     contact_name="Laura Gómez", contact_email=CONTACT)
        for index in range(PHONES):
            admin.add_extension(session, catalog, tenant, str(2000 + index), f"Empleado {index}",
                                department=f"Piso {index % 4}", assignment=admin.Assignment(mac_of(first + index), "T21P", 1))
        key = tenant.provisioning_key
    return key, [SimPhone(mac_of(first + index), over_tftp=index % 50 == 7) for index in range(PHONES)]


def run_campaign(database_url: str, tmp_path: Path, scenario: Callable[..., Any]) -> None:
    smtp = start_smtp()
    http_port = free_port()
    firmware = tmp_path / "firmware"
    settings = Settings(
        database_url=database_url, host="127.0.0.1", http_port=http_port, tftp_port=0, snmp_enabled=False,
        firmware_dir=str(firmware), intake_process=0, campaign_tick_seconds=0, cache_check_seconds=0.05,
        sighting_flush_seconds=0.1, intake_max_hold_seconds=0.5, smtp_host="127.0.0.1", smtp_port=smtp.port,
        smtp_sender=SENDER, support_job_seconds=3600,
        db_timeout_seconds=15,  # a new tenant's first read can pass 2 s on a loaded 2-core machine: a 404 then is no campaign fault
    )
    core = build_core(settings, migrate=False)
    day = campaign_day()
    clock = Clock(bogota(day - timedelta(days=12), 10))
    cli_env = {"PROVISIONER_FIRMWARE_DIR": str(firmware), "PROVISIONER_SMTP_HOST": "127.0.0.1",
               "PROVISIONER_SMTP_PORT": str(smtp.port), "PROVISIONER_SMTP_SENDER": SENDER}

    async def serve() -> None:
        app = create_app(settings, core, clock=clock)
        server = TestServer(app, host="127.0.0.1", port=http_port)
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as http:
                await scenario(http=http, app=app, core=core, settings=settings, clock=clock, day=day, smtp=smtp,
                               cli_env=cli_env, folder=tmp_path)
        finally:
            await server.close()

    try:
        asyncio.run(serve())
    finally:
        smtp.controller.stop()
        core.sessions.kw["bind"].dispose()


async def prepare(http, app, core, settings, clock, day, smtp, cli_env, folder, slug: str, first: int):  # type: ignore[no-untyped-def]
    """Deploy 200 phones on the old firmware (they raise the firmware incident), upload the image,
    create the campaign with the real CLI: returns (env, phones, campaign id, incident id)."""
    key, phones = await asyncio.to_thread(deploy, core.sessions, slug, first)
    env = Env(http, f"{settings.base_url}/prov/{key}/", key, app[TFTP].port, folder)
    await boot_all(env, phones)
    assert not any(phone.images for phone in phones)  # no campaign: no instruction, image or not
    incident = await wait_until(lambda: _firmware_incident(core.sessions, slug, PHONES), "the firmware incident")
    rom = folder / IMAGE_NAME
    rom.write_bytes(os.urandom(300_000))
    added = await asyncio.to_thread(cli_json_env, settings.database_url, cli_env, "firmware", "add", str(rom), "--model", "T21P")
    assert added == {"name": IMAGE_NAME, "model": "yealink-t21p", "version": TARGET,
                     "sha256": hashlib.sha256(rom.read_bytes()).hexdigest(), "size": 300_000}
    env.image_sha256, env.image_size = added["sha256"], added["size"]
    # The server looks in its firmware folder every few seconds: wait until it has seen the image, or
    # a fast run instructs phones while the image is still "missing" (and rightly points them nowhere).
    await wait_until(lambda: core.service.firmware.has(IMAGE_NAME), "the server to see the image")
    await boot_all(env, phones)
    assert not any(phone.images for phone in phones)  # the image is in the folder: still no instruction
    created = await asyncio.to_thread(
        cli_json_env, settings.database_url, cli_env, "firmware", "campaign", "create", "--tenant", slug, "--model", "T21P",
        "--date", day.isoformat())
    assert created["state"] == "announced" and created["target"] == TARGET and created["direction"] == "upgrade"
    assert sorted(p["wave"] for p in created["phones"]).count(1) == 10  # canary: 5 % of 200
    return env, phones, created["id"], incident


def cli_json_env(database_url: str, env: dict[str, str], *args: str) -> Any:
    import json

    return json.loads(run_cli(database_url, *args, "--json", env=env).stdout)


def _firmware_incident(sessions, slug: str, phones: int) -> int | None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        ticket_id = session.scalar(select(TicketRecord.id).where(TicketRecord.account == slug,
                                                                 TicketRecord.finding == "firmware_older"))
        if ticket_id is None:
            return None
        total, _active = affected_devices.device_counts(session, ticket_id)
        return ticket_id if total == phones else None


def _reported(sessions, macs: list[str], version: str) -> bool:  # type: ignore[no-untyped-def]
    with sessions() as session:
        count = len(session.scalars(select(PhoneState.mac).where(PhoneState.mac.in_(macs), PhoneState.firmware == version)).all())
    return count == len(macs)


def _phones_by_state(sessions, campaign_id: int) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    states: dict[str, list[str]] = {}
    with sessions() as session:
        for mac, state in session.execute(select(CampaignPhone.mac, CampaignPhone.state)
                                          .where(CampaignPhone.campaign_id == campaign_id)):
            states.setdefault(state, []).append(mac)
    return states


def _state(sessions, campaign_id: int) -> str:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.get(FirmwareCampaign, campaign_id).state


async def tick(core, settings, clock: Clock, when: datetime):  # type: ignore[no-untyped-def]
    clock.now = when
    report = await asyncio.to_thread(campaign_store.tick, core.sessions, settings.firmware_path, when,
                                     settings.campaign_mail())
    await asyncio.to_thread(core.campaigns.refresh)
    return report


def wave(phones: list[SimPhone], macs: list[str]) -> list[SimPhone]:
    wanted = set(macs)
    return [phone for phone in phones if phone.mac in wanted]


def test_campaign_runs_inside_the_window(database_url: str, tmp_path: Path) -> None:
    async def scenario(http, app, core, settings, clock, day, smtp, cli_env, folder):  # type: ignore[no-untyped-def]
        env, phones, campaign_id, incident = await prepare(http, app, core, settings, clock, day, smtp, cli_env, folder,
                                                           "acme", 0x100)
        # Announced at creation: date, window, what changes, to the tenant's contact.
        assert [message["To"] for message in smtp.inbox.messages] == [CONTACT]
        announcement = smtp.inbox.messages[0].get_content()
        assert day.isoformat() in announcement and "19:00" in announcement and "05:00" in announcement
        assert f"200 teléfono(s) T21P a la versión {TARGET}" in announcement
        # The day before: the reminder. Before 19:00 on the day: nothing for any phone.
        await tick(core, settings, clock, bogota(day - timedelta(days=1), 19, 30))
        assert [str(m["Subject"]).strip().split(":")[0] for m in smtp.inbox.messages] == ["Anuncio de mantenimiento",
                                                                                   "Recordatorio de mantenimiento"]
        report = await tick(core, settings, clock, bogota(day, 18, 59))
        assert report.instructed == 0
        await boot_all(env, phones)
        assert not any(phone.images for phone in phones)
        # 19:00: the canary.
        report = await tick(core, settings, clock, bogota(day, 19, 0))
        states = await asyncio.to_thread(_phones_by_state, core.sessions, campaign_id)
        canary = states["instructed"]
        assert report.instructed == len(canary) == 10
        failing = wave(phones, states["pending"])[-1]
        failing.comes_back = False
        clock.now = bogota(day, 19, 2)
        await boot_all(env, phones)
        assert {phone.mac for phone in phones if phone.images} == set(canary)
        await wait_until(lambda: _reported(core.sessions, canary, TARGET), "the canary back on the target")
        # The canary is back: the rest.
        report = await tick(core, settings, clock, bogota(day, 19, 10))
        assert report.done == 10 and report.instructed == 190
        clock.now = bogota(day, 19, 12)
        await boot_all(env, phones)
        upgraded = [phone.mac for phone in phones if phone.version == TARGET]
        assert len(upgraded) == 199 and failing.gone and failing.images
        await wait_until(lambda: _reported(core.sessions, upgraded, TARGET), "the rest back on the target")
        report = await tick(core, settings, clock, bogota(day, 19, 20))
        assert report.done == 189 and report.failed == 0
        # The phone that never came back fails at its deadline (30 min); the campaign is done.
        report = await tick(core, settings, clock, bogota(day, 19, 41))
        assert report.failed == 1
        view = await asyncio.to_thread(_view, core.sessions, campaign_id, clock.now)
        assert view["state"] == "done" and view["counts"]["done"] == 199 and view["counts"]["failed"] == 1
        assert [p["mac"] for p in view["phones"] if p["state"] == "failed"] == [failing.mac]
        assert clock.now < bogota(day + timedelta(days=1), 5, 0)
        # Done: no phone is pointed at the image any more (none would be outside the window either).
        for phone in phones:
            phone.images.clear()
        await boot_all(env, phones)
        assert not any(phone.images for phone in phones)
        # The firmware incident: every upgraded phone recovered through the intake; the one that
        # never came back is the only one left on it.
        def recovered() -> bool:
            with core.sessions() as session:
                return affected_devices.device_counts(session, incident) == (PHONES, 1)
        await wait_until(recovered, "the upgraded phones' recovery")
        # The campaign and its notices on the tenant's tickets, as a requirement.
        with core.sessions() as session:
            stored = tickets.get(session, view["ticket"])
        assert stored.ticket.type == "requirement" and stored.account == "acme"
        notes = [event.note or "" for event in stored.events]
        assert any(note.startswith("Anuncio de mantenimiento enviado a " + CONTACT) for note in notes)
        assert any(note.startswith("Recordatorio de mantenimiento enviado") for note in notes)
        assert any(note.startswith("Campaña terminada") for note in notes)
        # The progress page, for an installer too (read only).
        await asyncio.to_thread(_user, core.sessions, "instalador1", "installer", "clave-instalador-1")
        site = f"{settings.base_url}"
        async with aiohttp.ClientSession(site, cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            async with browser.post("/login", data={"username": "instalador1", "password": "clave-instalador-1"}) as response:
                assert response.status == 200
            async with browser.get(f"/campaigns/{campaign_id}") as response:
                page = await response.text()
                assert response.status == 200
            assert "Terminada" in page and failing.mac in page and "Falló" in page and "Actualizado: 199" in page
            async with browser.get("/campaigns") as response:
                assert response.status == 200 and f'href="/campaigns/{campaign_id}"' in await response.text()
        # `campaign show` prints it for the operator.
        shown = await asyncio.to_thread(run_cli, settings.database_url, "firmware", "campaign", "show", str(campaign_id))
        assert "Terminada" in shown.stdout and failing.mac in shown.stdout

    run_campaign(database_url, tmp_path, scenario)


def _user(sessions, username: str, role: str, password: str) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        admin.create_user(session, username, role, password)


def _view(sessions, campaign_id: int, now: datetime) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return campaign_store.campaign_view(session, campaign_id, now)


def test_campaign_halts_past_the_failure_share(database_url: str, tmp_path: Path) -> None:
    async def scenario(http, app, core, settings, clock, day, smtp, cli_env, folder):  # type: ignore[no-untyped-def]
        env, phones, campaign_id, _incident = await prepare(http, app, core, settings, clock, day, smtp, cli_env, folder,
                                                            "beta", 0x900)
        await tick(core, settings, clock, bogota(day, 19, 0))
        canary = (await asyncio.to_thread(_phones_by_state, core.sessions, campaign_id))["instructed"]
        silent = wave(phones, canary)[:3]
        for phone in silent:
            phone.comes_back = False
        clock.now = bogota(day, 19, 1)
        await boot_all(env, phones)
        back = [mac for mac in canary if mac not in {p.mac for p in silent}]
        await wait_until(lambda: _reported(core.sessions, back, TARGET), "7 canary phones back")
        report = await tick(core, settings, clock, bogota(day, 19, 5))
        assert report.done == 7 and report.instructed == 0  # the rest waits for the canary
        # 30 minutes on: 3 of 10 (30 %) failed > 20 %: halted, incident opened, the rest never told.
        report = await tick(core, settings, clock, bogota(day, 19, 31))
        assert report.halted == 1 and report.failed == 3
        view = await asyncio.to_thread(_view, core.sessions, campaign_id, clock.now)
        assert view["state"] == "halted" and "3 de 10" in view["halted_because"]
        assert view["counts"]["skipped"] == 190
        with core.sessions() as session:
            incident = tickets.get(session, view["incident"])
        assert incident.ticket.type == "incident" and incident.account == "beta"
        assert sorted(device.device for device in incident.devices) == sorted(p.mac for p in silent)
        await boot_all(env, phones)
        assert sum(1 for phone in phones if phone.images) == 10  # only the canary was ever pointed at it
        assert _state(core.sessions, campaign_id) == "halted"

    run_campaign(database_url, tmp_path, scenario)
