"""Mail in: poll the helpdesk mailbox (soporte@) over IMAP and turn each mail into ticket work.

    poll_once ──IMAP: UID SEARCH UNSEEN, UID FETCH BODY.PEEK[] (the mail stays unseen while it is worked)
      └─ per mail, one database transaction (take_in):
           1. INSERT sl_mail_message(message_id, 'in')      the dedup: a second poller fails here, skips
           2. inbound.classify                               ignore | reply to draft | reply to ticket | new
           3. new ticket (channel email) | RequesterReply | draft + one auto-reply | nothing
         commit, then: UID STORE \\Seen, then the auto-reply over SMTP (if any; SMTP off: logged)

Rules, as decided here:
- Mails are marked \\Seen only after their transaction committed (a crash re-reads them; the
  Message-ID row makes the second reading a no-op). A mail whose work failed stays unseen and
  is retried on the next poll.
- Who a sender is comes from the caller (`who(address) -> Sender | None`): the provisioner
  matches requesters and tenants' mail domains. Unknown senders open nothing and get the
  "how to get access" auto-reply, recorded as a draft without account so the rate limit sees it.
- A reply threads only when the sender is the ticket's requester or of the ticket's account;
  anyone else's mail naming a ticket is taken as a new request of their own.
- A reply to a ticket closed after its 48 h opens a new ticket that names the old one.
- At most one auto-reply per sender per hour (inbound.AUTO_REPLY_WINDOW), counted from the
  'out' rows of its drafts; auto-submitted mail, bounces, lists and loops are never answered.
- The IMAP password is never logged; subjects and addresses are.
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
import smtplib
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from types import TracebackType

from sqlalchemy.orm import Session

from support_link import inbound
from support_link.adapters.imap_settings import ImapSettings
from support_link.adapters.mail import SmtpConnection
from support_link.adapters.mail_settings import MailSettings
from support_link.errors import MailAlreadyTaken, TransitionError
from support_link.inbound import (
    Ignore,
    InboundMail,
    NewRequest,
    ReplyHeaders,
    ReplyToDraft,
    ReplyToTicket,
    RequestFields,
    Screened,
    Sender,
)
from support_link.lifecycle import Actor, ActorKind, RequesterReply, new_ticket
from support_link.store import attachments, mail_intake, tickets

log = logging.getLogger("support_link.imap")

SessionFactory = Callable[[], Session]
Who = Callable[[str], Sender | None]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class IntakeConfig:
    own_addresses: frozenset[str]  # our From and the mailbox's address: mail from them is a loop
    reply_from: str  # From of the auto-replies
    portal_url: str = ""  # named in the unknown sender's auto-reply

    @property
    def domain(self) -> str:
        return self.reply_from.rpartition("@")[2] or "support-link.invalid"


@dataclass(frozen=True)
class Taken:
    """What one mail became (printed by `provisioner mail poll`; never its body)."""

    message_id: str
    sender: str
    subject: str
    outcome: str  # ticket | reply | draft | unknown_sender | ignored:<why> | duplicate | failed
    ticket_id: int | None = None
    draft_id: int | None = None
    auto_reply: EmailMessage | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> dict[str, object]:
        return {"message_id": self.message_id, "sender": self.sender, "subject": self.subject, "outcome": self.outcome,
                "ticket_id": self.ticket_id, "draft_id": self.draft_id, "auto_reply": self.auto_reply is not None}


# --- one mail, one transaction ------------------------------------------------------------


@dataclass
class _Work:
    """One mail inside its transaction: the session, what is known, and what came of it."""

    session: Session
    mail: InboundMail
    sender: Sender | None
    now: datetime
    config: IntakeConfig
    row_id: int

    def done(self, outcome: str, *, ticket_id: int | None = None, draft_id: int | None = None,
             reply: EmailMessage | None = None) -> Taken:
        mail_intake.set_outcome(self.session, self.row_id, outcome, ticket_id=ticket_id, draft_id=draft_id)
        return Taken(self.mail.message_id, self.mail.sender_address, self.mail.subject, outcome, ticket_id, draft_id, reply)

    @property
    def actor(self) -> Actor:
        name = self.mail.sender_name or (self.sender.name if self.sender else "") or self.mail.sender_address
        return Actor(ActorKind.REQUESTER, name)


def _may_reply(work: _Work) -> bool:
    since = work.now - inbound.AUTO_REPLY_WINDOW
    return mail_intake.auto_replies_since(work.session, work.mail.sender_address, since) == 0


def _auto_reply(work: _Work, draft_id: int, compose: Callable[[ReplyHeaders], EmailMessage]) -> EmailMessage | None:
    """The composed auto-reply, its Message-ID recorded on the draft; None when the rate limit says no."""
    if not _may_reply(work):
        log.info("imap: no auto-reply to %s: one was sent within the hour", work.mail.sender_address)
        return None
    message_id = make_msgid(idstring=f"borrador{draft_id}", domain=work.config.domain)
    mail_intake.record_outgoing(work.session, message_id, work.now, outcome="auto_reply", draft_id=draft_id)
    return compose(ReplyHeaders(work.config.reply_from, message_id, work.now))


def _keep_attachments(work: _Work, ticket_id: int, screened: Screened) -> None:
    event_id = mail_intake.last_event_id(work.session, ticket_id)
    for accepted, data in screened.accepted:
        attachments.add(work.session, ticket_id, filename=accepted.filename, content_type=accepted.content_type,
                        data=data, source="email", now=work.now, event_id=event_id)


def _with_refusals(text: str, screened: Screened) -> str:
    return "\n\n".join(part for part in (text, screened.refused_text()) if part)


def _open_ticket(work: _Work, account: str, fields: RequestFields, screened: Screened) -> int:
    ticket, event = new_ticket(
        ticket_type=inbound.ticket_type_of(fields.subject, fields.detail), urgency="medium", impact="individual",
        subject=fields.subject, detail=_with_refusals(fields.detail, screened), requester_name=fields.requester_name,
        requester_contact=fields.requester_contact, channel="email", created_at=work.now, actor=work.actor,
        requester_email=work.mail.sender_address,
    )
    ticket_id = tickets.create(work.session, ticket, event, account)
    _keep_attachments(work, ticket_id, screened)
    log.info("imap: mail %s from %s opened ticket #%s", work.mail.message_id, work.mail.sender_address, ticket_id)
    return ticket_id


def _unknown_sender(work: _Work) -> Taken:
    fields = inbound.request_of(work.mail)
    draft_id = mail_intake.create_draft(work.session, "", work.mail.sender_address, fields, [], work.now)
    reply = _auto_reply(work, draft_id, lambda head: inbound.compose_unknown_sender_reply(work.mail, head, work.config.portal_url))
    return work.done("unknown_sender", draft_id=draft_id, reply=reply)


def _new_request(work: _Work, mention: int | None = None) -> Taken:
    if work.sender is None:
        return _unknown_sender(work)
    fields = inbound.request_of(work.mail, work.sender.name)
    if mention is not None:  # a reply to a closed ticket: the new one says where it comes from
        text = inbound.trim_quoted(work.mail.text)
        subject = inbound.reply_subject(work.mail.subject) or f"Seguimiento del caso #{mention}"
        fields = RequestFields(fields.requester_name, fields.requester_contact, subject,
                               f"Respuesta al caso #{mention}, que ya estaba cerrado:\n\n{text}".strip())
    screened = inbound.screen(work.mail.attachments)
    missing = inbound.missing(fields)
    if not missing:
        return work.done("ticket", ticket_id=_open_ticket(work, work.sender.account, fields, screened))
    draft_id = mail_intake.create_draft(work.session, work.sender.account, work.mail.sender_address, fields, missing, work.now)
    reply = _auto_reply(work, draft_id, lambda head: inbound.compose_missing_reply(work.mail, missing, head))
    log.info("imap: mail %s from %s lacks %s: draft %s", work.mail.message_id, work.mail.sender_address, ", ".join(missing), draft_id)
    return work.done("draft", draft_id=draft_id, reply=reply)


def _may_thread(work: _Work, ticket_id: int) -> bool:
    """Only the ticket's requester, or someone of its account, may add to it."""
    owner = mail_intake.ticket_owner(work.session, ticket_id)
    if owner is None:
        return False
    same_person = owner.requester_email is not None and owner.requester_email == work.mail.sender_address
    return same_person or (work.sender is not None and work.sender.account == owner.account)


