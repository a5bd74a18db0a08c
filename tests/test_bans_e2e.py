"""Miss budget and bans against a running `provisioner serve` (issue 20 items 3 and 4), on
SQLite and PostgreSQL: each "address" is a loopback source address of its own (127.0.0.x).

    2,000 known phones of every vendor booting at once from one address   never banned
    200 made-up MACs from one undeclared address                          banned: then 404 for a
                                                                          real MAC (HTTP and TFTP),
                                                                          listed and lifted by the CLI
    the same from a declared network                                      never banned
    5,000 made-up MACs and firmware strings from a declared network       at most 200 waiting phones,
                                                                          one ticket per (kind, model)
"""

from __future__ import annotations

import asyncio
import csv
import http.client
import random
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from provisioner.db.engine import make_engine, session_factory
from provisioner.db.models import Sighting
from tests.conftest import RunningServer, cli_json, run_cli, start_server, stop_server
from tests.phones import DESK_PHONES, SimPhone
from tests.test_boot_e2e import wait_for

PHONES = 2000
GUESSER, NEIGHBOUR, SITE, SITE_NETWORK = "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.0/29"
OUI = {"polycom": "0004f2", "grandstream": "000b82", "yealink": "001565"}
SERVER_ENV = {"PROVISIONER_BAN_SYNC_SECONDS": "0.2"}


def fleet() -> list[SimPhone]:
    """PHONES phones, every homologated model in turn, each with a MAC of its vendor's OUI."""
    phones = []
    for index in range(PHONES):
        model = DESK_PHONES[index % len(DESK_PHONES)]
        mac = f"{OUI[model.vendor]}{0xA00000 + index:06x}"
        phones.append(SimPhone(model.catalog_key, model.model_arg, mac, model.firmware, model.lines))
    return phones


FLEET = fleet()


@pytest.fixture(scope="module")
def deployed(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    database_url = module_database_url
    tenant = cli_json(database_url, "tenant", "create", "Muchos Teléfonos S.A.S.", "--sip-server", "pbx.example.net")
    listing = tmp_path_factory.mktemp("listing") / "extensiones.csv"
    with listing.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["extension", "name", "department", "mac", "model", "line"])
        for index, phone in enumerate(FLEET):
            writer.writerow([str(20000 + index), f"Persona {index}", "Ventas", phone.mac, phone.model_arg, "1"])
    run_cli(database_url, "import", "extensions", str(listing), "--tenant", tenant["slug"])
    server = start_server(database_url, tmp_path_factory.mktemp("server"), extra_env=SERVER_ENV)
    try:
        yield server, tenant
    finally:
        stop_server(server)


