"""The customer portal in real headless Chromium at a phone's size (390 x 844): an agent
invites a requester (the mail goes through a real SMTP server, aiosmtpd), the requester sets a
password from the mailed link, opens a request with an attachment and finds it in its cases;
no page scrolls sideways."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import RunningServer, cli_json, start_server, stop_server
from tests.test_support_mail import SmtpServer, start_smtp
from tests.test_web_browser import CHROMIUM, browser, log_in  # noqa: F401 - the shared `browser` fixture

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def site(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, SmtpServer]]:
    cli_json(module_database_url, "user", "add", "laura", "--role", "agent", "--name", "Laura Agente", "--password", "clave-laura-1")
    cli_json(module_database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example", "--slug", "acme")
    cli_json(module_database_url, "tenant", "set", "acme", "--email-domains", "acme.co")
    smtp = start_smtp()
    server = start_server(module_database_url, tmp_path_factory.mktemp("portal-browser"), extra_env={
        "PROVISIONER_SMTP_HOST": "127.0.0.1", "PROVISIONER_SMTP_PORT": str(smtp.port),
        "PROVISIONER_SMTP_SENDER": "soporte@operador.example", "PROVISIONER_SMTP_RECIPIENT": "mesa@operador.example",
    })
    try:
        yield server, smtp
    finally:
        stop_server(server)
        smtp.controller.stop()


def mail_to(smtp: SmtpServer, address: str, timeout: float = 20.0) -> EmailMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in smtp.inbox.messages:
            if str(message["To"]) == address:
                return message
        time.sleep(0.1)
    raise AssertionError(f"no mail to {address}: {smtp.inbox.subjects()}")


def no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide in a {width[1]} px window"


def test_invited_requester_opens_a_request_from_a_phone(site, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, smtp = site
    out = tmp_path / "screens"
    out.mkdir()
    staff = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(staff, server, {"username": "laura", "password": "clave-laura-1"})
    staff.click("text=Portal de clientes")
    staff.click("#customers >> text=Acme")
    staff.wait_for_url("**/tenants/acme/solicitantes")
    staff.fill("input[name=email]", "Ana@Acme.co")
    staff.fill("input[name=name]", "Ana Gómez")
    staff.click("form[action='/tenants/acme/solicitantes'] button[type=submit]")
    staff.wait_for_selector("#invited")
    assert "enviada por correo" in staff.inner_text("#invited")
    staff.screenshot(path=str(out / "0-staff-invited.png"))

    mail = mail_to(smtp, "ana@acme.co")
    assert mail["From"] == "soporte@operador.example" and mail["Auto-Submitted"] == "auto-generated"
    assert "Invitación al portal de soporte de Acme" in str(mail["Subject"])
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"http\S+/portal/enlace/\S+", text)[0]  # type: ignore[index]
    assert link in staff.inner_text("#invited")  # shown once to the agent too

    phone = browser.new_page(viewport=PHONE)
    phone.goto(server.base + link[link.index("/portal/"):])
    no_sideways_scroll(phone)
    assert "ana@acme.co" in phone.inner_text("main")
    phone.fill("input[name=password]", "Caballo-Bateria-42")
    phone.fill("input[name=password_again]", "Caballo-Bateria-42")
    phone.screenshot(path=str(out / "1-link.png"), full_page=True)
    phone.click("#link-form button[type=submit]")
    phone.wait_for_url("**/portal/casos")
    no_sideways_scroll(phone)

    phone.click("text=Nueva solicitud >> nth=0")
    phone.wait_for_url("**/portal/casos/nuevo")
    assert phone.input_value("input[name=requester_name]") == "Ana Gómez"
    assert "ana@acme.co" in phone.input_value("input[name=requester_contact]")
    phone.check("input[name=type][value=incident]")
    phone.check("input[name=stopped][value=fallas]")
    phone.check("input[name=reach][value=persona]")
    phone.fill("input[name=subject]", "El teléfono de recepción se reinicia solo")
    phone.fill("textarea[name=detail]", "Desde ayer el teléfono de recepción se reinicia cada hora.")
    attachment = tmp_path / "foto-pantalla.png"
    attachment.write_bytes(PNG)
    phone.set_input_files("input[name=files]", str(attachment))
    no_sideways_scroll(phone)
    phone.screenshot(path=str(out / "2-new.png"), full_page=True)
    phone.click("#new-request button[type=submit]")
    phone.wait_for_url(re.compile(r".*/portal/casos/\d+\?hecho=creado"))
    assert "foto-pantalla.png" in phone.inner_text("#files")
    assert "Baja" in phone.inner_text("#case")  # medium x individual: the rulebook's low priority
    no_sideways_scroll(phone)
    phone.screenshot(path=str(out / "3-case.png"), full_page=True)

    phone.goto(server.base + "/portal/casos")
    assert "El teléfono de recepción se reinicia solo" in phone.inner_text("#cases")
    assert "Nuevo" in phone.inner_text("#cases") and "a más tardar" in phone.inner_text("#cases")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(out / "4-cases.png"), full_page=True)


def test_self_registration_mails_only_declared_domains(site, browser) -> None:  # type: ignore[no-untyped-def]
    server, smtp = site
    page = browser.new_page(viewport=PHONE)
    for address in ("intruso@gmail.com", "luis@acme.co"):
        page.goto(server.base + "/portal/registro")
        no_sideways_scroll(page)
        page.fill("input[name=email]", address)
        page.click("main button[type=submit]")
        page.wait_for_selector(".portal-ok")
    mail = mail_to(smtp, "luis@acme.co")
    assert "Active su cuenta" in str(mail["Subject"])
    link = re.search(r"http\S+/portal/enlace/\S+", mail.get_body(("plain",)).get_content())[0]  # type: ignore[index, union-attr]
    page.goto(server.base + link[link.index("/portal/"):])
    page.fill("input[name=name]", "Luis Mora")
    page.fill("input[name=password]", "Otra-Clave-Segura-9")
    page.fill("input[name=password_again]", "Otra-Clave-Segura-9")
    page.click("#link-form button[type=submit]")
    page.wait_for_url("**/portal/casos")
    assert "Luis Mora · Acme" in page.inner_text("header")
    assert not [m for m in smtp.inbox.messages if "gmail" in str(m["To"])]
