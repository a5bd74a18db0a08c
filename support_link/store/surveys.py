"""Satisfaction surveys: one per resolution, answered once by the requester (caller opens the session).

A survey row appears when someone first needs it: the mail of the resolution asks for a link
token (`new_link_token`), or the requester opens the survey on the portal (`current`). The
link's token is stored as its SHA-256 only. Answering applies lifecycle.AnswerSurvey through
store.tickets.act, so "solved" closes the ticket and "not solved" reopens it with the comment
on the timeline; a survey answered after the 48 h auto-close keeps its rating (a "not solved"
then is refused: the requester opens a new request).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from support_link.calendar import BOGOTA
from support_link.errors import SurveyAlreadyAnswered, SurveyError
from support_link.lifecycle import SYSTEM, Actor, AnswerSurvey, CloseIfDue, Status, Ticket
from support_link.store import tickets
from support_link.store.models import SurveyRecord
from support_link.store.values import StoredSurvey


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _value(record: SurveyRecord) -> StoredSurvey:
    return StoredSurvey(
        record.id, record.ticket_id, record.account, record.agent, record.resolved_at.astimezone(BOGOTA),
        record.rating, record.solved, record.comment,
        None if record.answered_at is None else record.answered_at.astimezone(BOGOTA),
    )


def _record(session: Session, ticket_id: int) -> SurveyRecord:
    """The current resolution's survey row, created if missing (safe when two processes race)."""
    ticket = tickets.load_record(session, ticket_id)
    if ticket.resolved_at is None or ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise SurveyError(f"ticket #{ticket_id} is not resolved: there is no survey to answer")
    query = select(SurveyRecord).where(SurveyRecord.ticket_id == ticket_id, SurveyRecord.resolved_at == ticket.resolved_at)
    found = session.scalars(query).one_or_none()
    if found is not None:
        return found
    tickets.write_lock(session)  # SQLite: the savepoint below must sit inside the caller's transaction
    record = SurveyRecord(ticket_id=ticket_id, account=ticket.account, agent=ticket.assignee,
                          token_digest=_digest(secrets.token_urlsafe(32)), resolved_at=ticket.resolved_at)
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:  # another process created it first
        return session.scalars(query).one()
    return record


def current(session: Session, ticket_id: int, now: datetime) -> StoredSurvey:
    """The survey of the ticket's latest resolution (SurveyError when it is not resolved)."""
    return _value(_record(session, ticket_id))


def latest(session: Session, ticket_id: int) -> StoredSurvey | None:
    query = select(SurveyRecord).where(SurveyRecord.ticket_id == ticket_id).order_by(SurveyRecord.resolved_at.desc())
    record = session.scalars(query.limit(1)).one_or_none()
    return None if record is None else _value(record)


def new_link_token(session: Session, ticket_id: int, now: datetime) -> str:
    """A fresh token for the mail's survey link (the previous link stops working)."""
    token = secrets.token_urlsafe(32)
    _record(session, ticket_id).token_digest = _digest(token)
    session.flush()
    return token


def ticket_for_token(session: Session, token: str) -> int | None:
    if not token:
        return None
    return session.scalars(select(SurveyRecord.ticket_id).where(SurveyRecord.token_digest == _digest(token))).one_or_none()


def answer(session: Session, ticket_id: int, *, rating: int, solved: bool, comment: str, actor: Actor,
           now: datetime) -> Ticket:
    """Record the answer and apply it to the ticket; the ticket as it is afterwards."""
    if not 1 <= rating <= 5:
        raise SurveyError(f"rating {rating} is outside 1-5")
    tickets.write_lock(session)
    tickets.load_record(session, ticket_id, for_update=True)
    record = _record(session, ticket_id)
    if record.answered_at is not None:
        raise SurveyAlreadyAnswered(f"the survey of ticket #{ticket_id} was already answered")
    text = comment.strip() or None
    caught_up = tickets.act(session, ticket_id, CloseIfDue(), SYSTEM, now)  # a due 48 h close happens first
    if caught_up.status is Status.CLOSED and solved:
        updated = caught_up  # it closed by itself: the rating still counts
    else:
        updated = tickets.act(session, ticket_id, AnswerSurvey(solved), actor, now, text)
    record.rating, record.solved, record.comment, record.answered_at = rating, solved, text, now
    session.flush()
    return updated


def answered(session: Session) -> list[StoredSurvey]:
    """Every answered survey, oldest answer first (for the reports)."""
    query = select(SurveyRecord).where(SurveyRecord.answered_at.is_not(None)).order_by(SurveyRecord.answered_at)
    return [_value(record) for record in session.scalars(query)]


def sent_count(session: Session) -> list[tuple[str, str | None, datetime, bool]]:
    """(account, agent, resolved_at, answered) of every survey row: the response rate's base."""
    rows = session.execute(select(SurveyRecord.account, SurveyRecord.agent, SurveyRecord.resolved_at,
                                  SurveyRecord.answered_at.is_not(None)))
    return [(account, agent, resolved.astimezone(BOGOTA), bool(done)) for account, agent, resolved, done in rows]
