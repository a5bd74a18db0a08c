"""Where the mail forwarder stands on each ticket's timeline (the outbox), and its per-ticket lock.

A ticket's timeline is the outbox: `mail_sent_event_id` is the last event the helpdesk
mailbox has been told about, `mail_message_id` the root of the ticket's mail thread.
These two columns are written only here, without loading or locking the ticket row, so
agents keep acting while a message is on its way.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from support_link.errors import TicketNotFoundError
from support_link.store.models import EventRecord, TicketRecord

_MAIL_LOCK_CLASS = 0x534C4D  # "SLM": PostgreSQL advisory-lock namespace for the mail forwarder


def tickets_with_pending_mail(session: Session, kinds: Collection[str], since: datetime, limit: int = 50) -> list[int]:
    """Ids of tickets with events of `kinds` at or after `since` not yet forwarded by mail."""
    cursor = func.coalesce(TicketRecord.mail_sent_event_id, 0)
    pending = (
        select(EventRecord.id)
        .where(EventRecord.ticket_id == TicketRecord.id, EventRecord.id > cursor)
        .where(EventRecord.kind.in_(list(kinds)), EventRecord.at >= since)
    )
    query = select(TicketRecord.id).where(TicketRecord.updated_at >= since, pending.exists())
    return list(session.scalars(query.order_by(TicketRecord.id).limit(limit)))


def try_lock_mail(session: Session, ticket_id: int) -> bool:
    """Claim the ticket's mail thread for this transaction (PostgreSQL advisory lock; SQLite: yes).

    It does not lock the ticket row, so agents keep acting while a message is on its way.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    claim = select(func.pg_try_advisory_xact_lock(_MAIL_LOCK_CLASS, ticket_id))
    return bool(session.execute(claim).scalar_one())


def mail_cursor(session: Session, ticket_id: int) -> tuple[str | None, int]:
    """(thread root Message-ID or None, id of the last event forwarded or 0)."""
    query = select(TicketRecord.mail_message_id, TicketRecord.mail_sent_event_id).where(TicketRecord.id == ticket_id)
    row = session.execute(query.execution_options(populate_existing=True)).one_or_none()
    if row is None:
        raise TicketNotFoundError(ticket_id)
    return row[0], row[1] or 0


def record_mail_sent(session: Session, ticket_id: int, message_id: str | None, through_event_id: int) -> None:
    """Remember the thread root and how far the mailbox has been told (only these two columns)."""
    values: dict[str, Any] = {"mail_sent_event_id": through_event_id}
    if message_id is not None:
        values["mail_message_id"] = message_id
    session.execute(
        update(TicketRecord).where(TicketRecord.id == ticket_id).values(**values).execution_options(synchronize_session=False)
    )
