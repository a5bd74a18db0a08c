"""Forward tickets to the operator's helpdesk mailbox over SMTP, one mail thread per ticket.

    new ticket ──▶ "[Caso #12] <subject>"          Message-ID <…@sender-domain>, stored on the ticket
    response, escalation, resolution, reopening,
    requester reply, reclassification, closing ──▶ "Re: [Caso #12] <subject>"
                                                    In-Reply-To / References: the first Message-ID

Nothing here runs inside a ticket action. The timeline is the outbox: every ticket keeps
`mail_sent_event_id`, the last event the mailbox has been told about, and
`forward_pending` sends whatever came after it (support_link.adapters.jobs runs it on every tick).
So a failure (server down, refused login) is logged, nothing advances, and the next run
retries; delivery is at least once (a crash between sending and committing repeats a
message). Events older than `max_age` are not forwarded any more: that bounds retries and
keeps the mailbox from being flooded with history when forwarding is first switched on.
Several server processes never send the same ticket's messages at once (PostgreSQL
advisory lock per ticket; the ticket row itself is not locked while a message is sent).
Internal notes, device joins and work logs stay out of the mailbox.

`compose_new` and `compose_update` are pure (values in, an EmailMessage out). The password
is never logged.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy.orm import Session

from support_link.adapters.mail_settings import MailSettings
from support_link.calendar import as_bogota
from support_link.words import ACTORS, CHANNELS, EVENTS, IMPACTS, PRIORITIES, STATUSES, TYPES, URGENCIES
from support_link.store import mail_outbox, tickets
from support_link.store.values import StoredEvent, StoredTicket

log = logging.getLogger("support_link.mail")  # its name before the move to adapters/: log filters keep working

NEW_KIND = "created"
UPDATE_KINDS = ("public_response", "escalated", "resolved", "reopened", "requester_reply", "reclassified", "closed")
MAIL_KINDS = (NEW_KIND, *UPDATE_KINDS)

# Sentence case where a word stands inside a sentence ("urgencia alta").
URGENCY_ES = {key: word.lower() for key, word in URGENCIES.items()}
IMPACT_ES = {key: word.lower() for key, word in IMPACTS.items()}
# Fields whose change an update message spells out, with their Spanish names and value tables.
CHANGE_LABELS: dict[str, tuple[str, dict[str, str]]] = {
    "status": ("estado", STATUSES),
    "priority": ("prioridad", PRIORITIES),
    "urgency": ("urgencia", URGENCY_ES),
    "impact": ("impacto", IMPACT_ES),
    "tier": ("nivel", {}),
    "first_response_due": ("primera respuesta a más tardar", {}),
}


@dataclass(frozen=True)
class MailReport:
    sent: int = 0
    skipped: int = 0  # events older than max_age, passed over
    error: str | None = None  # the failure that ended this run early, if any


# --- composing (pure) -------------------------------------------------------------------------


def _one_line(text: str) -> str:
    """Header-safe: a requester's subject never carries a line break into the headers."""
    return " ".join(text.split())


def _when(moment: datetime | str | None) -> str:
    if moment is None:
        return "sin plazo"
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return as_bogota(value).strftime("%Y-%m-%d %H:%M") + " (hora de Bogotá)"


def thread_subject(stored: StoredTicket) -> str:
    return f"[Caso #{stored.id}] {_one_line(stored.ticket.subject)}"


def _headers(message: EmailMessage, settings: MailSettings, stored: StoredTicket, subject: str, message_id: str, at: datetime) -> None:
    message["From"] = settings.sender
    message["To"] = settings.recipient
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(as_bogota(at))
    message["X-Caso"] = str(stored.id)


def ticket_summary(stored: StoredTicket) -> str:
    ticket = stored.ticket
    lines = [
        f"Caso #{stored.id} · cuenta {stored.account}",
        "",
        f"Solicitante: {ticket.requester_name}",
        f"Contacto: {ticket.requester_contact}",
        f"Tipo: {TYPES[ticket.type]}",
        f"Prioridad: {PRIORITIES[ticket.priority]} (urgencia {URGENCY_ES[ticket.urgency]}, impacto {IMPACT_ES[ticket.impact]})",
        f"Canal: {CHANNELS[ticket.channel]}",
        f"Creado: {_when(ticket.created_at)}",
        f"Primera respuesta a más tardar: {_when(ticket.first_response_due)}",
        f"Estado: {STATUSES[ticket.status]}",
    ]
    if stored.finding:
        lines.append(f"Hallazgo: {stored.finding}")
    if stored.devices:
        lines.append("Equipos afectados: " + ", ".join(device.device for device in stored.devices))
    return "\n".join([*lines, "", "Detalle:", ticket.detail])


def _change(name: str, before: Any, after: Any) -> str:
    label, names = CHANGE_LABELS[name]
    if name == "first_response_due":
        before, after = _when(before), _when(after)
    return f"{label}: {names.get(str(before), before)} → {names.get(str(after), after)}"


def update_text(event: StoredEvent) -> str:
    actor = f"{ACTORS[event.actor.kind]} {event.actor.name}"
    lines = [f"{EVENTS.get(event.kind, event.kind)} · {actor} · {_when(event.at)}"]
    changes = [_change(name, event.before.get(name), event.after[name]) for name in CHANGE_LABELS if name in event.after]
    if changes:
        lines.append("Cambios: " + "; ".join(changes))
    if event.note:
        lines += ["", event.note]
    return "\n".join(lines)


