"""Connection guard for the HTTP server (adapter): one client cannot hold the others' sockets.

aiohttp has no limit on how long a client may take to send its request head or body, nor on
how many connections one address may hold; a few slow clients could keep every descriptor of
the process (issue 20: two clients holding 10,200 idle connections each stopped every phone).
The guard sits between the listening socket and aiohttp's protocol and enforces:

  * a per-source cap: a source (an IPv4 address, an IPv6 /64) with `per_source` open
    connections gets the next one reset at once (addresses in `exempt`, a trusted reverse
    proxy, are not capped);
  * a global cap below the descriptor limit, so the process never meets EMFILE on accept;
  * a head timeout: a request head (request line and headers, after the TLS handshake if
    any) must be complete within `head_timeout` seconds of the connection opening, or of
    its first byte when the connection is kept alive between requests;
  * a body timeout: `body_timeout` seconds without a byte of a request body the handler
    waits for, or with a response the client does not read, close the connection (a slow
    but moving transfer is fine).

Connections are counted before their TLS handshake (the guard runs TLS itself, after
admitting the connection): a handshake nobody finishes holds a descriptor like any other.

A connection that breaks a rule is reset (RST: its descriptor is free at once) and the
address is named once a minute at most on the `provisioner.security` logger.

The checks ride on aiohttp's own state (`_request_count`, `_waiter`, `_current_request`,
`_reading_paused`), which is private but stable across aiohttp 3.x; tests/test_http_guard.py
fails if it moves. `run_guarded_app` is web.run_app's life cycle on a guarded site, where
requests from trusted proxies carry their client's address (provisioner.forwarded).
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import resource
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from provisioner.errors import SettingsError
from provisioner.forwarded import Network, client_address, is_trusted, parse_address
from provisioner.tftp_wire import source_of

security_log = logging.getLogger("provisioner.security")
SWEEP_SECONDS = 1.0
REPORT_EVERY_SECONDS = 60.0
DESCRIPTOR_RESERVE = 512  # for the database, log files, the SNMP poller and the ticket process's pipes
UNLIMITED = 1 << 20
# asyncio accepts up to its `backlog` connections each time the listening socket is ready,
# before any of them reaches the guard, and a refused one's descriptor is freed a loop turn
# later: with a backlog of 4,096, one burst took every descriptor before the guard could
# refuse a single connection. Batches this small stay well inside DESCRIPTOR_RESERVE.
ACCEPT_BATCH = 128  # what a process without a descriptor ceiling counts with


@dataclass(frozen=True)
class GuardLimits:
    per_source: int = 256
    max_connections: int = 20_000
    head_timeout: float = 10.0
    body_timeout: float = 30.0
    exempt: tuple[Network, ...] = ()


def raise_open_file_limit() -> int:
    """Raise this process's descriptor limit to the hard limit; return the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:  # no ceiling to raise to (not on Linux): keep what we have
        return UNLIMITED if soft == resource.RLIM_INFINITY else soft
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def connection_budget(requested: int, open_file_limit: int, shared_with: int = 0) -> int:
    """The connections one process may hold: as asked, but never into the descriptor reserve
    nor into the `shared_with` descriptors another server of the process may take (TFTP's
    session cap). When the limit is too low for both, HTTP keeps half of what is left."""
    available = open_file_limit - DESCRIPTOR_RESERVE
    return max(1, min(requested, max(available - shared_with, available // 2)))


class ConnectionGuard:
    """Counts connections per source and sweeps them for the timeouts (one per listener)."""

    def __init__(self, handler_factory: Callable[[], Any], limits: GuardLimits,
                 ssl_context: ssl.SSLContext | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.handler_factory = handler_factory
        self.limits = limits
        self.ssl_context = ssl_context
        self.clock = clock
        self.connections: set[GuardedConnection] = set()
        self.per_source: dict[str, int] = {}
        self._reported: dict[str, float] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def __call__(self) -> GuardedConnection:  # the protocol factory given to create_server
        return GuardedConnection(self)

    # -- admission --------------------------------------------------------------------------
    def admit(self, connection: GuardedConnection) -> bool:
        source = connection.source
        count = self.per_source.get(source, 0)
        if len(self.connections) >= self.limits.max_connections:
            self._report(connection.address, "too many connections in all", len(self.connections))
            return False
        if count >= self.limits.per_source and not self._exempt(connection.address):
            self._report(connection.address, "too many connections from one address", count)
            return False
        self.per_source[source] = count + 1
        self.connections.add(connection)
        return True

    def release(self, connection: GuardedConnection) -> None:
        """Forget a connection; a second call for it changes nothing."""
        if connection in self.connections:
            self.connections.discard(connection)
            left = self.per_source[connection.source] - 1
            if left:
                self.per_source[connection.source] = left
            else:
                del self.per_source[connection.source]

    def _exempt(self, address: str) -> bool:
        ip = parse_address(address) if self.limits.exempt else None
        return ip is not None and is_trusted(ip, self.limits.exempt)

    def _report(self, address: str, what: str, count: int) -> None:
        now = self.clock()
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
        now = self.clock()
        for connection in list(self.connections):
            late = connection.overdue(now)
            if late:
                self._report(connection.address, late, self.per_source.get(connection.source, 0))
                connection.reset()


class GuardedConnection(asyncio.Protocol):
    """Hands every event to aiohttp's handler and remembers when the client last moved."""

    __slots__ = ("guard", "handler", "transport", "address", "source", "handshake", "early", "head_since",
                 "last_data", "write_paused_since")

    def __init__(self, guard: ConnectionGuard) -> None:
        self.guard = guard
        self.handler: Any = None  # aiohttp's RequestHandler, once the connection speaks HTTP
        self.transport: asyncio.Transport | None = None
        self.address = ""
        self.source = ""  # what the per-source cap counts (provisioner.tftp_wire.source_of)
        self.handshake: asyncio.Task[None] | None = None
        self.early: list[bytes] = []  # what came with the end of the TLS handshake, before HTTP started
        self.head_since: float | None = None  # a request head is due since then
        self.last_data = 0.0
        self.write_paused_since: float | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.address = peer[0] if peer else ""
        self.source = source_of(self.address)
        if not self.guard.admit(self):
            transport.abort()  # type: ignore[attr-defined]
            return
        self.head_since = self.last_data = self.guard.clock()
        if self.guard.ssl_context is None:
            self._speak_http(self.transport)  # type: ignore[arg-type]
        else:
            self.handshake = asyncio.get_running_loop().create_task(self._start_tls(self.transport))  # type: ignore[arg-type]

    async def _start_tls(self, raw: asyncio.Transport) -> None:
        """The TLS handshake on an admitted connection, then HTTP on top of it."""
        assert self.guard.ssl_context is not None
        tls = None
        try:
            tls = await asyncio.get_running_loop().start_tls(raw, self, self.guard.ssl_context, server_side=True)
        except OSError:  # a failed handshake (ssl.SSLError), or the client left during it
            pass
        finally:
            self.handshake = None
            if tls is None:  # None too when the connection was reset during the handshake
                self.guard.release(self)
                raw.abort()
        if tls is not None:
            self.transport = tls
            self._speak_http(tls)
            early, self.early = self.early, []
            for data in early:
                self.data_received(data)

    def _speak_http(self, transport: asyncio.Transport) -> None:
        self.handler = self.guard.handler_factory()
        self.handler.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        handler = self.handler
        if handler is None:
            if self.handshake is not None:  # TLS delivers the first bytes before start_tls returns
                self.early.append(data)
            return
        self.last_data = now = self.guard.clock()
        waiter = handler._waiter  # pending while the handler waits for the next request
        between_requests = waiter is not None and not waiter.done()
        before = handler._request_count
        handler.data_received(data)
        if handler._request_count != before:
            self.head_since = None  # a whole head arrived: the handler has a request
        elif between_requests and self.head_since is None:
            self.head_since = now  # the first bytes of the next request on a kept-alive connection

    def eof_received(self) -> bool | None:
        return self.handler.eof_received() if self.handler is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.release(self)
        if self.handler is not None:
            self.handler.connection_lost(exc)
            self.handler = None

    def pause_writing(self) -> None:
        self.write_paused_since = self.guard.clock()
        if self.handler is not None:
            self.handler.pause_writing()

    def resume_writing(self) -> None:
        self.write_paused_since = None
        if self.handler is not None:
            self.handler.resume_writing()

    def overdue(self, now: float) -> str | None:
        """Which rule this connection breaks at `now`, if any."""
        limits = self.guard.limits
        if self.head_since is not None and now - self.head_since > limits.head_timeout:
            return "request head too slow"
        if self.write_paused_since is not None and now - self.write_paused_since > limits.body_timeout:
            return "response not read"
        handler = self.handler
        request = handler._current_request if handler is not None else None
        if request is not None and not request.content.is_eof():
            if handler._reading_paused:  # we stopped reading (the handler is busy): not the client's fault
                self.last_data = now
            elif now - self.last_data > limits.body_timeout:
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
        self.guard = ConnectionGuard(server, self._limits, self._ssl_context)
        self.guard.start()
        self._server = await asyncio.get_running_loop().create_server(  # plain TCP: the guard runs TLS
            self.guard, self._host, self._port, backlog=ACCEPT_BATCH,
            reuse_address=self._reuse_address, reuse_port=self._reuse_port,
        )
        sockets = self._server.sockets
        for listening in sockets:  # the kernel's queue as long as asked; asyncio keeps its batch
            with socket.fromfd(listening.fileno(), listening.family, listening.type) as duplicate:
                duplicate.listen(self._backlog)
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port

    async def stop(self) -> None:
        if self.guard is not None:
            await self.guard.stop()
        await super().stop()


def believe_forwarded_for(server: web.Server, trusted: tuple[Network, ...]) -> None:
    """Requests through a trusted proxy carry their client's address as `request.remote`
    (provisioner.forwarded), so every handler sees the phone or the person, not the proxy.
    Requests from other peers are left as they are, at the cost of one cached lookup."""
    if not trusted:
        return
    make_request = server.request_factory

    @functools.lru_cache(maxsize=4096)
    def through_proxy(peer: str) -> bool:
        address = parse_address(peer)
        return address is not None and is_trusted(address, trusted)

    def make(message: Any, payload: Any, protocol: Any, writer: Any, task: Any) -> web.BaseRequest:
        request = make_request(message, payload, protocol, writer, task)
        peer = request.remote or ""
        if not through_proxy(peer):
            return request
        client = client_address(peer, request.headers.getall("X-Forwarded-For", ()), trusted)
        return request.clone(remote=client) if client != peer else request

    server.request_factory = make


class AcceptErrorThrottle(logging.Filter):
    """One asyncio "out of descriptors" record a minute, the others dropped and counted.

    asyncio logs each accept() that meets EMFILE with a traceback and retries a second later,
    on every listening socket; at the limit that was 79,430 tracebacks in 30 s (issue 20)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, every: float = REPORT_EVERY_SECONDS) -> None:
        super().__init__()
        self._clock = clock
        self._every = every
        self._last = float("-inf")
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not _out_of_descriptors(record):
            return True
        now = self._clock()
        if now - self._last < self._every:
            self.dropped += 1
            return False
        if self.dropped:
            record.msg = f"{record.msg}\n({self.dropped} more like it in the last minute, not shown)"
            self.dropped = 0
        self._last = now
        return True


def _out_of_descriptors(record: logging.LogRecord) -> bool:
    if str(record.msg).startswith("socket.accept() out of system resource"):
        return True
    error = record.exc_info[1] if record.exc_info else None
    return isinstance(error, OSError) and error.errno in (errno.EMFILE, errno.ENFILE)


def throttle_accept_errors(clock: Callable[[], float] = time.monotonic) -> AcceptErrorThrottle:
    """Install the throttle on asyncio's logger (once per process) and return it."""
    asyncio_log = logging.getLogger("asyncio")
    for installed in asyncio_log.filters:
        if isinstance(installed, AcceptErrorThrottle):
            return installed
    throttle = AcceptErrorThrottle(clock)
    asyncio_log.addFilter(throttle)
    return throttle


def run_guarded_app(app: web.Application, *, host: str, port: int, limits: GuardLimits,
                    ssl_context: ssl.SSLContext | None = None, backlog: int = 128, reuse_port: bool | None = None,
                    keepalive_timeout: float = 75.0, trusted_proxies: tuple[Network, ...] = (),
                    listening: Callable[[], None] | None = None) -> None:
    """web.run_app's life cycle (signals -> graceful shutdown -> cleanup), on a guarded site.
    `listening` is called once the port is bound (not before: a port in use is no "listening")."""
    throttle_accept_errors()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(_serve(app, host, port, limits, ssl_context, backlog, reuse_port,
                                   keepalive_timeout, trusted_proxies, listening))
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


async def _serve(app: web.Application, host: str, port: int, limits: GuardLimits, ssl_context: ssl.SSLContext | None,
                 backlog: int, reuse_port: bool | None, keepalive_timeout: float,
                 trusted_proxies: tuple[Network, ...], listening: Callable[[], None] | None = None) -> None:
    runner = web.AppRunner(app, handle_signals=True, access_log=None, keepalive_timeout=keepalive_timeout)
    await runner.setup()
    try:
        assert runner.server is not None
        believe_forwarded_for(runner.server, trusted_proxies)
        site = GuardedSite(runner, limits, host, port, ssl_context=ssl_context, backlog=backlog, reuse_port=reuse_port)
        try:
            await site.start()
        except OSError as error:  # taken since serve() looked: one line, not a traceback
            raise SettingsError(f"HTTP port {port} on {host}: {error.strerror or error}") from None
        if listening is not None:
            listening()
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
