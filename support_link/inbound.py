"""Mail in: what a mail to the helpdesk mailbox (soporte@) means, and what to answer (pure).

    raw bytes ──parse──▶ InboundMail (sender, subject, text, attachments, threading headers)
              ──classify(own addresses, the Message-IDs we know)──▶ one Decision:
                  Ignore(no_sender | loop | bounce | auto_reply | list)
                  ReplyToDraft(D)    answers our "falta información" auto-reply
                  ReplyToTicket(N)   In-Reply-To/References to a ticket's mail, or "[Caso #N]" in the subject
                  NewRequest
              ──request_of──▶ RequestFields ──missing──▶ required fields still empty (lifecycle.REQUIRED_FIELDS)
    compose_missing_reply / compose_unknown_sender_reply: the only two auto-replies we ever send.

Decisions, as made here:
- A loop is our own mail coming back: our X-Caso / X-Support-Link headers, a From that is one
  of our addresses, or a Message-ID we sent. Bounces are DSNs (multipart/report;
  report-type=delivery-status), MAILER-DAEMON/postmaster senders or an empty Return-Path.
  Auto-Submitted other than "no", X-Autoreply/X-Autorespond and Precedence auto_reply are
  auto-replies; Precedence bulk/junk/list or a List-Id header is list mail. None of them
  ever opens a ticket or gets an answer: that is what keeps an auto-reply storm from starting.
- "[Caso #N]" in the subject only names a candidate; the adapter checks that the sender is
  the ticket's requester (or of its account) before threading.
- The description is the text/plain part, else the HTML part as text. In replies the quoted
  tail ("El ... escribió:", "On ... wrote:", Outlook's "De:/Enviado:" block, "> " lines) is cut.
- A request is a requirement when its subject or text says "requerimiento" or "solicitud de";
  everything else is an incident. Urgency medium, impact individual: agents reclassify.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from email.utils import format_datetime, getaddresses
from html.parser import HTMLParser
from typing import TypeAlias

from support_link.attachments import MAX_ATTACHMENTS, Accepted, check_attachment
from support_link.errors import AttachmentRefused
from support_link.lifecycle import REQUIRED_FIELDS
from support_link.words import MAIL_MISSING

AUTO_REPLY_WINDOW = timedelta(hours=1)  # at most one auto-reply per sender in it
OUR_HEADER = "X-Support-Link"  # on every auto-reply: seeing it come back is a loop
CASE_TAG = re.compile(r"\[\s*caso\s*#\s*(\d{1,9})\s*\]", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_REPLY_PREFIX = re.compile(r"^\s*((re|rv|fw|fwd|tr|aw|res)\s*:\s*|\[\s*caso\s*#\s*\d+\s*\]\s*)+", re.IGNORECASE)
_MAX_ID = 255  # sl_mail_message.message_id


# --- the mail as a value ------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes


@dataclass(frozen=True)
class InboundMail:
    message_id: str  # "<...>"; synthetic (from the SHA-256 of the raw bytes) when the mail has none
    sender_name: str
    sender_address: str  # lower-case; "" when the From has no usable address
    subject: str
    text: str  # text/plain, or the HTML part as text; untrimmed
    attachments: tuple[Attachment, ...] = ()
    references: tuple[str, ...] = ()  # In-Reply-To first, then References newest first
    auto_submitted: str = ""
    precedence: str = ""
    is_bounce: bool = False
    list_mail: bool = False
    ours: bool = False  # carries our X-Caso or X-Support-Link header
    synthetic_id: bool = False


def synthetic_message_id(raw: bytes) -> str:
    return f"<{hashlib.sha256(raw).hexdigest()}@sin-message-id.invalid>"


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # a header the parser cannot make sense of
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value)


def _sender(message: Message) -> tuple[str, str]:
    pairs = getaddresses([_header(message, "From")])
    for name, address in pairs:
        if "@" in address:
            return name.strip(), address.strip().lower()
    return "", ""


def _is_bounce(message: Message, address: str) -> bool:
    kind = message.get_content_type()
    report = (message.get_param("report-type") or "") if kind == "multipart/report" else ""
    local = address.partition("@")[0]
    return (
        str(report).lower() in ("delivery-status", "disposition-notification")
        or local in ("mailer-daemon", "postmaster")
        or _header(message, "Return-Path") == "<>"
    )


def parse(raw: bytes) -> InboundMail:
    """The mail's parts that matter to the helpdesk; never raises for a malformed mail."""
    message = message_from_bytes(raw, policy=default_policy)
    own_id = next(iter(_ids(_header(message, "Message-ID"))), "")
    synthetic = not own_id or len(own_id) > _MAX_ID
    name, address = _sender(message)
    references = _ids(_header(message, "In-Reply-To")) + list(reversed(_ids(_header(message, "References"))))
    auto = _header(message, "Auto-Submitted").lower()
    if not auto and (_header(message, "X-Autoreply") or _header(message, "X-Autorespond")):
        auto = "auto-replied"
    return InboundMail(
        message_id=synthetic_message_id(raw) if synthetic else own_id,
        sender_name=name,
        sender_address=address,
        subject=_header(message, "Subject"),
        text=_text_of(message),
        attachments=tuple(_attachments_of(message)),
        references=tuple(dict.fromkeys(references)),
        auto_submitted=auto,
        precedence=_header(message, "Precedence").lower(),
        is_bounce=_is_bounce(message, address),
        list_mail=bool(_header(message, "List-Id")),
        ours=bool(_header(message, "X-Caso") or _header(message, OUR_HEADER)),
        synthetic_id=synthetic,
    )


