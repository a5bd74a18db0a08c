"""support_link's background job: auto-close after exactly 48 h, idempotent, catches up; SLA refresh."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from support_link.calendar import BOGOTA, BusinessCalendar, national_holidays
from support_link.adapters.jobs import JobReport, SupportJobs, run_due_work
from support_link.lifecycle import Resolve, Respond
from support_link.sla import SlaState
from support_link.store import tickets
from tests.test_support_mail import start_smtp
from tests.test_support_store import AGENT, Db, bog, db_fixture, store, template_fixture  # noqa: F401 - fixtures `db`, `sl_pg_template`

RESOLVED_AT = bog(2026, 3, 18, 11, 0)


class Clock:
    """A controllable clock: the job reads it, the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def resolved(db: Db, at: datetime = RESOLVED_AT) -> int:
    ticket_id = store(db)
    with db.sessions.begin() as session:
        tickets.act(session, ticket_id, Respond(), AGENT, bog(2026, 3, 18, 10, 10))
        tickets.act(session, ticket_id, Resolve(), AGENT, at)
    return ticket_id


def test_auto_close_happens_exactly_48_hours_after_resolution(db: Db) -> None:
    ticket_id = resolved(db)
    due = RESOLVED_AT + timedelta(hours=48)
    assert run_due_work(db.sessions, due - timedelta(seconds=1)).closed == ()
    with db.sessions() as session:
        assert tickets.get(session, ticket_id).ticket.status == "resolved"
    report = run_due_work(db.sessions, due)
    assert report.closed == (ticket_id,)
    with db.sessions() as session:
        stored = tickets.get(session, ticket_id)
    assert (stored.ticket.status, stored.ticket.closed_at) == ("closed", due)
    assert (stored.events[-1].kind, stored.events[-1].at, str(stored.events[-1].actor)) == ("closed", due, "system:support_link")


def test_a_second_run_changes_nothing(db: Db) -> None:
    ticket_id = resolved(db)
    later = RESOLVED_AT + timedelta(hours=50)
    assert run_due_work(db.sessions, later).closed == (ticket_id,)
    assert run_due_work(db.sessions, later) == JobReport()
    assert run_due_work(db.sessions, later + timedelta(days=3)) == JobReport()
    with db.sessions() as session:
        kinds = [event.kind for event in tickets.get(session, ticket_id).events]
    assert kinds.count("closed") == 1


def test_catch_up_after_downtime_closes_at_the_rule_time(db: Db) -> None:
    old = resolved(db, bog(2026, 3, 18, 11, 0))
    recent = resolved(db, bog(2026, 3, 22, 9, 0))
    still_open = store(db)
    server_back = bog(2026, 3, 23, 8, 0)  # five days after the first resolution
    report = run_due_work(db.sessions, server_back)
    assert report.closed == (old,)
    with db.sessions() as session:
        closed = tickets.get(session, old)
        assert tickets.get(session, recent).ticket.status == "resolved"
        assert tickets.get(session, still_open).ticket.status == "new"
    assert closed.ticket.closed_at == bog(2026, 3, 20, 11, 0)  # resolved_at + 48 h, not the run time
    assert closed.events[-1].at == bog(2026, 3, 20, 11, 0)
    assert closed.updated_at == server_back
    assert run_due_work(db.sessions, bog(2026, 3, 24, 9, 0)).closed == (recent,)


def test_many_due_tickets_close_in_one_pass(db: Db) -> None:
    ids = [resolved(db, RESOLVED_AT + timedelta(minutes=index)) for index in range(5)]
    report = run_due_work(db.sessions, RESOLVED_AT + timedelta(days=7))
    assert report.closed == tuple(ids) and report.failed == ()
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from sl_ticket where status = 'closed'")).scalar_one() == 5


def test_the_job_refreshes_cached_sla_states(db: Db) -> None:
    urgent = store(db)  # created 10:00, first response due 11:00
    report = run_due_work(db.sessions, bog(2026, 3, 18, 10, 50))
    assert report.sla_changed == ((urgent, SlaState.AT_RISK),)
    assert run_due_work(db.sessions, bog(2026, 3, 18, 10, 51)).sla_changed == ()
    assert run_due_work(db.sessions, bog(2026, 3, 18, 11, 0, 1)).sla_changed == ((urgent, SlaState.BREACHED),)
    with db.sessions() as session:
        assert tickets.get(session, urgent).sla_state is SlaState.BREACHED


