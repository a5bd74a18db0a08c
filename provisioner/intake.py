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

The database work is `TicketWriter`'s. It runs in a process of its own when the database
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
from concurrent.futures import ThreadPoolExecutor
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from provisioner.db.engine import can_share
from provisioner.db.models import Device, Tenant
from provisioner.intake_process import WriterProcess, in_slices, yield_cpu
from provisioner.incidents import (
    URGENCY_BY_FINDING,
    DeviceFinding,
    dedup_key,
    detail_for,
    impact_for,
    subject_for,
    urgency_for,
)
from support_link import lifecycle
from support_link.lifecycle import Actor, ActorKind
from support_link.store import affected_devices, tickets

log = logging.getLogger("provisioner.intake")

INTAKE_ACTOR = Actor(ActorKind.SYSTEM, "aprovisionamiento")
PROVISIONING_KINDS = frozenset(
    {"firmware_older", "firmware_newer", "firmware_unknown", "model_not_homologated", "lines_exceeded"}
)
SNMP_KINDS = frozenset({"unreachable", "snmp_firmware_mismatch"})
SETTLED_SECONDS = 15.0  # how long a phone's processed findings are trusted to be unchanged
SETTLED_LIMIT = 200_000  # phones remembered before expired entries are swept
RECURRENCES_FOR_PROBLEM = 3
WAVE_PHONES_PER_SECOND = 100  # phones newly reporting per second that make a wave (a site booting)
RECURRENCE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Observation:
    """What one contact showed about one phone: its current findings within `covers`."""

    tenant_id: int
    mac: str
    findings: tuple[DeviceFinding, ...]
    covers: frozenset[str]  # kinds this kind of contact can judge (absent ones have recovered)
    seen_at: datetime


@dataclass
class IntakeStats:
    processed: int = 0
    opened: int = 0
    joined: int = 0
    recovered: int = 0
    resolved: int = 0
    problems: int = 0
    failures: int = 0
    repeats: int = 0  # observations skipped: the phone showed the same within SETTLED_SECONDS

    @property
    def changes(self) -> int:
        """Ticket changes so far (what queues and the support job care about)."""
        return self.opened + self.joined + self.recovered + self.resolved + self.problems

    def add(self, other: IntakeStats) -> None:
        """Count another batch's figures in (the writer reports each batch's own)."""
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass(frozen=True)
class IntakeRules:
    urgency: Mapping[str, str] = field(default_factory=lambda: dict(URGENCY_BY_FINDING))
    organization_share: float = 0.5


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
        shareable = process_database_url is not None and can_share(process_database_url)
        self._process = WriterProcess(process_database_url, rules) if shareable else None
        self.on_change = on_change  # e.g. tell open queues that tickets changed
        self._pending: dict[tuple[int, str, frozenset[str]], Observation] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._monotonic = monotonic
        self._settled: dict[tuple[int, str, frozenset[str]], tuple[frozenset[str], float]] = {}
        self.stats = IntakeStats()
        self._thread: ThreadPoolExecutor | None = None

    # -- request side: never blocks, never raises -------------------------------------------
    def observe(self, observation: Observation) -> None:
        key = (observation.tenant_id, observation.mac, observation.covers)
        if key not in self._pending:
            self._arrivals += 1
        self._pending[key] = observation

    def settled_clear(self, tenant_id: int, mac: str, covers: frozenset[str]) -> bool:
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
        before = self.stats.changes
        try:
            await self._write(batch)
            await self._settle(batch)
        except Exception:
            self.stats.failures += 1
            log.exception("ticket intake failed for %d observations; retrying once", len(batch))
            try:
                await self._write(batch)
                await self._settle(batch)
            except Exception:
                log.exception("ticket intake dropped %d observations (the phones will raise them again)", len(batch))
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
                if settled is None or settled[1] <= now or settled[0] != _keys(observation):
                    fresh.append(observation)
        self.stats.repeats += len(batch) - len(fresh)
        return fresh

    async def _settle(self, batch: list[Observation]) -> None:
        until = self._monotonic() + SETTLED_SECONDS
        async for part in in_slices(batch):
            for observation in part:
                self._settled[(observation.tenant_id, observation.mac, observation.covers)] = (_keys(observation), until)

    async def _run(self) -> None:
        clock = asyncio.get_running_loop().time
        last_tick = clock()
        held_since: float | None = None  # when the current wave started holding the writing back
        while True:
            await asyncio.sleep(self._interval)
            now = clock()
            rate = self._arrivals / max(now - last_tick, 1e-3)
            last_tick, self._arrivals = now, 0
            if hold_for_wave(rate, 0.0 if held_since is None else now - held_since, self._max_hold):
                held_since = now if held_since is None else held_since
                continue
            if held_since is not None:
                log.info("writing the tickets of %d phones held back %.1f s by a wave of phones booting",
                         len(self._pending), now - held_since)
                held_since = None
            async with self._lock:
                await self._write_pending()

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


