"""What the agents' desk shows of a ticket, computed (pure: no clock reads, no I/O).

- `clock`: the first-response SLA as a badge: time left or overdue, in business time
  (support_link.calendar), with the state that colours it.
- `actions`: the buttons an agent is offered, from lifecycle's transition table, so a page
  never offers what the lifecycle would refuse (Reabrir on a new ticket).
- `describe_changes`: a timeline event's before/after as Spanish lines, dates in Bogota time.
- `resolution_date_problem`, `acceptance_problem`, `agreed_date_text`, `proposal_text`: a
  requirement's resolution date (proposed only after today in Bogota, at most a year ahead;
  never accepted once its day has gone) and how the page says it.

Every word comes from support_link.words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from support_link import lifecycle, words
from support_link.calendar import BOGOTA, DEFAULT_CALENDAR, BusinessCalendar, as_bogota, business_time_between
from support_link.lifecycle import ActorKind, Status, Ticket
from support_link.sla import SlaState, TicketType

_MINUTE = timedelta(minutes=1)


def business_duration(delta: timedelta) -> str:
    """"2 h 05 min", "45 min", "menos de 1 min" (business time, rounded down to minutes)."""
    minutes = max(delta, timedelta(0)) // _MINUTE
    if minutes == 0:
        return "menos de 1 min"
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return f"{rest} min"
    return f"{hours} h {rest:02d} min"


@dataclass(frozen=True)
class Clock:
    state: str  # on_time | at_risk | breached | answered | none: the badge's colour
    text: str  # Spanish, e.g. "Quedan 2 h 05 min hábiles"
    minutes: int | None  # business minutes left (negative: overdue); None once answered or without SLA


def clock(ticket: Ticket, state: SlaState | None, now: datetime, calendar: BusinessCalendar = DEFAULT_CALENDAR) -> Clock:
    """The first-response badge of `ticket` at `now` (`state`: its live SLA state)."""
    due = ticket.first_response_due
    if due is None or state is None:
        return Clock("none", "Sin ANS de primera respuesta", None)
    if ticket.first_response_at is not None:
        late = business_time_between(due, ticket.first_response_at, calendar)
        if ticket.first_response_at <= due:
            return Clock("answered", "Respondido a tiempo", None)
        return Clock("breached", f"Respondido con {business_duration(late)} hábiles de retraso", None)
    if ticket.status not in (Status.NEW, Status.IN_PROGRESS, Status.ESCALATED):
        return Clock("none", "Cerrado sin primera respuesta", None)
    moment = as_bogota(now, "now")
    if moment <= due:
        left = business_time_between(moment, due, calendar)
        return Clock(str(state), f"Quedan {business_duration(left)} hábiles", left // _MINUTE)
    overdue = business_time_between(due, moment, calendar)
    return Clock("breached", f"Vencido hace {business_duration(overdue)} hábiles", -(overdue // _MINUTE))


# The page's buttons and the lifecycle action each one sends (note: a non-public Respond).
_BUTTONS: Mapping[str, type[lifecycle.Action]] = {
    "respond": lifecycle.Respond, "note": lifecycle.Respond, "escalate": lifecycle.Escalate,
    "resolve": lifecycle.Resolve, "reopen": lifecycle.Reopen, "reclassify": lifecycle.ChangeClassification,
    "propose_date": lifecycle.ProposeResolutionDate, "accept_date": lifecycle.AcceptResolutionDate,
}
OPEN = frozenset({Status.NEW, Status.IN_PROGRESS, Status.ESCALATED})
ALL_TYPES = frozenset(TicketType)


def actions(ticket: Ticket, assignee: str | None, agent: str) -> tuple[str, ...]:
    """The buttons `agent` is offered on `ticket`, in words.ACTIONS order."""
    offered = {
        button for button, action in _BUTTONS.items()
        if ticket.status in lifecycle.ALLOWED_STATUSES[action] and ActorKind.AGENT in lifecycle.ALLOWED_ACTORS[action]
        and ticket.type in lifecycle.ALLOWED_TYPES.get(action, ALL_TYPES)
    }
    if ticket.proposed_resolution_on is None or ticket.proposed_by != ActorKind.REQUESTER:
        offered.discard("accept_date")  # an agent accepts only the requester's (counter-)proposal
    if ticket.status in OPEN and assignee != agent:
        offered.add("take")
    if ticket.status is not Status.CLOSED:
        offered.add("log_work")
    return tuple(name for name in words.ACTIONS if name in offered)


def refusal(action: str, status: str) -> str:
    """The Spanish message for an action the ticket's status does not allow."""
    return words.REFUSED.format(action=words.ACTIONS.get(action, action), status=words.STATUSES.get(status, status))


