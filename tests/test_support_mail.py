"""Forward to the helpdesk mailbox: a real SMTP server on loopback (aiosmtpd), threading headers included."""

from __future__ import annotations

import logging
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from support_link.lifecycle import SYSTEM, ChangeClassification, CloseIfDue, Escalate, RequesterReply, Resolve, Respond
from support_link.adapters.mail import MailReport, compose_new, compose_update, forward_pending
from support_link.adapters.mail_settings import MailSettings
from support_link.store import affected_devices, tickets
from support_link.store.values import StoredTicket
from tests.test_support_store import AGENT, REQUESTER, Db, bog, db_fixture, store, template_fixture  # noqa: F401 - fixtures `db`, `sl_pg_template`

NOW = bog(2026, 3, 18, 12, 0)
SENDER = "soporte@pbx.example.co"
MAILBOX = "mesa@pbx.example.co"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it receives; `refuse` makes the next N DATA fail (451)."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 mailbox busy, try again later"
        message = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.messages]


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int
    controller: Controller

    def settings(self, **overrides: Any) -> MailSettings:
        return MailSettings(**{"host": "127.0.0.1", "port": self.port, "sender": SENDER, "recipient": MAILBOX, **overrides})


def start_smtp(port: int | None = None, **kwargs: Any) -> SmtpServer:
    inbox = Inbox()
    port = port or free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return SmtpServer(inbox, port, controller)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = start_smtp()
    yield server
    server.controller.stop()


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


def loaded(db: Db, ticket_id: int) -> StoredTicket:
    with db.sessions() as session:
        return tickets.get(session, ticket_id)


# --- composing (pure) -------------------------------------------------------------------------


def test_a_new_ticket_message_carries_what_the_mailbox_needs(db: Db) -> None:
    ticket_id = store(db, finding="firmware_older", channel="device")
    with db.sessions.begin() as session:
        affected_devices.add_device(session, ticket_id, "0004f2a1b2c3", "Recepción", {}, bog(2026, 3, 18, 10, 1))
    stored = loaded(db, ticket_id)
    settings = MailSettings(host="127.0.0.1", sender=SENDER, recipient=MAILBOX, desk_url="https://mesa.example.co/",
                            finding_labels={"firmware_older": "Firmware desactualizado"})
    message = compose_new(stored, settings, "<caso@pbx.example.co>")
    assert message["Subject"] == f"[Caso #{ticket_id}] Recepción sin tono"
    assert (message["From"], message["To"], message["Message-ID"]) == (SENDER, MAILBOX, "<caso@pbx.example.co>")
    assert message["In-Reply-To"] is None and message["References"] is None
    text = message.get_content()
    for expected in (
        "Solicitante: Carlos Pérez",
        "Contacto: carlos@acme.example, +57 601 555 0101",
        "Tipo: Incidente",
        "Prioridad: Urgente (urgencia alta, impacto organización)",
        "Primera respuesta a más tardar: 2026-03-18 11:00 (hora de Bogotá)",
        "Hallazgo: Firmware desactualizado",
        "Equipos afectados ahora (1): 0004f2a1b2c3",
        "Detalle:\nLas extensiones 101-104 no registran desde las 9:40",
        f"Ver el caso: https://mesa.example.co/tickets/{ticket_id}",
    ):
        assert expected in text
    assert "firmware_older" not in text


def test_a_subject_cannot_inject_headers(db: Db) -> None:
    ticket_id = store(db, subject="Sin tono\r\nBcc: todos@example.com")
    stored = loaded(db, ticket_id)
    settings = MailSettings(host="127.0.0.1", sender=SENDER, recipient=MAILBOX)
    wire = compose_new(stored, settings, "<a@b>").as_bytes()
    assert b"\nBcc:" not in wire
    assert f"[Caso #{ticket_id}] Sin tono Bcc: todos@example.com".encode() in wire


