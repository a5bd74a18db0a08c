"""Where each mail thread stands on each ticket's timeline (the outbox), its per-ticket lock,
and the Message-IDs we sent.

A ticket's timeline is the outbox of two threads, each with its own pair of columns:
- the helpdesk mailbox's (HELPDESK): `mail_message_id` roots the thread, `mail_sent_event_id`
  is the last event the mailbox has been told about;
- the requester's (REQUESTER, tickets with `requester_email`): `requester_mail_root` and
  `requester_mail_sent_event_id`.
These columns are written only here, without loading or locking the ticket row, so agents
keep acting while a message is on its way. Every Message-ID we send is kept in
sl_mail_message (direction 'out', outcome the thread's name), so the mail intake knows a
reply to us, or our own mail coming back, when it sees one.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from support_link.errors import TicketNotFoundError
from support_link.store.models import EventRecord, MailMessageRecord, TicketRecord
from support_link.store.tickets import write_lock


@dataclass(frozen=True)
class Thread:
    name: str  # 'helpdesk' | 'requester': the outcome of its Message-IDs in sl_mail_message
    root: InstrumentedAttribute[str | None]  # the column holding the thread's first Message-ID
    cursor: InstrumentedAttribute[int | None]  # the column holding the last event sent
    lock_class: int  # PostgreSQL advisory-lock namespace: the two threads never wait for each other
    only_requesters: bool = False  # only tickets with a requester address


HELPDESK = Thread("helpdesk", TicketRecord.mail_message_id, TicketRecord.mail_sent_event_id, 0x534C4D)  # "SLM"
REQUESTER = Thread("requester", TicketRecord.requester_mail_root, TicketRecord.requester_mail_sent_event_id,
                   0x534C52, only_requesters=True)  # "SLR"


def tickets_with_pending_mail(
    session: Session, kinds: Collection[str], since: datetime, limit: int = 50, thread: Thread = HELPDESK
) -> list[int]:
    """Ids of tickets with events of `kinds` at or after `since` not yet sent on `thread`."""
    cursor = func.coalesce(thread.cursor, 0)
    pending = (
        select(EventRecord.id)
        .where(EventRecord.ticket_id == TicketRecord.id, EventRecord.id > cursor)
        .where(EventRecord.kind.in_(list(kinds)), EventRecord.at >= since)
    )
    conditions: list[ColumnElement[bool]] = [TicketRecord.updated_at >= since, pending.exists()]
    if thread.only_requesters:
        conditions.append(TicketRecord.requester_email.is_not(None))
    query = select(TicketRecord.id).where(*conditions)
    return list(session.scalars(query.order_by(TicketRecord.id).limit(limit)))


def try_lock_mail(session: Session, ticket_id: int, thread: Thread = HELPDESK) -> bool:
    """Claim the ticket's mail thread for this transaction.

    PostgreSQL: an advisory lock, not the ticket row, so agents keep acting while a message
    is on its way. SQLite: the database's write lock (it has one writer at a time anyway),
    waited for, so two senders sharing a file take turns and the second sees the first's cursor.
    """
    if session.get_bind().dialect.name != "postgresql":
        write_lock(session)
        return True
    claim = select(func.pg_try_advisory_xact_lock(thread.lock_class, ticket_id))
    return bool(session.execute(claim).scalar_one())


def mail_cursor(session: Session, ticket_id: int, thread: Thread = HELPDESK) -> tuple[str | None, int]:
    """(thread root Message-ID or None, id of the last event sent or 0)."""
    query = select(thread.root, thread.cursor).where(TicketRecord.id == ticket_id)
    row = session.execute(query.execution_options(populate_existing=True)).one_or_none()
    if row is None:
        raise TicketNotFoundError(ticket_id)
    return row[0], row[1] or 0


def record_mail_sent(
    session: Session, ticket_id: int, message_id: str | None, through_event_id: int, thread: Thread = HELPDESK
) -> None:
    """Remember the thread root and how far the thread has been told (only these two columns)."""
    values: dict[str, Any] = {thread.cursor.key: through_event_id}
    if message_id is not None:
        values[thread.root.key] = message_id
    session.execute(
        update(TicketRecord).where(TicketRecord.id == ticket_id).values(**values).execution_options(synchronize_session=False)
    )


def remember_sent(session: Session, ticket_id: int, message_id: str, thread: Thread, at: datetime) -> None:
    """Keep a Message-ID we sent: a mail in reply to it (or our own coming back) is recognised."""
    session.add(MailMessageRecord(message_id=message_id, direction="out", ticket_id=ticket_id, outcome=thread.name, at=at))
