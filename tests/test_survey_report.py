"""provisioner.survey_report: the survey's figures from plain facts, as tables of real-looking samples."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from provisioner.survey_report import SurveyFacts, month_of, summary, survey_report, valid_month

BOG = timezone(timedelta(hours=-5))


def bog(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BOG)  # type: ignore[misc]


def sent(account: str, agent: str | None, resolved: datetime, rating: int | None = None, solved: bool | None = None) -> SurveyFacts:
    answered = None if rating is None else resolved + timedelta(hours=3)
    return SurveyFacts(account, agent, resolved, rating, solved, answered)


# November: the hardware store answers twice (5 solved, 2 not solved) and ignores one; the clinic answers
# once (4). December: the clinic answers a 1 "no quedó resuelto", one unanswered resolution nobody took.
SAMPLES = [
    sent("ferreteria-el-tornillo", "laura", bog(2026, 11, 3, 9, 15), 5, True),
    sent("ferreteria-el-tornillo", "laura", bog(2026, 11, 12, 16, 40), 2, False),
    sent("ferreteria-el-tornillo", "diego", bog(2026, 11, 20, 11, 0)),
    sent("clinica-santa-ana", "diego", bog(2026, 11, 30, 18, 30), 4, True),
    sent("clinica-santa-ana", "laura", bog(2026, 12, 1, 8, 0), 1, False),
    sent("clinica-santa-ana", None, bog(2026, 12, 2, 10, 0)),
]
NOW = bog(2026, 12, 2, 12, 0)


@pytest.mark.parametrize(("surveys", "expected"), [
    ([], {"sent": 0, "answered": 0, "response_rate": None, "average_rating": None,
          "ratings": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}, "not_solved": 0, "not_solved_share": None}),
    (SAMPLES, {"sent": 6, "answered": 4, "response_rate": 66.7, "average_rating": 3.0,
               "ratings": {"1": 1, "2": 1, "3": 0, "4": 1, "5": 1}, "not_solved": 2, "not_solved_share": 50.0}),
    (SAMPLES[:3], {"sent": 3, "answered": 2, "response_rate": 66.7, "average_rating": 3.5,
                   "ratings": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}, "not_solved": 1, "not_solved_share": 50.0}),
    ([SAMPLES[2], SAMPLES[5]], {"sent": 2, "answered": 0, "response_rate": 0.0, "average_rating": None,
                                "ratings": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}, "not_solved": 0, "not_solved_share": None}),
    # 5, 4, 4: 4.333... shown with one decimal
    ([sent("a", "x", NOW, 5, True), sent("a", "x", NOW, 4, True), sent("a", "x", NOW, 4, True)],
     {"sent": 3, "answered": 3, "response_rate": 100.0, "average_rating": 4.3,
      "ratings": {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1}, "not_solved": 0, "not_solved_share": 0.0}),
])
def test_summary(surveys: list[SurveyFacts], expected: dict[str, object]) -> None:
    assert summary(surveys) == expected


@pytest.mark.parametrize(("resolved", "month"), [
    (bog(2026, 11, 30, 18, 30), "2026-11"),  # 23:30 UTC on the 30th: still November in Bogota
    (datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc), "2026-11"),  # 22:00 on Nov 30 in Bogota
    (datetime(2026, 12, 1, 5, 0, tzinfo=timezone.utc), "2026-12"),
])
def test_a_survey_counts_in_the_bogota_month_of_its_resolution(resolved: datetime, month: str) -> None:
    assert month_of(sent("a", "x", resolved)) == month


def test_the_report_groups_by_customer_agent_and_month() -> None:
    report = survey_report(SAMPLES, NOW)
    assert report["at"] == "2026-12-02T12:00:00-05:00" and report["month"] is None
    by_customer, by_agent, by_month = report["by_customer"], report["by_agent"], report["by_month"]
    assert isinstance(by_customer, dict) and isinstance(by_agent, dict) and isinstance(by_month, dict)
    assert list(by_customer) == ["clinica-santa-ana", "ferreteria-el-tornillo"]
    assert [(k, v["sent"], v["answered"], v["average_rating"], v["not_solved_share"]) for k, v in by_customer.items()] == [
        ("clinica-santa-ana", 3, 2, 2.5, 50.0), ("ferreteria-el-tornillo", 3, 2, 3.5, 50.0)]
    assert [(k, v["sent"], v["answered"], v["average_rating"]) for k, v in by_agent.items()] == [
        ("-", 1, 0, None), ("diego", 2, 1, 4.0), ("laura", 3, 3, 2.7)]
    assert [(k, v["sent"], v["answered"], v["response_rate"]) for k, v in by_month.items()] == [
        ("2026-11", 4, 3, 75.0), ("2026-12", 2, 1, 50.0)]


def test_a_month_keeps_only_its_resolutions() -> None:
    report = survey_report(SAMPLES, NOW, month="2026-12")
    total, by_month = report["total"], report["by_month"]
    assert isinstance(total, dict) and isinstance(by_month, dict)
    assert (report["month"], total["sent"], total["answered"], total["average_rating"]) == ("2026-12", 2, 1, 1.0)
    assert list(by_month) == ["2026-12"]
    assert survey_report(SAMPLES, NOW, month="2025-01")["total"] == summary([])


@pytest.mark.parametrize(("text", "valid"), [
    ("2026-11", True), ("2026-01", True), ("2026-12", True),
    ("2026-13", False), ("2026-00", False), ("2026-1", False), ("noviembre", False), ("2026/11", False),
    ("", False), ("２０２６-１１", False), ("1999-12", False), ("2999-12", True), ("3000-01", False),
])
def test_valid_month(text: str, valid: bool) -> None:
    assert valid_month(text) is valid