def get(server: RunningServer, path: str, source: str, user_agent: str | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", path, headers={"User-Agent": user_agent} if user_agent else {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def tftp_ok(server: RunningServer, path: str, source: str, dest: Path) -> bool:
    result = subprocess.run(
        ["curl", "-s", "--max-time", "10", "--interface", source, f"tftp://127.0.0.1:{server.tftp_port}/{path}",
         "-o", str(dest)], capture_output=True, timeout=30,
    )
    return result.returncode == 0


def bans(server: RunningServer) -> list[dict[str, object]]:
    return cli_json(server.database_url, "security", "bans")  # type: ignore[return-value]


def random_mac(rng: random.Random, oui: str = "02a0c9") -> str:
    return oui + f"{rng.randrange(0x800000):06x}"  # below the fleet's MACs


def test_two_thousand_known_phones_booting_at_once_from_one_address_are_never_banned(deployed) -> None:
    server, tenant = deployed
    base = f"{server.base}/prov/{tenant['key']}/"

    async def boot_all() -> list[tuple[str, int, bool]]:
        connector = aiohttp.TCPConnector(limit=100, local_addr=("127.0.0.2", 0))
        async with aiohttp.ClientSession(connector=connector) as session:
            async def boot(phone: SimPhone) -> list[tuple[str, int, bool]]:
                answers = []
                for filename, phase, must_serve in phone.boot_files():  # in the phone's own order
                    async with session.get(base + filename, headers={"User-Agent": phone.user_agent(phase=phase)}) as response:
                        await response.read()
                        answers.append((filename, response.status, must_serve))
                return answers

            return [answer for phone in await asyncio.gather(*map(boot, FLEET)) for answer in phone]

    answers = asyncio.run(boot_all())
    not_found = [name for name, status, must_serve in answers if not must_serve]
    assert len(not_found) > 50 * 10  # the names their firmware asks for and we answer 404: far past the budget
    assert [(name, status) for name, status, must_serve in answers if status != (200 if must_serve else 404)] == []
    time.sleep(1)  # a few syncs: a ban would be stored by now
    assert bans(server) == []
    assert "security ban" not in server.log()


def test_an_address_guessing_macs_is_banned_then_listed_and_lifted_by_the_cli(deployed, tmp_path: Path) -> None:
    server, tenant = deployed
    rng = random.Random(3)
    real = FLEET[7]
    for _ in range(200):
        assert get(server, f"/prov/{tenant['key']}/{random_mac(rng)}.cfg", GUESSER) == 404
    # Banned: its real phone's config is 404 too, over HTTP and TFTP; another address gets it.
    device_path = f"/prov/{tenant['key']}/{real.device_file()}"
    assert get(server, device_path, GUESSER, real.user_agent()) == 404
    assert not tftp_ok(server, f"{tenant['key']}/{real.device_file()}", GUESSER, tmp_path / "banned")
    assert get(server, device_path, NEIGHBOUR, real.user_agent()) == 200
    assert tftp_ok(server, f"{tenant['key']}/{real.device_file()}", NEIGHBOUR, tmp_path / "neighbour")
    assert f"security ban ip={GUESSER} tenant={tenant['slug']} misses=51 " in server.log()
    assert tenant["key"] not in server.log()
    listed = wait_for(lambda: [ban for ban in bans(server) if ban["ip"] == GUESSER], timeout=10)
    assert listed and listed[0]["tenant"] == tenant["slug"] and listed[0]["misses"] == 51
    # Nothing the banned address sent was recorded (its real phone's request neither).
    engine = make_engine(server.database_url)
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Sighting).where(Sighting.source_ip == GUESSER)) == 0
    engine.dispose()
    # Lifted through the console script: the server serves it again within a few seconds.
    assert "lifted" in run_cli(server.database_url, "security", "unban", GUESSER).stdout
    assert wait_for(lambda: get(server, device_path, GUESSER, real.user_agent()) == 200, timeout=10)
    assert bans(server) == []
    refused = run_cli(server.database_url, "security", "unban", GUESSER, check=False)
    assert refused.returncode == 1 and f"{GUESSER} is not banned" in refused.stderr
    refused = run_cli(server.database_url, "security", "unban", "not-an-address", check=False)
    assert refused.returncode == 1 and "'not-an-address' is not an IP address" in refused.stderr


def test_a_declared_network_is_never_banned(deployed) -> None:
    server, tenant = deployed
    declared = cli_json(server.database_url, "tenant", "set", tenant["slug"], "--networks", SITE_NETWORK)
    assert declared == {"slug": tenant["slug"], "networks": [SITE_NETWORK]}
    time.sleep(1)  # every process reads the declared networks within a few syncs
    rng = random.Random(5)
    for _ in range(200):
        assert get(server, f"/prov/{tenant['key']}/{random_mac(rng)}.cfg", SITE) == 404
    real = FLEET[3]
    assert get(server, f"/prov/{tenant['key']}/{real.device_file()}", SITE, real.user_agent()) == 200
    assert [ban for ban in bans(server) if ban["ip"] == SITE] == []
    assert f"security ban ip={SITE}" not in server.log()


@pytest.mark.parametrize(
    ("networks", "message"),
    [
        ("190.24.10.0/24,10.0.0.0/33", "'10.0.0.0/33' is not a network (example: 190.24.10.0/24)"),
        ("0.0.0.0/0", "0.0.0.0/0 is too wide (at most /8)"),
        ("2001:db8::/16", "2001::/16 is too wide (at most /32)"),
    ],
)
def test_tenant_set_refuses_what_is_not_a_site_network(deployed, networks: str, message: str) -> None:
    server, tenant = deployed
    refused = run_cli(server.database_url, "tenant", "set", tenant["slug"], "--networks", networks, check=False)
    assert refused.returncode == 1 and message in refused.stderr, refused.stderr
    unknown = run_cli(server.database_url, "tenant", "set", "nadie", "--networks", "190.24.10.0/24", check=False)
    assert unknown.returncode == 1 and "no tenant with slug 'nadie'" in unknown.stderr


