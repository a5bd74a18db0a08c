"""The dashboard's figures, from plain facts (pure: no clock reads, no I/O).

The web dashboard (charts), `provisioner reports dashboard --json` and /api/v1/reports/dashboard
all call `dashboard` on facts read by provisioner.report_facts, so the three always agree.

- open tickets by priority and first-response SLA state ("none": problems, no SLA)
- first-response compliance per month (of creation, Bogota) and per customer: a ticket
  counts once it is decided, answered (met when answered by the due time) or past its due
  time unanswered (missed); tickets still inside their time and problems do not count
- incidents by finding kind (device tickets), open and in all
- phones per model and compliance (ok / findings / unseen)
- boots per hour: phones fetching their own (per-MAC) config, per hour of the last 24, Bogota
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

BOGOTA = ZoneInfo("America/Bogota")
PRIORITIES = ("urgent", "high", "normal", "low")
SLA_STATES = ("on_time", "at_risk", "breached", "none")
OPEN_STATUSES = ("new", "in_progress", "escalated")
COMPLIANCE = ("ok", "findings", "unseen")
HOURS = 24


@dataclass(frozen=True)
class TicketFacts:
    priority: str
    status: str
    sla_state: str | None  # live, at the report's moment
    account: str
    finding: str | None
    created_at: datetime  # aware
    first_response_due: datetime | None
    first_response_at: datetime | None


@dataclass(frozen=True)
class PhoneFacts:
    model: str | None
    compliance: str  # one of COMPLIANCE


def open_by_priority(tickets: Iterable[TicketFacts]) -> dict[str, dict[str, int]]:
    """priority -> SLA state -> open tickets (every cell present, zeros included)."""
    table = {priority: dict.fromkeys(SLA_STATES, 0) for priority in PRIORITIES}
    for ticket in tickets:
        if ticket.status in OPEN_STATUSES and ticket.priority in table:
            table[ticket.priority][ticket.sla_state or "none"] += 1
    return table


def _verdict(ticket: TicketFacts, now: datetime) -> bool | None:
    """True met, False missed, None not decided yet (or no SLA)."""
    due = ticket.first_response_due
    if due is None:
        return None
    if ticket.first_response_at is not None:
        return ticket.first_response_at <= due
    if now > due:
        return False
    return None


def _share(met: int, missed: int) -> dict[str, int | float | None]:
    decided = met + missed
    return {"met": met, "missed": missed, "rate": round(100 * met / decided, 1) if decided else None}


def compliance_by(tickets: Iterable[TicketFacts], now: datetime, by: str) -> dict[str, dict[str, int | float | None]]:
    """Month ("2026-11", by="month") or customer (by="account") -> met, missed, rate (% met)."""
    met: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    for ticket in tickets:
        verdict = _verdict(ticket, now)
        if verdict is None:
            continue
        key = ticket.created_at.astimezone(BOGOTA).strftime("%Y-%m") if by == "month" else ticket.account
        (met if verdict else missed)[key] += 1
    return {key: _share(met[key], missed[key]) for key in sorted(met.keys() | missed.keys())}


def incidents_by_finding(tickets: Iterable[TicketFacts]) -> dict[str, dict[str, int]]:
    """Finding kind -> open and total device tickets."""
    table: dict[str, dict[str, int]] = {}
    for ticket in tickets:
        if ticket.finding:
            row = table.setdefault(ticket.finding, {"open": 0, "total": 0})
            row["total"] += 1
            row["open"] += ticket.status in OPEN_STATUSES
    return dict(sorted(table.items()))


def phones_by_model(phones: Iterable[PhoneFacts]) -> dict[str, dict[str, int]]:
    """Model ("?" when unknown) -> phones per compliance."""
    table: dict[str, dict[str, int]] = {}
    for phone in phones:
        row = table.setdefault(phone.model or "?", dict.fromkeys(COMPLIANCE, 0))
        row[phone.compliance] += 1
    return dict(sorted(table.items()))


def hour_starts(now: datetime, hours: int = HOURS) -> list[datetime]:
    """The Bogota starts of the last `hours` hours, the current one last."""
    current = now.astimezone(BOGOTA).replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=back) for back in range(hours - 1, -1, -1)]


def boots_per_hour(boots: Iterable[datetime], now: datetime, hours: int = HOURS) -> dict[str, int]:
    """"2026-12-02 13:00" (Bogota) -> boots in that hour, for the last `hours` hours."""
    starts = hour_starts(now, hours)
    counts = dict.fromkeys((start.strftime("%Y-%m-%d %H:%M") for start in starts), 0)
    first = starts[0]
    for moment in boots:
        local = moment.astimezone(BOGOTA)
        if first <= local <= now:
            key = local.replace(minute=0, second=0, microsecond=0).strftime("%Y-%m-%d %H:%M")
            if key in counts:
                counts[key] += 1
    return counts


def dashboard(tickets: list[TicketFacts], phones: list[PhoneFacts], boots: list[datetime], now: datetime) -> dict[str, object]:
    """Every figure of the dashboard, JSON-ready."""
    opened = sum(1 for t in tickets if t.status in OPEN_STATUSES)
    return {
        "at": now.astimezone(BOGOTA).isoformat(timespec="seconds"),
        "open_tickets": opened,
        "open_by_priority": open_by_priority(tickets),
        "first_response_by_month": compliance_by(tickets, now, "month"),
        "first_response_by_customer": compliance_by(tickets, now, "account"),
        "incidents_by_finding": incidents_by_finding(tickets),
        "phones_by_model": phones_by_model(phones),
        "boots_per_hour": boots_per_hour(boots, now),
    }