def refusal_for(action: str, ticket: Ticket) -> str:
    """The Spanish message for an action the lifecycle refused on `ticket`: the rule it broke."""
    if action in ("propose_date", "accept_date") and ticket.type is not TicketType.REQUIREMENT:
        return words.DATE_ONLY_REQUIREMENTS
    if action == "accept_date" and ticket.status in OPEN:
        return words.DATE_NOT_AGREED
    return refusal(action, str(ticket.status))


def _moment(text: str) -> str | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(BOGOTA).strftime("%Y-%m-%d %H:%M")


def value_text(field: str, value: Any, names: Mapping[str, str] | None = None) -> str:
    """One stored value as a person reads it (`names`: usernames -> display names, for assignee)."""
    if value is None or value == "" or value == []:
        return words.NO_VALUE
    if isinstance(value, bool):
        return words.YES_NO[value]
    table = words.FIELD_VALUES.get(field)
    if table is not None:
        return table.get(str(value), str(value))
    if field == "assignee" and names is not None:
        return names.get(str(value), str(value))
    if isinstance(value, list):
        return ", ".join(f"#{item}" for item in value)
    if field == "problem_id":
        return f"#{value}"
    if isinstance(value, str):
        shown = _moment(value) if field.endswith(("_at", "_due", "_start")) else None
        return shown or value
    return str(value)


def describe_changes(before: Mapping[str, Any], after: Mapping[str, Any], names: Mapping[str, str] | None = None) -> list[str]:
    """The fields an event changed, as "Prioridad: Baja → Alta" lines in Spanish."""
    return [
        f"{words.FIELDS.get(field, field)}: {value_text(field, before.get(field), names)} → {value_text(field, after.get(field), names)}"
        for field in after
        if field in before and before.get(field) != after.get(field)
    ]


LONGEST_AGREEMENT = timedelta(days=366)


def resolution_date_problem(on: date, now: datetime) -> str | None:
    """Why an agent may not propose `on` as a requirement's resolution date (None: it may).
    Days are Bogota's: at 20:00 in Bogota it is already tomorrow in UTC, not here."""
    today = as_bogota(now, "now").date()
    if on <= today:
        return words.DATE_NOT_FUTURE.format(today=today.isoformat(), first=(today + timedelta(days=1)).isoformat())
    if on > today + LONGEST_AGREEMENT:
        return words.DATE_TOO_FAR.format(last=(today + LONGEST_AGREEMENT).isoformat())
    return None


def acceptance_problem(ticket: Ticket, now: datetime) -> str | None:
    """Why the pending proposal may not be accepted now (None: it may): a day already gone in
    Bogota would be an agreement missed at once."""
    on = ticket.proposed_resolution_on
    if on is not None and on < as_bogota(now, "now").date():
        return words.DATE_PROPOSAL_PAST.format(on=on.isoformat())
    return None


def agreed_date_text(ticket: Ticket, now: datetime) -> str | None:
    """"2026-12-10 (pendiente)": the agreed date and whether it was met (None: none agreed)."""
    state = lifecycle.resolution_date_state(ticket, now)
    if ticket.agreed_resolution_on is None or state is None:
        return None
    return f"{ticket.agreed_resolution_on.isoformat()} ({words.RESOLUTION_DATE_STATES[state]})"


def proposal_text(ticket: Ticket) -> str | None:
    """"2026-12-12, propuesta por el solicitante": a proposal waiting for the other side."""
    if ticket.proposed_resolution_on is None:
        return None
    who = words.FIELD_VALUES["proposed_by"].get(ticket.proposed_by or "", ticket.proposed_by or "")
    return f"{ticket.proposed_resolution_on.isoformat()}, propuesta por {who}"
