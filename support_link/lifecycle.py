"""Ticket lifecycle (service model §1, §3, §5, §6) as a pure state machine.

A Ticket is a frozen value; `apply(ticket, action, now, actor)` returns the next value and
the events that describe the change (one row each in the storage layer's timeline and audit
trail: actor, at, kind, before/after of the changed fields as JSON-ready values).

    new ──respond(public, by an agent)──▶ in_progress ──escalate──▶ escalated (tier 2)
     └─────────────────────escalate────────────────────────────────▶ escalated
    new | in_progress | escalated ──resolve──▶ resolved ──48 h wall clock──▶ closed
    resolved ──requester_reply | reopen (before the 48 h are up)──▶ in_progress

Rules, as decided here:
- The first public response by a human agent stops the first-response clock
  (`first_response_at`) and moves a new ticket to in_progress. Internal notes and system
  messages (auto-acknowledgements) do not. Resolving a ticket no one has answered yet
  notifies the requester (§6), so an agent's resolution also counts as the first response.
- Escalation moves the ticket to tier 2; it does not reset the clock.
- Changing urgency/impact recomputes priority and the due time from the original
  `sla_start`, so the ticket may be breached at once.
- close_if_due closes a resolved ticket once `now` >= resolved_at + 48 h; `closed_at` and
  the event's `at` are that rule time, not the (possibly later) time the worker ran.
  A reply or reopen after that moment is refused: the caller opens a new ticket.
- Problems (type problem) have no first-response SLA (`first_response_due` is None) and
  link the incidents they explain; the incident records its problem.
- A requester reply in an open status is recorded without a status change.
- Requirements get a resolution date agreed with the customer (§1): one side proposes a date
  (a requester's proposal is a counter-proposal), the other accepts it and it becomes the
  agreed date; a new proposal later renegotiates without erasing the agreed date until accepted.
- The satisfaction survey is answered once per resolution by the requester: "solved" closes
  the ticket at once; "not solved" reopens it, like a reply (refused after the 48 h close).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import ClassVar, TypeAlias

from support_link.calendar import DEFAULT_CALENDAR, BusinessCalendar, as_bogota
from support_link.errors import (
    ActorError,
    ClockError,
    MissingFieldsError,
    TicketError,
    TransitionError,
)
from support_link.priority import Impact, Priority, Urgency, parse_choice, priority_for
from support_link.sla import (
    SlaState,
    TicketType,
    first_response_due,
    has_first_response_sla,
    sla_state,
)

AUTO_CLOSE_AFTER = timedelta(hours=48)
ESCALATION_TIER = 2


class Status(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Channel(StrEnum):
    PORTAL = "portal"
    EMAIL = "email"
    PHONE = "phone"
    WHATSAPP = "whatsapp"
    DEVICE = "device"  # a finding raised by the provisioning server about a phone


class ActorKind(StrEnum):
    AGENT = "agent"  # a human at tier 1 or tier 2
    REQUESTER = "requester"  # the customer's contact
    SYSTEM = "system"  # automation: intake worker, auto-close, provisioning findings


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


SYSTEM = Actor(ActorKind.SYSTEM, "support_link")

FieldValue: TypeAlias = str | int | bool | None | list[int]

PROPOSERS = (ActorKind.AGENT, ActorKind.REQUESTER)  # who may propose or accept a resolution date


@dataclass(frozen=True)
class Event:
    """One change to one ticket: the storage layer writes it as a timeline/audit row."""

    actor: Actor
    at: datetime
    kind: str
    before: dict[str, FieldValue]
    after: dict[str, FieldValue]


@dataclass(frozen=True, kw_only=True)
class Ticket:
    id: int | None = None
    type: TicketType
    status: Status = Status.NEW
    urgency: Urgency
    impact: Impact
    priority: Priority
    subject: str
    detail: str
    requester_name: str
    requester_contact: str
    channel: Channel
    created_at: datetime
    sla_start: datetime
    first_response_due: datetime | None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    escalated: bool = False
    tier: int = 1
    dedup_key: str | None = None  # e.g. a provisioning finding's key: repeats merge into one ticket
    problem_id: int | None = None  # incidents: the problem that explains them
    linked_incidents: tuple[int, ...] = ()  # problems: the incidents they explain
    requester_email: str | None = None  # portal and mail tickets: where replies and the survey go
    proposed_resolution_on: date | None = None  # requirements: a date one side proposed...
    proposed_by: str | None = None  # ...'agent' or 'requester'
    agreed_resolution_on: date | None = None  # ...and the date both agreed

    @property
    def auto_close_at(self) -> datetime | None:
        """When a resolved ticket closes by itself (48 wall-clock hours after resolution)."""
        if self.status is not Status.RESOLVED or self.resolved_at is None:
            return None
        return self.resolved_at + AUTO_CLOSE_AFTER

    def first_response_state(self, now: datetime, calendar: BusinessCalendar = DEFAULT_CALENDAR) -> SlaState | None:
        """on_time / at_risk / breached for the first response; None for problems."""
        if self.first_response_due is None:
            return None
        return sla_state(self.sla_start, self.first_response_due, now, self.first_response_at, calendar)


def resolution_date_state(ticket: Ticket, now: datetime) -> str | None:
    """The agreed resolution date: None (none agreed), 'met', 'missed' or 'pending' (Bogota days).

    Met when resolved on or before that day; a ticket reopened after that counts from its
    latest resolution. An open ticket misses it once the day has passed."""
    agreed = ticket.agreed_resolution_on
    if agreed is None:
        return None
    done = (ticket.resolved_at or ticket.closed_at) if ticket.status in (Status.RESOLVED, Status.CLOSED) else None
    if done is not None:
        return "met" if as_bogota(done).date() <= agreed else "missed"
    return "missed" if as_bogota(now, "now").date() > agreed else "pending"


# --- actions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Respond:
    public: bool = True
    name: ClassVar[str] = "respond"


@dataclass(frozen=True)
class Escalate:
    name: ClassVar[str] = "escalate"


@dataclass(frozen=True)
class Resolve:
    name: ClassVar[str] = "resolve"


@dataclass(frozen=True)
class Reopen:
    name: ClassVar[str] = "reopen"


@dataclass(frozen=True)
class RequesterReply:
    name: ClassVar[str] = "requester_reply"


@dataclass(frozen=True)
class ChangeClassification:
    urgency: str
    impact: str
    name: ClassVar[str] = "change_classification"


@dataclass(frozen=True)
class CloseIfDue:
    name: ClassVar[str] = "close_if_due"


@dataclass(frozen=True)
class LinkIncident:
    """On a problem: it explains this incident."""

    incident_id: int
    name: ClassVar[str] = "link_incident"


@dataclass(frozen=True)
class LinkProblem:
    """On an incident: this problem explains it."""

    problem_id: int
    name: ClassVar[str] = "link_problem"


@dataclass(frozen=True)
class ProposeResolutionDate:
    """A requirement's resolution date, proposed by an agent or countered by the requester."""

    on: date
    name: ClassVar[str] = "propose_resolution_date"


