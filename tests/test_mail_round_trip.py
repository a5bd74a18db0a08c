"""Mail in and mail out together: a requester's mail opens a ticket, our answers reach the
requester, and each of the requester's replies to them threads into the same ticket (never a new
one), up to the survey link of the resolution. Real Dovecot, real aiosmtpd, SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from provisioner.db.engine import make_engine, session_factory
from provisioner.mail_in import intake_config, sender_lookup
from provisioner.settings import Settings
from support_link.adapters.imap_intake import Taken, poll_once
from support_link.adapters.jobs import SupportJobs
from support_link.lifecycle import Actor, ActorKind, Resolve, Respond
from support_link.store import surveys, tickets
from support_link.store.models import TicketRecord
from tests import mail_samples as samples
from tests.imap_server import Dovecot, dovecot_binary, start_dovecot
from tests.test_imap_intake import _seed
from tests.test_support_mail import SmtpServer, start_smtp

pytestmark = pytest.mark.skipif(dovecot_binary() is None and not os.environ.get("CI"),
                                reason="dovecot-imapd is not installed (scripts/test installs it)")

START = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Bogota
AGENT = Actor(ActorKind.AGENT, "laura")
REQUESTER = "ana@tornillo.com.co"


@dataclass
class Desk:
    dovecot: Dovecot
    smtp: SmtpServer
    sessions: sessionmaker[Session]
    settings: Settings
    now: datetime = START

    def poll(self) -> list[Taken]:
        return poll_once(self.settings.imap(), self.sessions, sender_lookup(self.sessions),  # type: ignore[arg-type]
                         intake_config(self.settings), lambda: self.now, self.settings.campaign_mail())

    def send_mail(self) -> None:
        """One pass of the server's background job: the helpdesk copy and the requester's thread."""
        SupportJobs(self.sessions, lambda: self.now, mail=self.settings.mail()).run_once()

    def to_requester(self) -> list[EmailMessage]:
        return [m for m, (_, to) in zip(self.smtp.inbox.messages, self.smtp.inbox.envelopes, strict=True) if to == [REQUESTER]]

    def ticket_ids(self) -> list[int]:
        with self.sessions() as session:
            return list(session.scalars(select(TicketRecord.id).order_by(TicketRecord.id)))


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    dovecot = start_dovecot(tmp_path / "dovecot")
    smtp = start_smtp()
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    _seed(sessions)
    settings = Settings(database_url=database_url, imap_host="127.0.0.1", imap_port=dovecot.port, imap_user=dovecot.user,
                        imap_password=dovecot.password, imap_security="none", smtp_host="127.0.0.1", smtp_port=smtp.port,
                        smtp_sender="mesa@pbx.example.co", smtp_recipient=samples.HELPDESK,
                        portal_url="https://mesa.example.co")
    try:
        yield Desk(dovecot, smtp, sessions, settings)
    finally:
        engine.dispose()
        smtp.controller.stop()
        dovecot.stop()


def reply_to(message: EmailMessage, message_id: str, body: str) -> bytes:
    """What a mail client sends when the requester presses "Responder" on our mail."""
    return (f"From: Ana Gómez <{REQUESTER}>\r\nTo: {message['Reply-To']}\r\nSubject: RE: {message['Subject']}\r\n"
            f"Date: Wed, 18 Mar 2026 11:15:00 -0500\r\nMessage-ID: {message_id}\r\n"
            f"In-Reply-To: {message['Message-ID']}\r\nReferences: {message['References'] or ''} {message['Message-ID']}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"{body}\r\n\r\nEl mié, 18 mar 2026 escribió Mesa de ayuda:\r\n> texto anterior\r\n").encode()


def test_every_reply_to_our_mails_threads_into_the_ticket_it_answers(desk: Desk) -> None:
    desk.dovecot.append(samples.new_request())
    [taken] = desk.poll()
    [ticket_id] = desk.ticket_ids()
    assert taken.outcome == "ticket"

    desk.send_mail()  # the acknowledgement
    [ack] = desk.to_requester()
    assert ack["Reply-To"] == samples.HELPDESK and f"[Caso #{ticket_id}]" in ack["Subject"]
    assert f"https://mesa.example.co/portal/casos/{ticket_id}" in ack.get_content()

    desk.now += timedelta(minutes=30)
    desk.dovecot.append(reply_to(ack, "<r1@mail.example>", "Adjunto más datos: es la extensión 101."))
    [taken] = desk.poll()
    assert (taken.outcome, taken.ticket_id) == ("reply", ticket_id)

    with desk.sessions.begin() as session:
        tickets.act(session, ticket_id, Respond(public=True), AGENT, desk.now + timedelta(minutes=5), "Reiniciamos su línea.")
    desk.now += timedelta(minutes=10)
    desk.send_mail()
    answer = desk.to_requester()[-1]
    assert "Reiniciamos su línea." in answer.get_content() and answer["In-Reply-To"] == ack["Message-ID"]

    desk.dovecot.append(reply_to(answer, "<r2@mail.example>", "Ahora sí tengo tono, gracias."))
    [taken] = desk.poll()
    assert (taken.outcome, taken.ticket_id) == ("reply", ticket_id)

    with desk.sessions.begin() as session:
        tickets.act(session, ticket_id, Resolve(), AGENT, desk.now + timedelta(minutes=5))
    desk.now += timedelta(minutes=10)
    desk.send_mail()
    resolved = desk.to_requester()[-1].get_content()
    link = next(word for word in resolved.split() if "/portal/encuesta/" in word)
    with desk.sessions() as session:
        assert surveys.ticket_for_token(session, link.rsplit("/", 1)[1]) == ticket_id

    assert desk.ticket_ids() == [ticket_id]  # every reply threaded: one problem, one ticket
    with desk.sessions() as session:
        kinds = [event.kind for event in tickets.get(session, ticket_id).events]
    assert kinds.count("requester_reply") == 2
    # The helpdesk copies land in soporte@, the mailbox we poll: they never come back in as tickets.
    copies = [m for m, (_, to) in zip(desk.smtp.inbox.messages, desk.smtp.inbox.envelopes, strict=True) if to == [samples.HELPDESK]]
    assert len(copies) >= 3
    for copy in copies:
        desk.dovecot.append(bytes(copy))
    outcomes = [taken.outcome for taken in desk.poll()]
    assert len(outcomes) == len(copies) and not {"ticket", "reply", "draft"} & set(outcomes), outcomes
    assert desk.ticket_ids() == [ticket_id]
