"""The readiness board says "registrado" from the PBX's own registrar (issues 18 + 19), with the
real Kamailio: two phones boot from the real server, one REGISTERs with the credentials of the
config it was served, and the board (CLI and page) says one registered, one not, and turns
green only when the second one registers too. Without a registrar the board keeps saying
"sin datos del PBX" (tests/test_onboarding_site.py)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests import config_credentials, kamailio
from tests.conftest import RunningServer, cli_json, fresh_database, run_cli, start_server, stop_server
from tests.phones import DESK_PHONES, SimPhone
from tests.sip_register import register
from tests.test_boot_e2e import wait_for as _wait_for

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not kamailio.available(), reason="kamailio is not installed")]

FIRST = next(p for p in DESK_PHONES if p.catalog_key == "yealink-t21p")
SECOND = next(p for p in DESK_PHONES if p.catalog_key == "yealink-t19p")


class Site:
    def __init__(self, url: str, server: RunningServer, registrar: kamailio.Kamailio, env: dict[str, str],
                 configs: dict[str, bytes]) -> None:
        self.url, self.server, self.registrar, self.env, self.configs = url, server, registrar, env, configs

    def board(self) -> dict[str, Any]:
        return dict(json.loads(run_cli(self.url, "readiness", "acme", "--json", env=self.env).stdout))


def _boot(server: RunningServer, key: str, phone: SimPhone) -> bytes:
    request = urllib.request.Request(f"{server.base}/prov/{key}/{phone.device_file()}",
                                     headers={"User-Agent": phone.user_agent()})
    with urllib.request.urlopen(request, timeout=20) as response:  # nosec B310 - the test's own loopback server
        return bytes(response.read())


@pytest.fixture()
def site(tmp_path: Path) -> Iterator[Site]:
    registrar = kamailio.start(tmp_path / "kamailio")
    try:
        with fresh_database("sqlite", tmp_path) as url:
            cli_json(url, "tenant", "create", "Acme", "--slug", "acme", "--sip-server", "127.0.0.1",
                     "--sip-port", str(registrar.port))
            for number, phone in (("101", FIRST), ("102", SECOND)):
                cli_json(url, "extension", "add", "--tenant", "acme", "--extension", number, "--name", f"Persona {number}",
                         "--mac", phone.mac, "--model", phone.model_arg)
            cli_json(url, "user", "add", "inst", "--role", "installer", "--password", "clave-instalador-1")
            export = tmp_path / "subscriber.sql"
            run_cli(url, "pbx", "export", "--tenant", "acme", "--format", "kamailio", str(export))
            registrar.load_sql(export.read_text())
            [tenant] = cli_json(url, "tenant", "list")  # type: ignore[misc]
            # SNMP off: this board is about the PBX's word; SNMP has its own tests.
            env = {"PROVISIONER_REGISTRAR_DB_URL": f"sqlite:///{registrar.db}", "PROVISIONER_SNMP_ENABLED": "0"}
            server = start_server(url, tmp_path, extra_env=env)
            try:
                key = tenant["option66_http"].rstrip("/").rsplit("/", 1)[-1]
                configs = {phone.mac: _boot(server, key, phone) for phone in (FIRST, SECOND)}
                yield Site(url, server, registrar, env, configs)
            finally:
                stop_server(server)
    finally:
        kamailio.stop(registrar)


def wait_for(predicate: Any) -> Any:
    return _wait_for(predicate, timeout=90.0)  # each look is a CLI run: seconds apiece under load


def _group(board: dict[str, Any], key: str) -> dict[str, Any]:
    return dict(next(g for g in board["groups"] if g["key"] == key))


def _register(site: Site, phone: SimPhone) -> None:
    [line] = config_credentials.yealink(site.configs[phone.mac])  # the credentials the phone was served
    assert register(line, phone.user_agent()).status == 200


async def _page(site: Site) -> str:
    async with aiohttp.ClientSession(site.server.base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.post("/login", data={"username": "inst", "password": "clave-instalador-1"}) as response:
            assert response.status == 200
        async with session.get("/tenants/acme/readiness") as response:
            assert response.status == 200
            return await response.text()


async def test_board_counts_registrations_from_the_registrar(site: Site) -> None:
    booted = wait_for(lambda: (b := site.board()) and _group(b, "booted")["count"] == 2 and b)
    assert _group(booted, "registered")["count"] == 0 and "status" not in _group(booted, "registered")
    assert _group(booted, "unregistered")["macs"] == sorted([FIRST.mac, SECOND.mac])
    assert (booted["ready"], booted["green"]) == (0, False)  # booted, right firmware, but nobody registered

    _register(site, FIRST)
    board = site.board()
    assert _group(board, "registered")["macs"] == [FIRST.mac]
    assert _group(board, "unregistered")["macs"] == [SECOND.mac]
    assert (board["expected"], board["ready"], board["percent"], board["green"]) == (2, 1, 50, False)
    text = run_cli(site.url, "readiness", "acme", env=site.env).stdout
    assert "1/2" in text and SECOND.mac in text and "sin datos del PBX" not in text
    page = await _page(site)
    assert "Registrados en el PBX" in page and "No registrados en el PBX" in page and SECOND.mac in page
    assert "sin datos del PBX" not in page

    _register(site, SECOND)
    board = site.board()
    assert _group(board, "registered")["macs"] == sorted([FIRST.mac, SECOND.mac])
    assert _group(board, "unregistered")["count"] == 0
    assert (board["ready"], board["percent"], board["green"]) == (2, 100, True)


def test_a_registrar_that_cannot_be_read_leaves_the_board_without_pbx_data(site: Site) -> None:
    wait_for(lambda: _group(site.board(), "booted")["count"] == 2)
    env = {**site.env, "PROVISIONER_REGISTRAR_DB_URL": f"sqlite:///{site.registrar.db.parent / 'missing' / 'x.sqlite'}"}
    unreadable = run_cli(site.url, "readiness", "acme", "--json", env=env)
    board = json.loads(unreadable.stdout)
    assert _group(board, "registered")["count"] is None and _group(board, "registered")["status"] == "sin datos del PBX"
    assert "unregistered" not in {g["key"] for g in board["groups"]} and "Traceback" not in unreadable.stderr
    assert "registrar not readable (OperationalError)" in unreadable.stderr  # the operator is told why
    # the same board as with no registrar at all: registration counts neither for nor against anyone
    without = json.loads(run_cli(site.url, "readiness", "acme", "--json",
                                 env={**site.env, "PROVISIONER_REGISTRAR_DB_URL": ""}).stdout)
    assert board == without
