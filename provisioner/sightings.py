"""Sightings are recorded off the request path, in batches.

`record()` only appends to an in-memory list; a background task flushes it to the
database every `interval` seconds (and on shutdown), so a config fetch never waits for
a database write. Each flush inserts the sightings and upserts phone_state in one
transaction; the upsert (INSERT .. ON CONFLICT DO UPDATE, SQLite and PostgreSQL alike)
lets several server processes fold sightings of the same phone without lost updates.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter
from typing import NamedTuple

from sqlalchemy import case, func, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.dml import Insert

from dbkit.bulk import insert_rows
from provisioner import metrics
from provisioner.db.models import PhoneState, Sighting

log = logging.getLogger("provisioner.sightings")


class SightingRecord(NamedTuple):
    """One contact, in the sighting table's column order (the writer passes it as it is).

    A tuple, not a dataclass: the request path makes one per fetch, a storm thousands a
    second, and a frozen dataclass of 16 fields costs several times more to build.
    """

    tenant_id: int
    seen_at: datetime
    protocol: str
    source_ip: str
    filename: str
    user_agent: str | None
    served: bool
    role: str
    mac: str | None
    vendor: str | None
    model: str | None
    catalog_key: str | None
    firmware: str | None
    certainty: int
    findings: tuple[str, ...]
    judged: bool  # findings describe the phone (False when the request told us nothing about it)


SIGHTING_COLUMNS = SightingRecord._fields[:-1]  # all but `judged`, which only phone_state uses
_seen_at = attrgetter("seen_at")


def fold_batch(batch: Sequence[SightingRecord]) -> list[tuple[dict[str, object], bool]]:
    """Each phone's sightings of a batch folded into one phone_state delta (pure).

    Returns (delta, judged) per phone, sorted by (tenant, MAC) so that every process locks
    phone_state rows in the same order. `judged` says whether the delta's findings replace
    the stored ones; the upsert (_upsert) merges a delta into the stored row by the same
    rules as _fold_phone, so writing a phone's sightings in one batch or in several
    gives the same row.
    """
    by_phone: dict[tuple[int, str], list[SightingRecord]] = {}
    for s in batch:
        if s.mac:
            by_phone.setdefault((s.tenant_id, s.mac), []).append(s)
    folded = []
    for phone in sorted(by_phone):
        sightings = by_phone[phone]
        if len(sightings) > 1:
            sightings.sort(key=_seen_at)
        folded.append((_fold_phone(sightings), any(s.judged for s in sightings)))
    return folded


def _fold_phone(sightings: list[SightingRecord]) -> dict[str, object]:
    """What one phone's sightings (oldest first) tell: its phone_state values.

    The last contact gives last_seen/ip/protocol; a reported model beats an earlier guess
    from the vendor alone; firmware moves only on a trusted report and findings only on a
    judged contact (a request that could not tell keeps the earlier ones).
    """
    first, last = sightings[0], sightings[-1]
    user_agent = vendor = model = catalog_key = firmware = None
    findings: tuple[str, ...] = ()
    for s in sightings:
        if s.user_agent:
            user_agent = s.user_agent
        if s.model:  # a report of the model beats an earlier guess
            vendor, model, catalog_key = s.vendor, s.model, s.catalog_key
        elif s.vendor and not vendor:
            vendor = s.vendor
        if s.firmware:
            firmware = s.firmware
        if s.judged:
            findings = s.findings
    return {
        "tenant_id": first.tenant_id, "mac": first.mac, "first_seen": first.seen_at, "last_seen": last.seen_at,
        "last_ip": last.source_ip, "last_protocol": last.protocol, "user_agent": storable(user_agent, 2000),
        "vendor": vendor and vendor[:32], "model": model and model[:64], "catalog_key": catalog_key and catalog_key[:64],
        "firmware": firmware and firmware[:64], "findings": list(findings),
    }


def write_batch(sessions: sessionmaker[Session], batch: Sequence[SightingRecord]) -> None:
    """Insert sightings and upsert phone_state, in one transaction and three statements at most.

    No ORM objects and no dict per sighting, pages of rows per statement (dbkit.bulk):
    this runs in a thread of the process that serves phones, so its Python work and its GIL
    hand-overs are taken from the event loop.
    """
    if not batch:
        return
    folded = fold_batch(batch)
    with sessions.begin() as session:
        connection = session.connection()
        insert_rows(connection, _INSERT_SIGHTING, _storable_columns(batch), SIGHTING_COLUMNS)
        for judged in (True, False):
            deltas = [delta for delta, was_judged in folded if was_judged is judged]
            insert_rows(connection, _upsert(connection.dialect.name, judged=judged), deltas)


def _storable_columns(batch: Sequence[SightingRecord]) -> list[tuple[object, ...]]:
    """The batch's rows with their free text made storable (bounded, no NUL), column by column."""
    columns = list(zip(*batch, strict=True))
    for index, limit in _BOUNDED_COLUMNS:
        texts = [text for text in columns[index] if text]
        joined = "".join(texts)  # checked in C: nearly every batch has nothing to clean
        if not (joined.isascii() and "\x00" not in joined and max(map(len, texts), default=0) <= limit):
            columns[index] = tuple(storable(value, limit) for value in columns[index])
    return list(zip(*columns[: len(SIGHTING_COLUMNS)], strict=True))


