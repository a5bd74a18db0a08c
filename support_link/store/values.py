"""The values the store hands out: a ticket with what is stored around it, and a queue line.

Frozen dataclasses with no database in them (support_link.store.mapping builds them from
the records); datetimes are aware, in America/Bogota.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from support_link.lifecycle import Actor, Ticket
from support_link.sla import SlaState


@dataclass(frozen=True)
class StoredEvent:
    id: int
    at: datetime
    actor: Actor
    kind: str
    before: dict[str, Any]
    after: dict[str, Any]
    note: str | None


@dataclass(frozen=True)
class AffectedDevice:
    device: str  # e.g. a MAC
    department: str
    evidence: dict[str, Any]
    joined_at: datetime
    recovered_at: datetime | None

    @property
    def active(self) -> bool:
        return self.recovered_at is None


@dataclass(frozen=True)
class StoredWorkLog:
    id: int
    agent: str
    started_at: datetime
    ended_at: datetime
    note: str


@dataclass(frozen=True)
class StoredTicket:
    """A ticket with everything stored around it (its `ticket.id` is set)."""

    ticket: Ticket
    account: str
    finding: str | None
    sla_state: SlaState | None
    devices: tuple[AffectedDevice, ...]
    events: tuple[StoredEvent, ...]  # the timeline, oldest first
    work_logs: tuple[StoredWorkLog, ...]
    mail_message_id: str | None
    updated_at: datetime
    assignee: str | None = None  # the agent (username) who took it

    @property
    def id(self) -> int:
        assert self.ticket.id is not None
        return self.ticket.id


@dataclass(frozen=True)
class TicketRow:
    """One line of the queue."""

    ticket: Ticket
    account: str
    finding: str | None
    sla_state: SlaState | None
    devices: tuple[str, ...]
    updated_at: datetime
    assignee: str | None = None

    @property
    def id(self) -> int:
        assert self.ticket.id is not None
        return self.ticket.id


@dataclass(frozen=True)
class StoredAttachment:
    """An attachment's description; its bytes come only from store.attachments.read."""

    id: int
    ticket_id: int
    filename: str
    content_type: str
    size: int
    added_at: datetime
    source: str  # 'portal' | 'email'
    event_id: int | None = None


@dataclass(frozen=True)
class StoredSurvey:
    """The satisfaction survey of one resolution (rating, solved and comment once answered)."""

    id: int
    ticket_id: int
    account: str
    agent: str | None
    resolved_at: datetime
    rating: int | None
    solved: bool | None
    comment: str | None
    answered_at: datetime | None

    @property
    def answered(self) -> bool:
        return self.answered_at is not None
