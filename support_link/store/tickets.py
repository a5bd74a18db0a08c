"""Tickets in and out of the database: create, get, act, the queue (adapter around support_link.lifecycle).

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

`load_record`, `write_lock`, `add_events` and `touch` are the ticket-row steps that the
other store modules (affected_devices, work_logs) share. Errors: TicketNotFoundError,
DedupKeyError, AlreadyStoredError (support_link.errors, under StoreError).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from support_link import lifecycle
from support_link.calendar import BOGOTA, DEFAULT_CALENDAR, BusinessCalendar, as_bogota
from support_link.errors import AlreadyStoredError, DedupKeyError, TicketNotFoundError, TransitionError
from support_link.lifecycle import AUTO_CLOSE_AFTER, Action, Actor, Event, Status, Ticket
from support_link.priority import Priority, parse_choice
from support_link.sla import SlaState, TicketType
from support_link.store import mapping
from support_link.store.models import AffectedDeviceRecord, EventRecord, TicketRecord
from support_link.store.values import StoredTicket, TicketRow

OPEN = (Status.NEW, Status.IN_PROGRESS, Status.ESCALATED)
# An unanswered open ticket's state only moves forward in time (between saves).
_EARLIER = {
    SlaState.ON_TIME: (),
    SlaState.AT_RISK: (SlaState.ON_TIME,),
    SlaState.BREACHED: (SlaState.ON_TIME, SlaState.AT_RISK),
}


# --- the ticket row: steps shared with affected_devices and work_logs ----------------------


def load_record(session: Session, ticket_id: int, *, for_update: bool = False) -> TicketRecord:
    """The ticket's row, fresh from the database (FOR UPDATE: held until the caller's commit)."""
    query = select(TicketRecord).where(TicketRecord.id == ticket_id).execution_options(populate_existing=True)
    if for_update:
        query = query.with_for_update()
    record = session.scalars(query).one_or_none()
    if record is None:
        raise TicketNotFoundError(ticket_id)
    return record


def write_lock(session: Session) -> None:
    """On SQLite, take the database's write lock now (a no-op UPDATE).

    SQLite serializes writers anyway: taking the lock before a check-then-insert makes the
    pair atomic, and it makes pysqlite open its transaction before a SAVEPOINT (otherwise
    the SAVEPOINT becomes the outermost transaction and its RELEASE commits early, beyond
    the caller's rollback). Other databases need nothing here.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(TicketRecord).where(false()).values(id=TicketRecord.id))


def add_events(session: Session, ticket_id: int, events: Iterable[Event], note: str | None = None) -> None:
    """Append lifecycle events to the ticket's timeline; `note` goes on the first one."""
    for index, event in enumerate(events):
        session.add(
            EventRecord(
                ticket_id=ticket_id, at=event.at, actor_kind=str(event.actor.kind), actor=event.actor.name,
                kind=event.kind, before=dict(event.before), after=dict(event.after),
                note=note if index == 0 else None,
            )
        )


def touch(session: Session, ticket_id: int, now: datetime) -> None:
    """Mark the ticket changed at `now` without loading it (the queue and the mail cursor read updated_at)."""
    session.execute(update(TicketRecord).where(TicketRecord.id == ticket_id).values(updated_at=now))


# --- the SLA-state cache -----------------------------------------------------------------


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


# --- creating ----------------------------------------------------------------------------


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
    mapping.write_ticket(record, ticket)
    session.add(record)
    session.flush()
    after = {**event.after, "id": record.id} if "id" in event.after else dict(event.after)
    add_events(session, record.id, [Event(event.actor, event.at, event.kind, dict(event.before), after)])
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
    write_lock(session)
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


# --- reading: one ticket, the queue ------------------------------------------------------


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
    ticket = mapping.ticket_of(record)
    return StoredTicket(
        ticket=ticket,
        account=record.account,
        finding=record.finding,
        sla_state=_live_state(ticket, record.sla_state, now, calendar),
        devices=tuple(mapping.device_of(device) for device in record.devices),
        events=tuple(mapping.event_of(event) for event in record.events),
        work_logs=tuple(mapping.work_log_of(log) for log in record.work_logs),
        mail_message_id=record.mail_message_id,
        updated_at=record.updated_at.astimezone(BOGOTA),
        assignee=record.assignee,
    )


def header(session: Session, ticket_id: int) -> Ticket:
    """The ticket's own fields, without its timeline, devices and work logs."""
    return mapping.ticket_of(load_record(session, ticket_id))


def _choices(kind: type[Any], value: str | Collection[str] | None, what: str) -> list[str] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, str) else list(value)
    return [str(parse_choice(kind, item, what)) for item in values]


NOBODY = ""  # list_tickets(assignee=NOBODY): the tickets no agent has taken