class TicketWriter:
    """Observations -> ticket changes in the database. Blocking: a worker thread or the
    ticket worker process runs it, never the event loop."""

    def __init__(self, sessions: sessionmaker[Session], rules: IntakeRules = IntakeRules()) -> None:
        self._sessions = sessions
        self._rules = rules

    def process(self, batch: list[Observation], now: datetime) -> IntakeStats:
        """Turn observations into ticket changes; returns what this batch changed."""
        stats = IntakeStats(processed=len(batch))
        by_key: dict[str, list[DeviceFinding]] = {}
        for observation in batch:
            for finding in observation.findings:
                by_key.setdefault(dedup_key(finding), []).append(finding)
        for key, findings in by_key.items():
            with self._sessions.begin() as session:
                self._raise(session, key, findings, now, stats)
        for ticket_id, macs in self._recoveries(batch).items():
            with self._sessions.begin() as session:
                self._recover(session, ticket_id, macs, now, stats)
        return stats

    def _recoveries(self, batch: list[Observation]) -> dict[int, list[str]]:
        """Open ticket -> the phones of this batch that no longer show its finding (within
        what their contact can judge). One query per tenant (and 500 phones): in a boot
        storm most phones have no ticket, or show exactly the finding of the one they are on."""
        by_tenant: dict[int, list[Observation]] = {}
        for observation in batch:
            by_tenant.setdefault(observation.tenant_id, []).append(observation)
        recoveries: dict[int, list[str]] = {}
        with self._sessions() as session:
            for tenant_id, observations in by_tenant.items():
                tenant = _tenant_slug(session, tenant_id)
                if tenant is None:
                    continue
                open_tickets = affected_devices.open_tickets_for_devices(session, tenant, [o.mac for o in observations])
                for observation in observations:
                    showing = _keys(observation)
                    for ticket_id, finding, key in open_tickets.get(observation.mac, ()):
                        if finding in observation.covers and key not in showing:
                            recoveries.setdefault(ticket_id, []).append(observation.mac)
        return recoveries

    def _raise(self, session: Session, key: str, findings: list[DeviceFinding], now: datetime, stats: IntakeStats) -> None:
        first = findings[0]
        contact_name, contact = _tenant_contact(session, first.tenant)
        ticket, event = lifecycle.new_ticket(
            ticket_type="incident", urgency=urgency_for(first.kind, self._rules.urgency), impact="individual",
            subject=subject_for(first, 1), detail=detail_for(first, 1), requester_name=contact_name,
            requester_contact=contact, channel="device", created_at=now, actor=INTAKE_ACTOR, dedup_key=key,
        )
        ticket_id, created = tickets.open_or_get_by_key(session, ticket, event, first.tenant, first.kind)
        if created:
            stats.opened += 1
        tickets.lock(session, ticket_id)
        stats.joined += affected_devices.add_devices(
            session, ticket_id, [(f.mac, f.department, f.evidence()) for f in findings], now, actor=INTAKE_ACTOR
        )
        self._follow_blast_radius(session, ticket_id, first, now)
        if created:
            self._maybe_open_problem(session, ticket_id, findings, now, stats)

    def _follow_blast_radius(self, session: Session, ticket_id: int, finding: DeviceFinding, now: datetime) -> None:
        affected = affected_devices.active_departments(session, ticket_id)
        impact = impact_for(affected, _tenant_device_count(session, finding.tenant), self._rules.organization_share)
        ticket = tickets.header(session, ticket_id)
        if str(ticket.impact) != impact and _wider(impact, str(ticket.impact)):
            tickets.act(session, ticket_id, lifecycle.ChangeClassification(str(ticket.urgency), impact), INTAKE_ACTOR, now)
        # Keep the subject's device count current (it is the queue's one-line summary).
        subject = subject_for(finding, len(affected))
        if subject != ticket.subject:
            tickets.set_subject(session, ticket_id, subject, now)

    def _maybe_open_problem(
        self, session: Session, incident_id: int, findings: list[DeviceFinding], now: datetime, stats: IntakeStats
    ) -> None:
        first = findings[0]  # one dedup key: the same tenant and kind for all
        history = affected_devices.past_incidents_for_devices(
            session, first.tenant, [f.mac for f in findings], first.kind, now - RECURRENCE_WINDOW
        )
        for finding in findings:
            past = history.get(finding.mac, [])
            if len(past) < RECURRENCES_FOR_PROBLEM:
                continue
            key = f"problem|{finding.tenant}|{finding.kind}|{finding.mac}"
            contact_name, contact = _tenant_contact(session, finding.tenant)
            problem, event = lifecycle.new_ticket(
                ticket_type="problem", urgency=urgency_for(finding.kind, self._rules.urgency), impact="individual",
                subject=f"Problema recurrente: {subject_for(finding, 1)}",
                detail=(f"El equipo {finding.mac} volvió a presentar el hallazgo {finding.kind} "
                        f"{len(past)} veces en 30 días tras resolverse. Incidentes: "
                        + ", ".join(f"#{i}" for i in past) + f", #{incident_id}."),
                requester_name=contact_name, requester_contact=contact, channel="device", created_at=now,
                actor=INTAKE_ACTOR, dedup_key=key,
            )
            problem_id, created = tickets.open_or_get_by_key(session, problem, event, finding.tenant, finding.kind)
            if created:
                stats.problems += 1
            for incident in (*past, incident_id):
                with contextlib.suppress(Exception):  # already linked
                    tickets.link_problem(session, problem_id, incident, INTAKE_ACTOR, now)

    def _recover(self, session: Session, ticket_id: int, macs: list[str], now: datetime, stats: IntakeStats) -> None:
        """These phones no longer show the ticket's finding: they recover, and when no phone
        of the ticket is left affected, the incident is resolved."""
        # Another server process may be recovering the last other phones of this ticket
        # right now: take turns on the ticket, then judge from what is committed.
        tickets.lock(session, ticket_id)
        if tickets.header(session, ticket_id).status not in tickets.OPEN:
            return  # resolved or closed since the batch looked (an agent, another process)
        stats.recovered += len(affected_devices.mark_devices_recovered(session, ticket_id, macs, now, actor=INTAKE_ACTOR))
        total, active = affected_devices.device_counts(session, ticket_id)
        if total and not active:
            tickets.act(
                session, ticket_id, lifecycle.Resolve(), INTAKE_ACTOR, now,
                note="Todos los equipos afectados se recuperaron (reportan lo homologado).",
            )
            stats.resolved += 1


_IMPACT_ORDER = {"individual": 0, "department": 1, "organization": 2}


def _wider(new: str, old: str) -> bool:
    """Impact only grows while an incident is open (a recovered phone does not shrink it)."""
    return _IMPACT_ORDER[new] > _IMPACT_ORDER[old]


def _keys(observation: Observation) -> frozenset[str]:
    return frozenset(dedup_key(finding) for finding in observation.findings)


def _tenant_contact(session: Session, slug: str) -> tuple[str, str]:
    row = session.execute(select(Tenant.name, Tenant.contact_name, Tenant.contact_email).where(Tenant.slug == slug)).first()
    if row is None:
        return slug, slug
    return (row.contact_name or f"Contacto de {row.name}"), (row.contact_email or f"cliente {slug}")


def _tenant_slug(session: Session, tenant_id: int) -> str | None:
    return session.scalar(select(Tenant.slug).where(Tenant.id == tenant_id))


def _tenant_device_count(session: Session, slug: str) -> int:
    return session.scalar(select(func.count(Device.id)).join(Tenant).where(Tenant.slug == slug)) or 0
