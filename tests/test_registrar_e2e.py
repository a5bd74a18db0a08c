"""The acceptance test for "the phone registers" (issue 19): a real Kamailio on loopback,
its subscriber table loaded from our own `pbx export --format kamailio`, and every line of
every homologated desk model registered with the credentials PARSED OUT OF THE CONFIG the
real server served over HTTP. A wrong parameter name, user, domain (realm), proxy or password
in any config fails it; so does a wrong password being accepted.

To add a model, add a `Served` row to SERVED: the simulated phone (User-Agent, MAC, device
file name, lines) and the parser of its served format (tests/config_credentials.py).

The softphone accounts (APPS) register the same way, each with what its app is given: Jitsi's
properties file as the server answers Jitsi's provisioning POST (/prov/app/ with the form the
app sends), Grandstream Wave's AccountConfig XML as the one-time link page shows it (the QR
code's text), WeKall's settings as the same page lists them for typing in. Their REGISTERs
carry the apps' real User-Agent shapes, and `registrations check` judges those versions
against the catalog (an old one opens the firmware incident, the homologated one resolves it).
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import stat
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import select

from provisioner.db.engine import make_engine, session_factory
from support_link.store.models import TicketRecord

from tests import config_credentials, kamailio
from tests.conftest import RunningServer, cli_json, fresh_database, run_cli, start_server, stop_server
from tests.phones import DESK_PHONES, SimPhone
from tests.sip_register import register
from tests.test_softphones_e2e import _field, jitsi_request, reveal

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


@dataclass(frozen=True)
class App:
    extension: str
    model: str  # as `extension add --model` takes it
    user_agent: str  # the app's REGISTER User-Agent (homologated version)
    old_user_agent: str  # the same app one version back


APPS = [
    App("3001", "Jitsi Windows", "Jitsi2.11.5608Windows 10", "Jitsi2.10.5550Windows 10"),
    App("3002", "Wave Android", "Grandstream Wave 1.0.3.26", "Grandstream Wave 1.0.3.10"),
    App("3003", "WeKall APP Windows", "WeKall APP 5.2.27", "WeKall APP 5.2.20"),  # UA unknown (phones.md §6)
]


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
            for app in APPS:  # the Wave account keeps a PBX secret with every character to escape
                extra = ["--sip-password", PBX_PASSWORD] if app.model.startswith("Wave") else []
                run_cli(url, "extension", "add", "--tenant", "acme", "--extension", app.extension,
                        "--name", f"Soft {app.extension} <ñ>", "--email", f"u{app.extension}@acme.example",
                        "--model", app.model, *extra)
            export = folder / "subscriber.sql"
            run_cli(url, "pbx", "export", "--tenant", "acme", "--format", "kamailio", str(export))
            registrar.load_sql(export.read_text())
            [tenant] = cli_json(url, "tenant", "list")  # type: ignore[misc]
            key = tenant["option66_http"].rstrip("/").rsplit("/", 1)[-1]
            users = {(row["mac"], int(row["line"])): row["extension"] for row in rows}
            server = start_server(url, folder, extra_env={"PROVISIONER_REGISTRAR_DB_URL": f"sqlite:///{registrar.db}"})
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


# -- softphones ----------------------------------------------------------------------------------
def link_page(site: Site, extension: str) -> str:
    """The one-time link's page after "show my data" (POST /softphone/<token>), as the app's user sees it."""
    made = json.loads(run_cli(site.server.database_url, "softphone", "link", "--tenant", "acme", "--extension",
                              extension, "--print-link", "--json", env={"PROVISIONER_PUBLIC_URL": site.server.base}).stdout)
    return reveal(str(made["link"]))


def served_app_account(site: Site, app: App) -> config_credentials.Credentials:
    page = link_page(site, app.extension)
    if app.model.startswith("Jitsi"):  # the app's provisioning POST, with the login the page showed
        url = html.unescape(_field(page, "jitsi-url"))
        status, body = jitsi_request(url, osname="Windows 10", build="2.11.5608",
                                     username=_field(page, "jitsi-username"), password=_field(page, "jitsi-password"))
        assert status == 200, body
        [account] = config_credentials.jitsi(body.encode("latin-1"))
    elif app.model.startswith("Wave"):  # the QR code's XML, shown on the page under it
        found = re.search(r'<pre id="wave-xml">([^<]*)</pre>', page)
        assert found, page[:2000]
        [account] = config_credentials.wave(html.unescape(found.group(1)).encode())
    else:  # WeKall: typed in by hand from the page's settings
        [account] = config_credentials.settings_page(page.encode())
    return account


@pytest.fixture(scope="module")
def app_accounts(site: Site) -> dict[str, config_credentials.Credentials]:
    return {app.extension: served_app_account(site, app) for app in APPS}


@pytest.mark.parametrize("app", APPS, ids=[app.model for app in APPS])
def test_every_softphone_registers_with_what_its_app_was_given(
    site: Site, app_accounts: dict[str, config_credentials.Credentials], app: App,
) -> None:
    account = app_accounts[app.extension]
    assert (account.user, account.auth_user, account.domain) == (app.extension, app.extension, DOMAIN)
    assert account.proxy == ("127.0.0.1", site.registrar.port)
    result = register(account, app.user_agent)
    assert (result.challenged, result.status) == (True, 200), (account, result)
    wrong = register(replace(account, password=account.password + "x"), app.user_agent)
    assert wrong.status in (401, 403), wrong
    if app.model.startswith("Wave"):
        assert account.password == PBX_PASSWORD  # the PBX's own secret reached the app intact


def firmware_incidents(site: Site) -> dict[str, str]:
    """ext-or-account -> status of the tenant's firmware_older incidents."""
    engine = make_engine(site.server.database_url)
    try:
        with session_factory(engine)() as session:
            rows = session.execute(select(TicketRecord.dedup_key, TicketRecord.status)).all()
    finally:
        engine.dispose()
    return {str(key): str(status) for key, status in rows if "|firmware_older|" in str(key)}


