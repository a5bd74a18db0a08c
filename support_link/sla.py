"""First-response SLA ("ANS", service model §5), counted in business time only.

First response = time from ticket creation until an agent's first response. The budgets
live in one data table. Problems have no first-response SLA: asking for one raises
NoSlaError (a typed `-> datetime` API rather than an Optional the caller could forget);
use has_first_response_sla() to ask first.

State: "breached" once the first response (or `now`, while none exists) is later than the
due time; otherwise "at_risk" when at least 75 % of the business-time budget is used;
otherwise "on_time". A first response freezes the state at the response time. A response
exactly at the due time is on time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType

from support_link.calendar import (
    DEFAULT_CALENDAR,
    BusinessCalendar,
    add_business_time,
    as_bogota,
    business_time_between,
)
from support_link.errors import NoSlaError
from support_link.priority import Priority, parse_choice


class TicketType(StrEnum):
    INCIDENT = "incident"  # Incidente
    REQUIREMENT = "requirement"  # Requerimiento (service request)
    PROBLEM = "problem"  # Problema: root-cause work, no first-response SLA


class SlaState(StrEnum):
    ON_TIME = "on_time"
    AT_RISK = "at_risk"
    BREACHED = "breached"


_H = timedelta(hours=1)

FIRST_RESPONSE_BUDGET: Mapping[tuple[TicketType, Priority], timedelta] = MappingProxyType(
    {
        (TicketType.INCIDENT, Priority.URGENT): 1 * _H,
        (TicketType.INCIDENT, Priority.HIGH): 6 * _H,
        (TicketType.INCIDENT, Priority.NORMAL): 10 * _H,
        (TicketType.INCIDENT, Priority.LOW): 16 * _H,
        (TicketType.REQUIREMENT, Priority.URGENT): 8 * _H,
        (TicketType.REQUIREMENT, Priority.HIGH): 12 * _H,
        (TicketType.REQUIREMENT, Priority.NORMAL): 24 * _H,
        (TicketType.REQUIREMENT, Priority.LOW): 32 * _H,
    }
)

AT_RISK_FRACTION = Fraction(3, 4)


def has_first_response_sla(ticket_type: str) -> bool:
    kind = parse_choice(TicketType, ticket_type, "ticket type")
    return any(key[0] is kind for key in FIRST_RESPONSE_BUDGET)


def first_response_budget(ticket_type: str, priority: str) -> timedelta:
    """The §5 business-time budget; NoSlaError for a problem."""
    kind = parse_choice(TicketType, ticket_type, "ticket type")
    level = parse_choice(Priority, priority, "priority")
    try:
        return FIRST_RESPONSE_BUDGET[kind, level]
    except KeyError:
        raise NoSlaError(f"a {kind} has no first-response SLA (service model §5 covers incidents and requirements)") from None


def first_response_due(
    created_at: datetime, ticket_type: str, priority: str, calendar: BusinessCalendar = DEFAULT_CALENDAR
) -> datetime:
    """When the first response is due (aware, America/Bogota); NoSlaError for a problem."""
    return add_business_time(as_bogota(created_at, "created_at"), first_response_budget(ticket_type, priority), calendar)


def budget_used(
    created_at: datetime, due: datetime, moment: datetime, calendar: BusinessCalendar = DEFAULT_CALENDAR
) -> Fraction:
    """Share of the business-time budget [created_at, due) used by `moment` (may exceed 1)."""
    total = business_time_between(created_at, due, calendar)
    used = max(business_time_between(created_at, moment, calendar), timedelta(0))
    if total <= timedelta(0):
        return Fraction(1)
    return Fraction(used // timedelta(microseconds=1), total // timedelta(microseconds=1))


def sla_state(
    created_at: datetime,
    due: datetime,
    now: datetime,
    responded_at: datetime | None = None,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> SlaState:
    """on_time | at_risk | breached, frozen at `responded_at` once a first response exists."""
    moment = as_bogota(now, "now") if responded_at is None else as_bogota(responded_at, "responded_at")
    if moment > as_bogota(due, "due"):
        return SlaState.BREACHED
    if budget_used(created_at, due, moment, calendar) >= AT_RISK_FRACTION:
        return SlaState.AT_RISK
    return SlaState.ON_TIME
