"""support_link's background work: auto-close, SLA state refresh, mail forward.

`run_due_work(session_factory, now)` does one pass and is idempotent:
- closes every resolved ticket whose 48 h have passed. Decision: the close is dated by the
  rule, `resolved_at + 48 h` (closed_at and the event's `at`), not by when the job ran, so
  a ticket resolved 5 days ago while the server was down closes on the first run with the
  same timeline it would have had with the server up (lifecycle.close_if_due decides it);
- refreshes the cached sla_state of open tickets still waiting for a first response.
Each ticket is closed in its own transaction (SELECT ... FOR UPDATE in store.tickets.act),
so one bad row never holds back the others and agents acting at the same moment serialize.

`SupportJobs` runs it every `interval` seconds in a worker thread (the database calls
block), with `now` from an injected clock, and afterwards sends pending mail when
MailSettings are given: the helpdesk mailbox's copy, then the requesters' own threads. For aiohttp: `app.cleanup_ctx.append(jobs.context)`; call
`jobs.wake()` after creating or changing a ticket to run the next pass at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from support_link.calendar import BOGOTA, DEFAULT_CALENDAR, BusinessCalendar
from support_link.lifecycle import SYSTEM, CloseIfDue, Status
from support_link.adapters.mail import MailReport, forward_pending
from support_link.adapters.mail_settings import MailSettings
from support_link.adapters.requester_outbox import send_requester_mail
from support_link.sla import SlaState
from support_link.store import tickets

log = logging.getLogger("support_link.jobs")  # its name before the move to adapters/: log filters keep working

SessionFactory = Callable[[], Session]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class JobReport:
    closed: tuple[int, ...] = ()  # tickets closed in this pass
    sla_changed: tuple[tuple[int, SlaState], ...] = ()  # (ticket id, new cached state)
    failed: tuple[int, ...] = ()  # tickets whose close failed (logged; retried next pass)
    mail: MailReport | None = None  # the helpdesk mailbox's thread
    requester_mail: MailReport | None = None  # the requesters' threads


def close_due_tickets(session_factory: SessionFactory, now: datetime) -> tuple[list[int], list[int]]:
    """(closed, failed): every resolved ticket whose 48 h are up, each in its own transaction."""
    with session_factory() as session:
        candidates = tickets.due_for_close(session, now)
    closed: list[int] = []
    failed: list[int] = []
    for ticket_id in candidates:
        try:
            with session_factory() as session, session.begin():
                ticket = tickets.act(session, ticket_id, CloseIfDue(), SYSTEM, now)
        except Exception:
            log.exception("auto-close of ticket #%s failed; retrying on the next pass", ticket_id)
            failed.append(ticket_id)
            continue
        if ticket.status is Status.CLOSED:
            closed.append(ticket_id)
    return closed, failed


def run_due_work(
    session_factory: SessionFactory, now: datetime, calendar: BusinessCalendar = DEFAULT_CALENDAR
) -> JobReport:
    """One idempotent pass: close due tickets, then refresh cached SLA states at `now`."""
    closed, failed = close_due_tickets(session_factory, now)
    with session_factory() as session, session.begin():
        changed = tickets.refresh_sla_states(session, now, calendar=calendar)
    if closed:
        log.info("auto-closed %s ticket(s): %s", len(closed), ", ".join(f"#{ticket_id}" for ticket_id in closed))
    return JobReport(tuple(closed), tuple(changed), tuple(failed))


class SupportJobs:
    """The periodic pass, as an asyncio task (start/stop from the server's cleanup_ctx)."""

    def __init__(
        self,
        session_factory: SessionFactory,
        clock: Clock,
        *,
        interval: float = 60.0,
        mail: MailSettings | None = None,
        calendar: BusinessCalendar = DEFAULT_CALENDAR,
        on_report: Callable[[JobReport], None] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.interval = interval
        self.mail = mail
        self.calendar = calendar
        self.on_report = on_report
        self.last_report: JobReport | None = None
        self.passes = 0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    def run_once(self) -> JobReport:
        """One pass, blocking: due work, then the mail to the helpdesk and to requesters (when configured)."""
        now = self.clock()
        report = run_due_work(self.session_factory, now, self.calendar)
        if self.mail is not None:
            report = replace(report, mail=forward_pending(self.session_factory, self.mail, now),
                             requester_mail=send_requester_mail(self.session_factory, self.mail, now))
        return report

    async def _loop(self) -> None:
        this_year = datetime.now(BOGOTA).year  # the real year: only a cache is warmed
        try:
            await asyncio.to_thread(self.calendar.prime, (this_year, this_year + 1))
        except Exception:  # a warm-up only: the passes report a calendar that cannot work
            log.exception("could not build the holiday tables ahead; the first pass that needs them will")
        while not self._stopping:
            try:
                report = await asyncio.to_thread(self.run_once)
            except Exception:
                log.exception("support_link background pass failed; retrying in %s s", self.interval)
            else:
                self.last_report = report
                if self.on_report is not None:
                    self.on_report(report)
            finally:
                self.passes += 1
            if not self._stopping:
                await self._sleep()

    async def _sleep(self) -> None:
        try:
            async with asyncio.timeout(self.interval):  # not wait_for: it can lose a cancel on Python 3.11
                await self._wake.wait()
        except TimeoutError:
            pass
        self._wake.clear()

    def wake(self) -> None:
        """Run the next pass now (e.g. right after a ticket was created, to mail it)."""
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._loop(), name="support_link.jobs")

    async def stop(self) -> None:
        """End the loop; a pass already running in its thread finishes first (no half-done work)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        await task

    async def context(self, _app: object) -> AsyncIterator[None]:
        """For aiohttp's app.cleanup_ctx: started with the server, stopped with it."""
        await self.start()
        try:
            yield
        finally:
            await self.stop()
