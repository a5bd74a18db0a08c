"""support_link's own tables (SQLAlchemy 2, typed), prefixed `sl_`. The caller opens the session.

    sl_ticket 1--* sl_ticket_event      (the timeline and audit trail: who, when, what, before/after)
    sl_ticket 1--* sl_affected_device   (device incidents: one row per device, unique per ticket)
    sl_ticket 1--* sl_work_log          (agents' work intervals, billed when urgent and out of hours)
    sl_ticket *--0..1 sl_ticket         (problem_id: the problem that explains an incident)
    sl_ticket 1--* sl_attachment        (files the requester sent, from the portal or by mail)
    sl_ticket 1--* sl_survey            (one satisfaction survey per resolution)
    sl_ticket 1--* sl_mail_message      (every Message-ID in its mail threads, in and out)
    sl_mail_draft                       (a mail that lacked required fields: waits for the reply)

The database enforces one open ticket per dedup_key (partial unique index
`uq_open_ticket_key`), so several server processes sharing PostgreSQL never open two.

Datetimes are stored as aware UTC (UtcDateTime); SQLite hands them back naive and they are
read as UTC. support_link knows nothing of tenants: `account` is a free string naming the
customer (the provisioning side passes the tenant slug).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    LargeBinary,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from support_link.errors import NaiveDatetimeError

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

OPEN_STATUSES = ("new", "in_progress", "escalated")  # lifecycle's open statuses, as the index names them
_OPEN_SQL = "status in ('new', 'in_progress', 'escalated') and dedup_key is not null"


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; naive values are refused on the way in and read as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"refusing to store a naive datetime ({value.isoformat()})")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _choice(column: str, values: tuple[str, ...]) -> CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} in ({listed})", name=column)


class TicketRecord(Base):
    """One lifecycle.Ticket plus what the storage side knows about it."""

    __tablename__ = "sl_ticket"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16))
    impact: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    requester_name: Mapped[str] = mapped_column(String(200))
    requester_contact: Mapped[str] = mapped_column(String(254))
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sla_start: Mapped[datetime] = mapped_column(UtcDateTime)
    first_response_due: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    tier: Mapped[int] = mapped_column(Integer, default=1)
    dedup_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("sl_ticket.id", ondelete="SET NULL"), nullable=True, index=True
    )
    linked_incidents: Mapped[list[int]] = mapped_column(JSON, default=list)
    finding: Mapped[str | None] = mapped_column(String(64), nullable=True)  # device tickets: the finding kind
    sla_state: Mapped[str | None] = mapped_column(String(16), nullable=True)  # cached; None for problems
    mail_message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)  # thread root in the mailbox
    mail_sent_event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # last event forwarded
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the agent who took it (username)
    # The requester's mail address (portal and mail tickets): where replies and the survey go.
    requester_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # Requirements: a resolution date proposed by one side ('agent' | 'requester'), agreed once the other accepts.
    proposed_resolution_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    proposed_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    agreed_resolution_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The requester's own mail thread (the helpdesk's is mail_message_id / mail_sent_event_id).
    requester_mail_root: Mapped[str | None] = mapped_column(String(255), nullable=True)
    requester_mail_sent_event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    events: Mapped[list[EventRecord]] = relationship(
        back_populates="ticket", order_by="(EventRecord.at, EventRecord.id)", cascade="all, delete-orphan"
    )
    devices: Mapped[list[AffectedDeviceRecord]] = relationship(
        back_populates="ticket", order_by="(AffectedDeviceRecord.joined_at, AffectedDeviceRecord.id)",
        cascade="all, delete-orphan",
    )
    work_logs: Mapped[list[WorkLogRecord]] = relationship(
        back_populates="ticket", order_by="(WorkLogRecord.started_at, WorkLogRecord.id)", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index(
            "uq_open_ticket_key",
            "dedup_key",
            unique=True,
            sqlite_where=text(_OPEN_SQL),
            postgresql_where=text(_OPEN_SQL),
        ),
        Index("ix_sl_ticket_status_due", "status", "first_response_due"),
        Index("ix_sl_ticket_assignee_status", "assignee", "status"),
        _choice("type", ("incident", "requirement", "problem")),
        _choice("status", ("new", "in_progress", "escalated", "resolved", "closed")),
        _choice("urgency", ("high", "medium", "low")),
        _choice("impact", ("organization", "department", "individual")),
        _choice("priority", ("urgent", "high", "normal", "low")),
        _choice("channel", ("portal", "email", "phone", "whatsapp", "device")),
        CheckConstraint("sla_state is null or sla_state in ('on_time', 'at_risk', 'breached')", name="sla_state"),
        CheckConstraint("tier in (1, 2)", name="tier"),
    )


class EventRecord(Base):
    """One lifecycle.Event: a row of the ticket's timeline and audit trail."""

    __tablename__ = "sl_ticket_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("sl_ticket.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))  # the actor's name
    kind: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)  # public responses and internal notes

    ticket: Mapped[TicketRecord] = relationship(back_populates="events")

    __table_args__ = (_choice("actor_kind", ("agent", "requester", "system")),)


