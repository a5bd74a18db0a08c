"""Softphones against a real server on loopback (issue 15), playing each app's side:

  * Jitsi Desktop's provisioning plugin: it POSTs its URL's query parameters as a form to the
    URL without the query (${uuid}, ${osname}, ${build} replaced; ${username}/${password} asked
    of the user), expects 401 for a wrong login and a Java properties file otherwise;
  * the one-time link mailed to the extension (a real SMTP server, aiosmtpd) and opened in
    headless Chromium: shown once, the second open and an expired link refused.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from provisioner.db.engine import make_engine, session_factory
from provisioner.db.models import Extension, SoftphoneLink, Tenant
from provisioner.directory import line_view, tenant_view
from provisioner.settings import Settings
from tests.conftest import RunningServer, cli_json, run_cli, start_server, stop_server
from tests.test_softphones import read_properties
from tests.test_support_mail import SmtpServer, start_smtp

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.slow  # a server, a mail server and Chromium; about a minute per backend on an idle machine
JITSI_UA = "Apache-HttpClient/4.5.3 (Java/1.8.0_152)"  # Jitsi's HttpUtils posts through Apache HttpClient
PREFIX = "net.java.sip.communicator.impl.protocol.sip.acc"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = start_smtp()
    yield server
    server.controller.stop()


@pytest.fixture(scope="module")
def site(module_database_url: str, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[RunningServer]:
    url = module_database_url
    run_cli(url, "tenant", "create", "Acme S.A.S.", "--sip-server", "pbx.acme.example.net", "--slug", "acme")
    for number, model, email in (("301", "Jitsi Windows", "ana@acme.example"), ("302", "Jitsi MacOS", "luis@acme.example"),
                                 ("303", "Wave Android", "maria@acme.example"), ("304", "WeKall APP Windows", "carlos@acme.example")):
        run_cli(url, "extension", "add", "--tenant", "acme", "--extension", number, "--name", f"Persona {number}",
                "--email", email, "--model", model)
    server = start_server(url, tmp_path_factory.mktemp("softphones"), extra_env=_env(smtp, 0))
    try:
        yield server
    finally:
        stop_server(server)


def _env(smtp: SmtpServer, http_port: int) -> dict[str, str]:
    env = {"PROVISIONER_SMTP_HOST": "127.0.0.1", "PROVISIONER_SMTP_PORT": str(smtp.port),
           "PROVISIONER_SMTP_SENDER": "mesa@operador.example", "PROVISIONER_INTAKE_PROCESS": "0"}
    if http_port:
        env["PROVISIONER_PUBLIC_URL"] = f"http://127.0.0.1:{http_port}"
    return env


def link_for(server: RunningServer, number: str) -> str:
    data = json.loads(run_cli(server.database_url, "softphone", "link", "--tenant", "acme", "--extension", number,
                              "--print-link", "--json", env={"PROVISIONER_PUBLIC_URL": server.base}).stdout)
    return str(data["link"])


def post(url: str, form: dict[str, str] | None = None, agent: str | None = None) -> tuple[int, str]:
    data = urllib.parse.urlencode(form or {}).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"User-Agent": agent or "test"})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def jitsi_request(url: str, *, osname: str, build: str, username: str, password: str) -> tuple[int, str]:
    """What Jitsi's ProvisioningServiceImpl sends for `url`: the query's ${...} replaced, posted
    as a form to the URL without its query."""
    base, _, query = url.partition("?")
    values = {"${uuid}": "5c1c2a7e-0f5e-4f0e-9a41-0c5b4e6f7a01", "${osname}": osname, "${build}": build,
              "${username}": username, "${password}": password}
    form = {}
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        form[name] = values.get(value, value)
    return post(base, form, JITSI_UA)


def reveal(link: str) -> str:
    status, page = post(link)
    assert status == 200, page
    return page


def _field(page: str, name: str) -> str:
    found = re.search(rf'id="{name}">([^<]*)<', page)
    assert found, page[:2000]
    return found.group(1).replace("&amp;", "&")


def test_jitsi_provisions_after_login_and_its_version_is_judged(site: RunningServer) -> None:
    page = reveal(link_for(site, "301"))
    url, username, password = _field(page, "jitsi-url"), _field(page, "jitsi-username"), _field(page, "jitsi-password")
    assert url.startswith(f"{site.base}/prov/app/?") and "${build}" in url and username == "301@acme"
    # A wrong or missing login: 401 (Jitsi asks the user again), and nothing of the account.
    for login, secret in (("301@acme", "nope"), ("302@acme", password), ("301", password), ("301@beta", password), ("", "")):
        assert jitsi_request(url, osname="Windows 10", build="2.11.5608", username=login, password=secret)[0] == 401
    status, body = jitsi_request(url, osname="Windows 10", build="2.10.5550", username=username, password=password)
    assert status == 200, body
    props = read_properties(body)
    engine = make_engine(site.database_url)
    with session_factory(engine)() as session:  # the same account context as a desk phone's config
        extension = session.scalar(select(Extension).where(Extension.number == "301"))
        tenant = session.scalar(select(Tenant))
        assert extension is not None and tenant is not None
        line, view = line_view(extension, number=1), tenant_view(tenant, Settings())
    engine.dispose()
    assert props[f"{PREFIX}301.AUTHORIZATION_NAME"] == line.auth_user == "acme-301"
    assert props[f"{PREFIX}301.PASSWORD"] == line.password
    assert props[f"{PREFIX}301.SERVER_ADDRESS"] == view.sip_server
    assert props[f"{PREFIX}301.ACCOUNT_UID"] == f"SIP:{line.auth_user}@{view.sip_server}"
    assert password != line.password  # the provisioning login is never the SIP password
    assert password not in site.log() and line.password not in site.log() and tenant.provisioning_key not in site.log()
    assert tenant.provisioning_key not in page  # the user never learns the tenant key
    # Jitsi set up with the tenant's option-66 URL instead: the bare extension number logs in there.
    keyed = url.replace("/prov/app/", f"/prov/{tenant.provisioning_key}/")
    status, again = jitsi_request(keyed, osname="Windows 10", build="2.10.5550", username="301", password=password)
    assert status == 200 and read_properties(again) == props
    # Its version was older than homologated: one incident, on the device list too.
    ticket = _wait_for_ticket(site, "Jitsi Windows 2.10.5550")
    assert "1 equipo" in ticket["subject"]
    rows = {row["mac"]: row for row in cli_json(site.database_url, "devices", "--tenant", "acme")}
    assert rows["ext-301"]["firmware"] == "2.10.5550" and rows["ext-301"]["findings"] == ["firmware_older"]
    assert rows["ext-301"]["open_tickets"] == [ticket["id"]]
    # Updated to the homologated build: served again, reported compliant, the incident recovers.
    status, _ = jitsi_request(url, osname="Windows 10", build="2.11.5608", username=username, password=password)
    assert status == 200
    rows = {row["mac"]: row for row in cli_json(site.database_url, "devices", "--tenant", "acme")}
    assert rows["ext-301"]["status"] == "ok" and rows["ext-301"]["compliant"]
    assert rows["ext-303"]["status"] == "no reportado" and not rows["ext-303"]["compliant"]  # Wave never reports
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not cli_json(site.database_url, "tickets", "list"):
            break
        time.sleep(0.3)
    assert cli_json(site.database_url, "tickets", "list") == []  # resolved: no open ticket left


def test_a_jitsi_on_another_os_or_with_an_old_secret_is_refused_or_flagged(site: RunningServer) -> None:
    page = reveal(link_for(site, "302"))
    url, password = _field(page, "jitsi-url"), _field(page, "jitsi-password")
    status, _ = jitsi_request(url, osname="Linux", build="2.11.5608", username="302@acme", password=password)
    assert status == 200  # the account is served; the app is flagged as not homologated
    _wait_for_ticket(site, "Modelo no homologado")
    newer = reveal(link_for(site, "302"))  # a new link: a new provisioning password, the old one stops
    assert jitsi_request(url, osname="Mac OS X", build="2.11.5608", username="302@acme", password=password)[0] == 401
    assert jitsi_request(url, osname="Mac OS X", build="2.11.5608", username="302@acme",
                         password=_field(newer, "jitsi-password"))[0] == 200


def test_the_mailed_link_opens_once_in_chromium(site: RunningServer, smtp: SmtpServer) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    run_cli(site.database_url, "softphone", "link", "--tenant", "acme", "--extension", "303",
            env={**_env(smtp, site.http_port)})
    message = smtp.inbox.messages[-1]
    assert message["To"] == "maria@acme.example" and "303" in str(message["Subject"])
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"http://\S+/softphone/\S+", text)
    assert link, text
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        page.goto(link.group(0))
        assert "una sola vez" in page.inner_text("#softphone")
        page.click("#reveal")
        page.wait_for_selector("#account")
        shown = page.inner_text("#account")
        assert "acme-303" in shown and "pbx.acme.example.net" in shown
        assert page.locator("#qr svg").count() == 1  # Wave scans this
        assert "Escanear código QR" in page.inner_text("#softphone")
        page.screenshot(path=str(site.log_path.parent / "softphone-link.png"))
        page.reload()  # the browser re-posts: refused
        assert "ya se usó o venció" in page.content()
        page.goto(link.group(0))  # opening the mail's link again
        assert "ya se usó o venció" in page.content()
        assert "acme-303" not in page.content()

        expired = link_for(site, "304")
        engine = make_engine(site.database_url)
        with session_factory(engine).begin() as session:  # 73 hours later
            session.execute(update(SoftphoneLink).where(SoftphoneLink.used_at.is_(None))
                            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        engine.dispose()
        page.goto(expired)
        assert "ya se usó o venció" in page.content() and page.locator("#reveal").count() == 0
        browser.close()
    status, _ = post(expired)
    assert status == 404


def _wait_for_ticket(site: RunningServer, words: str) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for ticket in cli_json(site.database_url, "tickets", "list"):  # type: ignore[union-attr]
            if words in ticket["subject"]:
                return ticket  # type: ignore[no-any-return]
        time.sleep(0.3)
    raise AssertionError(f"no ticket with {words!r}: {cli_json(site.database_url, 'tickets', 'list')}\n{site.log()}")
