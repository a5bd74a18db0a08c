"""A requester's whole journey, end to end, in headless Chromium at a phone's size (390 x 844)
against a real server and a real SMTP server (aiosmtpd):

invited -> sets a password from the mailed link -> opens a request -> gets the acknowledgement
by mail -> the agent answers: the answer arrives by mail (To the requester, Reply-To the helpdesk,
in the ticket's thread) and shows on the portal -> the agent resolves: the mail brings the survey
link -> the requester answers it -> the ticket is closed, on the portal and for the agent, and the
survey report counts it. A requester of another customer sees none of it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import RunningServer, cli_json, run_cli, start_server, stop_server
from tests.test_support_mail import SmtpServer, start_smtp
from tests.test_web_browser import CHROMIUM, api, browser  # noqa: F401 - the shared `browser` fixture

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
PHONE = {"width": 390, "height": 844}
HELPDESK = "soporte@operador.example"
ANA = "ana@tornillo.com.co"
OLGA = "olga@otra.example"
MAIL_ENV: dict[str, str] = {}  # the server's mail settings, for the CLI too


@pytest.fixture(scope="module")
def site(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, SmtpServer, str]]:
    url = module_database_url
    agent = cli_json(url, "user", "add", "laura", "--role", "agent", "--name", "Laura Gómez", "--password", "clave-laura-1")
    cli_json(url, "tenant", "create", "Ferretería El Tornillo", "--sip-server", "pbx.tornillo.example", "--slug", "tornillo")
    cli_json(url, "tenant", "create", "Otra Empresa", "--sip-server", "pbx.otra.example", "--slug", "otra")
    smtp = start_smtp()
    MAIL_ENV.update({
        "PROVISIONER_SMTP_HOST": "127.0.0.1", "PROVISIONER_SMTP_PORT": str(smtp.port),
        "PROVISIONER_SMTP_SENDER": "mesa@operador.example", "PROVISIONER_SMTP_RECIPIENT": HELPDESK,
        "PROVISIONER_MAIL_FROM_NAME": "Mesa de ayuda Operador",
    })
    server = start_server(url, tmp_path_factory.mktemp("journey"), extra_env={**MAIL_ENV, "PROVISIONER_SUPPORT_JOB_SECONDS": "1"})
    try:
        yield server, smtp, agent["api_token"]
    finally:
        stop_server(server)
        smtp.controller.stop()


def mails_to(smtp: SmtpServer, address: str) -> list[EmailMessage]:
    return [m for m, (_, to) in zip(smtp.inbox.messages, smtp.inbox.envelopes, strict=True) if to == [address]]


def wait_for_mail(smtp: SmtpServer, address: str, says: str, timeout: float = 30.0) -> EmailMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in mails_to(smtp, address):
            if says in message.get_body(("plain",)).get_content():  # type: ignore[union-attr]
                return message
        time.sleep(0.2)
    raise AssertionError(f"no mail to {address} saying {says!r}: {smtp.inbox.subjects()}")


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr, no-any-return]


def portal_path(mail_text: str, kind: str) -> str:
    found = re.search(rf"https?://\S+(/portal/{kind}/\S+)", mail_text)
    assert found, mail_text
    return found[1]


def invite(server: RunningServer, slug: str, email: str, name: str) -> str:
    printed = json.loads(run_cli(server.database_url, "requester", "invite", "--tenant", slug, "--email", email,
                                 "--name", name, "--json", env=MAIL_ENV).stdout)
    return str(printed["link"])


def set_password(page, server: RunningServer, link: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.base + link[link.index("/portal/"):])
    page.fill("input[name=password]", password)
    page.fill("input[name=password_again]", password)
    page.click("#link-form button[type=submit]")
    page.wait_for_url("**/portal/casos")


def no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url} is {width} px wide in a {inner} px window"


def test_a_requester_from_invitation_to_a_closed_ticket(site, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, smtp, agent_token = site
    out = tmp_path / "screens"
    out.mkdir()

    # Invited: the link arrives by mail and sets a password, from a phone.
    invite(server, "tornillo", ANA, "Ana Gómez")
    invitation = wait_for_mail(smtp, ANA, "/portal/enlace/")
    phone = browser.new_page(viewport=PHONE)
    set_password(phone, server, portal_path(text_of(invitation), "enlace"), "Caballo-Bateria-42")

    # A new request, the rulebook's fields asked in plain words.
    phone.click("text=Nueva solicitud >> nth=0")
    phone.wait_for_url("**/portal/casos/nuevo")
    phone.check("input[name=type][value=incident]")
    phone.check("input[name=stopped][value=fallas]")
    phone.check("input[name=reach][value=persona]")
    phone.fill("input[name=subject]", "El teléfono de bodega no timbra")
    phone.fill("textarea[name=detail]", "Desde esta mañana las llamadas a la extensión 120 no timbran.")
    no_sideways_scroll(phone)
    phone.click("#new-request button[type=submit]")
    phone.wait_for_url(re.compile(r".*/portal/casos/\d+\?hecho=creado"))
    ticket_id = int(re.search(r"/portal/casos/(\d+)", phone.url)[1])  # type: ignore[index]
    phone.screenshot(path=str(out / "1-solicitud.png"), full_page=True)

    acknowledgement = wait_for_mail(smtp, ANA, f"Caso #{ticket_id}")
    assert f"[Caso #{ticket_id}]" in acknowledgement["Subject"] and acknowledgement["Reply-To"] == HELPDESK
    assert "Mesa de ayuda Operador" in acknowledgement["From"]

    # The agent answers: by mail, in the same thread, and on the portal.
    status, _ = api(server, agent_token, "POST", f"/api/v1/tickets/{ticket_id}/actions",
                    {"action": "respond", "note": "Reconfiguramos el grupo de timbrado de la bodega."})
    assert status == 200
    answer = wait_for_mail(smtp, ANA, "Reconfiguramos el grupo de timbrado")
    assert answer["In-Reply-To"] == acknowledgement["Message-ID"] and answer["To"] == ANA
    assert f"/portal/casos/{ticket_id}" in text_of(answer)
    phone.goto(f"{server.base}/portal/casos/{ticket_id}")
    assert "Reconfiguramos el grupo de timbrado de la bodega." in phone.inner_text("#timeline")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(out / "2-respuesta.png"), full_page=True)

    # Resolved: the mail brings the survey; answering it closes the ticket.
    status, _ = api(server, agent_token, "POST", f"/api/v1/tickets/{ticket_id}/actions",
                    {"action": "resolve", "note": "La extensión 120 volvió al grupo de timbrado."})
    assert status == 200
    resolution = wait_for_mail(smtp, ANA, "/portal/encuesta/")
    assert "La extensión 120 volvió al grupo de timbrado." in text_of(resolution)
    survey_link = portal_path(text_of(resolution), "encuesta")
    phone.goto(server.base + survey_link)
    phone.check("input[name=rating][value='5']")
    phone.check("input[name=solved][value=si]")
    phone.fill("textarea[name=comment]", "Rápido y claro, gracias.")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(out / "3-encuesta.png"), full_page=True)
    phone.click("#survey button[type=submit]")
    phone.wait_for_load_state("load")
    phone.goto(f"{server.base}/portal/casos/{ticket_id}")
    assert "Cerrado" in phone.inner_text("#case")
    assert "La extensión 120 volvió al grupo de timbrado." in phone.inner_text("#timeline")  # the solution, as mailed
    phone.screenshot(path=str(out / "4-cerrado.png"), full_page=True)

    status, ticket = api(server, agent_token, "GET", f"/api/v1/tickets/{ticket_id}")
    assert status == 200 and ticket["status"] == "closed"  # type: ignore[index]
    status, report = api(server, agent_token, "GET", "/api/v1/reports/survey")
    assert status == 200 and "5" in json.dumps(report) and "tornillo" in json.dumps(report)

    # Nothing of it reaches another customer's requester.
    olga = browser.new_page(viewport=PHONE)
    set_password(olga, server, invite(server, "otra", OLGA, "Olga Ruiz"), "Otra-Clave-Segura-9")
    assert "bodega" not in olga.inner_text("main")
    for path in (f"/portal/casos/{ticket_id}", f"/portal/casos/{ticket_id}/encuesta"):
        response = olga.goto(server.base + path)
        assert response is not None and response.status == 404, path
        assert "bodega" not in olga.content()
    assert not [m for m in mails_to(smtp, OLGA) if f"Caso #{ticket_id}" in str(m["Subject"])]
