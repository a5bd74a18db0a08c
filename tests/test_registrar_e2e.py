"""The acceptance test for "the phone registers" (issue 19): a real Kamailio on loopback,
its subscriber table loaded from our own `pbx export --format kamailio`, and every line of
every homologated desk model registered with the credentials PARSED OUT OF THE CONFIG the
real server served over HTTP. A wrong parameter name, user, domain (realm), proxy or password
in any config fails it; so does a wrong password being accepted.

To add a model (softphones: Jitsi properties, Grandstream Wave, ...), add a `Served` row to
SERVED: the simulated phone (User-Agent, MAC, device file name, lines) and the parser of its
served format (tests/config_credentials.py).
"""

from __future__ import annotations

import csv
import os
import stat
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests import config_credentials, kamailio
from tests.conftest import RunningServer, cli_json, fresh_database, run_cli, start_server, stop_server
from tests.phones import DESK_PHONES, SimPhone
from tests.sip_register import register

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not kamailio.available(), reason="kamailio is not installed")]

DOMAIN = "acme.sip.test"  # the accounts' SIP domain (realm); it does not resolve: phones must use the proxy
PBX_PASSWORD = "Pbx'Cl;ve&<1>\"x"  # a PBX's own secret with every character a format must escape


@dataclass(frozen=True)
class Served:
    phone: SimPhone
    parse: config_credentials.Parser


PARSERS = {"yealink": config_credentials.yealink, "polycom": config_credentials.polycom,
           "grandstream": config_credentials.grandstream}
SERVED = [Served(phone, config_credentials.grandstream_dp750 if phone.catalog_key == "grandstream-dp750"
                 else PARSERS[phone.vendor]) for phone in DESK_PHONES]


@dataclass
class Site:
    registrar: kamailio.Kamailio
    server: RunningServer
    key: str
    users: dict[tuple[str, int], str]  # (mac, line) -> the SIP user that line must register as
    export: Path


def extension_rows() -> list[dict[str, str]]:
    rows, number = [], 2000
    for served in SERVED:
        for line in range(1, served.phone.lines + 1):
            number += 1
            rows.append({"extension": str(number), "name": f"Usuario {number}", "mac": served.phone.mac,
                         "model": served.phone.model_arg, "line": str(line),
                         "sip_password": PBX_PASSWORD if number % 5 == 0 else ""})
    return rows


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("registrar")
    registrar = kamailio.start(folder / "kamailio")
    try:
        with fresh_database("sqlite", folder) as url:
            cli_json(url, "tenant", "create", "Acme", "--slug", "acme", "--sip-server", "127.0.0.1",
                     "--sip-port", str(registrar.port))
            cli_json(url, "tenant", "set", "acme", "--sip-domain", DOMAIN, "--sip-user-format", "{extension}")
            rows = extension_rows()
            listing = folder / "lista.csv"
            with listing.open("w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
            run_cli(url, "import", "extensions", str(listing), "--tenant", "acme")
            export = folder / "subscriber.sql"
            run_cli(url, "pbx", "export", "--tenant", "acme", "--format", "kamailio", str(export))
            registrar.load_sql(export.read_text())
            [tenant] = cli_json(url, "tenant", "list")  # type: ignore[misc]
            key = tenant["option66_http"].rstrip("/").rsplit("/", 1)[-1]
            users = {(row["mac"], int(row["line"])): row["extension"] for row in rows}
            server = start_server(url, folder)
            try:
                yield Site(registrar, server, key, users, export)
            finally:
                stop_server(server)
    finally:
        kamailio.stop(registrar)


def served_config(site: Site, phone: SimPhone) -> bytes:
    request = urllib.request.Request(f"{site.server.base}/prov/{site.key}/{phone.device_file()}",
                                     headers={"User-Agent": phone.user_agent()})
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status == 200
        return bytes(response.read())


def test_the_export_is_owner_only_and_holds_no_plaintext_password(site: Site) -> None:
    assert stat.S_IMODE(os.stat(site.export).st_mode) == 0o600
    assert PBX_PASSWORD.replace("'", "''") not in site.export.read_text()


@pytest.mark.parametrize("served", SERVED, ids=[s.phone.catalog_key for s in SERVED])
def test_every_line_registers_with_what_the_config_says(site: Site, served: Served) -> None:
    phone = served.phone
    accounts = served.parse(served_config(site, phone))
    assert [a.line for a in accounts] == list(range(1, phone.lines + 1)), "the config does not enable every line"
    for account in accounts:
        assert (account.user, account.domain) == (site.users[(phone.mac, account.line)], DOMAIN)
        assert account.proxy == ("127.0.0.1", site.registrar.port)
        result = register(account, phone.user_agent())
        assert (result.challenged, result.status) == (True, 200), (account, result)
        wrong = register(replace(account, password=account.password + "x"), phone.user_agent())
        assert wrong.status in (401, 403), wrong
