"""Agents' work logs on tickets, and the monthly billing report read from them.

`log_work` stores an interval and a "work_logged" event; `billing_report` reads an
account's logs of a month and prices them with support_link.billing (the pure rules).
The caller opens the session and commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from support_link import billing
from support_link.calendar import BOGOTA, DEFAULT_CALENDAR, BusinessCalendar, as_bogota
from support_link.errors import BillingError
from support_link.lifecycle import Actor, ActorKind, Event, FieldValue
from support_link.store import tickets
from support_link.store.models import TicketRecord, WorkLogRecord


def log_work(
    session: Session, ticket_id: int, agent: str, started_at: datetime, ended_at: datetime, note: str = "",
    *, now: datetime | None = None,
) -> int:
    """Record an agent's work interval (and a "work_logged" event dated `now`, else the end)."""
    start, end = as_bogota(started_at, "started_at"), as_bogota(ended_at, "ended_at")
    if end <= start:
        raise BillingError(f"a work log must end after it starts: {start.isoformat()} .. {end.isoformat()}")
    tickets.load_record(session, ticket_id)
    log = WorkLogRecord(ticket_id=ticket_id, agent=agent, started_at=start, ended_at=end, note=note)
    session.add(log)
    at = as_bogota(now, "now") if now is not None else end
    after: dict[str, FieldValue] = {"agent": agent, "started_at": start.isoformat(), "ended_at": end.isoformat()}
    tickets.add_events(session, ticket_id, [Event(Actor(ActorKind.AGENT, agent), at, "work_logged", {}, after)], note or None)
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
