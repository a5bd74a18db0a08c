"""Connection guard for the HTTP server (adapter): one client cannot hold the others' sockets.

aiohttp has no limit on how long a client may take to send its request head or body, nor on
how many connections one address may hold; a few slow clients could keep every descriptor of
the process (issue: two clients holding 10,200 idle connections each stopped every phone).
The guard sits between the listening socket and aiohttp's protocol and enforces:

  * a per-source cap: an address with `per_source` open connections gets the next one reset
    at once (addresses in `exempt`, a trusted reverse proxy, are not capped);
  * a global cap below the descriptor limit, so the process never meets EMFILE on accept;
  * a head timeout: a request head (request line and headers) must be complete within
    `head_timeout` seconds of the connection opening, or of its first byte when the
    connection is kept alive between requests;
  * a body timeout: while a handler waits for a request body, `body_timeout` seconds without
    a byte close the connection (a slow but moving upload is fine).

A connection that breaks a rule is reset (RST: its descriptor is free at once) and the
address is named once a minute at most on the `provisioner.security` logger.

The checks ride on aiohttp's own counters (`_request_count`, `_current_request`), which are
private but stable across aiohttp 3.x; tests/test_http_guard.py fails if they move.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

security_log = logging.getLogger("provisioner.security")
SWEEP_SECONDS = 1.0
REPORT_EVERY_SECONDS = 60.0
DESCRIPTOR_RESERVE = 512  # for TFTP sessions, the database, log files and the SNMP poller


@dataclass(frozen=True)
class GuardLimits:
    per_source: int = 256
    max_connections: int = 20_000
    head_timeout: float = 10.0
    body_timeout: float = 30.0
    exempt: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()


def raise_open_file_limit() -> int:
    """Raise this process's descriptor limit to the hard limit; return the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def connection_budget(requested: int, open_file_limit: int) -> int:
    """The connections one process may hold: as asked, but never into the descriptor reserve."""
    return max(1, min(requested, open_file_limit - DESCRIPTOR_RESERVE))


class ConnectionGuard:
    """Counts connections per address and sweeps them for the two timeouts (one per process)."""

    def __init__(self, handler_factory: Callable[[], Any], limits: GuardLimits,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._factory = handler_factory
        self.limits = limits
        self._clock = clock
        self.connections: set[GuardedConnection] = set()
        self.per_source: dict[str, int] = {}
        self._reported: dict[str, float] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def __call__(self) -> GuardedConnection:  # the protocol factory given to create_server
        return GuardedConnection(self)

    # -- admission --------------------------------------------------------------------------
    def admit(self, connection: GuardedConnection, address: str) -> bool:
        count = self.per_source.get(address, 0)
        if len(self.connections) >= self.limits.max_connections:
            self._report(address, "too many connections in all", len(self.connections))
            return False
        if count >= self.limits.per_source and not self._exempt(address):
            self._report(address, "too many connections from one address", count)
            return False
        self.per_source[address] = count + 1
        self.connections.add(connection)
        return True

    def release(self, connection: GuardedConnection, address: str) -> None:
        if connection in self.connections:
            self.connections.discard(connection)
            left = self.per_source[address] - 1
            if left:
                self.per_source[address] = left
            else:
                del self.per_source[address]

    def _exempt(self, address: str) -> bool:
        if not self.limits.exempt:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.limits.exempt)

    def _report(self, address: str, what: str, count: int) -> None:
        now = self._clock()
        if now - self._reported.get(address, float("-inf")) >= REPORT_EVERY_SECONDS:
            if len(self._reported) > 10_000:
                self._reported.clear()
            self._reported[address] = now
            security_log.warning("security connection refused ip=%s reason=%r connections=%d", address, what, count)

    # -- timeouts ---------------------------------------------------------------------------
    def start(self) -> None:
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever(), name="http-guard")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            try:
                await self._sweeper
            except asyncio.CancelledError:
                pass

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            self.sweep()

    def sweep(self) -> None:
        now = self._clock()
        for connection in list(self.connections):
            late = connection.overdue(now, self.limits.head_timeout, self.limits.body_timeout)
            if late:
                self._report(connection.address, late, self.per_source.get(connection.address, 0))
                connection.reset()