def _reply(work: _Work, ticket_id: int) -> Taken:
    if not _may_thread(work, ticket_id):
        log.info("imap: %s may not reply to ticket #%s: taken as a new request", work.mail.sender_address, ticket_id)
        return _new_request(work)
    screened = inbound.screen(work.mail.attachments)
    note = _with_refusals(inbound.trim_quoted(work.mail.text), screened)
    try:
        tickets.act(work.session, ticket_id, RequesterReply(), work.actor, work.now, note=note or None)
    except TransitionError:  # closed (48 h after resolution): the reply starts a new ticket
        return _new_request(work, mention=ticket_id)
    _keep_attachments(work, ticket_id, screened)
    log.info("imap: mail %s from %s is a reply on ticket #%s", work.mail.message_id, work.mail.sender_address, ticket_id)
    return work.done("reply", ticket_id=ticket_id)


def _fill_draft(work: _Work, draft_id: int) -> Taken:
    draft = mail_intake.get_draft(work.session, draft_id)
    if draft is None or not draft.account or work.sender is None or work.sender.account != draft.account:
        return _new_request(work)  # the sender's situation decides afresh (e.g. registered since)
    if draft.ticket_id is not None:
        return _reply(work, draft.ticket_id)
    our_subject = inbound.missing_reply_subject(draft.fields.subject)
    fields = inbound.completed(draft.fields, work.mail, our_subject)
    missing = inbound.missing(fields)
    if missing:
        mail_intake.update_draft(work.session, draft_id, fields, missing)
        return work.done("draft", draft_id=draft_id)
    ticket_id = _open_ticket(work, draft.account, fields, inbound.screen(work.mail.attachments))
    mail_intake.update_draft(work.session, draft_id, fields, [], ticket_id)
    return work.done("ticket", ticket_id=ticket_id, draft_id=draft_id)


