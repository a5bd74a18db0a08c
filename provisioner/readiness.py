"""`/readyz`: whether this process has what it needs beyond memory (adapter).

`/healthz` says the process answers at all and touches nothing. `/readyz` asks the database
(a trivial query, off the event loop) and the ticket writer (its process answers), each
within a timeout: `200 {"status": "ok"}`, or `503 {"status": "degraded", "database": ...,
"ticket_writer": ...}`. Degraded is not down: phones already in memory are still served.

Each check has at most one probe in flight, shared by every `/readyz` meanwhile: a database
that never answers holds one thread, however often a load balancer asks, and a probe still
running past the timeout is its answer already.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

OK = "ok"


class Probe:
    """One check (a coroutine function that raises when the thing is not fine), timed out."""

    def __init__(self, check: Callable[[], Awaitable[Any]], timeout: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._check = check
        self._timeout = timeout
        self._monotonic = monotonic
        self._running: asyncio.Task[Any] | None = None
        self._started = 0.0

    async def state(self) -> str:
        """"ok", or what is wrong in a few words (never a host, a query or a secret)."""
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._check())
            self._running.add_done_callback(_retrieve)  # one that ends unasked is not "never retrieved"
            self._started = self._monotonic()
        running = self._running
        left = self._started + self._timeout - self._monotonic()
        if left > 0:
            await asyncio.wait((running,), timeout=left)
        if not running.done():
            return f"no answer within {self._timeout:g} s"
        error = running.exception()
        return OK if error is None else f"error: {type(error).__name__}"


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def readiness(database: str, ticket_writer: str) -> tuple[int, dict[str, str]]:
    """The status code and body of `/readyz` for the checks' states (pure)."""
    if database == OK and ticket_writer == OK:
        return 200, {"status": "ok"}
    return 503, {"status": "degraded", "database": database, "ticket_writer": ticket_writer}


class Readiness:
    def __init__(self, database: Probe, ticket_writer: Probe) -> None:
        self.database = database
        self.ticket_writer = ticket_writer

    async def check(self) -> tuple[int, dict[str, str]]:
        database, writer = await asyncio.gather(self.database.state(), self.ticket_writer.state())
        return readiness(database, writer)
