"""Attachments of a ticket: stored, listed and read back (the caller opens the session).

Check every file with support_link.attachments.check_attachment before `add`: this module
stores what it is given. `read` needs the ticket id too, so an attachment id guessed from
another ticket is simply not found.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from support_link.calendar import BOGOTA
from support_link.errors import AttachmentNotFound
from support_link.store.models import AttachmentRecord
from support_link.store.values import StoredAttachment

_LISTED = (AttachmentRecord.id, AttachmentRecord.ticket_id, AttachmentRecord.filename, AttachmentRecord.content_type,
           AttachmentRecord.size, AttachmentRecord.added_at, AttachmentRecord.source, AttachmentRecord.event_id)


def add(session: Session, ticket_id: int, *, filename: str, content_type: str, data: bytes, source: str,
        now: datetime, event_id: int | None = None) -> int:
    record = AttachmentRecord(ticket_id=ticket_id, event_id=event_id, filename=filename, content_type=content_type,
                              size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data, source=source,
                              added_at=now)
    session.add(record)
    session.flush()
    return record.id


def _value(row: tuple) -> StoredAttachment:  # type: ignore[type-arg]
    id_, ticket_id, filename, content_type, size, added_at, source, event_id = row
    return StoredAttachment(id_, ticket_id, filename, content_type, size, added_at.astimezone(BOGOTA), source, event_id)


def listed(session: Session, ticket_id: int) -> list[StoredAttachment]:
    """The ticket's attachments, oldest first (without their bytes)."""
    query = select(*_LISTED).where(AttachmentRecord.ticket_id == ticket_id).order_by(AttachmentRecord.id)
    return [_value(tuple(row)) for row in session.execute(query)]


def read(session: Session, ticket_id: int, attachment_id: int) -> tuple[StoredAttachment, bytes]:
    record = session.get(AttachmentRecord, attachment_id)
    if record is None or record.ticket_id != ticket_id:
        raise AttachmentNotFound(f"no attachment {attachment_id} on ticket #{ticket_id}")
    return _value(tuple(getattr(record, column.key) for column in _LISTED)), record.data