def test_an_update_is_a_reply_in_the_thread(db: Db) -> None:
    ticket_id = store(db, urgency="low", impact="individual")
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, ChangeClassification("high", "organization"), AGENT, bog(2026, 3, 18, 10, 30))
    stored = loaded(db, ticket_id)
    settings = MailSettings(host="127.0.0.1", sender=SENDER, recipient=MAILBOX)
    reply = compose_update(stored, stored.events[-1], settings, "<r@pbx.example.co>", "<root@pbx.example.co>")
    assert reply["Subject"] == f"Re: [Caso #{ticket_id}] Recepción sin tono"
    assert (reply["In-Reply-To"], reply["References"]) == ("<root@pbx.example.co>", "<root@pbx.example.co>")
    text = reply.get_content()
    assert text.startswith("Reclasificado · agente ana.gomez · 2026-03-18 10:30 (hora de Bogotá)")
    assert "prioridad: Baja → Urgente" in text
    assert "primera respuesta a más tardar: 2026-03-20 08:00 (hora de Bogotá) → 2026-03-18 11:00 (hora de Bogotá)" in text


def test_the_password_stays_out_of_repr() -> None:
    settings = MailSettings(host="h", sender=SENDER, recipient=MAILBOX, user="u", password="s3cret-pass")
    assert "s3cret-pass" not in repr(settings)


# --- forwarding over a real SMTP server -------------------------------------------------------


def test_a_new_ticket_is_forwarded_once_with_its_message_id_stored(db: Db, smtp: SmtpServer) -> None:
    ticket_id = store(db)
    report = forward_pending(db.sessions, smtp.settings(), NOW)
    assert report == MailReport(sent=1)
    [message] = smtp.inbox.messages
    assert message["Subject"] == f"[Caso #{ticket_id}] Recepción sin tono"
    assert smtp.inbox.envelopes == [(SENDER, [MAILBOX])]
    assert message["Message-ID"].endswith("@pbx.example.co>")
    assert message["X-Caso"] == str(ticket_id)
    assert "Solicitante: Carlos Pérez" in body(message)
    assert loaded(db, ticket_id).mail_message_id == message["Message-ID"]
    assert forward_pending(db.sessions, smtp.settings(), NOW) == MailReport()  # nothing twice
    assert len(smtp.inbox.messages) == 1


def test_updates_thread_under_the_first_message(db: Db, smtp: SmtpServer) -> None:
    ticket_id = store(db)
    forward_pending(db.sessions, smtp.settings(), NOW)
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, Respond(), AGENT, bog(2026, 3, 18, 10, 20), note="Reiniciamos el SBC, ¿vuelve el tono?")
        tickets.act(session, ticket_id, Respond(public=False), AGENT, bog(2026, 3, 18, 10, 21), note="solo interno")
        tickets.act(session, ticket_id, Escalate(), AGENT, bog(2026, 3, 18, 10, 30))
        tickets.act(session, ticket_id, Resolve(), AGENT, bog(2026, 3, 18, 11, 30), note="Troncal restablecido")
    assert forward_pending(db.sessions, smtp.settings(), NOW).sent == 3
    root, *replies = smtp.inbox.messages
    assert smtp.inbox.subjects() == [f"[Caso #{ticket_id}] Recepción sin tono"] + [f"Re: [Caso #{ticket_id}] Recepción sin tono"] * 3
    assert all(reply["In-Reply-To"] == root["Message-ID"] == reply["References"] for reply in replies)
    assert len({message["Message-ID"] for message in smtp.inbox.messages}) == 4
    assert [body(reply).splitlines()[0].split(" · ")[0] for reply in replies] == [
        "Respuesta al solicitante", "Escalado a nivel 2", "Resuelto",
    ]
    assert "Reiniciamos el SBC, ¿vuelve el tono?" in body(replies[0])
    assert "Troncal restablecido" in body(replies[2])
    assert all("solo interno" not in body(message) for message in smtp.inbox.messages)
    assert "estado: En curso → Escalado" in body(replies[1])


