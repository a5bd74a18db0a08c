"""What the requester reads by mail about their ticket: one thread per ticket, apart from the helpdesk's.

    created                   ──▶ "[Caso #12] <subject>"  acknowledgement: number, first response due, how to reply
    public_response (agent)   ──▶ "Re: [Caso #12] …"      the agent's words (the only mail without Auto-Submitted)
    resolved                  ──▶ the solution, the survey link, the 48 h self-close
    reopened, closed          ──▶ a short notice
    resolution_date_proposed  ──▶ (the agent's only) accept or counter in the portal
    resolution_date_agreed    ──▶ the agreed date

Nothing else reaches the requester: internal notes, system messages, device evidence,
reclassifications, escalations and assignments are the desk's business, and the requester's
own steps (replies, counter-proposals, survey answers) are not mailed back to them.
Every mail ends with the ticket as it is now and the link to it in the portal; From carries
the desk's display name, Reply-To the helpdesk mailbox, so an answer lands where the intake
threads it.

Pure: values in, an EmailMessage (or None: nothing to tell) out. Sending is
support_link.adapters.requester_outbox's.
"""

from __future__ import annotations

import re
from datetime import date
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from support_link.adapters.mail_settings import MailSettings
from support_link.adapters.mail_text import current_detail, device_lines, one_line, portal_link, thread_subject, when
from support_link.calendar import as_bogota
from support_link.lifecycle import AUTO_CLOSE_AFTER, ActorKind
from support_link.store.values import StoredEvent, StoredTicket
from support_link.words import PRIORITIES, STATUSES, TYPES

REQUESTER_KINDS = (
    "created", "public_response", "resolved", "reopened", "closed", "resolution_date_proposed", "resolution_date_agreed",
)
HOW_TO_REPLY = "Para agregar información, responda a este correo sin cambiar el asunto."
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")


def deliverable(address: str | None) -> bool:
    """One plain address (no display name, no list, no line break): what a To: header may carry."""
    return bool(address) and _ADDRESS.fullmatch(address or "") is not None


def _day(value: object) -> str:
    """A date from an event's record (ISO text) as the requester reads it."""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y") if isinstance(value, date) else "sin fecha"


def _acknowledgement(stored: StoredTicket, event: StoredEvent, survey_url: str | None) -> str:
    ticket = stored.ticket
    due = ticket.first_response_due
    promise = f"Le daremos una primera respuesta a más tardar el {when(due)}." if due else "Le responderemos lo antes posible."
    return "\n".join([
        f"Hola, {one_line(ticket.requester_name)}:",
        "",
        f"Recibimos su solicitud y quedó registrada como Caso #{stored.id}.",
        "",
        f"Asunto: {one_line(ticket.subject)}",
        f"Tipo: {TYPES[ticket.type]} · Prioridad: {PRIORITIES[ticket.priority]}",
        "Detalle:",
        current_detail(stored),
        "",
        promise,
        HOW_TO_REPLY,
    ])


def _response(stored: StoredTicket, event: StoredEvent, survey_url: str | None) -> str | None:
    if event.actor.kind is not ActorKind.AGENT or not (event.note or "").strip():
        return None
    return "\n".join([f"La mesa de ayuda respondió a su caso ({event.actor.name}):", "", event.note or "", "", HOW_TO_REPLY])


def _resolved(stored: StoredTicket, event: StoredEvent, survey_url: str | None) -> str:
    lines = ["Su caso fue resuelto."]
    if (event.note or "").strip():
        lines += ["", "Solución:", event.note or ""]
    if survey_url:
        lines += ["", "¿Cómo lo atendimos? Responda la encuesta de satisfacción (un minuto):", survey_url]
    lines += [
        "",
        "Si no quedó resuelto, dígalo en la encuesta o responda a este correo y lo reabrimos.",
        f"Si no hay respuesta, el caso se cierra solo 48 horas después, el {when(event.at + AUTO_CLOSE_AFTER)}.",
    ]
    return "\n".join(lines)


def _reopened(stored: StoredTicket, event: StoredEvent, survey_url: str | None) -> str:
    return "Reabrimos su caso: seguimos trabajando en él.\n" + HOW_TO_REPLY


def _closed(stored: StoredTicket, event: StoredEvent, survey_url: str | None) -> str:
    return "Su caso quedó cerrado. Si el problema vuelve, registre una nueva solicitud en el portal."


def _date_proposed(stored: StoredTicket, event: StoredEvent, survey_url: str | None) -> str | None:
    if event.actor.kind is not ActorKind.AGENT:
        return None  # the requester's own counter-proposal
    proposed = _day(event.after.get("proposed_resolution_on"))
    return "\n".join([
        f"Proponemos resolver su requerimiento a más tardar el {proposed}.",
        "Acepte la fecha o proponga otra en el portal (enlace abajo).",
    ])


def _date_agreed(stored: StoredTicket, event: StoredEvent, survey_url: str | None) -> str:
    return f"Quedó acordada la fecha de solución de su requerimiento: {_day(event.after.get('agreed_resolution_on'))}."


NOTICES = {
    "created": _acknowledgement, "public_response": _response, "resolved": _resolved, "reopened": _reopened,
    "closed": _closed, "resolution_date_proposed": _date_proposed, "resolution_date_agreed": _date_agreed,
}


def notice_text(stored: StoredTicket, event: StoredEvent, survey_url: str | None = None) -> str | None:
    """The news of `event` for the requester, or None when it is not theirs to read."""
    write = NOTICES.get(event.kind)
    return None if write is None else write(stored, event, survey_url)


def footer(stored: StoredTicket, settings: MailSettings) -> str:
    """The ticket as it is now, and where to see it."""
    lines = [f"Caso #{stored.id} · {one_line(stored.ticket.subject)}", f"Estado: {STATUSES[stored.ticket.status]}"]
    return "\n".join([*lines, *device_lines(stored, settings), f"Vea el caso en el portal: {portal_link(stored, settings)}"])


def is_agents_reply(event: StoredEvent) -> bool:
    """A person wrote it: the one mail a vacation responder may answer (no Auto-Submitted)."""
    return event.kind == "public_response" and event.actor.kind is ActorKind.AGENT


def compose_requester(
    stored: StoredTicket, event: StoredEvent, settings: MailSettings, message_id: str, root: str | None,
    survey_url: str | None = None,
) -> EmailMessage | None:
    """The requester's mail for `event` (root None: it opens the thread), or None: nothing for them."""
    address = stored.ticket.requester_email
    text = notice_text(stored, event, survey_url)
    if not deliverable(address) or text is None:
        return None
    message = EmailMessage()
    message["From"] = Address(display_name=one_line(settings.from_name), addr_spec=settings.sender)
    message["To"] = address
    message["Reply-To"] = settings.recipient
    message["Subject"] = thread_subject(stored) if root is None else "Re: " + thread_subject(stored)
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(as_bogota(event.at))
    message["X-Caso"] = str(stored.id)
    if root is not None:
        message["In-Reply-To"] = root
        message["References"] = root
    if not is_agents_reply(event):
        message["Auto-Submitted"] = "auto-generated"
    message.set_content(text + "\n\n--\n" + footer(stored, settings) + "\n")
    return message