@dataclass(frozen=True)
class AcceptResolutionDate:
    """The other side accepts the pending proposal: it becomes the agreed date."""

    name: ClassVar[str] = "accept_resolution_date"


@dataclass(frozen=True)
class AnswerSurvey:
    """The requester's survey answer: solved closes the ticket, not solved reopens it."""

    solved: bool
    name: ClassVar[str] = "answer_survey"


Action: TypeAlias = (
    Respond | Escalate | Resolve | Reopen | RequesterReply | ChangeClassification | CloseIfDue | LinkIncident | LinkProblem
    | ProposeResolutionDate | AcceptResolutionDate | AnswerSurvey
)

_OPEN = frozenset({Status.NEW, Status.IN_PROGRESS, Status.ESCALATED})
_ALL = frozenset(Status)
_STAFF = frozenset({ActorKind.AGENT, ActorKind.SYSTEM})

# Which statuses accept each action, and who may perform it: the transition table.
ALLOWED_STATUSES: Mapping[type[Action], frozenset[Status]] = {
    Respond: _OPEN,
    Escalate: frozenset({Status.NEW, Status.IN_PROGRESS}),
    Resolve: _OPEN,
    Reopen: frozenset({Status.RESOLVED}),
    RequesterReply: _OPEN | {Status.RESOLVED},
    ChangeClassification: _OPEN,
    CloseIfDue: _ALL,
    LinkIncident: _ALL - {Status.CLOSED},
    LinkProblem: _ALL,
    ProposeResolutionDate: _OPEN,
    AcceptResolutionDate: _OPEN,
    AnswerSurvey: frozenset({Status.RESOLVED}),
}
ALLOWED_ACTORS: Mapping[type[Action], frozenset[ActorKind]] = {
    Respond: _STAFF,
    Escalate: _STAFF,
    Resolve: _STAFF,
    Reopen: frozenset({ActorKind.AGENT}),
    RequesterReply: frozenset({ActorKind.REQUESTER, ActorKind.SYSTEM}),
    ChangeClassification: _STAFF,
    CloseIfDue: frozenset(ActorKind),
    LinkIncident: _STAFF,
    LinkProblem: _STAFF,
    ProposeResolutionDate: frozenset(PROPOSERS),
    AcceptResolutionDate: frozenset(PROPOSERS),
    AnswerSurvey: frozenset({ActorKind.REQUESTER}),
}
ALLOWED_TYPES: Mapping[type[Action], frozenset[TicketType]] = {
    LinkIncident: frozenset({TicketType.PROBLEM}),
    LinkProblem: frozenset({TicketType.INCIDENT}),
    ProposeResolutionDate: frozenset({TicketType.REQUIREMENT}),
    AcceptResolutionDate: frozenset({TicketType.REQUIREMENT}),
}