async def _until(predicate: object, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def test_support_jobs_runs_on_its_clock_and_stops_cleanly(db: Db) -> None:
    ticket_id = resolved(db)
    clock = Clock(RESOLVED_AT + timedelta(hours=1))
    reports: list[JobReport] = []
    jobs = SupportJobs(db.sessions, clock, interval=0.05, on_report=reports.append)
    await jobs.start()
    try:
        await _until(lambda: jobs.passes >= 2)
        with db.sessions() as session:
            assert tickets.get(session, ticket_id).ticket.status == "resolved"
        clock.now = RESOLVED_AT + timedelta(hours=48)
        await _until(lambda: any(report.closed for report in reports))
    finally:
        await jobs.stop()
    passes = jobs.passes
    await asyncio.sleep(0.2)
    assert jobs.passes == passes  # stopped means stopped
    assert [report.closed for report in reports if report.closed] == [(ticket_id,)]
    with db.sessions() as session:
        assert tickets.get(session, ticket_id).ticket.closed_at == RESOLVED_AT + timedelta(hours=48)


async def test_wake_runs_a_pass_without_waiting_for_the_interval(db: Db) -> None:
    clock = Clock(bog(2026, 3, 18, 10, 0))
    jobs = SupportJobs(db.sessions, clock, interval=3600)
    await jobs.start()
    try:
        await _until(lambda: jobs.passes == 1)
        jobs.wake()
        await _until(lambda: jobs.passes == 2, timeout=5)
    finally:
        await jobs.stop()


async def test_a_failing_pass_is_logged_and_the_loop_goes_on(db: Db, caplog: pytest.LogCaptureFixture) -> None:
    ticket_id = resolved(db)
    moments = iter([None])

    def clock() -> datetime:
        if next(moments, "ok") is None:
            raise RuntimeError("clock not ready")
        return RESOLVED_AT + timedelta(hours=49)

    jobs = SupportJobs(db.sessions, clock, interval=0.05)
    with caplog.at_level(logging.ERROR, logger="support_link.jobs"):
        await jobs.start()
        try:
            await _until(lambda: jobs.last_report is not None and jobs.last_report.closed == (ticket_id,))
        finally:
            await jobs.stop()
    assert "background pass failed" in caplog.text


async def test_the_aiohttp_cleanup_context_starts_and_stops(db: Db) -> None:
    jobs = SupportJobs(db.sessions, Clock(bog(2026, 3, 18, 10, 0)), interval=0.05)
    context = jobs.context(object())
    await anext(context)
    await _until(lambda: jobs.passes >= 1)
    with pytest.raises(StopAsyncIteration):
        await anext(context)
    assert jobs._task is None


async def test_each_pass_forwards_pending_mail(db: Db) -> None:
    server = start_smtp()
    ticket_id = store(db)
    jobs = SupportJobs(db.sessions, Clock(bog(2026, 3, 18, 10, 5)), interval=3600, mail=server.settings())
    try:
        await jobs.start()
        await _until(lambda: len(server.inbox.messages) == 1)
        with db.sessions.begin() as session:
            tickets.act(session, ticket_id, Respond(), AGENT, bog(2026, 3, 18, 10, 6))
        jobs.wake()
        await _until(lambda: len(server.inbox.messages) == 2)
    finally:
        await jobs.stop()
        server.controller.stop()
    assert jobs.last_report is not None and jobs.last_report.mail is not None
    root, reply = server.inbox.messages
    assert root["Subject"] == f"[Caso #{ticket_id}] Recepción sin tono"
    assert reply["In-Reply-To"] == root["Message-ID"]


async def test_the_job_builds_this_and_next_years_holidays_before_its_first_pass(db: Db) -> None:
    national_holidays.cache_clear()
    jobs = SupportJobs(db.sessions, Clock(bog(2026, 3, 18, 10, 0)), interval=3600)
    await jobs.start()
    try:
        await _until(lambda: jobs.passes == 1)
    finally:
        await jobs.stop()
    this_year = datetime.now(BOGOTA).year
    misses = national_holidays.cache_info().misses
    national_holidays("CO", this_year)
    national_holidays("CO", this_year + 1)
    assert national_holidays.cache_info().misses == misses  # both were built already


async def test_a_calendar_whose_holidays_cannot_be_built_ahead_does_not_stop_the_job(
    db: Db, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = BusinessCalendar(country="XX")  # the holidays package knows no such country
    jobs = SupportJobs(db.sessions, Clock(bog(2026, 3, 18, 10, 0)), interval=0.05, calendar=nowhere)
    with caplog.at_level(logging.ERROR, logger="support_link.jobs"):
        await jobs.start()
        try:
            await _until(lambda: jobs.passes >= 2)  # no ticket needs the calendar: the passes run
        finally:
            await jobs.stop()
    assert "could not build the holiday tables ahead" in caplog.text
