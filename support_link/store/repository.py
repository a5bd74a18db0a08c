"""Tickets in and out of the database (adapter around support_link.lifecycle).

The caller opens the session and commits; every function here only flushes. Rules:
- `act` loads the ticket with SELECT ... FOR UPDATE (PostgreSQL; on SQLite it takes the
  database write lock before reading), first applies a due auto-close (the 48 h may have passed since the job last
  ran), then the action, and stores the new state and its events.
- One open ticket per dedup_key is enforced by the database (`uq_open_ticket_key`);
  `open_or_get_by_key` inserts inside a SAVEPOINT and, on the unique violation, returns the
  ticket another process opened first.
- `sla_state` is a cache: written on every save, refreshed by the job for open tickets still
  waiting for a first response; readers that pass `now` get the live value.
- Datetimes go in as aware datetimes (stored in UTC) and come out in America/Bogota.

Errors (support_link.errors.SupportLinkError below):

    StoreError
    ├── TicketNotFoundError (LookupError)   no ticket with that id
    ├── DedupKeyError (ValueError)          open_or_get_by_key with a ticket without a dedup_key
    └── AlreadyStoredError (ValueError)     create with a ticket that already has an id
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, false, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from support_link import billing, lifecycle
from support_link.calendar import BOGOTA, DEFAULT_CALENDAR, BusinessCalendar, as_bogota
from support_link.errors import BillingError, SupportLinkError
from support_link.lifecycle import (
    AUTO_CLOSE_AFTER,
    SYSTEM,
    Action,
    Actor,
    ActorKind,
    Channel,
    Event,
    FieldValue,
    Status,
    Ticket,
)
from support_link.priority import Impact, Priority, Urgency, parse_choice
from support_link.sla import SlaState, TicketType
from dbkit.bulk import insert_rows
from support_link.store.models import AffectedDeviceRecord, EventRecord, TicketRecord, WorkLogRecord

OPEN = (Status.NEW, Status.IN_PROGRESS, Status.ESCALATED)
# An unanswered open ticket's state only moves forward in time (between saves).
_EARLIER = {
    SlaState.ON_TIME: (),
    SlaState.AT_RISK: (SlaState.ON_TIME,),
    SlaState.BREACHED: (SlaState.ON_TIME, SlaState.AT_RISK),
}


class StoreError(SupportLinkError):
    """A storage operation on tickets that cannot be done."""


class TicketNotFoundError(StoreError, LookupError):
    def __init__(self, ticket_id: int) -> None:
        self.ticket_id = ticket_id
        super().__init__(f"no ticket #{ticket_id}")


class DedupKeyError(StoreError, ValueError):
    """open_or_get_by_key needs a ticket with a dedup_key."""


class AlreadyStoredError(StoreError, ValueError):
    """create takes a new ticket: the database gives it its id."""


# --- values handed out ----------------------------------------------------------------------


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

    @property
    def id(self) -> int:
        assert self.ticket.id is not None
        return self.ticket.id


# --- records <-> values ---------------------------------------------------------------------


def _bogota(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(BOGOTA)


def _ticket_of(record: TicketRecord) -> Ticket:
    return Ticket(
        id=record.id,
        type=TicketType(record.type),
        status=Status(record.status),
        urgency=Urgency(record.urgency),
        impact=Impact(record.impact),
        priority=Priority(record.priority),
        subject=record.subject,
        detail=record.detail,
        requester_name=record.requester_name,
        requester_contact=record.requester_contact,
        channel=Channel(record.channel),
        created_at=record.created_at.astimezone(BOGOTA),
        sla_start=record.sla_start.astimezone(BOGOTA),
        first_response_due=_bogota(record.first_response_due),
        first_response_at=_bogota(record.first_response_at),
        resolved_at=_bogota(record.resolved_at),
        closed_at=_bogota(record.closed_at),
        escalated=record.escalated,
        tier=record.tier,
        dedup_key=record.dedup_key,
        problem_id=record.problem_id,
        linked_incidents=tuple(int(item) for item in record.linked_incidents or ()),
    )


def _write(record: TicketRecord, ticket: Ticket) -> None:
    """Copy every Ticket field but the id onto the record (StrEnums stored as plain str)."""
    record.type = str(ticket.type)
    record.status = str(ticket.status)
    record.urgency = str(ticket.urgency)
    record.impact = str(ticket.impact)
    record.priority = str(ticket.priority)
    record.subject = ticket.subject
    record.detail = ticket.detail
    record.requester_name = ticket.requester_name
    record.requester_contact = ticket.requester_contact
    record.channel = str(ticket.channel)
    record.created_at = ticket.created_at
    record.sla_start = ticket.sla_start
    record.first_response_due = ticket.first_response_due
    record.first_response_at = ticket.first_response_at
    record.resolved_at = ticket.resolved_at
    record.closed_at = ticket.closed_at
    record.escalated = ticket.escalated
    record.tier = ticket.tier
    record.dedup_key = ticket.dedup_key
    record.problem_id = ticket.problem_id
    record.linked_incidents = list(ticket.linked_incidents)


def _moves(ticket: Ticket) -> bool:
    """True while the first-response state can still change with time alone."""
    return ticket.status in OPEN and ticket.first_response_at is None and ticket.first_response_due is not None


def _state(ticket: Ticket, now: datetime, calendar: BusinessCalendar) -> SlaState | None:
    return ticket.first_response_state(now, calendar)


def _live_state(ticket: Ticket, cached: str | None, now: datetime | None, calendar: BusinessCalendar) -> SlaState | None:
    """The cached state, brought up to `now` while it can still move (breached never moves back)."""
    stored = None if cached is None else SlaState(cached)
    if now is None or not _moves(ticket) or stored is SlaState.BREACHED:
        return stored
    return _state(ticket, now, calendar)


def _actor_of(record: EventRecord) -> Actor:
    return Actor(ActorKind(record.actor_kind), record.actor)


def _event_of(record: EventRecord) -> StoredEvent:
    return StoredEvent(
        record.id, record.at.astimezone(BOGOTA), _actor_of(record), record.kind,
        dict(record.before or {}), dict(record.after or {}), record.note,
    )


def _device_of(record: AffectedDeviceRecord) -> AffectedDevice:
    return AffectedDevice(
        record.device, record.department, dict(record.evidence or {}),
        record.joined_at.astimezone(BOGOTA), _bogota(record.recovered_at),
    )


def _work_log_of(record: WorkLogRecord) -> StoredWorkLog:
    return StoredWorkLog(
        record.id, record.agent, record.started_at.astimezone(BOGOTA), record.ended_at.astimezone(BOGOTA), record.note
    )


def _add_events(session: Session, ticket_id: int, events: Iterable[Event], note: str | None = None) -> None:
    for index, event in enumerate(events):
        session.add(
            EventRecord(
                ticket_id=ticket_id, at=event.at, actor_kind=str(event.actor.kind), actor=event.actor.name,
                kind=event.kind, before=dict(event.before), after=dict(event.after),
                note=note if index == 0 else None,
            )
        )


def _write_lock_sqlite(session: Session) -> None:
    """On SQLite, take the database's write lock now (a no-op UPDATE).

    SQLite serializes writers anyway: taking the lock before a check-then-insert makes the
    pair atomic, and it makes pysqlite open its transaction before a SAVEPOINT (otherwise
    the SAVEPOINT becomes the outermost transaction and its RELEASE commits early, beyond
    the caller's rollback). Other databases need nothing here.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(TicketRecord).where(false()).values(id=TicketRecord.id))


def _touch(session: Session, ticket_id: int, now: datetime) -> None:
    session.execute(update(TicketRecord).where(TicketRecord.id == ticket_id).values(updated_at=now))


# --- creating -------------------------------------------------------------------------------


def create(
    session: Session, ticket: Ticket, event: Event, account: str, finding: str | None = None,
    *, calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> int:
    """Store a new ticket (from lifecycle.new_ticket) and its "created" event; returns the id."""
    if ticket.id is not None:
        raise AlreadyStoredError(f"a new ticket gets its id from the database; this one already has #{ticket.id}")
    state = _state(ticket, event.at, calendar)
    record = TicketRecord(
        account=account, finding=finding, sla_state=None if state is None else str(state), updated_at=event.at
    )
    _write(record, ticket)
    session.add(record)
    session.flush()
    after = {**event.after, "id": record.id} if "id" in event.after else dict(event.after)
    _add_events(session, record.id, [Event(event.actor, event.at, event.kind, dict(event.before), after)])
    session.flush()
    return record.id


def find_open_by_key(session: Session, dedup_key: str) -> int | None:
    """The id of the open ticket with this dedup_key, if any (at most one: uq_open_ticket_key)."""
    query = select(TicketRecord.id).where(
        TicketRecord.dedup_key == dedup_key, TicketRecord.status.in_([str(status) for status in OPEN])
    )
    return session.scalars(query).one_or_none()


def open_or_get_by_key(
    session: Session, ticket: Ticket, event: Event, account: str, finding: str | None = None,
    *, calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> tuple[int, bool]:
    """(id, True) after storing `ticket`, or (id of the open ticket with its dedup_key, False).

    Safe across processes: the insert runs in a SAVEPOINT, and when another transaction
    committed a ticket with the same key first, the unique index refuses ours and theirs
    is returned. The caller commits.
    """
    key = ticket.dedup_key
    if not key:
        raise DedupKeyError("open_or_get_by_key needs a ticket with a dedup_key")
    _write_lock_sqlite(session)
    existing = find_open_by_key(session, key)
    if existing is not None:
        return existing, False
    try:
        with session.begin_nested():
            return create(session, ticket, event, account, finding, calendar=calendar), True
    except IntegrityError:
        existing = find_open_by_key(session, key)
        if existing is None:
            raise  # another constraint: not the race this function absorbs
        return existing, False


# --- reading --------------------------------------------------------------------------------


def _record(session: Session, ticket_id: int, *, for_update: bool = False) -> TicketRecord:
    query = select(TicketRecord).where(TicketRecord.id == ticket_id).execution_options(populate_existing=True)
    if for_update:
        query = query.with_for_update()
    record = session.scalars(query).one_or_none()
    if record is None:
        raise TicketNotFoundError(ticket_id)
    return record


def get(
    session: Session, ticket_id: int, now: datetime | None = None, *, calendar: BusinessCalendar = DEFAULT_CALENDAR
) -> StoredTicket:
    """The ticket with its timeline, devices and work logs; with `now`, the live SLA state."""
    query = (
        select(TicketRecord)
        .where(TicketRecord.id == ticket_id)
        .options(selectinload(TicketRecord.events), selectinload(TicketRecord.devices), selectinload(TicketRecord.work_logs))
        .execution_options(populate_existing=True)
    )
    record = session.scalars(query).one_or_none()
    if record is None:
        raise TicketNotFoundError(ticket_id)
    ticket = _ticket_of(record)
    return StoredTicket(
        ticket=ticket,
        account=record.account,
        finding=record.finding,
        sla_state=_live_state(ticket, record.sla_state, now, calendar),
        devices=tuple(_device_of(device) for device in record.devices),
        events=tuple(_event_of(event) for event in record.events),
        work_logs=tuple(_work_log_of(log) for log in record.work_logs),
        mail_message_id=record.mail_message_id,
        updated_at=record.updated_at.astimezone(BOGOTA),
    )


def _choices(kind: type[Any], value: str | Collection[str] | None, what: str) -> list[str] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, str) else list(value)
    return [str(parse_choice(kind, item, what)) for item in values]


def _queue_query(
    account: str | None, types: list[str] | None, priorities: list[str] | None, statuses: list[str] | None,
    wanted: SlaState | None,
) -> Select[TicketRecord]:
    query = select(TicketRecord)
    if account is not None:
        query = query.where(TicketRecord.account == account)
    if types is not None:
        query = query.where(TicketRecord.type.in_(types))
    if priorities is not None:
        query = query.where(TicketRecord.priority.in_(priorities))
    if statuses is not None:
        query = query.where(TicketRecord.status.in_(statuses))
    if wanted is not None:
        query = query.where(_may_be_in_state(wanted))
    due = TicketRecord.first_response_due
    return query.order_by(due.is_(None), due, TicketRecord.id)


def _may_be_in_state(wanted: SlaState) -> Any:
    """SQL pre-filter: cached state is `wanted`, or an earlier one that time may have moved on."""
    earlier = [str(state) for state in _EARLIER[wanted]]
    moving = and_(
        TicketRecord.sla_state.in_(earlier),
        TicketRecord.status.in_([str(status) for status in OPEN]),
        TicketRecord.first_response_at.is_(None),
    )
    return or_(TicketRecord.sla_state == str(wanted), moving) if earlier else TicketRecord.sla_state == str(wanted)


def list_tickets(
    session: Session,
    now: datetime,
    *,
    account: str | None = None,
    type: str | Collection[str] | None = None,
    priority: str | Collection[str] | None = None,
    status: str | Collection[str] | None = None,
    sla_state: str | None = None,
    limit: int = 500,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> list[TicketRow]:
    """The queue: tickets matching every filter given, by first-response due time (none last).

    Filters take one value or a collection (e.g. status=("new", "in_progress", "escalated"));
    unknown values raise ClassificationError. The SLA state is the live one at `now`.
    """
    wanted = None if sla_state is None else parse_choice(SlaState, sla_state, "SLA state")
    query = _queue_query(
        account, _choices(TicketType, type, "ticket type"), _choices(Priority, priority, "priority"),
        _choices(Status, status, "status"), wanted,
    )
    if wanted is None:
        query = query.limit(limit)
    picked = list(_matching(session, query.execution_options(yield_per=200), now, wanted, limit, calendar))
    devices = _device_names(session, [ticket.id for ticket, _, _ in picked if ticket.id is not None])
    return [
        TicketRow(ticket, record.account, record.finding, state, devices.get(record.id, ()), record.updated_at.astimezone(BOGOTA))
        for ticket, state, record in picked
    ]


def _matching(
    session: Session, query: Select[TicketRecord], now: datetime, wanted: SlaState | None, limit: int,
    calendar: BusinessCalendar,
) -> Iterator[tuple[Ticket, SlaState | None, TicketRecord]]:
    count = 0
    for record in session.scalars(query):
        if count >= limit:
            return
        ticket = _ticket_of(record)
        state = _live_state(ticket, record.sla_state, now, calendar)
        if wanted is None or state is wanted:
            count += 1
            yield ticket, state, record


def _device_names(session: Session, ticket_ids: list[int]) -> dict[int, tuple[str, ...]]:
    names: dict[int, list[str]] = {}
    if not ticket_ids:
        return {}
    query = (
        select(AffectedDeviceRecord.ticket_id, AffectedDeviceRecord.device)
        .where(AffectedDeviceRecord.ticket_id.in_(ticket_ids))
        .order_by(AffectedDeviceRecord.joined_at, AffectedDeviceRecord.id)
    )
    for ticket_id, device in session.execute(query):
        names.setdefault(ticket_id, []).append(device)
    return {ticket_id: tuple(devices) for ticket_id, devices in names.items()}


# --- acting ---------------------------------------------------------------------------------


def _save(
    session: Session, record: TicketRecord, updated: Ticket, now: datetime, calendar: BusinessCalendar
) -> None:
    _write(record, updated)
    state = _state(updated, now, calendar)
    record.sla_state = None if state is None else str(state)
    record.updated_at = now


def act(
    session: Session,
    ticket_id: int,
    action: Action,
    actor: Actor,
    now: datetime,
    note: str | None = None,
    *,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> Ticket:
    """Apply `action` (lifecycle rules) to the stored ticket and store the result and its events.

    A due auto-close is applied first (by the system, dated 48 h after resolution), so acting
    on a ticket whose 48 h are up behaves as if the job had already run. `note` (a public
    response's or an internal note's text) goes on the action's first event; when the action
    changes nothing, it is kept as an internal_note event so no text is lost.
    """
    _write_lock_sqlite(session)
    record = _record(session, ticket_id, for_update=True)
    current = _ticket_of(record)
    caught_up, close_events = lifecycle.close_if_due(current, now)
    updated, events = lifecycle.apply(caught_up, action, now, actor, calendar)
    if not events and note:
        events = [Event(actor, as_bogota(now, "now"), "internal_note", {}, {})]
    if close_events or events or updated != current:
        _save(session, record, updated, now, calendar)
        _add_events(session, ticket_id, close_events)
        _add_events(session, ticket_id, events, note)
        session.flush()
    return updated


def link_problem(
    session: Session, problem_id: int, incident_id: int, actor: Actor, now: datetime,
    *, calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> tuple[Ticket, Ticket]:
    """Record that the problem explains the incident, on both tickets (rows locked in id order)."""
    first, second = sorted((problem_id, incident_id))
    _write_lock_sqlite(session)
    records = {first: _record(session, first, for_update=True), second: _record(session, second, for_update=True)}
    problem, incident = _ticket_of(records[problem_id]), _ticket_of(records[incident_id])
    (new_problem, problem_events), (new_incident, incident_events) = lifecycle.link(problem, incident, now, actor)
    for ticket_id, updated, events in ((problem_id, new_problem, problem_events), (incident_id, new_incident, incident_events)):
        if events:
            _save(session, records[ticket_id], updated, now, calendar)
            _add_events(session, ticket_id, events)
    session.flush()
    return new_problem, new_incident


# --- background work (called by support_link.jobs) ------------------------------------------


def due_for_close(session: Session, now: datetime) -> list[int]:
    """Ids of resolved tickets whose 48 h have passed at `now`."""
    query = select(TicketRecord.id).where(
        TicketRecord.status == str(Status.RESOLVED), TicketRecord.resolved_at <= now - AUTO_CLOSE_AFTER
    )
    return list(session.scalars(query.order_by(TicketRecord.id)))


def refresh_sla_states(
    session: Session, now: datetime, *, calendar: BusinessCalendar = DEFAULT_CALENDAR
) -> list[tuple[int, SlaState]]:
    """Bring the cached SLA state of unanswered open tickets up to `now`; returns what changed.

    Each update is guarded by the values it was computed from, so a concurrent action that
    answered or reclassified the ticket is never overwritten.
    """
    query = select(TicketRecord).where(
        TicketRecord.status.in_([str(status) for status in OPEN]),
        TicketRecord.first_response_at.is_(None),
        TicketRecord.first_response_due.is_not(None),
        or_(TicketRecord.sla_state.is_(None), TicketRecord.sla_state != str(SlaState.BREACHED)),
    )
    changed: list[tuple[int, SlaState]] = []
    for record in session.scalars(query.order_by(TicketRecord.id)).all():
        state = _state(_ticket_of(record), now, calendar)
        if state is not None and str(state) != record.sla_state and _set_state(session, record, state):
            changed.append((record.id, state))
    return changed


def _set_state(session: Session, record: TicketRecord, state: SlaState) -> bool:
    guarded = (
        update(TicketRecord)
        .where(
            TicketRecord.id == record.id,
            TicketRecord.first_response_at.is_(None),
            TicketRecord.first_response_due == record.first_response_due,
            TicketRecord.status == record.status,
        )
        .values(sla_state=str(state))
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(guarded).rowcount)  # type: ignore[attr-defined]


# --- the mail cursor (called by support_link.mail) ------------------------------------------

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


# --- affected devices -----------------------------------------------------------------------


def _device_record(session: Session, ticket_id: int, device: str) -> AffectedDeviceRecord | None:
    query = select(AffectedDeviceRecord).where(
        AffectedDeviceRecord.ticket_id == ticket_id, AffectedDeviceRecord.device == device
    )
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def _device_events(
    session: Session, ticket_id: int, kind: str, actor: Actor, now: datetime, devices: Sequence[tuple[str, str]]
) -> None:
    """One `kind` event per (device, department), in one INSERT (a storm writes thousands)."""
    if not devices:
        return
    at = as_bogota(now, "now")
    actor_kind = str(actor.kind)
    insert_rows(session.connection(), _INSERT_EVENT, [
        (ticket_id, at, actor_kind, actor.name, kind, {}, {"device": device, "department": department})
        for device, department in devices
    ], _EVENT_COLUMNS)
    _touch(session, ticket_id, at)


_INSERT_EVENT = insert(EventRecord.__table__)
_EVENT_COLUMNS = ("ticket_id", "at", "actor_kind", "actor", "kind", "before", "after")
_INSERT_DEVICE = insert(AffectedDeviceRecord.__table__)
_DEVICE_COLUMNS = ("ticket_id", "device", "department", "evidence", "joined_at")


def _chunks(values: Iterable[str], size: int = 500) -> Iterator[list[str]]:
    """The distinct values, sorted, in lists of `size` (one IN (...) query each)."""
    names = sorted(set(values))
    for first in range(0, len(names), size):
        yield names[first : first + size]


def add_device(
    session: Session, ticket_id: int, device: str, department: str, evidence: Mapping[str, Any], now: datetime,
    *, actor: Actor = SYSTEM,
) -> bool:
    """Put `device` on the ticket (True), or refresh its evidence when it is already on (False).

    A device that had recovered and shows the problem again rejoins (True). Each join is a
    "device_joined" event on the timeline.
    """
    _record(session, ticket_id)
    _write_lock_sqlite(session)
    existing = _device_record(session, ticket_id, device)
    if existing is None:
        try:
            with session.begin_nested():
                session.add(AffectedDeviceRecord(
                    ticket_id=ticket_id, device=device, department=department, evidence=dict(evidence), joined_at=now
                ))
        except IntegrityError:
            existing = _device_record(session, ticket_id, device)  # another process added it first
            if existing is None:
                raise
        else:
            _device_events(session, ticket_id, "device_joined", actor, now, [(device, department)])
            return True
    rejoined = existing.recovered_at is not None
    existing.evidence, existing.department, existing.recovered_at = dict(evidence), department, None
    if rejoined:
        _device_events(session, ticket_id, "device_joined", actor, now, [(device, department)])
    session.flush()
    return rejoined


def add_devices(
    session: Session, ticket_id: int, devices: Sequence[tuple[str, str, Mapping[str, Any]]], now: datetime,
    *, actor: Actor = SYSTEM,
) -> int:
    """add_device for many (device, department, evidence) at once; returns how many joined.

    A boot storm puts thousands of phones on one incident in one pass: one query per 500
    devices and one flush, instead of five statements per device.
    """
    _record(session, ticket_id)
    _write_lock_sqlite(session)
    wanted = {device: (department, evidence) for device, department, evidence in devices}
    names = sorted(wanted)
    existing: dict[str, AffectedDeviceRecord] = {}
    for chunk in _chunks(names):
        query = select(AffectedDeviceRecord).where(
            AffectedDeviceRecord.ticket_id == ticket_id, AffectedDeviceRecord.device.in_(chunk)
        )
        existing.update((r.device, r) for r in session.scalars(query.execution_options(populate_existing=True)))
    new = [name for name in names if name not in existing]
    try:
        with session.begin_nested():
            # Pages of rows per statement, not one ORM object (or one executemany row) per
            # device: a storm adds thousands.
            insert_rows(session.connection(), _INSERT_DEVICE, [
                (ticket_id, name, wanted[name][0], dict(wanted[name][1]), now) for name in new
            ], _DEVICE_COLUMNS)
    except IntegrityError:  # another process added some of them first: the careful way
        return sum(add_device(session, ticket_id, name, *wanted[name], now, actor=actor) for name in names)
    joined = list(new)
    for name, record in existing.items():
        department, evidence = wanted[name]
        if record.recovered_at is not None:
            joined.append(name)  # recovered, and shows the problem again: rejoins
        record.evidence, record.department, record.recovered_at = dict(evidence), department, None
    _device_events(session, ticket_id, "device_joined", actor, now, [(name, wanted[name][0]) for name in joined])
    session.flush()
    return len(joined)


def active_departments(session: Session, ticket_id: int) -> list[str]:
    """The department of each device still affected on the ticket (what its impact follows),
    without loading the devices and the timeline."""
    query = select(AffectedDeviceRecord.department).where(
        AffectedDeviceRecord.ticket_id == ticket_id, AffectedDeviceRecord.recovered_at.is_(None)
    )
    return list(session.scalars(query))


def header(session: Session, ticket_id: int) -> Ticket:
    """The ticket's own fields, without its timeline, devices and work logs."""
    return _ticket_of(_record(session, ticket_id))


def mark_device_recovered(
    session: Session, ticket_id: int, device: str, now: datetime, *, actor: Actor = SYSTEM
) -> bool:
    """Mark the device recovered (True); False when it is not on the ticket or already recovered."""
    return bool(mark_devices_recovered(session, ticket_id, [device], now, actor=actor))


def mark_devices_recovered(
    session: Session, ticket_id: int, devices: Collection[str], now: datetime, *, actor: Actor = SYSTEM
) -> list[str]:
    """mark_device_recovered for many: the devices that were affected and now have recovered
    (each a "device_recovered" event). A firmware campaign fixes thousands of phones of one
    incident at once: one query and one UPDATE per 500 devices, one INSERT of the events."""
    recovered: list[tuple[str, str]] = []
    for chunk in _chunks(devices):
        affected = session.execute(
            select(AffectedDeviceRecord.device, AffectedDeviceRecord.department).where(
                AffectedDeviceRecord.ticket_id == ticket_id, AffectedDeviceRecord.device.in_(chunk),
                AffectedDeviceRecord.recovered_at.is_(None),
            )
        ).all()
        if affected:
            session.execute(
                update(AffectedDeviceRecord)
                .where(AffectedDeviceRecord.ticket_id == ticket_id,
                       AffectedDeviceRecord.device.in_([row.device for row in affected]))
                .values(recovered_at=now)
            )
            recovered.extend((row.device, row.department) for row in affected)
    recovered.sort()
    _device_events(session, ticket_id, "device_recovered", actor, now, recovered)
    session.flush()
    return [device for device, _department in recovered]


def device_counts(session: Session, ticket_id: int) -> tuple[int, int]:
    """(devices on the ticket, of which still affected)."""
    total, active = session.execute(
        select(func.count(AffectedDeviceRecord.id),
               func.count(AffectedDeviceRecord.id).filter(AffectedDeviceRecord.recovered_at.is_(None)))
        .where(AffectedDeviceRecord.ticket_id == ticket_id)
    ).one()
    return total, active


def list_devices(session: Session, ticket_id: int) -> list[AffectedDevice]:
    query = (
        select(AffectedDeviceRecord)
        .where(AffectedDeviceRecord.ticket_id == ticket_id)
        .order_by(AffectedDeviceRecord.joined_at, AffectedDeviceRecord.id)
    )
    return [_device_of(record) for record in session.scalars(query)]


# --- work and billing -----------------------------------------------------------------------


def log_work(
    session: Session, ticket_id: int, agent: str, started_at: datetime, ended_at: datetime, note: str = "",
    *, now: datetime | None = None,
) -> int:
    """Record an agent's work interval (and a "work_logged" event dated `now`, else the end)."""
    start, end = as_bogota(started_at, "started_at"), as_bogota(ended_at, "ended_at")
    if end <= start:
        raise BillingError(f"a work log must end after it starts: {start.isoformat()} .. {end.isoformat()}")
    _record(session, ticket_id)
    log = WorkLogRecord(ticket_id=ticket_id, agent=agent, started_at=start, ended_at=end, note=note)
    session.add(log)
    at = as_bogota(now, "now") if now is not None else end
    after: dict[str, FieldValue] = {"agent": agent, "started_at": start.isoformat(), "ended_at": end.isoformat()}
    _add_events(session, ticket_id, [Event(Actor(ActorKind.AGENT, agent), at, "work_logged", {}, after)], note or None)
    session.flush()
    return log.id


def _month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=BOGOTA)
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=BOGOTA)
    return start, following


def billing_report(
    session: Session,
    account: str,
    year: int,
    month: int,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
    *,
    rate: Decimal | int = billing.RATE_USD_PER_HOUR,
    minimum: timedelta = billing.MINIMUM,
    increment: timedelta = billing.INCREMENT,
) -> billing.TenantReport:
    """The account's out-of-hours urgent call-outs that start in `year`-`month` (Bogota), priced.

    Every work log of each ticket with a log starting in the month is read, so logs that
    touch across the month boundary merge exactly as billing.merge_call_outs says. The
    ticket's current priority decides whether it is urgent.
    """
    start, following = _month_bounds(year, month)
    in_month = (
        select(WorkLogRecord.ticket_id)
        .join(TicketRecord, TicketRecord.id == WorkLogRecord.ticket_id)
        .where(TicketRecord.account == account, WorkLogRecord.started_at >= start, WorkLogRecord.started_at < following)
    )
    query = (
        select(TicketRecord.id, TicketRecord.priority, WorkLogRecord.started_at, WorkLogRecord.ended_at)
        .join(WorkLogRecord, WorkLogRecord.ticket_id == TicketRecord.id)
        .where(TicketRecord.id.in_(in_month))
    )
    rows = [billing.WorkRow(account, ticket_id, priority, begin, end) for ticket_id, priority, begin, end in session.execute(query)]
    reports = billing.monthly_report(rows, year, month, calendar, rate, minimum, increment)
    if reports:
        return reports[0]
    return billing.TenantReport(account, year, month, (), timedelta(0), Decimal("0.00"))


# --- JSON -----------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(BOGOTA).isoformat()


def _ticket_json(ticket: Ticket, account: str, finding: str | None, state: SlaState | None) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "type": str(ticket.type),
        "status": str(ticket.status),
        "urgency": str(ticket.urgency),
        "impact": str(ticket.impact),
        "priority": str(ticket.priority),
        "subject": ticket.subject,
        "channel": str(ticket.channel),
        "created_at": _iso(ticket.created_at),
        "first_response_due": _iso(ticket.first_response_due),
        "first_response_at": _iso(ticket.first_response_at),
        "resolved_at": _iso(ticket.resolved_at),
        "closed_at": _iso(ticket.closed_at),
        "sla_state": None if state is None else str(state),
        "finding": finding,
        "account": account,
        "detail": ticket.detail,
        "requester_name": ticket.requester_name,
        "requester_contact": ticket.requester_contact,
        "tier": ticket.tier,
        "escalated": ticket.escalated,
        "dedup_key": ticket.dedup_key,
        "problem_id": ticket.problem_id,
        "linked_incidents": list(ticket.linked_incidents),
    }


def event_to_json(event: StoredEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": _iso(event.at),
        "actor": str(event.actor),
        "actor_kind": str(event.actor.kind),
        "actor_name": event.actor.name,
        "kind": event.kind,
        "before": event.before,
        "after": event.after,
        "note": event.note,
    }


def device_to_json(device: AffectedDevice) -> dict[str, Any]:
    return {
        "device": device.device,
        "department": device.department,
        "evidence": device.evidence,
        "joined_at": _iso(device.joined_at),
        "recovered_at": _iso(device.recovered_at),
    }


def to_json(stored: StoredTicket) -> dict[str, Any]:
    """A stored ticket as JSON-ready values (ISO 8601 datetimes with the Bogota offset)."""
    return {
        **_ticket_json(stored.ticket, stored.account, stored.finding, stored.sla_state),
        "devices": [device.device for device in stored.devices],
        "affected_devices": [device_to_json(device) for device in stored.devices],
        "events": [event_to_json(event) for event in stored.events],
        "work_logs": [
            {"id": log.id, "agent": log.agent, "started_at": _iso(log.started_at), "ended_at": _iso(log.ended_at), "note": log.note}
            for log in stored.work_logs
        ],
    }


def row_to_json(row: TicketRow) -> dict[str, Any]:
    """A queue line as JSON: the same ticket fields as to_json, without timeline and logs."""
    return {**_ticket_json(row.ticket, row.account, row.finding, row.sla_state), "devices": list(row.devices)}


# --- device incidents (used by the provisioning side's intake worker) ----------------------


def open_tickets_for_device(session: Session, account: str, device: str) -> list[tuple[int, str | None, str | None]]:
    """(ticket id, finding, dedup key) of every open ticket on which `device` is still affected."""
    return open_tickets_for_devices(session, account, [device]).get(device, [])


def open_tickets_for_devices(
    session: Session, account: str, devices: Collection[str]
) -> dict[str, list[tuple[int, str | None, str | None]]]:
    """open_tickets_for_device for many devices: one query per 500 (the ticket intake asks it
    for every phone of a batch). Devices on no open ticket are left out."""
    found: dict[str, list[tuple[int, str | None, str | None]]] = {}
    for chunk in _chunks(devices):
        query = (
            select(AffectedDeviceRecord.device, TicketRecord.id, TicketRecord.finding, TicketRecord.dedup_key)
            .join(AffectedDeviceRecord, AffectedDeviceRecord.ticket_id == TicketRecord.id)
            .where(
                TicketRecord.account == account,
                TicketRecord.status.in_([str(status) for status in OPEN]),
                AffectedDeviceRecord.device.in_(chunk),
                AffectedDeviceRecord.recovered_at.is_(None),
            )
            .order_by(TicketRecord.id)
        )
        for row in session.execute(query):
            found.setdefault(row.device, []).append((row.id, row.finding, row.dedup_key))
    return found


def set_subject(session: Session, ticket_id: int, subject: str, now: datetime) -> None:
    """Refresh a generated subject (e.g. the device count of a device incident); not an event."""
    record = _record(session, ticket_id)
    record.subject = subject
    _touch(session, ticket_id, now)
    session.flush()


def past_incidents_for_device(session: Session, account: str, device: str, finding: str, since: datetime) -> list[int]:
    """Incidents (resolved or closed since `since`) that had `device` with this finding, oldest first."""
    return past_incidents_for_devices(session, account, [device], finding, since).get(device, [])


def past_incidents_for_devices(
    session: Session, account: str, devices: Sequence[str], finding: str, since: datetime,
) -> dict[str, list[int]]:
    """past_incidents_for_device for many devices: one query per 500 (a storm's new incident
    asks it for every phone it opened with). Devices without any are left out."""
    found: dict[str, list[int]] = {}
    for chunk in _chunks(devices):
        query = (
            select(AffectedDeviceRecord.device, TicketRecord.id)
            .join(AffectedDeviceRecord, AffectedDeviceRecord.ticket_id == TicketRecord.id)
            .where(
                TicketRecord.account == account,
                TicketRecord.finding == finding,
                TicketRecord.type == str(TicketType.INCIDENT),
                TicketRecord.status.in_([str(Status.RESOLVED), str(Status.CLOSED)]),
                TicketRecord.resolved_at >= since,
                AffectedDeviceRecord.device.in_(chunk),
            )
            .order_by(TicketRecord.id)
        )
        for device, ticket_id in session.execute(query):
            found.setdefault(device, []).append(ticket_id)
    return found


def lock(session: Session, ticket_id: int) -> None:
    """Hold the ticket for the rest of the caller's transaction (several processes adding
    devices and reclassifying the same ticket then take turns instead of deadlocking)."""
    _write_lock_sqlite(session)
    _record(session, ticket_id, for_update=True)


def open_tickets_by_device(session: Session, account: str | None = None) -> dict[tuple[str, str], list[int]]:
    """(account, device) -> ids of the open tickets on which the device is still affected."""
    query = (
        select(TicketRecord.account, AffectedDeviceRecord.device, TicketRecord.id)
        .join(AffectedDeviceRecord, AffectedDeviceRecord.ticket_id == TicketRecord.id)
        .where(TicketRecord.status.in_([str(status) for status in OPEN]), AffectedDeviceRecord.recovered_at.is_(None))
        .order_by(TicketRecord.id)
    )
    if account is not None:
        query = query.where(TicketRecord.account == account)
    found: dict[tuple[str, str], list[int]] = {}
    for row in session.execute(query):
        found.setdefault((row.account, row.device), []).append(row.id)
    return found