def _work_on(work: _Work) -> Taken:
    known = mail_intake.known(work.session, {work.mail.message_id, *work.mail.references})
    decision = inbound.classify(work.mail, work.config.own_addresses, known)
    match decision:
        case Ignore(reason):
            log.info("imap: mail %s from %s ignored (%s)", work.mail.message_id, work.mail.sender_address or "-", reason)
            return work.done(f"ignored:{reason}")
        case ReplyToDraft(draft_id):
            return _fill_draft(work, draft_id)
        case ReplyToTicket(ticket_id, _):
            return _reply(work, ticket_id)
        case NewRequest():
            return _new_request(work)


def take_in(session_factory: SessionFactory, raw: bytes, now: datetime, who: Who, config: IntakeConfig) -> Taken:
    """One raw mail, in its own transaction. Never raises: a failure is logged and reported."""
    mail = inbound.parse(raw)
    try:
        sender = who(mail.sender_address) if mail.sender_address else None  # before the transaction: its own session
        with session_factory() as session, session.begin():
            row_id = mail_intake.record_incoming(session, mail.message_id, now)
            return _work_on(_Work(session, mail, sender, now, config, row_id))
    except MailAlreadyTaken:
        log.info("imap: mail %s was already taken in (another poller, or an earlier pass)", mail.message_id)
        return Taken(mail.message_id, mail.sender_address, mail.subject, "duplicate")
    except Exception:
        log.exception("imap: mail %s from %s could not be taken in; it stays unseen for the next poll",
                      mail.message_id, mail.sender_address or "-")
        return Taken(mail.message_id, mail.sender_address, mail.subject, "failed")


# --- the mailbox (imaplib) ----------------------------------------------------------------


