"""What the registrar knows, back into the product (issue 19), with the real Kamailio:

a desk phone boots (fetches its config from the real server) and never REGISTERs: after the
limit (an injected clock) `never_registered` opens one incident; once it registers with the
credentials of its config, the next check resolves it. `registrations_for_tenant` says who
is registered, from where and with which app; a softphone account's User-Agent version goes
through the catalog check like a desk phone's.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from firmware_catalog import load_catalog
from provisioner.db.engine import make_engine, session_factory
from provisioner.registrar import KamailioLocation, check_registrations, kamailio_time, registrations_for_tenant
from provisioner.settings import Settings
from support_link.store.models import TicketRecord
from tests import config_credentials, kamailio
from tests.conftest import cli_json, fresh_database, run_cli, start_server, stop_server
from tests.phones import DESK_PHONES
from tests.sip_register import Credentials, register

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not kamailio.available(), reason="kamailio is not installed")]

PHONE = next(p for p in DESK_PHONES if p.catalog_key == "yealink-t21p")
OLD_SOFTPHONE_UA = "Yealink SIP-T21P 34.72.0.1"  # an account on no desk phone, registering with an old version


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[tuple[str, kamailio.Kamailio, bytes]]:
    registrar = kamailio.start(tmp_path / "kamailio")
    try:
        with fresh_database("sqlite", tmp_path) as url:
            cli_json(url, "tenant", "create", "Acme", "--slug", "acme", "--sip-server", "127.0.0.1",
                     "--sip-port", str(registrar.port))
            cli_json(url, "extension", "add", "--tenant", "acme", "--extension", "101", "--name", "Ana",
                     "--department", "Ventas", "--mac", PHONE.mac, "--model", PHONE.model_arg)
            cli_json(url, "extension", "add", "--tenant", "acme", "--extension", "150", "--name", "Soft")
            export = tmp_path / "subscriber.sql"
            run_cli(url, "pbx", "export", "--tenant", "acme", "--format", "kamailio", str(export))
            registrar.load_sql(export.read_text())
            [tenant] = cli_json(url, "tenant", "list")  # type: ignore[misc]
            server = start_server(url, tmp_path)
            try:
                key = tenant["option66_http"].rstrip("/").rsplit("/", 1)[-1]
                request = urllib.request.Request(f"{server.base}/prov/{key}/{PHONE.device_file()}",
                                                 headers={"User-Agent": PHONE.user_agent()})
                with urllib.request.urlopen(request, timeout=20) as response:  # the boot
                    config = response.read()
            finally:
                stop_server(server)  # flushes the sighting: phone_state now says when it fetched
            yield url, registrar, config
    finally:
        kamailio.stop(registrar)


def incidents(url: str) -> list[tuple[str, str, str]]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            rows = session.execute(select(TicketRecord.dedup_key, TicketRecord.status, TicketRecord.subject)).all()
            return [(str(k), str(s), str(subject)) for k, s, subject in rows]
    finally:
        engine.dispose()


def test_never_registered_opens_then_registering_resolves(world: tuple[str, kamailio.Kamailio, bytes]) -> None:
    url, registrar, config = world
    settings = Settings(database_url=url, registrar_db_url=f"sqlite:///{registrar.db}", never_registered_minutes=15)
    source = KamailioLocation(settings.registrar_db_url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    catalog = load_catalog()
    booted = datetime.now(UTC)
    try:
        early = check_registrations(sessions, settings, source, catalog, booted + timedelta(minutes=5))
        assert (early.opened, incidents(url)) == (0, [])  # within the limit: nothing to say yet
        late = check_registrations(sessions, settings, source, catalog, booted + timedelta(minutes=16))
        assert late.opened == 1
        [(key, status, subject)] = incidents(url)
        assert key.startswith("acme|never_registered|") and status == "new"
        assert subject.startswith("Teléfono aprovisionado que nunca se registró en la central")
        again = check_registrations(sessions, settings, source, catalog, booted + timedelta(minutes=17))
        assert (again.opened, len(incidents(url))) == (0, 1)  # deduplicated: still one incident

        [line] = config_credentials.yealink(config)
        assert register(line, PHONE.user_agent()).status == 200
        soft = Credentials(1, "acme-150", "acme-150", _password(url, "150"), "127.0.0.1", registrar.port, None)
        assert register(soft, OLD_SOFTPHONE_UA).status == 200
        now = booted + timedelta(minutes=20)  # after the incident (the injected clock); bindings last an hour
        with sessions() as session:
            statuses = {s.extension: s for s in registrations_for_tenant(session, "acme", settings, source, now)}
        assert statuses["101"].registered and statuses["101"].mac == PHONE.mac
        assert (statuses["101"].app, statuses["101"].version) == ("yealink T21P", PHONE.firmware)
        assert statuses["101"].contact is not None and statuses["101"].contact.startswith("sip:acme-101@127.0.0.1:")
        assert (statuses["150"].registered, statuses["150"].mac, statuses["150"].version) == (True, None, "34.72.0.1")

        registrar_env = {"PROVISIONER_REGISTRAR_DB_URL": settings.registrar_db_url}
        [device] = json_of(run_cli(url, "devices", "--json", env=registrar_env).stdout)
        assert (device["mac"], device["registered"]) == (PHONE.mac, True)
        assert "registrado" in run_cli(url, "devices", env=registrar_env).stdout
        listed = {row["extension"]: row for row in json_of(run_cli(url, "registrations", "list", "--tenant", "acme",
                                                                     "--json", env=registrar_env).stdout)}
        assert listed["150"]["registered"] and listed["150"]["user_agent"] == OLD_SOFTPHONE_UA
        assert "password" not in str(listed) and _password(url, "150") not in str(listed)

        resolved = check_registrations(sessions, settings, source, catalog, now + timedelta(minutes=1))
        assert resolved.resolved == 1
        tickets = {key.split("|")[1]: status for key, status, _ in incidents(url)}
        assert tickets["never_registered"] == "resolved"
        assert tickets["firmware_older"] == "new"  # the softphone's old version, judged by the catalog
    finally:
        source.close()
        engine.dispose()


def json_of(text: str) -> list[dict[str, object]]:
    import json

    return list(json.loads(text))


def _password(url: str, number: str) -> str:
    from provisioner.db.models import Extension

    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return str(session.scalar(select(Extension.sip_password).where(Extension.number == number)))
    finally:
        engine.dispose()


@pytest.mark.parametrize(("stored", "expected"), [
    (2461376.5, datetime(2026, 12, 2, 0, 0, tzinfo=UTC)),  # db_sqlite: a Julian day
    (datetime(2026, 12, 2, 5, 0), datetime(2026, 12, 2, 5, 0, tzinfo=UTC)),  # MySQL / PostgreSQL
    ("2026-12-02 05:00:00", datetime(2026, 12, 2, 5, 0, tzinfo=UTC)),
    (None, None),
])
def test_kamailio_expires_values(stored: object, expected: datetime | None) -> None:
    assert kamailio_time(stored) == expected