def test_a_softphone_version_from_its_register_runs_through_the_catalog(
    site: Site, app_accounts: dict[str, config_credentials.Credentials],
) -> None:
    env = {"PROVISIONER_REGISTRAR_DB_URL": f"sqlite:///{site.registrar.db}"}
    jitsi, wave = app_accounts["3001"], app_accounts["3002"]
    # Each REGISTER of our client comes from a new port, so a new contact: the registrar keeps
    # the earlier bindings too, and the adapter reads the one that lasts longest. Longer
    # Expires make each step's binding the current one.
    for account, app in ((jitsi, APPS[0]), (wave, APPS[1])):  # one version back: the registrar records it
        assert register(account, app.old_user_agent, expires=7200).status == 200
    listed = {row["extension"]: row for row in json.loads(run_cli(site.server.database_url, "registrations", "list",
                                                                  "--tenant", "acme", "--json", env=env).stdout)}
    assert (listed["3001"]["app"], listed["3001"]["version"]) == ("jitsi Jitsi Windows", "2.10.5550")
    assert (listed["3002"]["app"], listed["3002"]["version"]) == ("grandstream Wave", "1.0.3.10")
    run_cli(site.server.database_url, "registrations", "check", "--tenant", "acme", env=env)
    opened = firmware_incidents(site)
    assert opened == {"acme|firmware_older|Jitsi Windows|2.10.5550": "new",  # one per app model and version
                      "acme|firmware_older|Grandstream Wave Android|1.0.3.10": "new"}, opened
    for account, app in ((jitsi, APPS[0]), (wave, APPS[1])):  # updated to the homologated version
        assert register(account, app.user_agent, expires=10800).status == 200
    run_cli(site.server.database_url, "registrations", "check", "--tenant", "acme", env=env)
    assert set(firmware_incidents(site).values()) == {"resolved"}, firmware_incidents(site)