def compose_new(stored: StoredTicket, settings: MailSettings, message_id: str, event: StoredEvent | None = None) -> EmailMessage:
    """The thread's first message: every field the mailbox needs (and the news, if not the creation)."""
    message = EmailMessage()
    at = event.at if event is not None else stored.ticket.created_at
    _headers(message, settings, stored, thread_subject(stored), message_id, at)
    body = ticket_summary(stored)
    if event is not None and event.kind != NEW_KIND:
        body += "\n\nNovedad:\n" + update_text(event)
    message.set_content(body + "\n")
    return message


def compose_update(
    stored: StoredTicket, event: StoredEvent, settings: MailSettings, message_id: str, thread_root: str
) -> EmailMessage:
    """A reply in the ticket's thread: In-Reply-To and References name the first message."""
    message = EmailMessage()
    _headers(message, settings, stored, "Re: " + thread_subject(stored), message_id, event.at)
    message["In-Reply-To"] = thread_root
    message["References"] = thread_root
    message.set_content(update_text(event) + "\n\n--\n" + ticket_summary(stored) + "\n")
    return message


# --- sending (adapter) ------------------------------------------------------------------------


class SmtpConnection:
    """One SMTP session, opened on the first message and closed at the end of the run."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        settings = self.settings
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            smtp.ehlo()
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=settings.cafile))
                smtp.ehlo()
            if settings.user:
                smtp.login(settings.user, settings.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage, to_addrs: list[str] | None = None) -> None:
        """Send to `to_addrs` (default: the helpdesk mailbox); the envelope sender is always ours."""
        if self._smtp is None:
            self._smtp = self._open()
        self._smtp.send_message(message, from_addr=self.settings.sender, to_addrs=to_addrs or [self.settings.recipient])

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (OSError, smtplib.SMTPException):
            self._smtp.close()
        self._smtp = None


SessionFactory = Callable[[], Session]


@dataclass
class _Progress:
    root: str | None
    through: int
    new_root: str | None = None
    sent: int = 0
    skipped: int = 0
    error: str | None = None


def _pending(stored: StoredTicket, cursor: int) -> list[StoredEvent]:
    return sorted((event for event in stored.events if event.id > cursor and event.kind in MAIL_KINDS), key=lambda e: e.id)


def _send_event(connection: SmtpConnection, settings: MailSettings, stored: StoredTicket, event: StoredEvent, progress: _Progress) -> None:
    message_id = make_msgid(idstring=f"caso{stored.id}", domain=settings.domain)
    if progress.root is None:
        connection.send(compose_new(stored, settings, message_id, event))
        progress.root = progress.new_root = message_id
    else:
        connection.send(compose_update(stored, event, settings, message_id, progress.root))
    progress.through, progress.sent = event.id, progress.sent + 1


def _forward_ticket(
    session: Session, connection: SmtpConnection, settings: MailSettings, ticket_id: int, horizon: datetime
) -> _Progress:
    """Send the ticket's pending messages in order; the cursor advances past each one sent."""
    root, cursor = mail_outbox.mail_cursor(session, ticket_id)
    progress = _Progress(root, cursor)
    stored = tickets.get(session, ticket_id)
    for event in _pending(stored, cursor):
        if event.at < horizon:
            progress.through, progress.skipped = event.id, progress.skipped + 1
            log.info("mail: ticket #%s event %s (%s) too old to forward, passed over", ticket_id, event.id, event.kind)
            continue
        try:
            _send_event(connection, settings, stored, event, progress)
        except (OSError, smtplib.SMTPException) as exc:
            progress.error = f"{type(exc).__name__}: {exc}"
            log.warning("mail: forwarding ticket #%s to %s:%s failed, will retry: %s",
                        ticket_id, settings.host, settings.port, progress.error)
            break
    if progress.through != cursor:
        mail_outbox.record_mail_sent(session, ticket_id, progress.new_root, progress.through)
    return progress


def forward_pending(
    session_factory: SessionFactory, settings: MailSettings, now: datetime, *, limit: int = 50
) -> MailReport:
    """Send every pending ticket message (oldest ticket first); stop at the first failure.

    Blocking (smtplib): run it in a thread. Never raises for SMTP or network failures: they
    are logged and reported, and the next run retries from where this one stopped.
    """
    horizon = as_bogota(now, "now") - settings.max_age
    with session_factory() as session:
        ticket_ids = mail_outbox.tickets_with_pending_mail(session, MAIL_KINDS, horizon, limit)
    sent = skipped = 0
    connection = SmtpConnection(settings)
    try:
        for ticket_id in ticket_ids:
            with session_factory() as session, session.begin():
                if not mail_outbox.try_lock_mail(session, ticket_id):
                    continue  # another process is sending this ticket's messages
                progress = _forward_ticket(session, connection, settings, ticket_id, horizon)
            sent, skipped = sent + progress.sent, skipped + progress.skipped
            if progress.error is not None:
                return MailReport(sent, skipped, progress.error)
    finally:
        connection.close()
    if sent:
        log.info("mail: %s message(s) forwarded to %s", sent, settings.recipient)
    return MailReport(sent, skipped)
