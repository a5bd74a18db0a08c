"""The satisfaction survey's results, from plain facts (pure: no clock reads, no I/O).

`provisioner reports survey --json`, /api/v1/reports/survey and the /reports/encuesta page all
call `survey_report` on facts read by provisioner.report_facts, so the three always agree.

A survey is sent when a ticket is resolved (one per resolution) and answered at most once.
Every figure is grouped by the month of that resolution (Bogota), so a survey answered on
the 1st about a ticket resolved on the 30th counts where it was sent, and the response rate
of a month compares like with like. For each group (all, per customer, per agent, per month):

- sent, answered and the response rate (% of sent that were answered)
- the average rating (1 decimal) and how many answers gave each rating 1-5
- the share of answers that said "no quedó resuelto" (%, 1 decimal)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

BOGOTA = ZoneInfo("America/Bogota")
RATINGS = (1, 2, 3, 4, 5)
NO_AGENT = "-"  # a ticket resolved while no one had taken it


@dataclass(frozen=True)
class SurveyFacts:
    account: str  # the customer's tenant slug ('-': none)
    agent: str | None  # the ticket's assignee when it was resolved
    resolved_at: datetime  # aware: when the survey was sent
    rating: int | None  # 1-5 once answered
    solved: bool | None  # False: the requester said "no quedó resuelto"
    answered_at: datetime | None


def month_of(survey: SurveyFacts) -> str:
    """"2026-11": the Bogota month of the resolution the survey asks about."""
    return survey.resolved_at.astimezone(BOGOTA).strftime("%Y-%m")


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def summary(surveys: Iterable[SurveyFacts]) -> dict[str, object]:
    """One group's figures, JSON-ready (None where there is nothing to divide)."""
    sent = list(surveys)
    answers = [s for s in sent if s.answered_at is not None and s.rating is not None]
    ratings = [s.rating for s in answers if s.rating is not None]
    return {
        "sent": len(sent),
        "answered": len(answers),
        "response_rate": _percent(len(answers), len(sent)),
        "average_rating": round(sum(ratings) / len(ratings), 1) if ratings else None,
        "ratings": {str(value): ratings.count(value) for value in RATINGS},
        "not_solved": sum(1 for s in answers if s.solved is False),
        "not_solved_share": _percent(sum(1 for s in answers if s.solved is False), len(answers)),
    }


def _grouped(surveys: list[SurveyFacts], key: Callable[[SurveyFacts], str]) -> dict[str, dict[str, object]]:
    groups: dict[str, list[SurveyFacts]] = {}
    for survey in surveys:
        groups.setdefault(key(survey), []).append(survey)
    return {name: summary(groups[name]) for name in sorted(groups)}


def survey_report(surveys: Iterable[SurveyFacts], now: datetime, month: str | None = None) -> dict[str, object]:
    """Every figure of the survey report at `now`, JSON-ready; `month` ("2026-11") keeps only
    the surveys of resolutions in that Bogota month."""
    chosen = [s for s in surveys if month is None or month_of(s) == month]
    return {
        "at": now.astimezone(BOGOTA).isoformat(timespec="seconds"),
        "month": month,
        "total": summary(chosen),
        "by_customer": _grouped(chosen, lambda s: s.account),
        "by_agent": _grouped(chosen, lambda s: s.agent or NO_AGENT),
        "by_month": _grouped(chosen, month_of),
    }


def valid_month(text: str) -> bool:
    """"2026-11" is a month; "2026-13", "2026-1" and "noviembre" are not."""
    if len(text) != 7 or text[4] != "-" or not (text.isascii() and (text[:4] + text[5:]).isdigit()):
        return False
    return 1 <= int(text[5:]) <= 12 and 2000 <= int(text[:4]) <= 2999