class GuardedConnection(asyncio.Protocol):
    """Hands every event to aiohttp's handler and remembers when the client last moved."""

    __slots__ = ("guard", "handler", "transport", "address", "head_since", "last_data")

    def __init__(self, guard: ConnectionGuard) -> None:
        self.guard = guard
        self.handler: Any = None
        self.transport: asyncio.Transport | None = None
        self.address = ""
        self.head_since: float | None = None  # a request head is due since then
        self.last_data = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.address = peer[0] if peer else ""
        if not self.guard.admit(self, self.address):
            transport.abort()  # type: ignore[attr-defined]
            return
        self.head_since = self.last_data = self.guard._clock()
        self.handler = self.guard._factory()
        self.handler.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        handler = self.handler
        if handler is None:
            return
        self.last_data = now = self.guard._clock()
        before = handler._request_count
        handler.data_received(data)
        if handler._request_count != before:
            self.head_since = None  # a whole head arrived: the handler has a request
        elif self.head_since is None and handler._current_request is None:
            self.head_since = now  # the first bytes of the next request on a kept-alive connection

    def eof_received(self) -> bool | None:
        return self.handler.eof_received() if self.handler is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.release(self, self.address)
        if self.handler is not None:
            self.handler.connection_lost(exc)
            self.handler = None

    def pause_writing(self) -> None:
        if self.handler is not None:
            self.handler.pause_writing()

    def resume_writing(self) -> None:
        if self.handler is not None:
            self.handler.resume_writing()

    def overdue(self, now: float, head_timeout: float, body_timeout: float) -> str | None:
        """Which rule this connection breaks at `now`, if any."""
        handler = self.handler
        if handler is None:
            return None
        if self.head_since is not None and now - self.head_since > head_timeout and not handler._messages:
            return "request head too slow"
        request = handler._current_request
        if request is not None and not request.content.is_eof() and now - self.last_data > body_timeout:
            return "request body stalled"
        return None

    def reset(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class GuardedSite(web.TCPSite):
    """aiohttp's TCP site with the guard between the socket and aiohttp's protocol."""

    def __init__(self, runner: web.BaseRunner, guard_limits: GuardLimits, *args: Any, **kwargs: Any) -> None:
        super().__init__(runner, *args, **kwargs)
        self._limits = guard_limits
        self.guard: ConnectionGuard | None = None

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        self.guard = ConnectionGuard(server, self._limits)
        self.guard.start()
        self._server = await asyncio.get_running_loop().create_server(
            self.guard, self._host, self._port, ssl=self._ssl_context, backlog=self._backlog,
            reuse_address=self._reuse_address, reuse_port=self._reuse_port,
        )
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port

    async def stop(self) -> None:
        if self.guard is not None:
            await self.guard.stop()
        await super().stop()


def run_guarded_app(app: web.Application, *, host: str, port: int, limits: GuardLimits,
                    ssl_context: Any = None, backlog: int = 128, reuse_port: bool | None = None,
                    keepalive_timeout: float = 75.0, on_listening: Sequence[Callable[[int], None]] = ()) -> None:
    """web.run_app's life cycle (signals -> graceful shutdown -> cleanup), on a guarded site."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(_serve(app, host, port, limits, ssl_context, backlog, reuse_port,
                                   keepalive_timeout, on_listening))
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            if not main.done():
                main.cancel()
                try:
                    loop.run_until_complete(main)
                except asyncio.CancelledError:
                    pass
        finally:
            _cancel_all(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


async def _serve(app: web.Application, host: str, port: int, limits: GuardLimits, ssl_context: Any,
                 backlog: int, reuse_port: bool | None, keepalive_timeout: float,
                 on_listening: Sequence[Callable[[int], None]]) -> None:
    runner = web.AppRunner(app, handle_signals=True, access_log=None, keepalive_timeout=keepalive_timeout)
    await runner.setup()
    try:
        site = GuardedSite(runner, limits, host, port, ssl_context=ssl_context, backlog=backlog, reuse_port=reuse_port)
        await site.start()
        for callback in on_listening:
            callback(site.port)
        while True:
            await asyncio.sleep(3600)
    finally:
        await runner.cleanup()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