# --- events -------------------------------------------------------------------------------


def _plain(value: object) -> FieldValue:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return [int(item) for item in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    raise TypeError(f"no event representation for {type(value).__name__}")  # pragma: no cover


def snapshot(ticket: Ticket) -> dict[str, FieldValue]:
    """Every field of `ticket` as a JSON-ready value (datetimes in ISO 8601)."""
    return {field.name: _plain(getattr(ticket, field.name)) for field in fields(ticket)}


def _event(kind: str, actor: Actor, at: datetime, before: Ticket, after: Ticket) -> Event:
    old, new = snapshot(before), snapshot(after)
    changed = [name for name in new if old[name] != new[name]]
    return Event(actor, at, kind, {name: old[name] for name in changed}, {name: new[name] for name in changed})


# --- creation -----------------------------------------------------------------------------

REQUIRED_FIELDS = ("requester_name", "requester_contact", "detail", "subject")  # §1, in its order


def _missing(values: Mapping[str, str | None]) -> list[str]:
    return [name for name in REQUIRED_FIELDS if not (values[name] or "").strip()]


def new_ticket(
    *,
    ticket_type: str,
    urgency: str,
    impact: str,
    subject: str | None,
    detail: str | None,
    requester_name: str | None,
    requester_contact: str | None,
    channel: str,
    created_at: datetime,
    actor: Actor,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
    ticket_id: int | None = None,
    dedup_key: str | None = None,
    requester_email: str | None = None,
) -> tuple[Ticket, Event]:
    """A new ticket and its "created" event; MissingFieldsError names every missing field."""
    texts = {"requester_name": requester_name, "requester_contact": requester_contact, "detail": detail, "subject": subject}
    missing = _missing(texts)
    if missing:
        raise MissingFieldsError(missing)
    kind = parse_choice(TicketType, ticket_type, "ticket type")
    level, reach = parse_choice(Urgency, urgency, "urgency"), parse_choice(Impact, impact, "impact")
    priority = priority_for(level, reach)
    start = as_bogota(created_at, "created_at")
    due = first_response_due(start, kind, priority, calendar) if has_first_response_sla(kind) else None
    ticket = Ticket(
        id=ticket_id,
        type=kind,
        urgency=level,
        impact=reach,
        priority=priority,
        subject=(subject or "").strip(),
        detail=(detail or "").strip(),
        requester_name=(requester_name or "").strip(),
        requester_contact=(requester_contact or "").strip(),
        channel=parse_choice(Channel, channel, "channel"),
        created_at=start,
        sla_start=start,
        first_response_due=due,
        dedup_key=dedup_key,
        requester_email=(requester_email or "").strip().lower() or None,
    )
    return ticket, Event(actor, start, "created", {}, snapshot(ticket))


# --- transitions --------------------------------------------------------------------------

Outcome: TypeAlias = tuple[Ticket, list[Event]]


def _respond(ticket: Ticket, action: Respond, at: datetime, actor: Actor, calendar: BusinessCalendar) -> Outcome:
    if not action.public:
        return ticket, [_event("internal_note", actor, at, ticket, ticket)]
    if actor.kind is ActorKind.SYSTEM:
        return ticket, [_event("system_message", actor, at, ticket, ticket)]
    updated = ticket
    if ticket.first_response_at is None:
        updated = replace(updated, first_response_at=at)
    if ticket.status is Status.NEW:
        updated = replace(updated, status=Status.IN_PROGRESS)
    return updated, [_event("public_response", actor, at, ticket, updated)]


def _escalate(ticket: Ticket, action: Escalate, at: datetime, actor: Actor, calendar: BusinessCalendar) -> Outcome:
    updated = replace(ticket, status=Status.ESCALATED, escalated=True, tier=ESCALATION_TIER)
    return updated, [_event("escalated", actor, at, ticket, updated)]


def _resolve(ticket: Ticket, action: Resolve, at: datetime, actor: Actor, calendar: BusinessCalendar) -> Outcome:
    updated = replace(ticket, status=Status.RESOLVED, resolved_at=at)
    if ticket.first_response_at is None and actor.kind is ActorKind.AGENT:
        updated = replace(updated, first_response_at=at)  # the resolution notice answers the requester
    return updated, [_event("resolved", actor, at, ticket, updated)]


def _reopen_if_still_resolved(ticket: Ticket, action: Action, at: datetime, actor: Actor, kind: str) -> Outcome:
    close_at = ticket.auto_close_at
    if close_at is not None and at >= close_at:
        reason = f"it closed automatically at {close_at.isoformat()} (48 h after resolution); open a new ticket"
        raise TransitionError(ticket.status, action.name, reason)
    updated = replace(ticket, status=Status.IN_PROGRESS, resolved_at=None)
    return updated, [_event(kind, actor, at, ticket, updated)]


def _reopen(ticket: Ticket, action: Reopen, at: datetime, actor: Actor, calendar: BusinessCalendar) -> Outcome:
    return _reopen_if_still_resolved(ticket, action, at, actor, "reopened")


def _requester_reply(ticket: Ticket, action: RequesterReply, at: datetime, actor: Actor, calendar: BusinessCalendar) -> Outcome:
    if ticket.status is Status.RESOLVED:
        return _reopen_if_still_resolved(ticket, action, at, actor, "requester_reply")
    return ticket, [_event("requester_reply", actor, at, ticket, ticket)]


def _reclassify(ticket: Ticket, action: ChangeClassification, at: datetime, actor: Actor, calendar: BusinessCalendar) -> Outcome:
    level = parse_choice(Urgency, action.urgency, "urgency")
    reach = parse_choice(Impact, action.impact, "impact")
    priority = priority_for(level, reach)
    due = first_response_due(ticket.sla_start, ticket.type, priority, calendar) if has_first_response_sla(ticket.type) else None
    updated = replace(ticket, urgency=level, impact=reach, priority=priority, first_response_due=due)
    if updated == ticket:
        return ticket, []
    return updated, [_event("reclassified", actor, at, ticket, updated)]


def _close_if_due(ticket: Ticket, action: CloseIfDue, at: datetime, actor: Actor, calendar: BusinessCalendar) -> Outcome:
    close_at = ticket.auto_close_at
    if close_at is None or at < close_at:
        return ticket, []
    updated = replace(ticket, status=Status.CLOSED, closed_at=close_at)
    return updated, [_event("closed", actor, close_at, ticket, updated)]


def _link_incident(ticket: Ticket, action: LinkIncident, at: datetime, actor: Actor, calendar: BusinessCalendar) -> Outcome:
    if action.incident_id in ticket.linked_incidents:
        return ticket, []
    updated = replace(ticket, linked_incidents=(*ticket.linked_incidents, action.incident_id))
    return updated, [_event("linked_incident", actor, at, ticket, updated)]


def _link_problem(ticket: Ticket, action: LinkProblem, at: datetime, actor: Actor, calendar: BusinessCalendar) -> Outcome:
    if ticket.problem_id == action.problem_id:
        return ticket, []
    updated = replace(ticket, problem_id=action.problem_id)
    return updated, [_event("linked_problem", actor, at, ticket, updated)]


def _propose_date(ticket: Ticket, action: ProposeResolutionDate, at: datetime, actor: Actor, calendar: BusinessCalendar) -> Outcome:
    if action.on < at.date():
        raise TransitionError(ticket.status, action.name, f"{action.on.isoformat()} is already past")
    if ticket.proposed_resolution_on == action.on and ticket.proposed_by == actor.kind.value:
        return ticket, []
    updated = replace(ticket, proposed_resolution_on=action.on, proposed_by=actor.kind.value)
    return updated, [_event("resolution_date_proposed", actor, at, ticket, updated)]


def _accept_date(ticket: Ticket, action: AcceptResolutionDate, at: datetime, actor: Actor, calendar: BusinessCalendar) -> Outcome:
    if ticket.proposed_resolution_on is None:
        raise TransitionError(ticket.status, action.name, "no resolution date has been proposed")
    if ticket.proposed_by == actor.kind.value:
        raise ActorError(f"the {actor.kind} proposed this date: the other side accepts it")
    updated = replace(ticket, agreed_resolution_on=ticket.proposed_resolution_on, proposed_resolution_on=None, proposed_by=None)
    return updated, [_event("resolution_date_agreed", actor, at, ticket, updated)]


def _answer_survey(ticket: Ticket, action: AnswerSurvey, at: datetime, actor: Actor, calendar: BusinessCalendar) -> Outcome:
    if not action.solved:
        return _reopen_if_still_resolved(ticket, action, at, actor, "survey_reopened")
    close_at = ticket.auto_close_at
    if close_at is not None and at >= close_at:
        raise TransitionError(ticket.status, action.name, f"it closed automatically at {close_at.isoformat()}")
    updated = replace(ticket, status=Status.CLOSED, closed_at=at)
    return updated, [_event("survey_closed", actor, at, ticket, updated)]


def _dispatch(ticket: Ticket, action: Action, at: datetime, actor: Actor, calendar: BusinessCalendar) -> Outcome:
    match action:
        case Respond():
            return _respond(ticket, action, at, actor, calendar)
        case Escalate():
            return _escalate(ticket, action, at, actor, calendar)
        case Resolve():
            return _resolve(ticket, action, at, actor, calendar)
        case Reopen():
            return _reopen(ticket, action, at, actor, calendar)
        case RequesterReply():
            return _requester_reply(ticket, action, at, actor, calendar)
        case ChangeClassification():
            return _reclassify(ticket, action, at, actor, calendar)
        case CloseIfDue():
            return _close_if_due(ticket, action, at, actor, calendar)
        case LinkIncident():
            return _link_incident(ticket, action, at, actor, calendar)
        case LinkProblem():
            return _link_problem(ticket, action, at, actor, calendar)
        case ProposeResolutionDate():
            return _propose_date(ticket, action, at, actor, calendar)
        case AcceptResolutionDate():
            return _accept_date(ticket, action, at, actor, calendar)
        case AnswerSurvey():
            return _answer_survey(ticket, action, at, actor, calendar)


def _check(ticket: Ticket, action: Action, at: datetime, actor: Actor) -> None:
    if at < ticket.created_at:
        raise ClockError(f"{action.name} at {at.isoformat()} is before the ticket was created ({ticket.created_at.isoformat()})")
    kinds = ALLOWED_TYPES.get(type(action))
    if kinds is not None and ticket.type not in kinds:
        allowed = "|".join(sorted(kinds))
        raise TransitionError(ticket.status, action.name, f"only {allowed} tickets allow it (this ticket's type is {ticket.type})")
    if ticket.status not in ALLOWED_STATUSES[type(action)]:
        raise TransitionError(ticket.status, action.name)
    if actor.kind not in ALLOWED_ACTORS[type(action)]:
        raise ActorError(f"a {actor.kind} cannot {action.name} (ticket status {ticket.status})")


def apply(
    ticket: Ticket, action: Action, now: datetime, actor: Actor, calendar: BusinessCalendar = DEFAULT_CALENDAR
) -> tuple[Ticket, list[Event]]:
    """The ticket after `action` at `now` by `actor`, and the events to store (may be none)."""
    at = as_bogota(now, "now")
    _check(ticket, action, at, actor)
    return _dispatch(ticket, action, at, actor, calendar)


def close_if_due(ticket: Ticket, now: datetime, actor: Actor = SYSTEM) -> tuple[Ticket, list[Event]]:
    """Auto-close (§6): closed 48 h after the latest resolution; otherwise unchanged, no events."""
    return apply(ticket, CloseIfDue(), now, actor)


def link(
    problem: Ticket, incident: Ticket, now: datetime, actor: Actor
) -> tuple[tuple[Ticket, list[Event]], tuple[Ticket, list[Event]]]:
    """Record on both tickets that `problem` explains `incident`; both must be stored (have ids)."""
    if problem.id is None or incident.id is None:
        raise TicketError("link needs stored tickets: the problem and the incident must both have ids")
    return apply(problem, LinkIncident(incident.id), now, actor), apply(incident, LinkProblem(problem.id), now, actor)