_BOUNDED_COLUMNS = tuple(
    (SightingRecord._fields.index(name), limit)
    for name, limit in (("filename", 255), ("user_agent", 2000), ("model", 64), ("firmware", 64))
)


_INSERT_SIGHTING = insert(Sighting.__table__)


@functools.lru_cache(maxsize=8)
def _upsert(dialect: str, *, judged: bool) -> Insert:
    """INSERT a new phone's state, or merge a delta into the stored one (_fold_phone's rules)."""
    table = PhoneState.__table__
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    new, old = statement.excluded, table.c
    reported_model = new.model.is_not(None)
    newer = new.last_seen >= old.last_seen  # two processes' batches may land out of order
    return statement.on_conflict_do_update(
        index_elements=[old.tenant_id, old.mac],
        set_={
            "first_seen": case((new.first_seen < old.first_seen, new.first_seen), else_=old.first_seen),
            "last_seen": case((newer, new.last_seen), else_=old.last_seen),
            "last_ip": case((newer, new.last_ip), else_=old.last_ip),
            "last_protocol": case((newer, new.last_protocol), else_=old.last_protocol),
            "user_agent": func.coalesce(new.user_agent, old.user_agent),
            "vendor": case((reported_model, new.vendor), else_=func.coalesce(old.vendor, new.vendor)),
            "model": case((reported_model, new.model), else_=old.model),
            "catalog_key": case((reported_model, new.catalog_key), else_=old.catalog_key),
            "firmware": func.coalesce(new.firmware, old.firmware),
            "findings": new.findings if judged else old.findings,
        },
    )


def storable(text: str | None, limit: int | None = None) -> str | None:
    """Text any database accepts: no NUL (PostgreSQL refuses it), no lone surrogates, bounded."""
    if text is None:
        return None
    if text.isascii() and "\x00" not in text:  # nearly every phone: nothing to clean
        return text[:limit] if limit else text
    clean = text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    return clean[:limit] if limit else clean


class SightingRecorder:
    """Collects sightings in memory and writes them in batches from a background task."""

    def __init__(
        self, sessions: sessionmaker[Session], interval: float = 1.0, max_batch: int = 5000, shutdown_grace: float = 20.0,
    ) -> None:
        self._sessions = sessions
        self._shutdown_grace = shutdown_grace
        self._interval = interval
        self._max_batch = max_batch
        self._pending: list[SightingRecord] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.written = 0
        self.dropped = 0

    def record(self, sighting: SightingRecord) -> None:
        self._pending.append(sighting)

    async def flush(self) -> None:
        async with self._lock:  # one writer at a time keeps phone_state folds ordered
            while self._pending:
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
                try:
                    await asyncio.to_thread(write_batch, self._sessions, batch)
                    self.written += len(batch)
                except Exception:
                    metrics.database_error("sightings")
                    log.exception("could not write a batch of %d sightings; writing them one by one", len(batch))
                    if not await self._write_one_by_one(batch):
                        return  # the database itself is failing: keep the rest for the next attempt

    async def _write_one_by_one(self, batch: list[SightingRecord]) -> bool:
        """Isolate a record the database refuses so it cannot block every later sighting."""
        for index, sighting in enumerate(batch):
            try:
                await asyncio.to_thread(write_batch, self._sessions, [sighting])
                self.written += 1
            except Exception:
                if index == 0 and len(batch) > 1:
                    # Even the first fails alone: likely the database, not the record. Retry later.
                    self._pending[:0] = batch
                    return False
                self.dropped += 1
                log.error("dropped a sighting the database refuses: %r from %s", sighting.filename, sighting.source_ip)
        return True

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="sighting-writer")

    async def stop(self) -> None:
        if self._task is not None:
            # Wait for a batch being written (it holds the lock) rather than cancel it: a
            # cancelled write would finish in its thread unobserved, or not at all.
            async with self._lock:
                self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        at_shutdown = len(self._pending)
        # Nothing recorded is lost on a clean shutdown: a database that refuses for a moment
        # (locked, failing over) gets retried until the deadline, and a loss is said aloud.
        deadline = asyncio.get_running_loop().time() + self._shutdown_grace
        await self.flush()
        while self._pending and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.5)
            await self.flush()
        if self._pending:
            self.dropped += len(self._pending)
            log.error("shutting down with %d sightings the database would not take: they are lost", len(self._pending))
        log.info("sighting writer stopped: %d written (%d at shutdown), %d dropped", self.written, at_shutdown, self.dropped)
