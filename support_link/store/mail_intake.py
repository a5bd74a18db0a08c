"""The mail intake's rows: Message-IDs seen (sl_mail_message) and drafts waiting for fields (sl_mail_draft).

The caller opens the session and commits; every function only flushes. `record_incoming` is
the dedup: its INSERT comes first in the mail's transaction, and the unique message_id makes a
second poller's INSERT wait for the first one's commit and then fail (MailAlreadyTaken), so
one mail is taken in once however many processes poll the mailbox.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from support_link.errors import MailAlreadyTaken
from support_link.inbound import KnownMessage, RequestFields
from support_link.store.models import EventRecord, MailDraftRecord, MailMessageRecord, TicketRecord


@dataclass(frozen=True)
class StoredDraft:
    id: int
    account: str  # "" : the sender had no account when it wrote (the auto-reply said how to get one)
    sender: str
    fields: RequestFields
    missing: tuple[str, ...]
    ticket_id: int | None


@dataclass(frozen=True)
class TicketOwner:
    account: str
    requester_email: str | None


def record_incoming(session: Session, message_id: str, at: datetime) -> int:
    """Claim the mail (first statement of its transaction); MailAlreadyTaken when someone did already."""
    record = MailMessageRecord(message_id=message_id, direction="in", outcome="taking", at=at)
    session.add(record)
    try:
        session.flush()
    except IntegrityError:  # the caller's transaction is spoilt: raising out of it rolls it back
        raise MailAlreadyTaken(message_id) from None
    return record.id


def set_outcome(session: Session, row_id: int, outcome: str, *, ticket_id: int | None = None, draft_id: int | None = None) -> None:
    record = session.get(MailMessageRecord, row_id)
    assert record is not None  # noqa: S101 - inserted in this transaction
    record.outcome, record.ticket_id, record.draft_id = outcome[:32], ticket_id, draft_id
    session.flush()


def record_outgoing(session: Session, message_id: str, at: datetime, *, outcome: str,
                    ticket_id: int | None = None, draft_id: int | None = None) -> None:
    session.add(MailMessageRecord(message_id=message_id, direction="out", outcome=outcome[:32], at=at,
                                  ticket_id=ticket_id, draft_id=draft_id))
    session.flush()


def known(session: Session, message_ids: Collection[str]) -> dict[str, KnownMessage]:
    """What we know of these Message-IDs: stored mails (ours when sent), and tickets' thread roots."""
    if not message_ids:
        return {}
    found: dict[str, KnownMessage] = {}
    rows = session.execute(select(MailMessageRecord.message_id, MailMessageRecord.direction, MailMessageRecord.ticket_id,
                                  MailMessageRecord.draft_id).where(MailMessageRecord.message_id.in_(message_ids)))
    for message_id, direction, ticket_id, draft_id in rows:
        found[message_id] = KnownMessage(ticket_id, draft_id, direction == "out")
    roots = session.execute(select(TicketRecord.id, TicketRecord.mail_message_id, TicketRecord.requester_mail_root).where(
        or_(TicketRecord.mail_message_id.in_(message_ids), TicketRecord.requester_mail_root.in_(message_ids))))
    for ticket_id, root, requester_root in roots:
        for thread_root in (root, requester_root):
            if thread_root is not None and thread_root in message_ids and thread_root not in found:
                found[thread_root] = KnownMessage(ticket_id=ticket_id, ours=True)
    return found


def auto_replies_since(session: Session, sender: str, since: datetime) -> int:
    """Auto-replies sent to `sender` since then (each is an 'out' row of one of its drafts).

    On PostgreSQL the sender is locked first until the caller's commit, so two pollers taking
    in two mails of one sender at once cannot both count zero and both answer (SQLite
    serializes writers anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext("sl_mail_auto_reply:" + sender))))
    query = (select(func.count()).select_from(MailMessageRecord)
             .join(MailDraftRecord, MailMessageRecord.draft_id == MailDraftRecord.id)
             .where(MailMessageRecord.direction == "out", MailDraftRecord.sender == sender, MailMessageRecord.at >= since))
    return int(session.scalar(query) or 0)


def create_draft(session: Session, account: str, sender: str, fields: RequestFields, missing: list[str], at: datetime) -> int:
    record = MailDraftRecord(account=account, sender=sender, requester_name=fields.requester_name[:200],
                             requester_contact=fields.requester_contact[:254], subject=fields.subject,
                             detail=fields.detail, missing=list(missing), received_at=at)
    session.add(record)
    session.flush()
    return record.id


def _draft_of(record: MailDraftRecord) -> StoredDraft:
    fields = RequestFields(record.requester_name, record.requester_contact, record.subject, record.detail)
    return StoredDraft(record.id, record.account, record.sender, fields, tuple(record.missing), record.ticket_id)


def get_draft(session: Session, draft_id: int) -> StoredDraft | None:
    query = select(MailDraftRecord).where(MailDraftRecord.id == draft_id).with_for_update()
    record = session.scalars(query).one_or_none()
    return None if record is None else _draft_of(record)


def update_draft(session: Session, draft_id: int, fields: RequestFields, missing: list[str], ticket_id: int | None = None) -> None:
    record = session.get(MailDraftRecord, draft_id)
    assert record is not None  # noqa: S101 - read in this transaction
    record.requester_name, record.requester_contact = fields.requester_name[:200], fields.requester_contact[:254]
    record.subject, record.detail, record.missing, record.ticket_id = fields.subject, fields.detail, list(missing), ticket_id
    session.flush()


def ticket_owner(session: Session, ticket_id: int) -> TicketOwner | None:
    row = session.execute(select(TicketRecord.account, TicketRecord.requester_email).where(TicketRecord.id == ticket_id)).one_or_none()
    return None if row is None else TicketOwner(row.account, row.requester_email)


def last_event_id(session: Session, ticket_id: int) -> int | None:
    return session.scalar(select(func.max(EventRecord.id)).where(EventRecord.ticket_id == ticket_id))