# --- the body -----------------------------------------------------------------------------


class _TextOfHtml(HTMLParser):
    _BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "ul", "ol"}
    _SKIPPED = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self.skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _content(part: Message) -> str:
    try:
        return str(part.get_content())  # type: ignore[attr-defined]
    except (LookupError, ValueError, AttributeError):  # an unknown charset: keep what decodes
        payload = part.get_payload(decode=True)
        return payload.decode("latin-1") if isinstance(payload, bytes) else ""


def _text_of(message: Message) -> str:
    if not isinstance(message, EmailMessage):  # pragma: no cover - the default policy always gives one
        return ""
    body = message.get_body(("plain", "html"))
    if body is None:
        return ""
    text = _content(body)
    if body.get_content_type() == "text/html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").strip()


def _attachments_of(message: Message) -> Iterable[Attachment]:
    if not isinstance(message, EmailMessage) or not message.is_multipart() or message.get_content_type() == "multipart/report":
        return []
    found = []
    for number, part in enumerate(message.iter_attachments(), start=1):
        data = part.get_payload(decode=True)
        if part.is_multipart() or not isinstance(data, bytes):
            continue
        found.append(Attachment(part.get_filename() or f"adjunto-{number}", data))
    return found


_QUOTE_HEADS = (
    re.compile(r"^\s*(el|on)\s.+(escribió|wrote)\s*:?\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(original message|mensaje original|forwarded message|mensaje reenviado)\s*-{2,}", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above its "De:/Enviado:" block
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(de|from)\s*:\*?\s", re.IGNORECASE)
_OUTLOOK_SENT = re.compile(r"^\s*\*?(enviado|sent|fecha|date)\s*:", re.IGNORECASE)


def trim_quoted(text: str) -> str:
    """A reply without the mail it quotes: cut at the first quote header or quoted line."""
    lines = text.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        outlook = _OUTLOOK_FROM.match(line) and any(_OUTLOOK_SENT.match(later) for later in lines[index + 1:index + 5])
        if line.lstrip().startswith(">") or outlook or any(head.match(line) for head in _QUOTE_HEADS):
            lines = lines[:index]
            break
    return "\n".join(lines).strip()


def reply_subject(subject: str) -> str:
    """The subject without Re:/RE:/RV:/Fwd: and [Caso #N] prefixes."""
    return _REPLY_PREFIX.sub("", subject).strip()


@dataclass(frozen=True)
class Sender:
    """Who an address belongs to, as the provisioner knows it (support_link knows no tenants)."""

    account: str  # the tenant's slug: the ticket's account
    name: str = ""  # the requester's registered name ("" when matched by the mail domain only)


# --- the decision -------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownMessage:
    """A Message-ID found in sl_mail_message or on a ticket: where it belongs."""

    ticket_id: int | None = None
    draft_id: int | None = None
    ours: bool = False  # we sent it


@dataclass(frozen=True)
class NewRequest:
    pass


@dataclass(frozen=True)
class ReplyToTicket:
    ticket_id: int
    by: str  # 'thread' (In-Reply-To/References) or 'subject' ("[Caso #N]": check the sender)


@dataclass(frozen=True)
class ReplyToDraft:
    draft_id: int


@dataclass(frozen=True)
class Ignore:
    reason: str  # no_sender | loop | bounce | auto_reply | list


Decision: TypeAlias = NewRequest | ReplyToTicket | ReplyToDraft | Ignore


def ignore_reason(mail: InboundMail, own_addresses: frozenset[str], known: Mapping[str, KnownMessage]) -> str | None:
    """Why this mail must never open a ticket nor be answered, if it must not."""
    if not mail.sender_address:
        return "no_sender"
    mine = known.get(mail.message_id)
    if mail.ours or mail.sender_address in own_addresses or (mine is not None and mine.ours):
        return "loop"
    if mail.is_bounce:
        return "bounce"
    if mail.auto_submitted not in ("", "no") or mail.precedence == "auto_reply":
        return "auto_reply"
    if mail.precedence in ("bulk", "junk", "list") or mail.list_mail:
        return "list"
    return None


def classify(mail: InboundMail, own_addresses: frozenset[str], known: Mapping[str, KnownMessage]) -> Decision:
    """One decision per mail. `known`: what we know of the Message-IDs the mail names (and its own)."""
    reason = ignore_reason(mail, own_addresses, known)
    if reason is not None:
        return Ignore(reason)
    for reference in mail.references:
        found = known.get(reference)
        if found is not None and found.draft_id is not None:
            return ReplyToDraft(found.draft_id)
        if found is not None and found.ticket_id is not None:
            return ReplyToTicket(found.ticket_id, "thread")
    tag = CASE_TAG.search(mail.subject)
    if tag:
        return ReplyToTicket(int(tag.group(1)), "subject")
    return NewRequest()


# --- the request's fields -----------------------------------------------------------------


@dataclass(frozen=True)
class RequestFields:
    requester_name: str
    requester_contact: str
    subject: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"requester_name": self.requester_name, "requester_contact": self.requester_contact,
                "subject": self.subject, "detail": self.detail}


def request_of(mail: InboundMail, registered_name: str = "") -> RequestFields:
    """A new request's fields: the From's display name (else the name the account has), the address,
    the subject and the text as sent (a new mail may well be a forward: nothing is cut)."""
    return RequestFields(
        requester_name=mail.sender_name or registered_name,
        requester_contact=mail.sender_address,
        subject=" ".join(mail.subject.split()),
        detail=mail.text.strip(),
    )


def missing(fields: RequestFields) -> list[str]:
    """The required fields (lifecycle.REQUIRED_FIELDS, in its order) still empty."""
    values = fields.as_dict()
    return [name for name in REQUIRED_FIELDS if not values[name].strip()]


def missing_in_spanish(names: Sequence[str]) -> list[str]:
    return [MAIL_MISSING[name] for name in names]


_SUBJECT_LINE = re.compile(r"^\s*asunto\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


def completed(draft: RequestFields, reply: InboundMail, our_subject: str) -> RequestFields:
    """A draft filled by the sender's answer to our auto-reply: a line "Asunto: ..." (or a subject
    of its own, not ours) gives the subject; the rest of the trimmed answer gives what else is empty."""
    text = trim_quoted(reply.text)
    subject = draft.subject
    line = _SUBJECT_LINE.search(text)
    if line:
        subject = subject or " ".join(line.group(1).split())
        text = (text[:line.start()] + text[line.end():]).strip()
    answered = reply_subject(reply.subject)
    if not subject and answered and answered != reply_subject(our_subject):
        subject = answered
    return RequestFields(
        requester_name=draft.requester_name or reply.sender_name,
        requester_contact=draft.requester_contact or reply.sender_address,
        subject=subject,
        detail="\n\n".join(part for part in (draft.detail, text) if part) if text else draft.detail,
    )


def ticket_type_of(subject: str, detail: str) -> str:
    words = f"{subject}\n{detail}".casefold()
    return "requirement" if "requerimiento" in words or "solicitud de" in words else "incident"


# --- attachments --------------------------------------------------------------------------


@dataclass(frozen=True)
class Screened:
    accepted: tuple[tuple[Accepted, bytes], ...] = ()
    refused: tuple[tuple[str, str], ...] = ()  # (file name, why, in Spanish)

    def refused_text(self) -> str:
        """A paragraph for the ticket: which files were not kept, and why."""
        if not self.refused:
            return ""
        lines = [f"- {name}: {why}" for name, why in self.refused]
        return "Adjuntos no guardados:\n" + "\n".join(lines)


def screen(attachments: Sequence[Attachment]) -> Screened:
    """Each attachment through check_attachment; refused ones are named, never raised."""
    accepted: list[tuple[Accepted, bytes]] = []
    refused: list[tuple[str, str]] = []
    for item in attachments:
        if len(accepted) >= MAX_ATTACHMENTS:
            refused.append((item.filename, f"se guardan como máximo {MAX_ATTACHMENTS} adjuntos por correo"))
            continue
        try:
            accepted.append((check_attachment(item.filename, item.data), item.data))
        except AttachmentRefused as refusal:
            refused.append((item.filename, str(refusal)))
    return Screened(tuple(accepted), tuple(refused))


# --- the auto-replies ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyHeaders:
    sender: str  # our From (the helpdesk address)
    message_id: str  # recorded, so the answer threads into the draft
    at: datetime
    extra: Mapping[str, str] = field(default_factory=dict)


def _auto_reply(mail: InboundMail, head: ReplyHeaders, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = head.sender
    message["To"] = mail.sender_address
    message["Subject"] = subject
    message["Message-ID"] = head.message_id
    message["Date"] = format_datetime(head.at)
    if not mail.synthetic_id:
        message["In-Reply-To"] = mail.message_id
        message["References"] = mail.message_id
    message["Auto-Submitted"] = "auto-replied"  # RFC 3834: other robots must not answer it
    message["X-Auto-Response-Suppress"] = "All"  # Exchange/Outlook: no out-of-office back
    message[OUR_HEADER] = "auto-reply"
    message.set_content(body)
    return message


def missing_reply_subject(original_subject: str) -> str:
    """Our auto-reply's subject for a mail with this subject (the draft's answer is told apart by it)."""
    subject = reply_subject(original_subject)
    return f"Re: {subject}" if subject else "Su solicitud a soporte: falta información"


_REATTACH = "Los archivos adjuntos de su correo no se guardaron todavía: vuelva a adjuntarlos en su respuesta.\n\n"


def compose_missing_reply(mail: InboundMail, names: Sequence[str], head: ReplyHeaders) -> EmailMessage:
    """The one answer to a mail that cannot open a ticket yet: what is missing, and how to send it."""
    listed = "\n".join(f"- {item}" for item in missing_in_spanish(names))
    body = (
        "Hola:\n\n"
        "Recibimos su correo, pero para abrir el caso nos falta:\n\n"
        f"{listed}\n\n"
        "Responda a este correo con lo que falta (si falta el asunto, escriba en una línea\n"
        "«Asunto: ...» con una frase que describa el problema). Con su respuesta abrimos el caso.\n\n"
        f"{_REATTACH if mail.attachments else ''}"
        "Este es un mensaje automático de la mesa de ayuda.\n"
    )
    return _auto_reply(mail, head, missing_reply_subject(mail.subject), body)


def compose_unknown_sender_reply(mail: InboundMail, head: ReplyHeaders, portal_url: str) -> EmailMessage:
    """The one answer to an address no customer account has: how to get access."""
    portal = f"{portal_url.rstrip('/')}/portal/" if portal_url else "el portal de soporte"
    body = (
        "Hola:\n\n"
        f"Su dirección ({mail.sender_address}) no está registrada para pedir soporte, así que no abrimos un caso.\n\n"
        "Para obtener acceso, pida al administrador de su empresa o a su contacto en la mesa de ayuda\n"
        f"que lo invite, o regístrese en {portal} si su empresa ya declaró su dominio de correo.\n"
        "Después escríbanos de nuevo desde la dirección registrada.\n\n"
        "Este es un mensaje automático de la mesa de ayuda.\n"
    )
    subject = reply_subject(mail.subject)
    return _auto_reply(mail, head, f"Re: {subject}" if subject else "Su correo a soporte", body)
