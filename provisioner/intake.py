"""Findings -> tickets, off the request path.

A config fetch (or an SNMP poll) hands an `Observation` to `TicketIntake.observe()`, which
only stores it in memory, coalesced per phone (the latest observation of a phone wins).
A background task drains them every `interval` seconds (held while a wave of phones is
still arriving, see `hold_for_wave`) and, in the ticket worker:

  * for each finding: the one open incident of its dedup key (opened if none, enforced by
    the database's uq_open_ticket_key across processes) gets the phone on its device list
    with the evidence; impact follows the blast radius and priority / due time follow;
  * a phone whose open incident's finding it no longer shows is marked recovered; when
    every phone of an incident has recovered, the incident is resolved (closed 48 h later
    by the support job);
  * a phone whose incident of the same kind was resolved 3 times within 30 days gets a
    Problem linking those incidents.

The database work is `TicketWriter`'s (provisioner.ticket_writer). It runs in a process of its own when the database
can be shared (provisioner.intake_process: a storm's ticket work then never holds the
event loop's interpreter lock), else in a niced thread of the server process.

Nothing here can fail a fetch: errors are logged and the observations retried once. On a
clean shutdown the queue is drained; after a crash, the next contact of each phone raises
its finding again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from provisioner.db.engine import can_share
from provisioner import metrics
from provisioner.findings import FindingKind
from provisioner.intake_process import WriterProcess, in_slices, yield_cpu
from provisioner.ticket_writer import IntakeRules, IntakeStats, Observation, TicketWriter, finding_keys

log = logging.getLogger("provisioner.intake")

SETTLED_SECONDS = 15.0  # how long a phone's processed findings are trusted to be unchanged
SETTLED_LIMIT = 200_000  # phones remembered before expired entries are swept
WAVE_PHONES_PER_SECOND = 100  # phones newly reporting per second that make a wave (a site booting)


def hold_for_wave(phones_per_second: float, held_seconds: float, max_hold_seconds: float) -> bool:
    """Whether the ticket writing waits for a wave of phones to pass (pure).

    A site rebooting after a power cut reports its phones within seconds. Writing their
    tickets while they arrive competes for the CPU with serving their configs, and writes
    the incident in steps: a batch every `interval`, each moving the device count, the
    impact and the queue again. Held until the wave passes (or `max_hold_seconds`, so a
    site that never calms down still gets its tickets), the wave's observations are
    written as one batch, coalesced per phone, once the CPU is free again.
    """
    return phones_per_second >= WAVE_PHONES_PER_SECOND and held_seconds < max_hold_seconds


class TicketIntake:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
        *,
        interval: float = 0.5,
        max_hold: float = 10.0,
        rules: IntakeRules = IntakeRules(),
        on_change: Callable[[], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        process_database_url: str | None = None,
    ) -> None:
        self._clock = clock
        self._interval = interval
        self._max_hold = max_hold
        self._arrivals = 0  # phones newly waiting since the last tick (the wave's rate)
        self._writer = TicketWriter(sessions, rules)
        # A process of its own when the database can be shared with one; else a thread.
        self._process = (
            WriterProcess(process_database_url, rules)
            if process_database_url is not None and can_share(process_database_url) else None
        )
        self.on_change = on_change  # e.g. tell open queues that tickets changed
        self._pending: dict[tuple[int, str, frozenset[FindingKind]], Observation] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._monotonic = monotonic
        self._settled: dict[tuple[int, str, frozenset[FindingKind]], tuple[frozenset[str], float]] = {}
        self.stats = IntakeStats()
        self._thread: ThreadPoolExecutor | None = None

    # -- request side: never blocks, never raises -------------------------------------------
    def observe(self, observation: Observation) -> None:
        key = (observation.tenant_id, observation.mac, observation.covers)
        if key not in self._pending:
            self._arrivals += 1
        self._pending[key] = observation

    def settled_clear(self, tenant_id: int, mac: str, covers: frozenset[FindingKind]) -> bool:
        """Whether a contact showing no finding would be dropped by _unsettled anyway: the
        phone was processed clean within SETTLED_SECONDS and nothing of it waits. The
        request path then skips building the observation (most of a storm's contacts)."""
        key = (tenant_id, mac, covers)
        settled = self._settled.get(key)
        return settled is not None and not settled[0] and settled[1] > self._monotonic() and key not in self._pending

    @property
    def pending(self) -> int:
        return len(self._pending)

    # -- worker side ------------------------------------------------------------------------
    async def drain(self) -> None:
        """Write everything waiting, including what arrives meanwhile (shutdown, tests)."""
        async with self._lock:
            while self._pending:
                await self._write_pending()

    async def _write_pending(self) -> None:
        """Write what is waiting now; what arrives meanwhile waits for the next tick, where a
        wave still arriving can hold it back again."""
        waiting = list(self._pending.values())
        self._pending.clear()
        batch = await self._unsettled(waiting)
        if not batch:
            return
        before, opened = self.stats.changes, self.stats.opened
        try:
            await self._write(batch)
            await self._settle(batch)
        except Exception:
            self.stats.failures += 1
            metrics.database_error("tickets")
            log.exception("ticket intake failed for %d observations; retrying once", len(batch))
            try:
                await self._write(batch)
                await self._settle(batch)
            except Exception:
                metrics.database_error("tickets")
                log.exception("ticket intake dropped %d observations (the phones will raise them again)", len(batch))
        metrics.TICKETS_OPENED.inc(self.stats.opened - opened)
        # Only a real change wakes the queues and the support job: in a storm most
        # drains change nothing, and each wake-up costs them a pass over the tickets.
        if self.on_change is not None and self.stats.changes != before:
            self.on_change()

    async def _write(self, batch: list[Observation]) -> None:
        if self._process is not None:
            self.stats.add(await self._process.write(batch, self._clock()))
        else:
            await asyncio.get_running_loop().run_in_executor(self._executor(), self.process, batch)

    def process(self, batch: list[Observation]) -> None:
        """Write a batch's ticket changes from the calling thread (blocking)."""
        self.stats.add(self._writer.process(batch, self._clock()))

    async def worker_pid(self) -> int:
        """The process that writes this intake's tickets (this one when it uses a thread)."""
        return os.getpid() if self._process is None else await self._process.pid()

    async def _unsettled(self, batch: list[Observation]) -> list[Observation]:
        """Drop observations that repeat what this intake processed for the phone within
        SETTLED_SECONDS: a phone booting or resyncing shows the same findings at every
        request, and re-checking its tickets each time would cost a storm's worth of
        queries. A ticket another process opened or an agent closed meanwhile is seen on
        the phone's first contact after that window."""
        now = self._monotonic()
        if len(self._settled) > SETTLED_LIMIT:
            self._settled = {k: v for k, v in self._settled.items() if v[1] > now}
        fresh = []
        async for part in in_slices(batch):
            for observation in part:
                settled = self._settled.get((observation.tenant_id, observation.mac, observation.covers))
                if settled is None or settled[1] <= now or settled[0] != finding_keys(observation):
                    fresh.append(observation)
        self.stats.repeats += len(batch) - len(fresh)
        return fresh

    async def _settle(self, batch: list[Observation]) -> None:
        until = self._monotonic() + SETTLED_SECONDS
        async for part in in_slices(batch):
            for observation in part:
                self._settled[(observation.tenant_id, observation.mac, observation.covers)] = (finding_keys(observation), until)

    async def _run(self) -> None:
        clock = asyncio.get_running_loop().time
        last_tick = clock()
        held_since: float | None = None  # when the current wave started holding the writing back
        while True:
            await asyncio.sleep(self._interval)
            now = clock()
            rate = self._arrivals / max(now - last_tick, 1e-3)
            last_tick, self._arrivals = now, 0
            metrics.INTAKE_DEPTH.set(len(self._pending))
            if hold_for_wave(rate, 0.0 if held_since is None else now - held_since, self._max_hold):
                held_since = now if held_since is None else held_since
                continue
            if held_since is not None:
                log.info("writing the tickets of %d phones held back %.1f s by a wave of phones booting",
                         len(self._pending), now - held_since)
                held_since = None
            async with self._lock:
                await self._write_pending()
            metrics.INTAKE_DEPTH.set(len(self._pending))

    def _executor(self) -> ThreadPoolExecutor:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="ticket-intake", initializer=yield_cpu)
        return self._thread

    async def context(self, _app: object) -> AsyncIterator[None]:
        if self._process is not None:
            self._process.start()  # spawning takes a moment: not on the first storm's time
        self._task = asyncio.get_running_loop().create_task(self._run(), name="ticket-intake")
        yield
        async with self._lock:  # let a batch in flight finish rather than abandon it in its thread
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.drain()  # nothing queued is lost on a clean shutdown
        if self._thread is not None:
            self._thread.shutdown()
            self._thread = None
        if self._process is not None:
            await self._process.stop()
