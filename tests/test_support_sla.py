"""First-response SLA: the §5 budgets, due times on the business calendar, and the state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support_link.calendar import BOGOTA, DEFAULT_CALENDAR, is_open
from support_link.errors import ClassificationError, NoSlaError
from support_link.sla import (
    FIRST_RESPONSE_BUDGET,
    SlaState,
    budget_used,
    first_response_budget,
    first_response_due,
    has_first_response_sla,
    sla_state,
)


def bog(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=BOGOTA)


# Service model §5, copied as text from the operator's rulebook.
RULEBOOK_TABLE = """
| type | Baja | Normal | Alta | Urgente |
|---|---|---|---|---|
| Incident | 16:00 h | 10:00 h | 6:00 h | 1:00 h |
| Requirement | 32:00 h | 24:00 h | 12:00 h | 8:00 h |
"""
SPANISH_PRIORITY = {"Baja": "low", "Normal": "normal", "Alta": "high", "Urgente": "urgent"}


def rulebook_budgets() -> list[tuple[str, str, timedelta]]:
    header, _, *rows = RULEBOOK_TABLE.strip().splitlines()
    columns = [SPANISH_PRIORITY[c.strip()] for c in header.strip("|").split("|")[1:]]
    budgets = []
    for row in rows:
        label, *values = [part.strip() for part in row.strip("|").split("|")]
        for priority, value in zip(columns, values, strict=True):
            hours, minutes = value.removesuffix(" h").split(":")
            budgets.append((label.lower(), priority, timedelta(hours=int(hours), minutes=int(minutes))))
    return budgets


def test_the_transcription_has_eight_budgets() -> None:
    assert len(rulebook_budgets()) == 8
    assert len(FIRST_RESPONSE_BUDGET) == 8


@pytest.mark.parametrize(("ticket_type", "priority", "budget"), rulebook_budgets())
def test_budget_matches_the_rulebook(ticket_type: str, priority: str, budget: timedelta) -> None:
    assert first_response_budget(ticket_type, priority) == budget


def test_problems_have_no_first_response_sla() -> None:
    assert not has_first_response_sla("problem")
    assert has_first_response_sla("incident") and has_first_response_sla("requirement")
    with pytest.raises(NoSlaError, match="problem has no first-response SLA"):
        first_response_due(bog(2026, 3, 18, 10), "problem", "urgent")


@pytest.mark.parametrize(
    ("ticket_type", "priority", "what"),
    [("outage", "urgent", "ticket type 'outage'"), ("incident", "critical", "priority 'critical'")],
)
def test_unknown_type_or_priority(ticket_type: str, priority: str, what: str) -> None:
    with pytest.raises(ClassificationError, match=what):
        first_response_due(bog(2026, 3, 18, 10), ticket_type, priority)


@pytest.mark.parametrize(
    ("case", "created", "ticket_type", "priority", "due"),
    [
        ("rulebook example: 1 h ends at lunch", bog(2026, 3, 18, 11, 30), "incident", "urgent", bog(2026, 3, 18, 12, 30)),
        ("rulebook example: Friday into Monday holiday", bog(2026, 3, 20, 17, 30), "incident", "urgent", bog(2026, 3, 24, 8, 0)),
        ("lunch break skipped", bog(2026, 3, 18, 12, 0), "incident", "urgent", bog(2026, 3, 18, 14, 30)),
        ("created exactly 12:30", bog(2026, 3, 18, 12, 30), "incident", "urgent", bog(2026, 3, 18, 15, 0)),
        ("created exactly 18:00", bog(2026, 3, 18, 18, 0), "incident", "urgent", bog(2026, 3, 19, 8, 30)),
        ("ends exactly 18:00", bog(2026, 3, 18, 10, 30), "incident", "high", bog(2026, 3, 18, 18, 0)),
        ("before opening", bog(2026, 3, 18, 6, 0), "incident", "high", bog(2026, 3, 18, 15, 0)),
        ("Friday evening, Monday holiday", bog(2026, 3, 20, 19, 0), "incident", "high", bog(2026, 3, 24, 15, 0)),
        ("Holy Week: Apr 2-3 closed", bog(2026, 4, 1, 16, 0), "requirement", "urgent", bog(2026, 4, 6, 15, 0)),
        ("Law 2578: Mon 2026-07-13 closed", bog(2026, 7, 10, 14, 0), "incident", "normal", bog(2026, 7, 14, 15, 0)),
        ("Dec 24 works, Dec 25 closed", bog(2026, 12, 24, 15, 0), "incident", "high", bog(2026, 12, 28, 10, 30)),
        ("Dec 31 works, into January", bog(2026, 12, 31, 17, 30), "incident", "urgent", bog(2027, 1, 4, 8, 0)),
        ("year end, 32 h", bog(2026, 12, 31, 9, 0), "requirement", "low", bog(2027, 1, 6, 15, 30)),
        ("Epiphany 2027 observed Mon Jan 11", bog(2027, 1, 8, 8, 30), "requirement", "normal", bog(2027, 1, 13, 16, 0)),
        ("32 h requirement over a weekend", bog(2026, 3, 5, 10, 0), "requirement", "low", bog(2026, 3, 10, 16, 30)),
        ("created on a Saturday", bog(2026, 3, 14, 11, 0), "requirement", "high", bog(2026, 3, 17, 10, 30)),
        ("UTC input", datetime(2026, 3, 18, 16, 30, tzinfo=UTC), "incident", "urgent", bog(2026, 3, 18, 12, 30)),
    ],
)
def test_first_response_due(case: str, created: datetime, ticket_type: str, priority: str, due: datetime) -> None:
    result = first_response_due(created, ticket_type, priority)
    assert result == due, case
    assert result.tzinfo is BOGOTA
    assert (result.hour, result.minute) == (due.hour, due.minute)


# --- state ------------------------------------------------------------------------------

CREATED = bog(2026, 3, 18, 10, 0)  # incident urgent: due 11:00
DUE = bog(2026, 3, 18, 11, 0)


@pytest.mark.parametrize(
    ("now", "responded_at", "expected"),
    [
        (bog(2026, 3, 18, 10, 0), None, "on_time"),
        (bog(2026, 3, 18, 10, 44, 59), None, "on_time"),
        (bog(2026, 3, 18, 10, 45), None, "at_risk"),  # exactly 75 %
        (bog(2026, 3, 18, 11, 0), None, "at_risk"),  # at the due time: not yet breached
        (bog(2026, 3, 18, 11, 0, 1), None, "breached"),
        (bog(2026, 3, 19, 9, 0), None, "breached"),
        (bog(2026, 3, 18, 9, 0), None, "on_time"),  # a clock behind the creation time
        (bog(2026, 3, 19, 9, 0), bog(2026, 3, 18, 10, 20), "on_time"),  # frozen at response
        (bog(2026, 3, 19, 9, 0), bog(2026, 3, 18, 10, 50), "at_risk"),
        (bog(2026, 3, 19, 9, 0), bog(2026, 3, 18, 11, 0), "at_risk"),  # answered at the deadline
        (bog(2026, 3, 18, 11, 0), bog(2026, 3, 18, 11, 5), "breached"),
    ],
)
def test_sla_state(now: datetime, responded_at: datetime | None, expected: str) -> None:
    assert first_response_due(CREATED, "incident", "urgent") == DUE
    assert sla_state(CREATED, DUE, now, responded_at) == expected


def test_state_counts_business_time_across_lunch() -> None:
    created = bog(2026, 3, 18, 12, 0)
    due = first_response_due(created, "incident", "urgent")  # 14:30
    assert sla_state(created, due, bog(2026, 3, 18, 13, 30)) == SlaState.ON_TIME  # 30 of 60 min
    assert sla_state(created, due, bog(2026, 3, 18, 14, 14, 59)) == SlaState.ON_TIME
    assert sla_state(created, due, bog(2026, 3, 18, 14, 15)) == SlaState.AT_RISK  # 45 of 60 min
    assert budget_used(created, due, bog(2026, 3, 18, 14, 15)) == 0.75


def test_state_after_the_deadline_falls_in_a_closed_period() -> None:
    created = bog(2026, 3, 18, 11, 30)
    due = first_response_due(created, "incident", "urgent")  # 12:30
    assert sla_state(created, due, bog(2026, 3, 18, 12, 45)) == SlaState.BREACHED


def test_state_accepts_utc_and_refuses_naive() -> None:
    assert sla_state(CREATED, DUE, datetime(2026, 3, 18, 15, 50, tzinfo=UTC)) == SlaState.AT_RISK
    with pytest.raises(ValueError, match="naive"):
        sla_state(CREATED, DUE, datetime(2026, 3, 18, 10, 50))


# --- properties -------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 1), timezones=st.just(BOGOTA))
kinds = st.sampled_from(sorted(FIRST_RESPONSE_BUDGET))


def _is_window_end(moment: datetime) -> bool:
    return any(end == moment for _, end in DEFAULT_CALENDAR.windows_on(moment.date()))


@settings(max_examples=300, deadline=None)
@given(created=moments, kind=kinds)
def test_due_is_never_inside_a_closed_period_unless_a_window_end(created: datetime, kind: tuple[str, str]) -> None:
    due = first_response_due(created, *kind)
    assert is_open(due) or _is_window_end(due)


@settings(max_examples=200, deadline=None)
@given(created=moments, a=kinds, b=kinds)
def test_a_larger_budget_never_gives_an_earlier_due(created: datetime, a: tuple[str, str], b: tuple[str, str]) -> None:
    small, large = sorted((a, b), key=lambda kind: FIRST_RESPONSE_BUDGET[kind])  # type: ignore[index]
    assert first_response_due(created, *large) >= first_response_due(created, *small)


@settings(max_examples=200, deadline=None)
@given(created=moments, later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)), kind=kinds)
def test_created_later_never_gives_an_earlier_due(created: datetime, later: timedelta, kind: tuple[str, str]) -> None:
    assert first_response_due(created + later, *kind) >= first_response_due(created, *kind)
