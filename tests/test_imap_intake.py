"""Mail in against a real IMAP server (Dovecot, started by the tests) and a real SMTP server
(aiosmtpd) for the auto-replies, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from provisioner.db.engine import make_engine, session_factory
from provisioner.db.models import Requester, Tenant
from provisioner.mail_in import find_sender, intake_config, sender_lookup
from provisioner.settings import Settings
from support_link.adapters.imap_intake import ImapIntakeJob, Mailbox, Taken, poll_once
from support_link.adapters.imap_settings import ImapSettings
from support_link.inbound import RequestFields, Sender
from support_link.lifecycle import Actor, ActorKind, Resolve
from support_link.store import attachments, mail_intake, tickets
from support_link.store.models import MailDraftRecord, MailMessageRecord, TicketRecord
from tests import mail_samples as samples
from tests.conftest import run_cli, start_server, stop_server
from tests.certificates import self_signed
from tests.imap_server import Dovecot, dovecot_binary, start_dovecot
from tests.test_support_mail import SmtpServer, start_smtp

pytestmark = pytest.mark.skipif(dovecot_binary() is None and not os.environ.get("CI"),
                                reason="dovecot-imapd is not installed (scripts/test installs it)")

NOW = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Bogota
AGENT = Actor(ActorKind.AGENT, "laura")


@dataclass
class Desk:
    dovecot: Dovecot
    smtp: SmtpServer
    sessions: sessionmaker[Session]
    database_url: str
    settings: Settings
    now: datetime = NOW

    @property
    def imap(self) -> ImapSettings:
        imap = self.settings.imap()
        assert imap is not None
        return imap

    def poll(self) -> list[Taken]:
        return poll_once(self.imap, self.sessions, sender_lookup(self.sessions), intake_config(self.settings),
                         lambda: self.now, self.settings.campaign_mail())

    def deliver(self, *raws: bytes) -> None:
        for raw in raws:
            self.dovecot.append(raw)

    def tickets(self) -> list[TicketRecord]:
        with self.sessions() as session:
            return list(session.scalars(select(TicketRecord).order_by(TicketRecord.id)))

    def count(self, model: type, *where: object) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def _seed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for slug, domains in (("tornillo", "tornillo.com.co"), ("otra", "otra.example")):
            tenant = Tenant(name=slug, slug=slug, provisioning_key=f"key-{slug}", sip_server="pbx.example.net",
                            snmp_community="public", admin_password="x", email_domains=domains, created_at=NOW)  # noqa: S106
            session.add(tenant)
            session.flush()
            if slug == "tornillo":
                session.add(Requester(tenant_id=tenant.id, email="ana@tornillo.com.co", name="Ana Gómez", created_at=NOW))


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    dovecot = start_dovecot(tmp_path / "dovecot")
    smtp = start_smtp()
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _seed(sessions)
    settings = Settings(database_url=database_url, imap_host="127.0.0.1", imap_port=dovecot.port, imap_user=dovecot.user,
                        imap_password=dovecot.password, imap_security="none", smtp_host="127.0.0.1", smtp_port=smtp.port,
                        smtp_sender=samples.HELPDESK, portal_url="https://mesa.example.co")
    try:
        yield Desk(dovecot, smtp, sessions, database_url, settings)
    finally:
        engine.dispose()
        smtp.controller.stop()
        dovecot.stop()


def test_a_new_mail_opens_one_email_ticket_with_the_requester_matched(desk: Desk) -> None:
    desk.deliver(samples.new_request())
    [taken] = desk.poll()
    assert taken.outcome == "ticket"
    [ticket] = desk.tickets()
    assert (ticket.channel, ticket.account, ticket.requester_email) == ("email", "tornillo", "ana@tornillo.com.co")
    assert (ticket.requester_name, ticket.subject, ticket.type) == ("Ana Gómez", "Teléfono de recepción sin tono", "incident")
    assert (ticket.urgency, ticket.impact) == ("medium", "individual")
    assert "\\Seen" in desk.dovecot.flags()[0]
    assert desk.poll() == []  # taken in once: seen, and its Message-ID is stored
    assert desk.smtp.inbox.messages == []  # a complete request gets no auto-reply


def test_a_reply_threads_into_its_ticket_by_in_reply_to(desk: Desk) -> None:
    desk.deliver(samples.new_request())
    desk.poll()
    [ticket] = desk.tickets()
    desk.now += timedelta(hours=1)
    desk.deliver(samples.reply_in_thread("<CAF3kq9a1@mail.gmail.com>", subject="Re: Teléfono de recepción sin tono"))
    [taken] = desk.poll()
    assert (taken.outcome, taken.ticket_id) == ("reply", ticket.id)
    with desk.sessions() as session:
        stored = tickets.get(session, ticket.id)
    reply = stored.events[-1]
    assert (reply.kind, reply.note, reply.actor.kind) == ("requester_reply", "Ya reinicié el teléfono y sigue igual.", "requester")
    assert len(desk.tickets()) == 1


def test_a_reply_to_the_helpdesk_thread_root_threads_too(desk: Desk) -> None:
    desk.deliver(samples.new_request())
    desk.poll()
    [ticket] = desk.tickets()
    with desk.sessions.begin() as session:
        session.execute(update(TicketRecord).where(TicketRecord.id == ticket.id).values(requester_mail_root="<root.caso@pbx.example.co>"))
    desk.deliver(samples.reply_in_thread("<root.caso@pbx.example.co>", message_id="<r2@mail.gmail.com>", subject="Re: algo"))
    [taken] = desk.poll()
    assert (taken.outcome, taken.ticket_id) == ("reply", ticket.id)


def test_a_case_tag_in_the_subject_threads_only_for_the_tickets_people(desk: Desk) -> None:
    desk.deliver(samples.new_request())
    desk.poll()
    [ticket] = desk.tickets()
    desk.deliver(samples.reply_by_subject(ticket.id), samples.outlook_reply(ticket.id))
    assert [(t.outcome, t.ticket_id) for t in desk.poll()] == [("reply", ticket.id), ("reply", ticket.id)]
    # someone of another tenant naming the same case number opens a ticket of their own
    other = samples.reply_by_subject(ticket.id, message_id="<intruso@otra.example>").replace(b"ana@tornillo.com.co", b"eva@otra.example")
    desk.deliver(other)
    [taken] = desk.poll()
    assert taken.outcome == "ticket" and taken.ticket_id != ticket.id
    assert [t.account for t in desk.tickets()] == ["tornillo", "otra"]


def test_a_reply_after_the_48_hour_close_opens_a_new_ticket_naming_the_old(desk: Desk) -> None:
    desk.deliver(samples.new_request())
    desk.poll()
    [old] = desk.tickets()
    with desk.sessions.begin() as session:
        tickets.act(session, old.id, Resolve(), AGENT, NOW + timedelta(hours=1))
    desk.now = NOW + timedelta(hours=60)
    desk.deliver(samples.reply_by_subject(old.id))
    [taken] = desk.poll()
    assert taken.outcome == "ticket" and taken.ticket_id != old.id
    new = desk.tickets()[-1]
    assert f"caso #{old.id}" in new.detail and new.requester_email == "ana@tornillo.com.co"


def test_missing_fields_get_one_draft_one_auto_reply_and_the_answer_opens_the_ticket(desk: Desk) -> None:
    desk.deliver(samples.without_subject())
    [taken] = desk.poll()
    assert taken.outcome == "draft" and desk.tickets() == []
    [reply] = desk.smtp.inbox.messages
    assert desk.smtp.inbox.envelopes[0][1] == ["ana@tornillo.com.co"]
    assert reply["Auto-Submitted"] == "auto-replied" and reply["In-Reply-To"] == "<nosubj-1@tornillo.com.co>"
    assert "un asunto que describa el problema" in reply.get_content()
    # another incomplete mail within the hour: a draft, but no second auto-reply
    desk.deliver(samples.without_subject(message_id="<nosubj-2@tornillo.com.co>"))
    assert desk.poll()[0].outcome == "draft"
    assert len(desk.smtp.inbox.messages) == 1
    # the answer to the auto-reply completes the first draft
    answer = samples.reply_in_thread(str(reply["Message-ID"]), message_id="<answer@tornillo.com.co>",
                                     subject=f"Re: {reply['Subject']}")
    answer = answer.replace("Ya reinicié el teléfono y sigue igual.".encode(), "Asunto: Sala de juntas sin tono".encode())
    desk.deliver(answer)
    [taken] = desk.poll()
    assert taken.outcome == "ticket"
    [ticket] = desk.tickets()
    assert (ticket.subject, ticket.detail) == ("Sala de juntas sin tono", "No funciona el telefono de la sala de juntas.")
    assert desk.count(MailDraftRecord, MailDraftRecord.ticket_id == ticket.id) == 1
    assert len(desk.smtp.inbox.messages) == 1


def test_an_unknown_sender_gets_one_access_reply_and_no_ticket(desk: Desk) -> None:
    stranger = samples.new_request(sender="Pedro <pedro@desconocido.example>")
    desk.deliver(stranger, samples.new_request(message_id="<second@desconocido.example>", sender="Pedro <pedro@desconocido.example>"))
    assert [t.outcome for t in desk.poll()] == ["unknown_sender", "unknown_sender"]
    assert desk.tickets() == []
    [reply] = desk.smtp.inbox.messages
    assert "no está registrada" in reply.get_content() and "https://mesa.example.co/portal/" in reply.get_content()


def test_auto_reply_storms_bounces_and_loops_open_nothing_and_get_no_answer(desk: Desk) -> None:
    desk.deliver(*(samples.out_of_office(number) for number in range(20)))
    desk.deliver(samples.bounce(), samples.bounce_without_auto_submitted().replace(b"ABC12", b"DEF34"),
                 samples.bulk_mail("bulk"), samples.bulk_mail("list"), samples.our_forward())
    results = desk.poll()
    assert len(results) == 25
    assert {t.outcome for t in results} == {"ignored:auto_reply", "ignored:bounce", "ignored:list", "ignored:loop"}
    assert desk.tickets() == [] and desk.smtp.inbox.messages == []
    assert desk.count(MailDraftRecord) == 0
    assert all("\\Seen" in flags for flags in desk.dovecot.flags())
    # our own auto-reply landing back in the mailbox: its Message-ID is already our 'out' row
    desk.deliver(samples.without_subject())
    desk.poll()
    desk.deliver(desk.smtp.inbox.messages[0].as_bytes())
    assert [t.outcome for t in desk.poll()] == ["duplicate"]
    assert desk.tickets() == [] and len(desk.smtp.inbox.messages) == 1


def test_attachments_are_kept_and_refused_ones_named(desk: Desk) -> None:
    desk.deliver(samples.with_attachments())
    [taken] = desk.poll()
    assert taken.ticket_id is not None
    with desk.sessions() as session:
        [kept] = attachments.listed(session, taken.ticket_id)
        stored, data = attachments.read(session, taken.ticket_id, kept.id)
    assert (kept.filename, kept.content_type, kept.source, data) == ("captura.png", "image/png", "email", samples.PNG)
    assert "factura.exe" in desk.tickets()[0].detail
    # a reply's files join the ticket, linked to the reply's event
    reply = samples.with_attachments(message_id="<att-2@tornillo.com.co>").replace(
        b"Subject: Pantalla con error", f"Subject: Re: [Caso #{taken.ticket_id}] Pantalla con error".encode())
    desk.deliver(reply)
    assert desk.poll()[0].outcome == "reply"
    with desk.sessions() as session:
        stored = tickets.get(session, taken.ticket_id)
        later = attachments.listed(session, taken.ticket_id)[-1]
    assert stored.events[-1].kind == "requester_reply" and "factura.exe" in (stored.events[-1].note or "")
    assert (later.filename, later.event_id) == ("captura.png", stored.events[-1].id)


def test_a_mail_without_message_id_is_taken_in_once(desk: Desk) -> None:
    desk.deliver(samples.without_message_id(), samples.without_message_id())  # the same bytes twice
    assert [t.outcome for t in desk.poll()] == ["ticket", "duplicate"]
    assert len(desk.tickets()) == 1


def test_two_pollers_at_once_open_one_ticket_per_mail(desk: Desk) -> None:
    mails = [samples.new_request(message_id=f"<race-{n}@tornillo.com.co>", subject=f"Caso de carrera {n}") for n in range(8)]
    desk.deliver(*mails)
    # Both pollers have searched the mailbox before either takes a mail in: they race on every one.
    barrier = threading.Barrier(2, timeout=30)
    lookup = sender_lookup(desk.sessions)
    first_call: dict[int, bool] = {}

    def who(address: str) -> Sender | None:
        if not first_call.setdefault(threading.get_ident(), False):
            first_call[threading.get_ident()] = True
            barrier.wait()
        return lookup(address)

    results: list[list[Taken]] = []

    def poller() -> None:
        results.append(poll_once(desk.imap, desk.sessions, who, intake_config(desk.settings), lambda: NOW))

    threads = [threading.Thread(target=poller) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    outcomes = sorted(t.outcome for batch in results for t in batch)
    assert outcomes == ["duplicate"] * 8 + ["ticket"] * 8
    assert sorted(t.subject for t in desk.tickets()) == sorted(f"Caso de carrera {n}" for n in range(8))
    assert desk.count(MailMessageRecord, MailMessageRecord.direction == "in") == 8


def test_the_imap_password_never_reaches_the_logs(desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    desk.deliver(samples.new_request(), samples.out_of_office())
    desk.poll()
    wrong = ImapSettings(host="127.0.0.1", port=desk.dovecot.port, user=desk.dovecot.user, password="wrong-" + desk.dovecot.password,
                         security="none", interval=0.05)
    job = ImapIntakeJob(wrong, desk.sessions, sender_lookup(desk.sessions), intake_config(desk.settings), lambda: NOW)

    async def run() -> None:
        context = job.context(None)
        await context.__anext__()
        while job.polls < 1:
            await asyncio.sleep(0.05)
        await context.aclose()

    asyncio.run(run())
    assert "polling 127.0.0.1" in caplog.text  # the failed login was logged...
    assert desk.dovecot.password not in caplog.text  # ...without the password
    assert desk.dovecot.password not in repr(desk.imap)


def test_the_cli_polls_and_masks_the_password(desk: Desk) -> None:
    desk.deliver(samples.new_request(), samples.bounce())
    env = {"PROVISIONER_IMAP_HOST": "127.0.0.1", "PROVISIONER_IMAP_PORT": str(desk.dovecot.port),
           "PROVISIONER_IMAP_USER": desk.dovecot.user, "PROVISIONER_IMAP_PASSWORD": desk.dovecot.password,
           "PROVISIONER_IMAP_SECURITY": "none"}
    done = run_cli(desk.database_url, "mail", "poll", "--once", "--json", env=env)
    assert [item["outcome"] for item in json.loads(done.stdout)] == ["ticket", "ignored:bounce"]
    shown = run_cli(desk.database_url, "settings", env=env)
    assert "imap_password  PROVISIONER_IMAP_PASSWORD  = ***" in shown.stdout
    assert desk.dovecot.password not in shown.stdout + shown.stderr + done.stdout + done.stderr
    refused = run_cli(desk.database_url, "mail", "poll", "--once", check=False,
                      env={**env, "PROVISIONER_IMAP_PASSWORD": "wrong-" + desk.dovecot.password})
    assert refused.returncode != 0 and "AUTHENTICATIONFAILED" in refused.stderr
    assert desk.dovecot.password not in refused.stdout + refused.stderr


def test_senders_are_matched_by_requester_address_then_by_tenant_domain(desk: Desk) -> None:
    with desk.sessions() as session:
        assert find_sender(session, "ANA@tornillo.com.co") == Sender("tornillo", "Ana Gómez")
        assert find_sender(session, "luis@tornillo.com.co") == Sender("tornillo", "")
        assert find_sender(session, "x@desconocido.example") is None
    with desk.sessions.begin() as session:  # a domain two tenants declare is nobody's; an inactive requester is nobody
        session.execute(update(Tenant).where(Tenant.slug == "otra").values(email_domains="otra.example, Tornillo.com.co"))
        session.execute(update(Requester).values(active=False))
    with desk.sessions() as session:
        assert find_sender(session, "luis@tornillo.com.co") is None
        assert find_sender(session, "ana@tornillo.com.co") is None
        assert find_sender(session, "eva@otra.example") == Sender("otra", "")


def test_every_server_process_polls_and_one_mail_is_still_one_ticket(desk: Desk, tmp_path: Path) -> None:
    """`provisioner serve --workers 2`: both processes poll soporte@ every 0.2 s."""
    env = {"PROVISIONER_IMAP_HOST": "127.0.0.1", "PROVISIONER_IMAP_PORT": str(desk.dovecot.port),
           "PROVISIONER_IMAP_USER": desk.dovecot.user, "PROVISIONER_IMAP_PASSWORD": desk.dovecot.password,
           "PROVISIONER_IMAP_SECURITY": "none", "PROVISIONER_IMAP_INTERVAL_SECONDS": "0.2", "PROVISIONER_LOG_LEVEL": "DEBUG"}
    server = start_server(desk.database_url, tmp_path, extra_env=env, args=("--workers", "2"))
    try:
        desk.deliver(*(samples.new_request(message_id=f"<served-{n}@tornillo.com.co>", subject=f"Servidor {n}") for n in range(6)))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and desk.count(MailMessageRecord, MailMessageRecord.outcome == "ticket") < 6:
            time.sleep(0.2)
        time.sleep(1)  # let both processes go over the mailbox again
        assert sorted(t.subject for t in desk.tickets()) == [f"Servidor {n}" for n in range(6)]
        assert all("\\Seen" in flags for flags in desk.dovecot.flags())
    finally:
        stop_server(server)
    assert desk.dovecot.password not in server.log()


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_the_mailbox_is_reached_over_tls_checked_against_the_given_ca(security: str, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    dovecot = start_dovecot(tmp_path / "dovecot", tls=(cert, key))
    try:
        port = dovecot.tls_port if security == "ssl" else dovecot.port
        checked = ImapSettings(host="127.0.0.1", port=port, user=dovecot.user, password=dovecot.password,
                               security=security, cafile=str(cert))
        dovecot.append(samples.new_request())
        with Mailbox(checked) as box:
            [uid] = box.unseen()
            assert "teléfono de recepción no da tono".encode() in (box.fetch(uid) or b"")
        assert "\\Seen" not in dovecot.flags()[0]  # fetched with PEEK: unseen until taken in
        unchecked = ImapSettings(host="127.0.0.1", port=port, user=dovecot.user, password=dovecot.password, security=security)
        with pytest.raises(ssl.SSLCertVerificationError), Mailbox(unchecked):
            pass  # a certificate no CA of the system signed is refused
    finally:
        dovecot.stop()


def test_two_mails_of_one_sender_taken_in_at_once_are_answered_once(database_url: str) -> None:
    """The rate limit's count is taken under a per-sender lock (PostgreSQL) or the write lock (SQLite)."""
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    fields = RequestFields("Pedro", "pedro@x.example", "", "algo")
    counted = threading.Event()
    counts: dict[str, int] = {}

    def take(message_id: str, hold: float) -> None:
        with sessions.begin() as session:
            mail_intake.record_incoming(session, message_id, NOW)
            draft_id = mail_intake.create_draft(session, "", "pedro@x.example", fields, [], NOW)
            counts[message_id] = mail_intake.auto_replies_since(session, "pedro@x.example", NOW - timedelta(hours=1))
            if counts[message_id] == 0:
                mail_intake.record_outgoing(session, f"<auto-{message_id[1:]}", NOW, outcome="auto_reply", draft_id=draft_id)
            counted.set()
            time.sleep(hold)

    try:
        first = threading.Thread(target=take, args=("<m1@x.example>", 1.0))
        first.start()
        assert counted.wait(30)
        take("<m2@x.example>", 0)
        first.join(30)
        assert counts == {"<m1@x.example>": 0, "<m2@x.example>": 1}
    finally:
        engine.dispose()


def test_only_the_drafts_customer_can_complete_it(desk: Desk) -> None:
    desk.deliver(samples.without_subject())
    desk.poll()
    [reply] = desk.smtp.inbox.messages
    intruder = samples.reply_in_thread(str(reply["Message-ID"]), message_id="<x@otra.example>", subject="Re: otro asunto")
    desk.deliver(intruder.replace(b"ana@tornillo.com.co", b"eva@otra.example"))
    [taken] = desk.poll()
    assert taken.outcome == "ticket" and taken.draft_id is None
    assert [t.account for t in desk.tickets()] == ["otra"]
    assert desk.count(MailDraftRecord, MailDraftRecord.ticket_id.is_(None)) == 1  # Ana's draft still waits