class AffectedDeviceRecord(Base):
    """A device (e.g. a MAC) affected by a device incident, with the evidence that put it there."""

    __tablename__ = "sl_affected_device"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("sl_ticket.id", ondelete="CASCADE"))
    device: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(200), default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recovered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    ticket: Mapped[TicketRecord] = relationship(back_populates="devices")

    __table_args__ = (UniqueConstraint("ticket_id", "device", name="uq_sl_affected_device_ticket_device"),)


class WorkLogRecord(Base):
    """An agent's work interval on a ticket (billing of out-of-hours urgent work)."""

    __tablename__ = "sl_work_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("sl_ticket.id", ondelete="CASCADE"), index=True)
    agent: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime)
    note: Mapped[str] = mapped_column(Text, default="")

    ticket: Mapped[TicketRecord] = relationship(back_populates="work_logs")

    __table_args__ = (CheckConstraint("ended_at > started_at", name="ends_after_start"),)


class AttachmentRecord(Base):
    """A file a requester sent (portal upload or mail attachment), kept in the database so every
    server process serves it. Size and type were checked before it got here."""

    __tablename__ = "sl_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("sl_ticket.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("sl_ticket_event.id", ondelete="SET NULL"), nullable=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(16))  # 'portal' | 'email'
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (_choice("source", ("portal", "email")),)


class SurveyRecord(Base):
    """The satisfaction survey of one resolution: sent on Resolved, answered once (or never)."""

    __tablename__ = "sl_survey"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("sl_ticket.id", ondelete="CASCADE"), index=True)
    account: Mapped[str] = mapped_column(String(200), index=True)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the ticket's assignee at resolution
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)  # the mail link's token, hashed
    resolved_at: Mapped[datetime] = mapped_column(UtcDateTime)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1-5
    solved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # False: "no quedó resuelto"
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("ticket_id", "resolved_at", name="uq_sl_survey_ticket_resolution"),
        CheckConstraint("rating is null or rating between 1 and 5", name="rating"),
    )


class MailMessageRecord(Base):
    """A Message-ID seen in a ticket's threads. Unique: the same mail is taken in once, even when
    two processes poll the mailbox at once; our own ids tell replies (and loops) apart."""

    __tablename__ = "sl_mail_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    direction: Mapped[str] = mapped_column(String(8))  # 'in' | 'out'
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("sl_ticket.id", ondelete="CASCADE"), nullable=True, index=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("sl_mail_draft.id", ondelete="CASCADE"), nullable=True, index=True)
    outcome: Mapped[str] = mapped_column(String(32))  # what the intake did with it: 'ticket', 'reply', 'draft', 'ignored:<why>'...
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (_choice("direction", ("in", "out")),)


class MailDraftRecord(Base):
    """A mail that could not open a ticket yet (required fields missing): answered once with what
    is missing; the sender's reply completes it and opens the ticket."""

    __tablename__ = "sl_mail_draft"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(200))
    sender: Mapped[str] = mapped_column(String(254), index=True)
    requester_name: Mapped[str] = mapped_column(String(200), default="")
    requester_contact: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    missing: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("sl_ticket.id", ondelete="SET NULL"), nullable=True)