WAITING_MODELS = [phone for phone in DESK_PHONES if phone.catalog_key in ("yealink-t21p", "grandstream-gxp1620", "polycom-vvx600")]


def test_made_up_macs_and_firmware_from_a_declared_network_record_at_most_200_waiting_phones(deployed) -> None:
    server, _ = deployed
    tenant = cli_json(server.database_url, "tenant", "create", "Inventos S.A.S.", "--sip-server", "pbx.example.net")
    run_cli(server.database_url, "tenant", "set", tenant["slug"], "--networks", SITE_NETWORK)
    time.sleep(1)
    rng = random.Random(9)

    def made_up(index: int) -> tuple[str, str]:
        """A MAC of the model's vendor and its UA with a made-up firmware; every fifth a MAC of
        another vendor's OUI (never recorded)."""
        model = WAITING_MODELS[index % len(WAITING_MODELS)]
        vendor = model.vendor if index % 5 else "polycom" if model.vendor != "polycom" else "yealink"
        firmware = f"{rng.randrange(1, 99)}.{rng.randrange(99)}.{rng.randrange(99)}.{rng.randrange(9999)}"
        phone = SimPhone(model.catalog_key, model.model_arg, random_mac(rng, OUI[vendor]), firmware, model.lines)
        return f"/prov/{tenant['key']}/{phone.device_file()}", phone.user_agent(firmware)

    requests = [made_up(index) for index in range(5000)]

    async def send_all() -> list[int]:
        connector = aiohttp.TCPConnector(limit=100, local_addr=("127.0.0.6", 0))
        async with aiohttp.ClientSession(connector=connector) as session:
            async def send(path: str, user_agent: str) -> int:
                async with session.get(server.base + path, headers={"User-Agent": user_agent}) as response:
                    await response.read()
                    return response.status

            return await asyncio.gather(*(send(*request) for request in requests))

    assert set(asyncio.run(send_all())) <= {200, 404}  # Polycom's <mac>.cfg is its master file: 200

    def waiting() -> list[dict[str, object]]:
        return cli_json(server.database_url, "devices", "--waiting", "--tenant", tenant["slug"])  # type: ignore[return-value]

    assert wait_for(lambda: len(waiting()) == 200, timeout=20), len(waiting())
    time.sleep(2)
    assert len(waiting()) == 200
    assert all(row["vendor"] == {"0004f2": "polycom", "000b82": "grandstream", "001565": "yealink"}[str(row["mac"])[:6]]
               for row in waiting())

    def tickets() -> list[dict[str, object]]:
        rows = cli_json(server.database_url, "tickets", "list", "--account", tenant["slug"])
        return rows if rows and sum(len(row["devices"]) for row in rows) >= 200 else []  # type: ignore[index, arg-type]

    rows = wait_for(tickets, timeout=60)
    assert rows, cli_json(server.database_url, "tickets", "list", "--account", tenant["slug"])
    keys = [str(row["dedup_key"]) for row in rows]
    assert len(keys) == len(set(keys)) and all(key.endswith("|*") for key in keys), keys
    assert len({(row["finding"], key.split("|")[2]) for row, key in zip(rows, keys)}) == len(rows)
    assert len(rows) <= 3 * len(WAITING_MODELS)  # older, newer, unknown per model at most
    firmware_ticket = next(row for row in rows if str(row["finding"]).startswith("firmware"))
    shown = cli_json(server.database_url, "tickets", "show", str(firmware_ticket["id"]))
    versions = sorted({device["evidence"]["seen"] for device in shown["affected_devices"]})  # type: ignore[index]
    assert len(versions) > 8
    assert f"versiones {', '.join(versions[:8])} y {len(versions) - 8} más" in str(shown["subject"]), shown["subject"]  # type: ignore[index]
