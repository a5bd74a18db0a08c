"""Out-of-hours urgent work: USD 250/h, one hour minimum per call-out, rounded up to an increment."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from support_link.billing import (
    CallOut,
    WorkLog,
    WorkRow,
    billable_out_of_hours,
    merge_call_outs,
    monthly_report,
)
from support_link.calendar import BOGOTA
from support_link.errors import BillingError, ClassificationError, NaiveDatetimeError


def bog(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=BOGOTA)


MIN = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("case", "start", "end", "out_of_hours", "billed", "amount"),
    [
        ("20 min evening: the 1 h minimum", bog(2026, 3, 18, 19, 0), bog(2026, 3, 18, 19, 20), 20 * MIN, 60 * MIN, "250.00"),
        ("2 h 10 rounds up to 2 h 15", bog(2026, 3, 18, 19, 0), bog(2026, 3, 18, 21, 10), 130 * MIN, 135 * MIN, "562.50"),
        ("exactly on an increment", bog(2026, 3, 18, 19, 0), bog(2026, 3, 18, 20, 30), 90 * MIN, 90 * MIN, "375.00"),
        ("one second over rounds up", bog(2026, 3, 18, 19, 0), bog(2026, 3, 18, 20, 30, 1), 90 * MIN + timedelta(seconds=1), 105 * MIN, "437.50"),
        ("straddles 18:00: only the evening", bog(2026, 3, 18, 17, 0), bog(2026, 3, 18, 19, 5), 65 * MIN, 75 * MIN, "312.50"),
        ("straddles 07:30 opening", bog(2026, 3, 18, 5, 0), bog(2026, 3, 18, 9, 0), 150 * MIN, 150 * MIN, "625.00"),
        ("lunch is outside business hours", bog(2026, 3, 18, 12, 0), bog(2026, 3, 18, 14, 30), 90 * MIN, 90 * MIN, "375.00"),
        ("Saturday", bog(2026, 3, 21, 10, 0), bog(2026, 3, 21, 13, 0), 180 * MIN, 180 * MIN, "750.00"),
        ("holiday Monday (San José)", bog(2026, 3, 23, 9, 0), bog(2026, 3, 23, 9, 40), 40 * MIN, 60 * MIN, "250.00"),
        ("overnight into a working morning", bog(2026, 3, 18, 23, 0), bog(2026, 3, 19, 8, 0), 510 * MIN, 510 * MIN, "2125.00"),
    ],
)
def test_one_call_out(case: str, start: datetime, end: datetime, out_of_hours: timedelta, billed: timedelta, amount: str) -> None:
    [call] = billable_out_of_hours([WorkLog(start, end)], "urgent")
    assert (call.out_of_hours, call.billed, call.amount) == (out_of_hours, billed, Decimal(amount)), case
    assert call.amount.as_tuple().exponent == -2


def test_work_inside_business_hours_is_no_call_out() -> None:
    assert billable_out_of_hours([(bog(2026, 3, 18, 8, 0), bog(2026, 3, 18, 12, 30))], "urgent") == []


@pytest.mark.parametrize("priority", ["high", "normal", "low"])
def test_only_urgent_tickets_are_billed(priority: str) -> None:
    assert billable_out_of_hours([(bog(2026, 3, 21, 10, 0), bog(2026, 3, 21, 13, 0))], priority) == []


@pytest.mark.parametrize(
    ("increment", "billed", "amount"),
    [
        (timedelta(minutes=30), 150 * MIN, "625.00"),
        (timedelta(minutes=1), 130 * MIN, "541.67"),  # 2.1666... h x 250 rounds half-up to cents
        (timedelta(hours=1), 180 * MIN, "750.00"),
    ],
)
def test_configurable_increment(increment: timedelta, billed: timedelta, amount: str) -> None:
    [call] = billable_out_of_hours([(bog(2026, 3, 18, 19, 0), bog(2026, 3, 18, 21, 10))], "urgent", increment=increment)
    assert (call.billed, call.amount) == (billed, Decimal(amount))


def test_configurable_rate_and_minimum() -> None:
    [call] = billable_out_of_hours(
        [(bog(2026, 3, 18, 19, 0), bog(2026, 3, 18, 19, 20))], "urgent", rate=Decimal(300), minimum=timedelta(hours=2)
    )
    assert (call.billed, call.amount) == (timedelta(hours=2), Decimal("600.00"))


def test_touching_or_overlapping_logs_are_one_call_out() -> None:
    logs = [
        (bog(2026, 3, 18, 19, 30), bog(2026, 3, 18, 20, 10)),
        (bog(2026, 3, 18, 19, 0), bog(2026, 3, 18, 19, 30)),  # touches the first (given out of order)
        (bog(2026, 3, 18, 19, 50), bog(2026, 3, 18, 20, 0)),  # inside it
    ]
    [call] = billable_out_of_hours(logs, "urgent")
    assert (call.start, call.end, call.billed, call.amount) == (
        bog(2026, 3, 18, 19, 0), bog(2026, 3, 18, 20, 10), 75 * MIN, Decimal("312.50"),
    )


def test_separate_call_outs_each_carry_the_minimum() -> None:
    logs = [(bog(2026, 3, 18, 19, 0), bog(2026, 3, 18, 19, 10)), (bog(2026, 3, 18, 22, 0), bog(2026, 3, 18, 22, 10))]
    calls = billable_out_of_hours(logs, "urgent")
    assert [c.amount for c in calls] == [Decimal("250.00"), Decimal("250.00")]


def test_utc_work_logs() -> None:
    [call] = billable_out_of_hours([(datetime(2026, 3, 19, 0, 0, tzinfo=UTC), datetime(2026, 3, 19, 1, 30, tzinfo=UTC))], "urgent")
    assert call == CallOut(bog(2026, 3, 18, 19, 0), bog(2026, 3, 18, 20, 30), 90 * MIN, 90 * MIN, Decimal("375.00"))


def test_bad_work_logs_and_parameters_are_refused() -> None:
    with pytest.raises(BillingError, match="must end after it starts"):
        billable_out_of_hours([(bog(2026, 3, 18, 20), bog(2026, 3, 18, 19))], "urgent")
    with pytest.raises(BillingError, match="must end after it starts"):
        merge_call_outs([(bog(2026, 3, 18, 20), bog(2026, 3, 18, 20))])
    with pytest.raises(BillingError, match="increment must be positive"):
        billable_out_of_hours([], "urgent", increment=timedelta(0))
    with pytest.raises(NaiveDatetimeError):
        billable_out_of_hours([(datetime(2026, 3, 18, 19), bog(2026, 3, 18, 20))], "urgent")
    with pytest.raises(ClassificationError, match="unknown priority 'critical'"):
        billable_out_of_hours([], "critical")


# --- monthly report ---------------------------------------------------------------------------

ROWS = [
    WorkRow("acme", 7, "urgent", bog(2026, 3, 18, 19, 0), bog(2026, 3, 18, 21, 10)),  # 562.50
    WorkRow("acme", 7, "urgent", bog(2026, 3, 21, 10, 0), bog(2026, 3, 21, 10, 20)),  # 250.00
    WorkRow("acme", 9, "high", bog(2026, 3, 21, 10, 0), bog(2026, 3, 21, 13, 0)),  # not urgent
    WorkRow("acme", 11, "urgent", bog(2026, 3, 31, 23, 0), bog(2026, 4, 1, 1, 0)),  # starts in March: 500.00
    WorkRow("acme", 12, "urgent", bog(2026, 4, 1, 19, 0), bog(2026, 4, 1, 20, 0)),  # April
    ("globex", "T-3", "urgent", bog(2026, 3, 20, 17, 30), bog(2026, 3, 20, 18, 40)),  # plain tuple: 40 min -> 250.00
    ("initech", 1, "urgent", bog(2026, 3, 18, 9, 0), bog(2026, 3, 18, 10, 0)),  # business hours only
    WorkRow("acme", 13, "urgent", datetime(2026, 4, 1, 3, 0, tzinfo=UTC), datetime(2026, 4, 1, 4, 0, tzinfo=UTC)),  # 31 Mar 22:00 Bogota
]


def test_monthly_report_per_tenant() -> None:
    reports = monthly_report(ROWS, 2026, 3)
    assert [r.tenant for r in reports] == ["acme", "globex"]
    acme, globex = reports
    assert [(line.ticket_id, line.start, line.amount) for line in acme.lines] == [
        (7, bog(2026, 3, 18, 19, 0), Decimal("562.50")),
        (7, bog(2026, 3, 21, 10, 0), Decimal("250.00")),
        (13, bog(2026, 3, 31, 22, 0), Decimal("250.00")),
        (11, bog(2026, 3, 31, 23, 0), Decimal("500.00")),
    ]
    assert acme.total == Decimal("1562.50") and acme.billed == timedelta(hours=6, minutes=15)
    assert (acme.year, acme.month) == (2026, 3)
    assert [(line.ticket_id, line.amount) for line in globex.lines] == [("T-3", Decimal("250.00"))]
    assert globex.total == Decimal("250.00")


def test_monthly_report_for_another_month_and_for_no_work() -> None:
    [april] = monthly_report(ROWS, 2026, 4)
    assert [(line.ticket_id, line.amount) for line in april.lines] == [(12, Decimal("250.00"))]
    assert monthly_report([], 2026, 3) == ()


def test_billing_imports_no_adapter_library() -> None:
    code = "import sys, support_link.billing; print([m for m in ('aiohttp', 'tftpy', 'pysnmp', 'sqlalchemy', 'click') if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