def test_a_requester_reply_and_the_auto_close_are_forwarded_too(db: Db, smtp: SmtpServer) -> None:
    ticket_id = store(db)
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, Resolve(), AGENT, bog(2026, 3, 18, 10, 30))
        tickets.act(session, ticket_id, RequesterReply(), REQUESTER, bog(2026, 3, 18, 11, 0), note="Sigue sin tono")
        tickets.act(session, ticket_id, Resolve(), AGENT, bog(2026, 3, 18, 11, 30))
    with db.sessions.begin() as session:  # what the job does
        tickets.act(session, ticket_id, CloseIfDue(), SYSTEM, bog(2026, 3, 20, 12, 0))
    week = smtp.settings(max_age=timedelta(days=7))
    assert forward_pending(db.sessions, week, bog(2026, 3, 20, 12, 0)) == MailReport(sent=5)
    first_lines = [body(message).splitlines()[0] for message in smtp.inbox.messages[1:]]
    assert [line.split(" · ")[0] for line in first_lines] == [
        "Resuelto", "Respuesta del solicitante", "Resuelto", "Cerrado (48 h después de resuelto)",
    ]
    assert "solicitante carlos@acme.example" in first_lines[1]


def test_a_down_server_is_retried_later_and_nothing_is_lost(db: Db, caplog: pytest.LogCaptureFixture) -> None:
    ticket_id = store(db)
    port = free_port()
    settings = MailSettings(host="127.0.0.1", port=port, sender=SENDER, recipient=MAILBOX, timeout=2)
    with caplog.at_level(logging.WARNING, logger="support_link.mail"):
        report = forward_pending(db.sessions, settings, NOW)
    assert report.sent == 0 and report.error is not None and "ConnectionRefused" in report.error
    assert f"ticket #{ticket_id}" in caplog.text and "will retry" in caplog.text
    assert loaded(db, ticket_id).mail_message_id is None
    server = start_smtp(port)
    try:
        assert forward_pending(db.sessions, settings, NOW).sent == 1
        assert server.inbox.subjects() == [f"[Caso #{ticket_id}] Recepción sin tono"]
    finally:
        server.controller.stop()


def test_a_refused_message_stops_the_run_and_is_sent_next_time_in_order(db: Db, smtp: SmtpServer) -> None:
    ticket_id = store(db)
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, Respond(), AGENT, bog(2026, 3, 18, 10, 20))
        tickets.act(session, ticket_id, Escalate(), AGENT, bog(2026, 3, 18, 10, 30))
    other = store(db)
    smtp.inbox.messages.clear()
    smtp.inbox.refuse = 1
    first = forward_pending(db.sessions, smtp.settings(), NOW)
    assert first.sent == 0 and first.error is not None and "451" in first.error
    assert loaded(db, ticket_id).mail_message_id is None
    second = forward_pending(db.sessions, smtp.settings(), NOW)
    assert second == MailReport(sent=4)
    assert [message["X-Caso"] for message in smtp.inbox.messages] == [str(ticket_id)] * 3 + [str(other)]
    root = smtp.inbox.messages[0]
    assert root["In-Reply-To"] is None
    assert all(reply["References"] == root["Message-ID"] for reply in smtp.inbox.messages[1:3])


