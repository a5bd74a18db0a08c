"""Live queue updates over Server-Sent Events.

One watcher task per process asks the database every `interval` seconds for a cheap
fingerprint of the tickets (count and latest change). When it moves (a ticket opened or
changed by this process, another process, the intake worker or the auto-close job) every
open queue gets a `queue` event and reloads its rows. Local changes `poke()` the watcher
so this process's own changes show at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from provisioner.web.errors import SECURITY_HEADERS
from support_link.store.models import TicketRecord

log = logging.getLogger("provisioner.web.live")


class LiveQueue:
    def __init__(self, sessions: sessionmaker[Session], interval: float = 1.0) -> None:
        self._sessions = sessions
        self._interval = interval
        self._subscribers: set[asyncio.Queue[str]] = set()
        self._fingerprint: tuple[object, ...] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.on_change: list[Callable[[], None]] = []  # e.g. wake the mail forward

    def poke(self) -> None:
        """A ticket changed in this process: tell the queues now, and whoever else listens."""
        self._wake.set()
        for callback in self.on_change:
            callback()

    def subscribe(self) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=10)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        self._subscribers.discard(queue)

    def _read_fingerprint(self) -> tuple[object, ...]:
        with self._sessions() as session:
            row = session.execute(select(func.count(TicketRecord.id), func.max(TicketRecord.updated_at))).one()
            return tuple(row)

    async def _run(self) -> None:
        while True:
            try:
                fingerprint = await asyncio.to_thread(self._read_fingerprint)
                if self._fingerprint is not None and fingerprint != self._fingerprint:
                    self._broadcast(str(fingerprint[0]))
                self._fingerprint = fingerprint
            except Exception:
                log.exception("live queue watcher failed; retrying")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):  # not wait_for: it can lose a cancel on 3.11
                    await self._wake.wait()
            self._wake.clear()

    def _broadcast(self, data: str) -> None:
        for queue in list(self._subscribers):
            if queue.full():  # a stalled browser: drop its oldest notice, it only needs the latest
                queue.get_nowait()
            queue.put_nowait(data)

    async def context(self, _app: web.Application) -> AsyncIterator[None]:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="live-queue")
        yield
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        for queue in list(self._subscribers):
            queue.put_nowait("bye")


LIVE = web.AppKey("live", LiveQueue)


async def queue_events(request: web.Request) -> web.StreamResponse:
    """text/event-stream: one `queue` event whenever the tickets change."""
    live = request.app[LIVE]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", **SECURITY_HEADERS})
    await response.prepare(request)
    queue = live.subscribe()
    try:
        await response.write(b"retry: 2000\n: connected\n\n")
        while True:
            try:
                async with asyncio.timeout(15):
                    data = await queue.get()
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if data == "bye":
                break
            await response.write(f"event: queue\ndata: {data}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        live.unsubscribe(queue)
    return response
