"""Out-of-hours urgent work (service model §2): USD 250 per hour, one hour minimum.

Agents log work intervals on tickets. For urgent tickets, each call-out is billed for the
part of it that lies outside business hours (evenings, lunch 12:30-14:00, weekends,
holidays: whatever the BusinessCalendar calls closed), rounded up to `increment`, then
raised to `minimum`. Rules, as decided here:
- A call-out is one work log; logs of the same ticket that overlap or touch are merged
  into one call-out (one minimum, not one per log line).
- Work entirely inside business hours is no call-out and is not billed.
- A call-out belongs to the month (America/Bogota) in which it starts.
Money is Decimal, rounded half-up to cents. Pure: no I/O, no clock reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from support_link.calendar import (
    DEFAULT_CALENDAR,
    BusinessCalendar,
    as_bogota,
    business_time_between,
)
from support_link.errors import BillingError
from support_link.priority import Priority, parse_choice

RATE_USD_PER_HOUR = Decimal(250)
MINIMUM = timedelta(hours=1)
INCREMENT = timedelta(minutes=15)
_CENT = Decimal("0.01")
_HOUR_US = Decimal(3_600_000_000)
_US = timedelta(microseconds=1)


@dataclass(frozen=True)
class WorkLog:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class CallOut:
    start: datetime
    end: datetime
    out_of_hours: timedelta  # as worked
    billed: timedelta  # rounded up to the increment, at least the minimum
    amount: Decimal  # USD


@dataclass(frozen=True)
class Tariff:
    rate: Decimal = RATE_USD_PER_HOUR
    minimum: timedelta = MINIMUM
    increment: timedelta = INCREMENT

    def __post_init__(self) -> None:
        if self.increment <= timedelta(0):
            raise BillingError(f"the rounding increment must be positive, got {self.increment}")
        if self.minimum < timedelta(0):
            raise BillingError(f"the minimum cannot be negative, got {self.minimum}")
        if self.rate < 0:
            raise BillingError(f"the hourly rate cannot be negative, got {self.rate}")

    def billed(self, worked: timedelta) -> timedelta:
        steps = -(-worked // self.increment)  # ceiling division of timedeltas
        return max(self.increment * steps, self.minimum)

    def amount(self, billed: timedelta) -> Decimal:
        hours = Decimal(billed // _US) / _HOUR_US
        return (hours * self.rate).quantize(_CENT, rounding=ROUND_HALF_UP)


def _checked(log: WorkLog | tuple[datetime, datetime]) -> WorkLog:
    start, end = (log.start, log.end) if isinstance(log, WorkLog) else log
    start, end = as_bogota(start, "work log start"), as_bogota(end, "work log end")
    if end <= start:
        raise BillingError(f"a work log must end after it starts: {start.isoformat()} .. {end.isoformat()}")
    return WorkLog(start, end)


def merge_call_outs(work_logs: Iterable[WorkLog | tuple[datetime, datetime]]) -> list[WorkLog]:
    """One ticket's work logs as call-outs: sorted, overlapping or touching logs merged."""
    merged: list[WorkLog] = []
    for log in sorted((_checked(log) for log in work_logs), key=lambda log: log.start):
        if merged and log.start <= merged[-1].end:
            merged[-1] = WorkLog(merged[-1].start, max(merged[-1].end, log.end))
        else:
            merged.append(log)
    return merged


def billable_out_of_hours(
    work_logs: Iterable[WorkLog | tuple[datetime, datetime]],
    priority: str,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
    rate: Decimal | int = RATE_USD_PER_HOUR,
    minimum: timedelta = MINIMUM,
    increment: timedelta = INCREMENT,
) -> list[CallOut]:
    """The billable call-outs of one ticket's work logs; [] unless the ticket is urgent."""
    tariff = Tariff(Decimal(rate), minimum, increment)
    call_outs = merge_call_outs(work_logs)
    if parse_choice(Priority, priority, "priority") is not Priority.URGENT:
        return []
    billable = []
    for call_out in call_outs:
        outside = (call_out.end - call_out.start) - business_time_between(call_out.start, call_out.end, calendar)
        if outside > timedelta(0):
            billed = tariff.billed(outside)
            billable.append(CallOut(call_out.start, call_out.end, outside, billed, tariff.amount(billed)))
    return billable


# --- monthly report -------------------------------------------------------------------------


class WorkRow(NamedTuple):
    """One work log as the storage layer reads it (a plain 5-tuple works too)."""

    tenant: str
    ticket_id: int | str
    priority: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ReportLine:
    tenant: str
    ticket_id: int | str
    start: datetime
    end: datetime
    out_of_hours: timedelta
    billed: timedelta
    amount: Decimal


@dataclass(frozen=True)
class TenantReport:
    tenant: str
    year: int
    month: int
    lines: tuple[ReportLine, ...]
    billed: timedelta
    total: Decimal


def _urgent_logs(rows: Iterable[WorkRow | tuple[str, int | str, str, datetime, datetime]]) -> dict[tuple[str, int | str], list[WorkLog]]:
    by_ticket: dict[tuple[str, int | str], list[WorkLog]] = defaultdict(list)
    for row in rows:
        work = WorkRow(*row)
        if parse_choice(Priority, work.priority, "priority") is Priority.URGENT:
            by_ticket[work.tenant, work.ticket_id].append(WorkLog(work.start, work.end))
    return by_ticket


def monthly_report(
    rows: Iterable[WorkRow | tuple[str, int | str, str, datetime, datetime]],
    year: int,
    month: int,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
    rate: Decimal | int = RATE_USD_PER_HOUR,
    minimum: timedelta = MINIMUM,
    increment: timedelta = INCREMENT,
) -> tuple[TenantReport, ...]:
    """Per tenant (sorted), the out-of-hours call-outs that start in `year`-`month`, and totals."""
    lines: dict[str, list[ReportLine]] = defaultdict(list)
    for (tenant, ticket_id), logs in _urgent_logs(rows).items():
        for call in billable_out_of_hours(logs, Priority.URGENT, calendar, rate, minimum, increment):
            if (call.start.year, call.start.month) == (year, month):
                lines[tenant].append(
                    ReportLine(tenant, ticket_id, call.start, call.end, call.out_of_hours, call.billed, call.amount)
                )
    return tuple(_tenant_report(tenant, year, month, lines[tenant]) for tenant in sorted(lines))


def _tenant_report(tenant: str, year: int, month: int, lines: list[ReportLine]) -> TenantReport:
    ordered = tuple(sorted(lines, key=lambda line: (line.start, str(line.ticket_id))))
    billed = sum((line.billed for line in ordered), timedelta(0))
    total = sum((line.amount for line in ordered), Decimal("0.00"))
    return TenantReport(tenant, year, month, ordered, billed, total)
