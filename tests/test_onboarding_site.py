"""The kit and the board through their real adapters (issue 18): the CLI (`provisioner
onboarding`, `provisioner readiness`) and the installers' pages on a running server, on SQLite
and PostgreSQL. Phones boot over real HTTP; the board reads what the server recorded."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import insert

from provisioner.db.engine import make_engine, session_factory
from provisioner.db.models import Sighting, Tenant
from tests.conftest import RunningServer, cli_json, run_cli, start_server, stop_server
from tests.phones import DESK_PHONES
from tests.test_boot_e2e import http_get, wait_for

T21P = next(p for p in DESK_PHONES if p.catalog_key == "yealink-t21p")
GOOD, OLD, NEVER, STRANGER = "001565000a01", "001565000a02", "001565000a03", "001565000a04"
HOSTILE_NAME = "Acme <script>alert(1)</script> & Hijos"


@pytest.fixture(scope="module")
def site(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    url = module_database_url
    tenant = cli_json(url, "tenant", "create", HOSTILE_NAME, "--sip-server", "pbx.acme.example", "--slug", "acme")
    for number, mac in (("201", GOOD), ("202", OLD), ("203", NEVER)):
        run_cli(url, "extension", "add", "--tenant", "acme", "--extension", number, "--name", f"Persona {number}",
                "--mac", mac, "--model", "T21P")
    run_cli(url, "extension", "add", "--tenant", "acme", "--extension", "204", "--name", "Sin teléfono")
    cli_json(url, "user", "add", "inst", "--role", "installer", "--password", "clave-instalador-1")
    running = start_server(url, tmp_path_factory.mktemp("site"))
    try:
        yield running, tenant
    finally:
        stop_server(running)


def _boot(server: RunningServer, key: str, mac: str, firmware: str) -> int:
    colon = ":".join(mac[i:i + 2] for i in range(0, 12, 2))
    status, _ = http_get(f"{server.base}/prov/{key}/{mac}.cfg", f"Yealink SIP-T21P {firmware} {colon}")
    return status


def _group(board: dict, key: str) -> dict:  # type: ignore[type-arg]
    return next(g for g in board["groups"] if g["key"] == key)


def test_readiness_follows_the_phones(site) -> None:  # type: ignore[no-untyped-def]
    server, tenant = site
    url = server.database_url
    before = json.loads(run_cli(url, "readiness", "acme", "--json").stdout)
    assert (before["expected"], before["ready"], before["green"]) == (3, 0, False)
    assert _group(before, "never_seen")["macs"] == sorted([GOOD, OLD, NEVER])
    assert _group(before, "no_phone")["macs"] == ["204"]

    assert _boot(server, tenant["key"], GOOD, T21P.firmware) == 200
    assert _boot(server, tenant["key"], OLD, "34.72.0.20") == 200
    assert _boot(server, tenant["key"], STRANGER, T21P.firmware) == 404  # not assigned: waits
    board = wait_for(lambda: (b := json.loads(run_cli(url, "readiness", "acme", "--json").stdout))
                     and len(_group(b, "booted")["macs"]) == 2 and _group(b, "waiting")["macs"] and b)
    assert _group(board, "booted")["macs"] == [GOOD, OLD]
    assert _group(board, "firmware_ok")["macs"] == [GOOD] and _group(board, "firmware_bad")["macs"] == [OLD]
    assert _group(board, "lines_ok")["count"] == 2
    assert _group(board, "never_seen")["macs"] == [NEVER]
    assert _group(board, "waiting")["macs"] == [STRANGER]
    assert _group(board, "snmp_unknown")["count"] == 2 and board["ready"] == 0  # SNMP not polled yet
    assert _group(board, "registered")["count"] is None and _group(board, "registered")["status"] == "sin datos del PBX"

    # An SNMP poll answered by the good phone (the poller's own record of it; tests/test_snmp_e2e polls for real).
    engine = make_engine(url)
    with session_factory(engine).begin() as session:
        tenant_id = session.query(Tenant).filter_by(slug="acme").one().id
        session.execute(insert(Sighting), [
            {"tenant_id": tenant_id, "seen_at": seen_at, "protocol": "snmp", "source_ip": "127.0.0.1", "filename": "snmp:get",
             "served": True, "role": "snmp", "mac": mac, "certainty": 0, "findings": []}
            for mac, seen_at in ((GOOD, datetime.now(UTC)), (OLD, datetime.now(UTC) - timedelta(days=3)))  # OLD's is stale
        ])
    engine.dispose()
    board = json.loads(run_cli(url, "readiness", "acme", "--json").stdout)
    assert _group(board, "snmp_ok")["macs"] == [GOOD] and board["ready"] == 1 and board["percent"] == 33
    text = run_cli(url, "readiness", "acme").stdout
    assert "1/3" in text and "Qué hacer ahora:" in text and OLD in text and "sin datos del PBX" in text
    assert "registrado" not in text.lower().replace("registrados en el pbx", "")


def test_onboarding_cli(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, tenant = site
    url = server.database_url
    env = {"PROVISIONER_PUBLIC_URL": "https://prov.example.net"}
    text = run_cli(url, "onboarding", "acme", "--calls", "30", env=env).stdout
    option66 = f"https://prov.example.net/prov/{tenant['key']}/"
    assert f"`{option66}`" in text and "3000 kbps" in text
    assert "| 201 | Persona 201 |" in text and "| 204 | Sin teléfono | — | sin asignar |" in text
    kea = json.loads(run_cli(url, "onboarding", "acme", "--dhcp", "kea", "--subnet", "10.9.8.0/24", env=env).stdout)
    assert kea["Dhcp4"]["subnet4"][0]["subnet"] == "10.9.8.0/24"
    html = run_cli(url, "onboarding", "acme", "--format", "html", env=env).stdout
    assert html.startswith("<!doctype html>") and option66 in html
    assert "<script>" not in html and "&lt;script&gt;" in html  # the tenant's name is text, not markup
    # The operator's own rules file replaces the packaged one; a broken one is one clear line.
    rules = tmp_path / "reglas.toml"
    rules.write_text('[[rule]]\nservice = "SBC"\nprotocol = "UDP"\nports = "5080"\ndestinations = ["sbc.operador.example"]\n')
    text = run_cli(url, "onboarding", "acme", env={**env, "PROVISIONER_FIREWALL_RULES_FILE": str(rules)}).stdout
    assert "| SBC | UDP | 5080 | sbc.operador.example | saliente |" in text and "10000-60000" not in text
    rules.write_text('[[rule]]\nservice = "SBC"\nprotocol = "ICMP"\n')
    failed = run_cli(url, "onboarding", "acme", env={**env, "PROVISIONER_FIREWALL_RULES_FILE": str(rules)}, check=False)
    assert failed.returncode == 1 and "regla 1: 'protocol'" in failed.stderr and "Traceback" not in failed.stderr
    for args in (("onboarding", "nadie"), ("readiness", "nadie"), ("onboarding", "acme", "--subnet", "10.0.0.1/24")):
        failed = run_cli(url, *args, check=False)
        assert failed.returncode == 1 and failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr, failed.stderr


async def _installer(server: RunningServer) -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(server.base, cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.post("/login", data={"username": "inst", "password": "clave-instalador-1"}) as response:
        assert response.status == 200
    return session


async def test_installer_pages(site) -> None:  # type: ignore[no-untyped-def]
    server, tenant = site
    session = await _installer(server)
    try:
        async with session.get("/tenants") as response:
            page = await response.text()
        assert response.status == 200 and 'href="/tenants/acme/onboarding"' in page and "<script>alert" not in page
        async with session.get("/tenants/acme/onboarding", params={"calls": "7", "subnet": "10.1.2.0/24"}) as response:
            page = await response.text()
        assert response.status == 200
        assert f"/prov/{tenant['key']}/" in page and "700 kbps" in page
        assert re.search(r'<pre id="dhcp-dnsmasq">[^<]*dhcp-range=10\.1\.2\.100', page)
        assert "set default-voip-alg-mode kernel-helper-based" in page and "&lt;script&gt;" in page
        for bad in ({"calls": "0"}, {"calls": "muchas"}, {"subnet": "10.0.0.1/24"}):
            async with session.get("/tenants/acme/onboarding", params=bad) as response:
                assert response.status == 422 and "Traceback" not in await response.text(), bad
        async with session.get("/tenants/nadie/onboarding") as response:
            assert response.status == 404
        async with session.get("/tenants/acme/readiness") as response:
            page = await response.text()
        assert response.status == 200 and '<progress id="progress"' in page and "sin datos del PBX" in page
        assert 'id="group-never_seen"' in page and NEVER in page
    finally:
        await session.close()