def _queue_query(
    account: str | None, types: list[str] | None, priorities: list[str] | None, statuses: list[str] | None,
    wanted: SlaState | None, assignee: str | None = None,
) -> Select[TicketRecord]:
    query = select(TicketRecord)
    if account is not None:
        query = query.where(TicketRecord.account == account)
    if assignee is not None:
        query = query.where(TicketRecord.assignee.is_(None) if assignee == NOBODY else TicketRecord.assignee == assignee)
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


def _may_be_in_state(wanted: SlaState) -> ColumnElement[bool]:
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
    assignee: str | None = None,
    limit: int = 500,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> list[TicketRow]:
    """The queue: tickets matching every filter given, by first-response due time (none last).

    Filters take one value or a collection (e.g. status=("new", "in_progress", "escalated"));
    unknown values raise ClassificationError. The SLA state is the live one at `now`.
    `assignee` is an agent's username, or NOBODY for the tickets no one has taken.
    """
    wanted = None if sla_state is None else parse_choice(SlaState, sla_state, "SLA state")
    query = _queue_query(
        account, _choices(TicketType, type, "ticket type"), _choices(Priority, priority, "priority"),
        _choices(Status, status, "status"), wanted, assignee,
    )
    if wanted is None:
        query = query.limit(limit)
    picked = list(_matching(session, query.execution_options(yield_per=200), now, wanted, limit, calendar))
    devices = _device_names(session, [ticket.id for ticket, _, _ in picked if ticket.id is not None])
    return [
        TicketRow(ticket, record.account, record.finding, state, devices.get(record.id, ()),
                  record.updated_at.astimezone(BOGOTA), record.assignee)
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
        ticket = mapping.ticket_of(record)
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


# --- acting ------------------------------------------------------------------------------


def _save(
    session: Session, record: TicketRecord, updated: Ticket, now: datetime, calendar: BusinessCalendar
) -> None:
    mapping.write_ticket(record, updated)
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
    write_lock(session)
    record = load_record(session, ticket_id, for_update=True)
    current = mapping.ticket_of(record)
    caught_up, close_events = lifecycle.close_if_due(current, now)
    updated, events = lifecycle.apply(caught_up, action, now, actor, calendar)
    if not events and note:
        events = [Event(actor, as_bogota(now, "now"), "internal_note", {}, {})]
    if close_events or events or updated != current:
        _save(session, record, updated, now, calendar)
        add_events(session, ticket_id, close_events)
        add_events(session, ticket_id, events, note)
        session.flush()
    return updated


def take(session: Session, ticket_id: int, agent: str, now: datetime) -> bool:
    """`agent` takes the open ticket (an "assigned" event records who had it before);
    False when it was theirs already. A resolved or closed ticket is TransitionError."""
    write_lock(session)
    record = load_record(session, ticket_id, for_update=True)
    if record.status not in [str(status) for status in OPEN]:
        raise TransitionError(Status(record.status), "take")
    if record.assignee == agent:
        return False
    event = Event(Actor(lifecycle.ActorKind.AGENT, agent), as_bogota(now, "now"), "assigned",
                  {"assignee": record.assignee}, {"assignee": agent})
    record.assignee = agent
    record.updated_at = now
    add_events(session, ticket_id, [event])
    session.flush()
    return True


def link_problem(
    session: Session, problem_id: int, incident_id: int, actor: Actor, now: datetime,
    *, calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> tuple[Ticket, Ticket]:
    """Record that the problem explains the incident, on both tickets (rows locked in id order)."""
    first, second = sorted((problem_id, incident_id))
    write_lock(session)
    records = {first: load_record(session, first, for_update=True), second: load_record(session, second, for_update=True)}
    problem, incident = mapping.ticket_of(records[problem_id]), mapping.ticket_of(records[incident_id])
    (new_problem, problem_events), (new_incident, incident_events) = lifecycle.link(problem, incident, now, actor)
    for ticket_id, updated, events in ((problem_id, new_problem, problem_events), (incident_id, new_incident, incident_events)):
        if events:
            _save(session, records[ticket_id], updated, now, calendar)
            add_events(session, ticket_id, events)
    session.flush()
    return new_problem, new_incident


def lock(session: Session, ticket_id: int) -> None:
    """Hold the ticket for the rest of the caller's transaction (several processes adding
    devices and reclassifying the same ticket then take turns instead of deadlocking)."""
    write_lock(session)
    load_record(session, ticket_id, for_update=True)


def set_subject(session: Session, ticket_id: int, subject: str, now: datetime) -> None:
    """Refresh a generated subject (e.g. the device count of a device incident); not an event."""
    record = load_record(session, ticket_id)
    record.subject = subject
    touch(session, ticket_id, now)
    session.flush()


# --- background work (called by support_link.adapters.jobs) ------------------------------


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
        state = _state(mapping.ticket_of(record), now, calendar)
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
