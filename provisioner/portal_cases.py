"""A requester's cases in the database (adapter; the caller opens the session).

Every function takes the requester's tenant slug and refuses any ticket of another account
with the same NotFoundError as a ticket that does not exist: a customer cannot even learn
that another customer's ticket number is taken. Rules stay in support_link (lifecycle,
attachments, surveys) and provisioner.portal_rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from provisioner.errors import ConflictError, InputError, NotFoundError
from provisioner.requester_store import PortalUser
from provisioner.web.limits import too_long, unstorable
from support_link import lifecycle
from support_link.attachments import Accepted
from support_link.errors import SurveyError, TicketError, TicketNotFoundError
from support_link.lifecycle import Actor, ActorKind
from support_link.store import attachments, surveys, tickets
from support_link.store.models import EventRecord
from support_link.store.values import StoredAttachment, StoredSurvey, StoredTicket, TicketRow

SHOWN_TICKETS = 500


@dataclass(frozen=True)
class Upload:
    """A file a requester sent, already checked by support_link.attachments.check_attachment."""

    accepted: Accepted
    data: bytes


def actor_of(user: PortalUser) -> Actor:
    return Actor(ActorKind.REQUESTER, user.name)


def not_found(ticket_id: int) -> NotFoundError:
    return NotFoundError(f"No existe el caso #{ticket_id}.")


def _check_owner(session: Session, user: PortalUser, ticket_id: int) -> None:
    try:
        account = tickets.load_record(session, ticket_id).account
    except TicketNotFoundError:
        raise not_found(ticket_id) from None
    if account != user.tenant_slug:
        raise not_found(ticket_id)


def cases(session: Session, user: PortalUser, now: datetime) -> list[TicketRow]:
    return tickets.list_tickets(session, now, account=user.tenant_slug, limit=SHOWN_TICKETS)


def case(session: Session, user: PortalUser, ticket_id: int, now: datetime) -> tuple[StoredTicket, list[StoredAttachment], StoredSurvey | None]:
    _check_owner(session, user, ticket_id)
    return tickets.get(session, ticket_id, now), attachments.listed(session, ticket_id), surveys.latest(session, ticket_id)


def attachment(session: Session, user: PortalUser, ticket_id: int, attachment_id: int) -> tuple[StoredAttachment, bytes]:
    _check_owner(session, user, ticket_id)
    return attachments.read(session, ticket_id, attachment_id)  # AttachmentNotFound: another ticket's id too


def _check_text(fields: dict[str, str]) -> None:
    message = too_long(fields) or unstorable(fields)
    if message:
        raise InputError(message)


def _latest_event_id(session: Session, ticket_id: int) -> int | None:
    return session.scalar(select(func.max(EventRecord.id)).where(EventRecord.ticket_id == ticket_id))


def _attach(session: Session, ticket_id: int, files: Sequence[Upload], now: datetime, event_id: int | None) -> None:
    for upload in files:
        attachments.add(session, ticket_id, filename=upload.accepted.filename, content_type=upload.accepted.content_type,
                        data=upload.data, source="portal", now=now, event_id=event_id)


def open_request(session: Session, user: PortalUser, fields: dict[str, str], files: Sequence[Upload], now: datetime) -> int:
    """A new ticket (channel portal) for the requester's tenant, with its attachments; its id."""
    _check_text(fields)
    ticket, event = lifecycle.new_ticket(
        ticket_type=fields["type"], urgency=fields["urgency"], impact=fields["impact"], subject=fields["subject"],
        detail=fields["detail"], requester_name=fields["requester_name"], requester_contact=fields["requester_contact"],
        channel="portal", created_at=now, actor=actor_of(user), requester_email=user.email,
    )
    ticket_id = tickets.create(session, ticket, event, account=user.tenant_slug)
    _attach(session, ticket_id, files, now, _latest_event_id(session, ticket_id))
    return ticket_id


def reply(session: Session, user: PortalUser, ticket_id: int, text: str, files: Sequence[Upload], now: datetime) -> None:
    _check_owner(session, user, ticket_id)
    if not text.strip() and not files:
        raise InputError("Escriba su respuesta o adjunte un archivo.")
    _check_text({"note": text})
    try:
        tickets.act(session, ticket_id, lifecycle.RequesterReply(), actor_of(user), now, text.strip() or "(adjuntos)")
    except TicketError:
        raise ConflictError("El caso está cerrado: ya no recibe respuestas. Abra una nueva solicitud.") from None
    _attach(session, ticket_id, files, now, _latest_event_id(session, ticket_id))


def settle_date(session: Session, user: PortalUser, ticket_id: int, counter: date | None, now: datetime) -> None:
    """Accept the agent's proposed resolution date (counter None) or propose another day."""
    _check_owner(session, user, ticket_id)
    action: lifecycle.Action = lifecycle.AcceptResolutionDate() if counter is None else lifecycle.ProposeResolutionDate(counter)
    try:
        tickets.act(session, ticket_id, action, actor_of(user), now)
    except TicketError:
        raise ConflictError("Este caso no tiene una fecha propuesta por la mesa que usted pueda aceptar o contraproponer.") from None


def answer_survey(session: Session, ticket_id: int, actor: Actor, rating: int, solved: bool, comment: str,
                  now: datetime, user: PortalUser | None = None) -> lifecycle.Ticket:
    """The survey's answer; `user` None: the mailed link's token already identified the ticket."""
    if user is not None:
        _check_owner(session, user, ticket_id)
    _check_text({"note": comment})
    try:
        return surveys.answer(session, ticket_id, rating=rating, solved=solved, comment=comment, actor=actor, now=now)
    except (SurveyError, TicketError) as exc:
        raise ConflictError(survey_refusal(exc)) from None


def survey_refusal(exc: Exception) -> str:
    from support_link.errors import SurveyAlreadyAnswered

    if isinstance(exc, SurveyAlreadyAnswered):
        return "Esta encuesta ya fue respondida. Gracias."
    if isinstance(exc, TicketError):
        return "El caso ya se cerró solo (48 h después de resuelto): abra una nueva solicitud si sigue el problema."
    return "Este caso no está resuelto: la encuesta llega cuando la mesa lo resuelve."


def survey_ticket(session: Session, token: str, now: datetime) -> tuple[StoredTicket, StoredSurvey]:
    """The ticket a mailed survey link names, and its current survey (NotFoundError for a bad token)."""
    ticket_id = surveys.ticket_for_token(session, token)
    if ticket_id is None:
        raise NotFoundError("El enlace de la encuesta no es válido o fue reemplazado por uno más reciente.")
    stored = tickets.get(session, ticket_id, now)
    survey = surveys.latest(session, ticket_id)
    if survey is None:
        raise NotFoundError("El enlace de la encuesta no es válido.")
    return stored, survey


def survey_for(session: Session, user: PortalUser, ticket_id: int, now: datetime) -> StoredSurvey:
    _check_owner(session, user, ticket_id)
    try:
        return surveys.current(session, ticket_id, now)
    except SurveyError as exc:
        raise ConflictError(survey_refusal(exc)) from None
