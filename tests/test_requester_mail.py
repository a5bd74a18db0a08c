"""Mail to the requester: its own thread per ticket, apart from the helpdesk's, on a real SMTP server (aiosmtpd).

Pure composers are tested as tables; the sending on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr

import pytest
from sqlalchemy import select

from support_link.adapters.jobs import SupportJobs
from support_link.adapters.mail import MailReport, forward_pending
from support_link.adapters.mail_settings import MailSettings
from support_link.adapters.mail_text import UNKNOWN_FINDING, current_detail, device_lines
from support_link.adapters.requester_mail import compose_requester, deliverable, notice_text
from support_link.adapters.requester_outbox import send_requester_mail
from support_link.lifecycle import (
    SYSTEM, AcceptResolutionDate, Actor, ActorKind, CloseIfDue, Escalate, ProposeResolutionDate, Reopen,
    RequesterReply, Resolve, Respond, new_ticket,
)
from support_link.store import affected_devices, surveys, tickets
from support_link.store.models import MailMessageRecord, TicketRecord
from support_link.store.values import AffectedDevice, StoredEvent, StoredTicket
from tests.test_support_mail import MAILBOX, SENDER, SmtpServer, body, free_port, smtp, start_smtp  # noqa: F401 - fixture `smtp`
from tests.test_support_store import AGENT, INTAKE, Db, bog, db_fixture, template_fixture  # noqa: F401 - fixtures `db`, `sl_pg_template`

NOW = bog(2026, 3, 18, 12, 0)
PORTAL = "https://soporte.operador.co"
DESK = "https://mesa.operador.co"
ASKER = "laura.rios@acme.example"
LABELS = {"firmware_older": "Firmware desactualizado"}
SETTINGS = MailSettings(host="127.0.0.1", sender=SENDER, recipient=MAILBOX, from_name="Mesa de ayuda Operador",
                        portal_url=PORTAL + "/", desk_url=DESK, finding_labels=LABELS)


def mail_settings(server: SmtpServer, **overrides: object) -> MailSettings:
    return server.settings(from_name="Mesa de ayuda Operador", portal_url=PORTAL, desk_url=DESK, finding_labels=LABELS,
                           **overrides)


def store_asked(db: Db, *, email: str | None = ASKER, ticket_type: str = "incident", channel: str = "portal",
                created_at: datetime = bog(2026, 3, 18, 10, 0), finding: str | None = None,
                detail: str = "Las extensiones 101-104 no registran") -> int:
    ticket, event = new_ticket(
        ticket_type=ticket_type, urgency="high", impact="organization", subject="Recepción sin tono",
        detail=detail, requester_name="Laura Ríos",
        requester_contact="laura.rios@acme.example, +57 601 555 0199", channel=channel, created_at=created_at,
        actor=INTAKE, requester_email=email,
    )
    with db.sessions.begin() as session:
        return tickets.create(session, ticket, event, "acme", finding)


def loaded(db: Db, ticket_id: int) -> StoredTicket:
    with db.sessions() as session:
        return tickets.get(session, ticket_id)


def to_requester(server: SmtpServer) -> list[EmailMessage]:
    return [message for message, (_, rcpts) in zip(server.inbox.messages, server.inbox.envelopes) if rcpts == [ASKER]]


def to_helpdesk(server: SmtpServer) -> list[EmailMessage]:
    return [message for message, (_, rcpts) in zip(server.inbox.messages, server.inbox.envelopes) if rcpts == [MAILBOX]]


def send_all(db: Db, server: SmtpServer, now: datetime = NOW) -> tuple[MailReport, MailReport]:
    return forward_pending(db.sessions, mail_settings(server), now), send_requester_mail(db.sessions, mail_settings(server), now)


# --- composing (pure) -------------------------------------------------------------------------

REQ = Actor(ActorKind.REQUESTER, ASKER)
_TICKET, _ = new_ticket(
    ticket_type="requirement", urgency="medium", impact="individual", subject="Nueva extensión\r\nBcc: x@y.z",
    detail="Necesitamos una extensión para la sala 3", requester_name="Laura Ríos", requester_contact="+57 601 555 0199",
    channel="email", created_at=bog(2026, 3, 18, 10, 0), actor=INTAKE, requester_email=ASKER,
)


def _stored(**changes: object) -> StoredTicket:
    from dataclasses import replace

    ticket = replace(_TICKET, id=42, **changes)  # type: ignore[arg-type]
    return StoredTicket(ticket=ticket, account="acme", finding=None, sla_state=None, devices=(), events=(),
                        work_logs=(), mail_message_id=None, updated_at=ticket.created_at)


def _event(kind: str, actor: Actor = AGENT, note: str | None = None, after: dict[str, object] | None = None) -> StoredEvent:
    return StoredEvent(7, bog(2026, 3, 18, 11, 0), actor, kind, {}, dict(after or {}), note)


# (event, first words the requester reads or None when nothing is mailed, automatic notice?)
NOTICE_CASES = [
    (_event("created", INTAKE), "Hola, Laura Ríos:\n\nRecibimos su solicitud y quedó registrada como Caso #42.", True),
    (_event("public_response", AGENT, "Ya creamos la extensión 305."), "La mesa de ayuda respondió a su caso (ana.gomez):", False),
    (_event("public_response", AGENT, "   "), None, False),  # nothing to say
    (_event("internal_note", AGENT, "el cliente debe dos facturas"), None, False),
    (_event("system_message", SYSTEM, "reintento SNMP"), None, False),
    (_event("escalated"), None, False),
    (_event("reclassified", after={"priority": "urgent"}), None, False),
    (_event("assigned", after={"assignee": "ana.gomez"}), None, False),
    (_event("device_joined", SYSTEM, after={"device": "0004f2a1b2c3"}), None, False),
    (_event("requester_reply", REQ, "gracias"), None, False),  # their own words are not mailed back
    (_event("survey_closed", REQ, "todo bien"), None, False),
    (_event("survey_reopened", REQ, "sigue fallando"), None, False),
    (_event("resolved", AGENT, "Extensión 305 creada y probada."), "Su caso fue resuelto.\n\nSolución:\nExtensión 305 creada y probada.", True),
    (_event("reopened"), "Reabrimos su caso: seguimos trabajando en él.", True),
    (_event("closed", SYSTEM), "Su caso quedó cerrado.", True),
    (_event("resolution_date_proposed", AGENT, after={"proposed_resolution_on": "2026-03-25"}),
     "Proponemos resolver su requerimiento a más tardar el 25/03/2026.", True),
    (_event("resolution_date_proposed", REQ, after={"proposed_resolution_on": "2026-03-27"}), None, False),
    (_event("resolution_date_agreed", REQ, after={"agreed_resolution_on": "2026-03-27"}),
     "Quedó acordada la fecha de solución de su requerimiento: 27/03/2026.", True),
]


@pytest.mark.parametrize(("event", "opening", "automatic"), NOTICE_CASES, ids=[c[0].kind + f"-{i}" for i, c in enumerate(NOTICE_CASES)])
def test_what_the_requester_reads_of_each_event(event: StoredEvent, opening: str | None, automatic: bool) -> None:
    stored = _stored()
    message = compose_requester(stored, event, SETTINGS, "<m@pbx.example.co>", "<root@pbx.example.co>")
    if opening is None:
        assert notice_text(stored, event) is None and message is None
        return
    assert message is not None
    text = message.get_content()
    assert text.startswith(opening)
    assert (message["Auto-Submitted"] == "auto-generated") is automatic
    assert f"Vea el caso en el portal: {PORTAL}/portal/casos/42" in text
    assert "Estado: Nuevo" in text


def test_the_acknowledgement_says_when_the_first_response_is_due_and_how_to_reply() -> None:
    stored = _stored()
    message = compose_requester(stored, _event("created", INTAKE), SETTINGS, "<first@pbx.example.co>", None)
    assert message is not None
    text = message.get_content()
    assert "Le daremos una primera respuesta a más tardar el 2026-03-24 16:30 (hora de Bogotá)." in text
    assert "responda a este correo sin cambiar el asunto" in text
    assert "Necesitamos una extensión para la sala 3" in text  # the detail as stored


def test_the_requesters_headers_open_then_follow_one_thread() -> None:
    stored = _stored()
    first = compose_requester(stored, _event("created", INTAKE), SETTINGS, "<first@pbx.example.co>", None)
    reply = compose_requester(stored, _event("public_response", AGENT, "Hola"), SETTINGS, "<r@pbx.example.co>",
                              "<first@pbx.example.co>")
    assert first is not None and reply is not None
    assert parseaddr(str(first["From"])) == ("Mesa de ayuda Operador", SENDER)
    assert (first["To"], first["Reply-To"], first["X-Caso"]) == (ASKER, MAILBOX, "42")
    assert first["Subject"] == "[Caso #42] Nueva extensión Bcc: x@y.z"  # one line: no header injection
    assert first["In-Reply-To"] is None and first["References"] is None
    assert reply["Subject"] == "Re: [Caso #42] Nueva extensión Bcc: x@y.z"
    assert (reply["In-Reply-To"], reply["References"]) == ("<first@pbx.example.co>", "<first@pbx.example.co>")
    assert b"\nBcc:" not in first.as_bytes()


def test_the_resolution_carries_the_survey_and_the_self_close() -> None:
    message = compose_requester(_stored(), _event("resolved"), SETTINGS, "<m@x>", "<r@x>",
                                survey_url=f"{PORTAL}/portal/encuesta/abc")
    assert message is not None
    text = message.get_content()
    assert f"encuesta de satisfacción (un minuto):\n{PORTAL}/portal/encuesta/abc" in text
    assert "el caso se cierra solo 48 horas después, el 2026-03-20 11:00 (hora de Bogotá)" in text


@pytest.mark.parametrize(("address", "ok"), [
    ("laura.rios@acme.example", True), ("LAURA@acme.co", True), (None, False), ("", False), ("laura", False),
    ("Laura <laura@acme.co>", False), ("a@b.co, c@d.co", False), ("a@b.co\r\nBcc: x@y.z", False), ("a@@b.co", False),
])
def test_only_one_plain_address_is_mailed(address: str | None, ok: bool) -> None:
    assert deliverable(address) is ok
    message = compose_requester(_stored(requester_email=address), _event("created", INTAKE), SETTINGS, "<m@x>", None)
    assert (message is not None) is ok


def _device(name: str, recovered: bool) -> AffectedDevice:
    at = bog(2026, 3, 18, 10, 0)
    return AffectedDevice(name, "Recepción", {"firmware": "9.73.0.50"}, at, at + timedelta(hours=1) if recovered else None)


@pytest.mark.parametrize(("finding", "devices", "lines"), [
    (None, (), []),
    ("firmware_older", (_device("0004f2a1b2c3", False),),
     ["Hallazgo: Firmware desactualizado", "Equipos afectados ahora (1): 0004f2a1b2c3"]),
    ("firmware_older", (_device("0004f2a1b2c3", True), _device("0004f2a1b2c4", False), _device("0004f2a1b2c5", False)),
     ["Hallazgo: Firmware desactualizado", "Equipos afectados ahora (2): 0004f2a1b2c4, 0004f2a1b2c5"]),
    ("firmware_older", (_device("0004f2a1b2c3", True),),
     ["Hallazgo: Firmware desactualizado", "Equipos afectados ahora (0): ninguno, todos se recuperaron"]),
    ("something_new", (), [f"Hallazgo: {UNKNOWN_FINDING}"]),  # never the raw code
])
def test_device_lines_name_the_finding_in_spanish_and_the_devices_affected_now(
    finding: str | None, devices: tuple[AffectedDevice, ...], lines: list[str]
) -> None:
    from dataclasses import replace

    stored = replace(_stored(), finding=finding, devices=devices)
    assert device_lines(stored, SETTINGS) == lines


@pytest.mark.parametrize(("detail", "devices", "shown"), [
    ("Sin tono en recepción", (), "Sin tono en recepción"),
    ("Modelo: T21P.\nEquipos afectados: 1 (ver la lista)\nPrimer equipo: 0004f2a1b2c3",
     (_device("0004f2a1b2c3", True), _device("0004f2a1b2c4", False), _device("0004f2a1b2c5", False)),
     "Modelo: T21P.\nEquipos afectados: 2 (ver la lista)\nPrimer equipo: 0004f2a1b2c3"),
    ("Equipos afectados: 3 (ver la lista)", (_device("0004f2a1b2c3", True),), "Equipos afectados: 0 (ver la lista)"),
    ("Dice: Equipos afectados: 7", (_device("0004f2a1b2c3", False),), "Dice: Equipos afectados: 7"),  # only a line's start
])
def test_the_detail_counts_the_devices_affected_now(detail: str, devices: tuple[AffectedDevice, ...], shown: str) -> None:
    from dataclasses import replace

    stored = replace(_stored(detail=detail), devices=devices)
    assert current_detail(stored) == shown


# --- sending over a real SMTP server, SQLite and PostgreSQL ------------------------------------


def test_a_portal_ticket_reaches_its_requester_and_the_helpdesk(db: Db, smtp: SmtpServer) -> None:
    ticket_id = store_asked(db)
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, Respond(), AGENT, bog(2026, 3, 18, 10, 20), note="Reiniciamos el SBC, ¿vuelve el tono?")
        tickets.act(session, ticket_id, Respond(public=False), AGENT, bog(2026, 3, 18, 10, 21), note="solo interno: SBC viejo")
        tickets.act(session, ticket_id, Escalate(), AGENT, bog(2026, 3, 18, 10, 30))
        tickets.act(session, ticket_id, Resolve(), AGENT, bog(2026, 3, 18, 11, 30), note="Troncal restablecido")
    helpdesk, requester = send_all(db, smtp)
    assert (helpdesk.sent, requester) == (4, MailReport(sent=3))

    ack, response, resolved = to_requester(smtp)
    assert [m["Subject"] for m in (ack, response, resolved)] == [f"[Caso #{ticket_id}] Recepción sin tono"] + [
        f"Re: [Caso #{ticket_id}] Recepción sin tono"] * 2
    assert all(m["To"] == ASKER and m["Reply-To"] == MAILBOX for m in (ack, response, resolved))
    assert all(parseaddr(str(m["From"])) == ("Mesa de ayuda Operador", SENDER) for m in (ack, response, resolved))
    assert all(m["In-Reply-To"] == ack["Message-ID"] == m["References"] for m in (response, resolved))
    assert all(f"{PORTAL}/portal/casos/{ticket_id}" in body(m) for m in (ack, response, resolved))
    assert "Recibimos su solicitud" in body(ack) and ack["Auto-Submitted"] == "auto-generated"
    assert "Reiniciamos el SBC, ¿vuelve el tono?" in body(response) and response["Auto-Submitted"] is None
    assert "Troncal restablecido" in body(resolved) and "48 horas" in body(resolved)
    assert all("solo interno" not in body(m) and "Escalado" not in body(m) for m in to_requester(smtp))

    token = body(resolved).split(f"{PORTAL}/portal/encuesta/")[1].split()[0]
    with db.sessions() as session:
        assert surveys.ticket_for_token(session, token) == ticket_id

    copies = to_helpdesk(smtp)
    assert len(copies) == 4 and all(f"Ver el caso: {DESK}/tickets/{ticket_id}" in body(m) for m in copies)
    assert all(m["Message-ID"] != r["Message-ID"] for m in copies for r in (ack, response, resolved))

    with db.sessions() as session:
        kept = {(r.message_id, r.direction, r.outcome, r.ticket_id) for r in session.scalars(select(MailMessageRecord))}
    assert kept == {(m["Message-ID"], "out", "requester", ticket_id) for m in (ack, response, resolved)} | {
        (m["Message-ID"], "out", "helpdesk", ticket_id) for m in copies}
    assert send_all(db, smtp) == (MailReport(), MailReport())  # nothing twice


def test_a_ticket_without_a_requester_address_mails_only_the_helpdesk(db: Db, smtp: SmtpServer) -> None:
    store_asked(db, email=None, channel="phone")
    helpdesk, requester = send_all(db, smtp)
    assert (helpdesk.sent, requester) == (1, MailReport())
    assert to_requester(smtp) == [] and len(to_helpdesk(smtp)) == 1


def test_a_device_ticket_names_its_finding_in_spanish_and_lists_the_devices_affected_now(db: Db, smtp: SmtpServer) -> None:
    detail = "Hallazgo automático: Firmware desactualizado.\nEquipos afectados: 1 (ver la lista de equipos del caso)."
    ticket_id = store_asked(db, channel="device", finding="firmware_older", detail=detail)
    with db.sessions.begin() as session:
        for mac in ("0004f2a1b2c3", "0004f2a1b2c4", "0004f2a1b2c5"):
            affected_devices.add_device(session, ticket_id, mac, "Recepción", {"firmware": "9.73.0.50"}, bog(2026, 3, 18, 10, 1))
        affected_devices.mark_device_recovered(session, ticket_id, "0004f2a1b2c3", bog(2026, 3, 18, 10, 5))
    send_all(db, smtp)
    [copy], [ack] = to_helpdesk(smtp), to_requester(smtp)
    for text in (body(copy), body(ack)):
        assert "Hallazgo: Firmware desactualizado" in text and "firmware_older" not in text
        assert "Equipos afectados ahora (2): 0004f2a1b2c4, 0004f2a1b2c5" in text
        assert "Equipos afectados: 2 (ver la lista de equipos del caso)." in text  # not the 1 of creation
        assert "Equipos afectados: 1" not in text
        assert "9.73.0.50" not in text  # evidence stays out


def test_the_close_reopen_and_agreed_dates_reach_the_requester(db: Db, smtp: SmtpServer) -> None:
    ticket_id = store_asked(db, ticket_type="requirement")
    requester = Actor(ActorKind.REQUESTER, ASKER)
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, ProposeResolutionDate(date(2026, 3, 25)), AGENT, bog(2026, 3, 18, 10, 10))
        tickets.act(session, ticket_id, ProposeResolutionDate(date(2026, 3, 27)), requester, bog(2026, 3, 18, 10, 20))
        tickets.act(session, ticket_id, AcceptResolutionDate(), AGENT, bog(2026, 3, 18, 10, 30))
        tickets.act(session, ticket_id, Resolve(), AGENT, bog(2026, 3, 18, 11, 0))
        tickets.act(session, ticket_id, Reopen(), AGENT, bog(2026, 3, 18, 11, 10))
        tickets.act(session, ticket_id, RequesterReply(), requester, bog(2026, 3, 18, 11, 20), note="Aún no funciona")
        tickets.act(session, ticket_id, Resolve(), AGENT, bog(2026, 3, 18, 11, 30))
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, CloseIfDue(), SYSTEM, bog(2026, 3, 20, 11, 30))
    later = bog(2026, 3, 20, 12, 0)
    send_requester_mail(db.sessions, mail_settings(smtp, max_age=timedelta(days=7)), later)
    texts = [body(message).split("\n")[0] for message in to_requester(smtp)]
    assert texts == [
        "Hola, Laura Ríos:",
        "Proponemos resolver su requerimiento a más tardar el 25/03/2026.",
        "Quedó acordada la fecha de solución de su requerimiento: 27/03/2026.",
        "Su caso fue resuelto.",
        "Reabrimos su caso: seguimos trabajando en él.",
        "Su caso fue resuelto.",
        "Su caso quedó cerrado. Si el problema vuelve, registre una nueva solicitud en el portal.",
    ]
    resolved = [m for m in to_requester(smtp) if body(m).startswith("Su caso fue resuelto.")]
    assert all("/portal/encuesta/" not in body(m) for m in resolved)  # closed since: no survey to answer by link


def test_a_failing_server_is_retried_without_duplicates(db: Db, smtp: SmtpServer) -> None:
    ticket_id = store_asked(db)
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, Respond(), AGENT, bog(2026, 3, 18, 10, 20), note="Primera respuesta")
        tickets.act(session, ticket_id, Respond(), AGENT, bog(2026, 3, 18, 10, 40), note="Segunda respuesta")
    smtp.inbox.refuse = 1  # the acknowledgement is refused
    failed = send_requester_mail(db.sessions, mail_settings(smtp), NOW)
    assert failed.sent == 0 and failed.error is not None and "451" in failed.error
    handler, calls = smtp.inbox, {"n": 0}
    original = handler.handle_DATA

    async def second_fails(server: object, session: object, envelope: object) -> str:
        calls["n"] += 1
        return "451 4.3.0 try later" if calls["n"] == 2 else await original(server, session, envelope)

    handler.handle_DATA = second_fails  # type: ignore[method-assign]
    assert send_requester_mail(db.sessions, mail_settings(smtp), NOW).sent == 1
    handler.handle_DATA = original  # type: ignore[method-assign]
    assert send_requester_mail(db.sessions, mail_settings(smtp), NOW) == MailReport(sent=2)
    assert send_requester_mail(db.sessions, mail_settings(smtp), NOW) == MailReport()
    openings = [body(m).split("\n")[0] for m in to_requester(smtp)]
    assert openings == ["Hola, Laura Ríos:"] + ["La mesa de ayuda respondió a su caso (ana.gomez):"] * 2
    assert [body(m).split("\n")[2] for m in to_requester(smtp)[1:]] == ["Primera respuesta", "Segunda respuesta"]
    root = to_requester(smtp)[0]["Message-ID"]
    assert all(m["References"] == root for m in to_requester(smtp)[1:])


def test_a_down_server_then_up_sends_each_message_once(db: Db) -> None:
    ticket_id = store_asked(db)
    port = free_port()
    settings = MailSettings(host="127.0.0.1", port=port, sender=SENDER, recipient=MAILBOX, timeout=2, portal_url=PORTAL)
    report = send_requester_mail(db.sessions, settings, NOW)
    assert report.sent == 0 and report.error is not None and "ConnectionRefused" in report.error
    server = start_smtp(port)
    try:
        assert send_requester_mail(db.sessions, settings, NOW) == MailReport(sent=1)
        assert send_requester_mail(db.sessions, settings, NOW) == MailReport()
        assert [m["X-Caso"] for m in server.inbox.messages] == [str(ticket_id)]
    finally:
        server.controller.stop()


def test_two_senders_at_once_send_each_message_once(db: Db, smtp: SmtpServer) -> None:
    ids = [store_asked(db, created_at=bog(2026, 3, 18, 10, minute)) for minute in range(8)]
    with db.sessions.begin() as session:
        for ticket_id in ids:
            tickets.act(session, ticket_id, Respond(), AGENT, bog(2026, 3, 18, 11, 0), note=f"Respuesta {ticket_id}")
    barrier = threading.Barrier(2)
    reports: list[MailReport] = []

    def sender() -> None:
        barrier.wait()
        reports.append(send_requester_mail(db.sessions, mail_settings(smtp), NOW))  # each run opens its own sessions

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(report.sent for report in reports) == 16
    sent = sorted((int(m["X-Caso"]), body(m).split("\n")[0]) for m in to_requester(smtp))
    assert sent == sorted([(i, "Hola, Laura Ríos:") for i in ids] + [(i, "La mesa de ayuda respondió a su caso (ana.gomez):") for i in ids])


def test_the_periodic_pass_mails_the_helpdesk_and_the_requester(db: Db, smtp: SmtpServer) -> None:
    store_asked(db)
    jobs = SupportJobs(db.sessions, lambda: NOW, mail=mail_settings(smtp))
    report = jobs.run_once()
    assert report.mail == MailReport(sent=1) and report.requester_mail == MailReport(sent=1)
    assert len(to_helpdesk(smtp)) == 1 and len(to_requester(smtp)) == 1


# --- settings ---------------------------------------------------------------------------------


def test_the_provisioner_fills_the_mail_settings_from_its_own() -> None:
    from provisioner.settings import HELP, Settings, settings_table

    settings = Settings.from_env({
        "PROVISIONER_SMTP_HOST": "relay.operador.co", "PROVISIONER_SMTP_RECIPIENT": MAILBOX,
        "PROVISIONER_MAIL_FROM_NAME": "Soporte Operador", "PROVISIONER_PORTAL_URL": PORTAL + "/",
    })
    mail = settings.mail()
    assert mail is not None
    assert (mail.from_name, mail.portal_url, mail.desk_url) == ("Soporte Operador", PORTAL, PORTAL)
    assert mail.finding_labels["firmware_older"] == "Firmware desactualizado"
    assert "Firmware desactualizado" not in repr(mail)  # the table stays out of logged settings
    rows = {row.name: row for row in settings_table(settings)}
    assert (rows["mail_from_name"].variable, rows["mail_from_name"].default) == ("PROVISIONER_MAIL_FROM_NAME", "Mesa de ayuda")
    assert "display name" in HELP["mail_from_name"]
    default = Settings(smtp_host="relay", smtp_recipient=MAILBOX, public_url="https://prov.operador.co/").mail()
    assert default is not None and default.portal_url == "https://prov.operador.co" and default.from_name == "Mesa de ayuda"


def test_a_survey_answer_is_not_mailed_back_but_the_helpdesk_hears_of_it(db: Db, smtp: SmtpServer) -> None:
    ticket_id = store_asked(db)
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, Resolve(), AGENT, bog(2026, 3, 18, 11, 0), note="Troncal restablecido")
    send_all(db, smtp)
    token = body(to_requester(smtp)[-1]).split("/portal/encuesta/")[1].split()[0]
    with db.sessions.begin() as session:
        assert surveys.ticket_for_token(session, token) == ticket_id
        surveys.answer(session, ticket_id, rating=2, solved=False, comment="Sigue sin tono en la sala 3",
                       actor=Actor(ActorKind.REQUESTER, ASKER), now=bog(2026, 3, 18, 11, 30))
    helpdesk, requester = send_all(db, smtp)
    assert (helpdesk.sent, requester) == (1, MailReport())
    assert "Sigue sin tono en la sala 3" in body(to_helpdesk(smtp)[-1])
    assert len(to_requester(smtp)) == 2  # the acknowledgement and the resolution only


def test_history_older_than_max_age_is_passed_over_and_the_thread_opens_with_the_news(db: Db, smtp: SmtpServer) -> None:
    old = store_asked(db, created_at=bog(2026, 3, 10, 9, 0))
    with db.sessions.begin() as session:
        tickets.act(session, old, Respond(), AGENT, bog(2026, 3, 18, 11, 0), note="Retomamos su caso")
    report = send_requester_mail(db.sessions, mail_settings(smtp, max_age=timedelta(days=2)), NOW)
    assert report == MailReport(sent=1, skipped=1)
    [message] = to_requester(smtp)
    assert message["Subject"] == f"[Caso #{old}] Recepción sin tono" and message["In-Reply-To"] is None
    assert "Retomamos su caso" in body(message)
    with db.sessions() as session:
        root = session.scalar(select(TicketRecord.requester_mail_root).where(TicketRecord.id == old))
    assert root == message["Message-ID"]