def test_a_failure_mid_thread_keeps_what_was_sent(db: Db, smtp: SmtpServer) -> None:
    ticket_id = store(db)
    forward_pending(db.sessions, smtp.settings(), NOW)
    root_id = loaded(db, ticket_id).mail_message_id
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, Respond(), AGENT, bog(2026, 3, 18, 10, 20))
        tickets.act(session, ticket_id, Escalate(), AGENT, bog(2026, 3, 18, 10, 30))
    handler = smtp.inbox
    original = handler.handle_DATA
    calls = {"count": 0}

    async def second_fails(server: Any, session: Any, envelope: Any) -> str:
        calls["count"] += 1
        if calls["count"] == 2:
            return "451 4.3.0 try later"
        return await original(server, session, envelope)

    handler.handle_DATA = second_fails  # type: ignore[method-assign]
    report = forward_pending(db.sessions, smtp.settings(), NOW)
    assert report.sent == 1 and report.error is not None
    handler.handle_DATA = original  # type: ignore[method-assign]
    assert forward_pending(db.sessions, smtp.settings(), NOW) == MailReport(sent=1)
    subjects_and_first_lines = [(m["Subject"].startswith("Re: "), body(m).split(" · ")[0]) for m in smtp.inbox.messages[1:]]
    assert subjects_and_first_lines == [(True, "Respuesta al solicitante"), (True, "Escalado a nivel 2")]
    assert loaded(db, ticket_id).mail_message_id == root_id  # the thread root never changes


def test_history_older_than_max_age_is_not_forwarded(db: Db, smtp: SmtpServer) -> None:
    old = store(db, created_at=bog(2026, 3, 10, 9, 0))
    report = forward_pending(db.sessions, smtp.settings(max_age=timedelta(days=2)), NOW)
    assert report == MailReport() and smtp.inbox.messages == []  # not even looked at
    with db.sessions.begin() as session:
        tickets.act(session, old, Respond(), AGENT, bog(2026, 3, 18, 11, 0), note="Retomamos el caso")
    report = forward_pending(db.sessions, smtp.settings(max_age=timedelta(days=2)), NOW)
    assert report == MailReport(sent=1, skipped=1)
    [message] = smtp.inbox.messages
    assert message["Subject"] == f"[Caso #{old}] Recepción sin tono"  # the first message opens the thread
    assert "Solicitante: Carlos Pérez" in body(message)
    assert "Novedad:\nRespuesta al solicitante" in body(message) and "Retomamos el caso" in body(message)
    assert loaded(db, old).mail_message_id == message["Message-ID"]


def test_two_senders_at_once_send_each_message_once(db: Db, smtp: SmtpServer) -> None:
    ids = [store(db, created_at=bog(2026, 3, 18, 10, minute)) for minute in range(8)]
    barrier = threading.Barrier(2)
    reports: list[MailReport] = []

    def sender() -> None:
        barrier.wait()
        reports.append(forward_pending(db.sessions, smtp.settings(), NOW))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(report.sent for report in reports) == 8
    assert sorted(int(message["X-Caso"]) for message in smtp.inbox.messages) == ids


# --- STARTTLS and login -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    def text(value: str | bytes) -> str:
        return value.decode() if isinstance(value, bytes) else value

    good = isinstance(auth_data, LoginPassword) and (text(auth_data.login), text(auth_data.password)) == ("mesa", "s3cret-pass")
    return AuthResult(success=good, handled=False)


def test_starttls_and_login(db: Db, certificate: tuple[Path, Path], caplog: pytest.LogCaptureFixture) -> None:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = start_smtp(tls_context=context, require_starttls=True, authenticator=_authenticator, auth_require_tls=True)
    ticket_id = store(db)
    try:
        plain = server.settings(user="mesa", password="s3cret-pass")
        assert forward_pending(db.sessions, plain, NOW).error is not None  # the server requires STARTTLS
        wrong = server.settings(starttls=True, cafile=str(cert), user="mesa", password="wrong-pass")
        with caplog.at_level(logging.WARNING, logger="support_link.mail"):
            refused = forward_pending(db.sessions, wrong, NOW)
        assert refused.error is not None and "SMTPAuthenticationError" in refused.error
        assert "wrong-pass" not in caplog.text
        good = server.settings(starttls=True, cafile=str(cert), user="mesa", password="s3cret-pass")
        assert forward_pending(db.sessions, good, NOW) == MailReport(sent=1)
        assert server.inbox.subjects() == [f"[Caso #{ticket_id}] Recepción sin tono"]
    finally:
        server.controller.stop()