class Mailbox:
    """One IMAP session on the settings' folder: unseen UIDs, a mail's bytes (without marking it), \\Seen."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self._client: imaplib.IMAP4 | None = None

    def _connect(self) -> imaplib.IMAP4:
        settings = self.settings
        context = ssl.create_default_context(cafile=settings.cafile)
        if settings.security == "ssl":
            return imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=context, timeout=settings.timeout)
        client = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
        if settings.security == "starttls":
            client.starttls(ssl_context=context)
        return client

    def __enter__(self) -> Mailbox:
        client = self._connect()
        try:
            client.login(self.settings.user, self.settings.password)
            status, detail = client.select(self._quoted_folder())
            if status != "OK":
                raise imaplib.IMAP4.error(f"cannot select folder {self.settings.folder!r}: {detail!r}")
        except BaseException:
            client.shutdown()
            raise
        self._client = client
        return self

    def _quoted_folder(self) -> str:
        return '"' + self.settings.folder.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            client.shutdown()

    @property
    def client(self) -> imaplib.IMAP4:
        assert self._client is not None, "use the mailbox inside `with`"  # noqa: S101
        return self._client

    def unseen(self) -> list[str]:
        status, data = self.client.uid("SEARCH", "UNSEEN")
        if status != "OK" or not data or not data[0]:
            return []
        return [uid.decode() for uid in data[0].split()]

    def fetch(self, uid: str) -> bytes | None:
        status, data = self.client.uid("FETCH", uid, "(BODY.PEEK[])")  # PEEK: unseen until taken in
        if status != "OK":
            return None
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None

    def mark_seen(self, uid: str) -> None:
        self.client.uid("STORE", uid, "+FLAGS", "(\\Seen)")


# --- a poll, and the worker ---------------------------------------------------------------


def _send(connection: SmtpConnection | None, taken: Taken) -> None:
    if taken.auto_reply is None:
        return
    if connection is None:
        log.warning("imap: auto-reply to %s not sent: SMTP is not configured", taken.sender)
        return
    try:
        connection.send(taken.auto_reply, to_addrs=[taken.sender])
    except (OSError, smtplib.SMTPException) as error:
        log.warning("imap: auto-reply to %s not sent: %s: %s", taken.sender, type(error).__name__, error)


def poll_once(settings: ImapSettings, session_factory: SessionFactory, who: Who, config: IntakeConfig,
              clock: Clock, mail: MailSettings | None = None) -> list[Taken]:
    """Take in every unseen mail of the folder. Blocking (imaplib, smtplib): run it in a thread.

    IMAP failures (server down, refused login) raise imaplib.IMAP4.error or OSError; the
    worker logs them and polls again later."""
    connection = SmtpConnection(mail) if mail is not None else None
    results: list[Taken] = []
    try:
        with Mailbox(settings) as box:
            for uid in box.unseen():
                raw = box.fetch(uid)
                if raw is None:
                    continue
                taken = take_in(session_factory, raw, clock(), who, config)
                if taken.outcome != "failed":
                    box.mark_seen(uid)
                _send(connection, taken)
                results.append(taken)
    finally:
        if connection is not None:
            connection.close()
    return results


class ImapIntakeJob:
    """Polls every `settings.interval` seconds in a worker thread (start/stop from aiohttp's cleanup_ctx).
    Several server processes may each run one: the Message-ID rows keep one mail one ticket."""

    def __init__(self, settings: ImapSettings, session_factory: SessionFactory, who: Who, config: IntakeConfig,
                 clock: Clock, mail: MailSettings | None = None, on_taken: Callable[[list[Taken]], None] | None = None) -> None:
        self.settings, self.session_factory, self.who, self.config = settings, session_factory, who, config
        self.clock, self.mail, self.on_taken = clock, mail, on_taken
        self.polls = 0
        self._stopping = asyncio.Event()

    def run_once(self) -> list[Taken]:
        return poll_once(self.settings, self.session_factory, self.who, self.config, self.clock, self.mail)

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                taken = await asyncio.to_thread(self.run_once)
            except (OSError, imaplib.IMAP4.error) as error:
                log.warning("imap: polling %s:%s as %s failed, retrying in %s s: %s: %s", self.settings.host,
                            self.settings.port, self.settings.user, self.settings.interval, type(error).__name__, error)
            except Exception:
                log.exception("imap: poll failed; retrying in %s s", self.settings.interval)
            else:
                if taken and self.on_taken is not None:
                    self.on_taken(taken)
            self.polls += 1
            try:
                async with asyncio.timeout(self.settings.interval):
                    await self._stopping.wait()
            except TimeoutError:
                pass

    async def context(self, _app: object) -> AsyncIterator[None]:
        """For aiohttp's app.cleanup_ctx: started with the server, stopped with it (a poll in progress finishes)."""
        self._stopping.clear()
        task = asyncio.create_task(self._loop(), name="support_link.imap")
        try:
            yield
        finally:
            self._stopping.set()
            await task
