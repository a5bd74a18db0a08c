"""Read-only TFTP server on asyncio: the adapter between UDP sockets and a `FileSource`.

    listening socket --classify (tftp_wire)--> RRQ --> one `_Transfer`:
        source(filename, client ip) --> bytes | None
        own ephemeral socket (the RFC 1350 TID), connected to the client
        OACK? -> ACK 0, then DATA n -> ACK n in lock step, retransmitting on timeout

Everything a peer can send is decided by the pure `provisioner.tftp_wire`; this module
only moves datagrams, counts sessions and logs. No exception from a datagram, the source
or a socket leaves the event loop's callbacks: each is caught, logged (rate-limited for
what peers cause) and turned into an ERROR packet or silence.

Why callbacks and not a task per transfer: a boot storm is thousands of short transfers
(configs of 0.5-3 KB, 1-7 blocks), so what a transfer costs to set up and what a block
costs is the whole budget. A transfer is a plain non-blocking socket and a small state
machine: on ACK n send DATA n+1. Transfer sockets sit in one epoll set (`_Watch`, Linux),
itself one reader of the event loop, never `select()`, so thousands of sockets do not hit
FD_SETSIZE. A transfer has one timer handle, re-armed only when it fires early (`sent_at`
moves on with every block), not one per block. The source is stepped once synchronously:
a cache hit finishes there without a task; only a source that really waits gets one.

tftpy is used only to encode the ERROR packets, once at import. OACK, DATA and ACK
packets come from `tftp_wire`.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import resource
import select
import socket
import time
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from tftpy.TftpPacketTypes import TftpPacketERR

from provisioner.tftp_wire import (
    ABORT,
    MAX_BLKSIZE,
    MIN_BLKSIZE,
    ErrorCode,
    Ignored,
    LogBudget,
    ReadRequest,
    Refusal,
    block_count,
    classify,
    data_packet,
    negotiate,
    oack_packet,
    session_reply,
    wire_block,
)

# A plain function or a coroutine function; either may return the file or None (not found).
FileSource = Callable[[str, str], "Awaitable[bytes | None] | bytes | None"]
Address = tuple[Any, ...]  # (host, port) or the IPv6 4-tuple

RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
FD_MARGIN = 256  # descriptors kept for the listening socket, HTTP, the database, logs
DEFAULT_MAX_SESSIONS = 10_000  # far above one storm's phones: 2,000 at once is ~2,000 sessions
DRAIN_BATCH = 256  # queued requests read per wake-up of the listening socket
# Admitting a request runs the source (the pipeline), far dearer than answering an ACK: after
# every few, the transfers already running take their next step, so a burst of requests does
# not hold them. Real server, 256 phones: p99 ~55-120 ms (every 8) against ~150-250 (none),
# same CPU; a smaller DRAIN_BATCH instead cost ~35 % more CPU per transfer.
STEPS_EVERY = 8
REQUEST_READ_BYTES = 2048  # longer requests are refused anyway (MAX_REQUEST_BYTES)
REPLY_READ_BYTES = 516  # ACKs are 4 bytes; an ERROR's text past this is not needed
LOG_INTERVAL = 10.0  # seconds between two log lines about the same kind of peer trouble
EARLY = 0.001  # asyncio may run a timer up to its clock resolution early
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
SOCK_NONBLOCK = getattr(socket, "SOCK_NONBLOCK", 0)  # Linux: non-blocking from socket() on  # Linux; ignores rmem_max with CAP_NET_ADMIN

log = logging.getLogger("provisioner.tftp")


def _encode_error(code: ErrorCode, message: bytes | None = None) -> bytes:
    packet = TftpPacketERR()
    packet.errorcode = int(code)
    if message is not None:  # tftpy encodes only its own table's texts; code 0 has none
        packet.errmsgs = {int(code): message}
    return bytes(packet.encode().buffer)


ERROR_PACKETS: dict[ErrorCode, bytes] = {code: _encode_error(code) for code in ErrorCode if code != ErrorCode.NOT_DEFINED}
BUSY_PACKET = _encode_error(ErrorCode.NOT_DEFINED, b"server busy")


class TftpServer:
    """Serve files from `source` over TFTP (RRQ only) until `stop()`.

    `reuse_port=True` sets SO_REUSEPORT on the listening socket, so several processes can
    each run a TftpServer on the same port: the kernel hashes every client's address to
    one of them, so a retransmitted RRQ reaches the process that already serves it.
    """

    def __init__(
        self, source: FileSource, *, host: str = "127.0.0.1", port: int = 69,
        max_sessions: int = DEFAULT_MAX_SESSIONS, default_max_blksize: int = 1468, timeout: float = 1.0,
        retries: int = 5, logger: logging.Logger | None = None, source_timeout: float = 10.0,
        reuse_port: bool = False, shown_name: Callable[[str], str] = lambda name: name,
    ) -> None:
        if not MIN_BLKSIZE <= default_max_blksize <= MAX_BLKSIZE:
            raise ValueError(f"default_max_blksize must be within {MIN_BLKSIZE}..{MAX_BLKSIZE}")
        if max_sessions < 1 or timeout <= 0 or retries < 0 or source_timeout <= 0:
            raise ValueError("max_sessions >= 1, timeout > 0, retries >= 0 and source_timeout > 0 required")
        self._source = source
        self._host, self._port, self._reuse_port = host, port, reuse_port
        self._max_sessions, self._max_blksize = max_sessions, default_max_blksize
        self._timeout, self._retries, self._source_timeout = timeout, retries, source_timeout
        self._log = logger or log
        self._shown = shown_name  # what log lines show of a requested name (it may hold a secret)
        self._family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watch: _Watch | None = None
        self._sock: socket.socket | None = None
        self._sessions: dict[Address, _Transfer] = {}
        self._ids = itertools.count(1)
        self._budgets: dict[str, LogBudget] = {}
        self.receive_buffer = 0  # bytes the kernel granted the listening socket

    @property
    def port(self) -> int:
        return self._port

    @property
    def active_sessions(self) -> int:
        return len(self._sessions)

    async def start(self) -> None:
        """Bind the listening socket (port 0 picks a free one; see `.port`)."""
        _ensure_descriptors(self._max_sessions + FD_MARGIN, self._log)
        sock = _listening_socket(self._family, self._host, self._port, self._reuse_port)
        self.receive_buffer = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        if self.receive_buffer < RECEIVE_BUFFER_BYTES:
            self._log.warning(
                "TFTP receive buffer clamped to %d bytes (wanted %d); raise net.core.rmem_max",
                self.receive_buffer, RECEIVE_BUFFER_BYTES,
            )
        self._port = sock.getsockname()[1]
        self._loop = asyncio.get_running_loop()
        self._watch = _Watch(self._loop, self._log)
        self._loop.add_reader(sock.fileno(), self._on_requests)
        self._sock = sock

    async def stop(self) -> None:
        """Close the listening socket and end every transfer."""
        if self._sock is not None and self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
        waiting = [transfer.lookup for transfer in self._sessions.values() if transfer.lookup is not None]
        for transfer in list(self._sessions.values()):
            transfer.end(done=False, quiet=True)
        await asyncio.gather(*waiting, return_exceptions=True)
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    # --- the listening port -------------------------------------------------------

    def _on_requests(self) -> None:
        """Read what is queued on the listening port, up to a batch, letting transfers step in between."""
        sock = self._sock
        for count in range(1, DRAIN_BATCH + 1):
            if sock is None or sock.fileno() < 0:
                return
            try:
                datagram, addr = sock.recvfrom(REQUEST_READ_BYTES)
            except BlockingIOError:
                return
            except OSError as exc:  # an ICMP error reported on the listening socket: not ours to act on
                log.debug("TFTP listening socket: %s", exc)
                continue
            self._handle(datagram, addr)
            if count % STEPS_EVERY == 0 and self._watch is not None:
                self._watch.run_ready()

    def _handle(self, datagram: bytes, addr: Address) -> None:
        try:
            self._dispatch(datagram, addr)
        except Exception:  # noqa: BLE001 - a datagram must never stop the server
            if self._admit_log("dispatch-bug") is not None:
                self._log.exception("TFTP: unexpected failure handling a datagram from %s", addr[0])

    def _dispatch(self, datagram: bytes, addr: Address) -> None:
        if addr[1] == 0:
            self._hostile(addr, "source port 0")
            return
        verdict = classify(datagram)
        if isinstance(verdict, ReadRequest):
            self._admit(verdict, addr)
        elif isinstance(verdict, Refusal):
            self._reply(ERROR_PACKETS[verdict.code], addr)
            self._hostile(addr, verdict.reason)
        elif isinstance(verdict, Ignored):
            self._hostile(addr, verdict.reason)

    def _admit(self, request: ReadRequest, addr: Address) -> None:
        if addr in self._sessions:
            return  # a retransmitted RRQ: its transfer is already answering
        if len(self._sessions) >= self._max_sessions:
            self._refuse_busy(addr, "busy")
            return
        transfer = _Transfer(self, addr, request.filename, next(self._ids))
        self._sessions[addr] = transfer
        body = self._lookup(transfer)
        if body is not _PENDING:
            self._begin(transfer, body, request)  # type: ignore[arg-type]
        elif transfer.lookup is not None:
            transfer.lookup.add_done_callback(lambda task: self._looked_up(transfer, request, task))

    def _begin(self, transfer: _Transfer, body: bytes | None, request: ReadRequest) -> None:
        try:
            transfer.begin(body, request)
        except Exception:  # noqa: BLE001 - a bug here must not leak the slot and its socket
            transfer.end(done=False, quiet=True)
            if self._admit_log("begin-bug") is not None:
                self._log.exception("tftp#%d %s: transfer failed to start", transfer.sid, transfer.addr[0])

    def _refuse_busy(self, addr: Address, kind: str, detail: object = None) -> None:
        """'server busy' from the listening port, and one log line per interval."""
        self._reply(BUSY_PACKET, addr)
        held = self._admit_log(kind)
        if held is None:
            return
        if kind == "busy":
            self._log.warning(
                "TFTP session cap (%d) reached: refused %s:%d with 'server busy' (+%d refused since last report)",
                self._max_sessions, addr[0], addr[1], held,
            )
        else:
            self._log.error(
                "TFTP cannot open a transfer socket for %s: %s; answered 'server busy' (+%d since last report)",
                addr[0], detail, held,
            )

    def _forget(self, transfer: _Transfer) -> None:
        if self._sessions.get(transfer.addr) is transfer:
            del self._sessions[transfer.addr]

    def _reply(self, packet: bytes, addr: Address) -> None:
        if self._sock is not None:
            try:
                self._sock.sendto(packet, addr)
            except OSError:  # a full send buffer or an unreachable peer: the client retransmits
                pass

    def _hostile(self, addr: Address, reason: str) -> None:
        held = self._admit_log(reason)
        if held is not None:
            self._log.warning("TFTP: %s from %s:%d (+%d similar not logged)", reason, addr[0], addr[1], held)

    def _admit_log(self, kind: str) -> int | None:
        budget = self._budgets.get(kind)
        if budget is None:
            if len(self._budgets) > 64:  # reasons carry opcodes: bound the table
                self._budgets.clear()
            budget = self._budgets[kind] = LogBudget(LOG_INTERVAL)
        return budget.admit(time.monotonic())

    # --- the source ----------------------------------------------------------------

    def _lookup(self, transfer: _Transfer) -> bytes | None | object:
        """The file now, or _PENDING with `transfer.lookup` set when the source must wait."""
        try:
            result = self._source(transfer.name, transfer.addr[0])
            if inspect.iscoroutine(result):
                try:  # one step: a cached answer returns here, without a task
                    yielded = result.send(None)
                except StopIteration as finished:
                    result = finished.value
                else:
                    result = _Resumed(result, yielded)
            if inspect.isawaitable(result):
                assert self._loop is not None
                transfer.lookup = self._loop.create_task(self._wait_source(result, transfer))
                return _PENDING
        except Exception:  # noqa: BLE001 - the source's failure is a "File not found"
            self._source_failed(transfer)
            return None
        return self._checked(result, transfer)

    async def _wait_source(self, pending: Awaitable[Any], transfer: _Transfer) -> bytes | None:
        try:
            result = await asyncio.wait_for(pending, self._source_timeout)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the source's failure (or timeout) is a "File not found"
            self._source_failed(transfer)
            return None
        return self._checked(result, transfer)

    def _looked_up(self, transfer: _Transfer, request: ReadRequest, task: asyncio.Task[bytes | None]) -> None:
        transfer.lookup = None
        if task.cancelled() or self._sessions.get(transfer.addr) is not transfer:
            return  # stopped meanwhile
        self._begin(transfer, task.result(), request)

    def _source_failed(self, transfer: _Transfer) -> None:
        held = self._admit_log("source-failure")
        if held is not None:
            self._log.exception(
                "tftp#%d source failed for %r from %s (+%d failures not logged)",
                transfer.sid, self._shown(transfer.name), transfer.addr[0], held,
            )

    def _checked(self, body: object, transfer: _Transfer) -> bytes | None:
        if body is None or isinstance(body, bytes):
            return body
        if isinstance(body, (bytearray, memoryview)):
            return bytes(body)
        self._log.error("tftp#%d source returned %s for %r, not bytes", transfer.sid, type(body).__name__,
                        self._shown(transfer.name))
        return None


_PENDING = object()


class _Transfer:
    """One RRQ: its own connected socket, the file, and where the lock step stands.

    Only the ACK of the block last sent moves it on; duplicate or stale ACKs do nothing
    (no Sorcerer's Apprentice resend). An ERROR from the client, or an ICMP error on the
    socket (the client's port is gone), ends it. It leaves the session table the moment
    the last ACK arrives.
    """

    __slots__ = (
        "server", "addr", "name", "sid", "lookup", "sock", "fd", "body", "blksize", "timeout",
        "index", "last", "expected", "packet", "sent_at", "tries", "timer",
    )

    def __init__(self, server: TftpServer, addr: Address, name: str, sid: int) -> None:
        self.server, self.addr, self.name, self.sid = server, addr, name, sid
        self.lookup: asyncio.Task[bytes | None] | None = None
        self.sock: socket.socket | None = None
        self.fd = -1
        self.body = b""
        self.blksize = 0
        self.timeout = server._timeout
        self.index = self.last = self.expected = self.tries = 0
        self.packet = b""
        self.sent_at = 0.0
        self.timer: asyncio.TimerHandle | None = None

    def begin(self, body: bytes | None, request: ReadRequest) -> None:
        """Open the transfer's socket and send the first packet (or the 'not found')."""
        server = self.server
        try:
            self.sock = _session_socket(server._family, server._host, self.addr)
        except OSError as exc:  # EMFILE and friends: tell the phone to come back later
            server._forget(self)
            server._refuse_busy(self.addr, "socket-failure", exc)
            return
        if body is None:
            self._send(ERROR_PACKETS[ErrorCode.FILE_NOT_FOUND])
            server._log.info("tftp#%d %s:%d %r: not found", self.sid, self.addr[0], self.addr[1],
                             server._shown(self.name))
            self.end(done=False, quiet=True)
            return
        plan = negotiate(request.options, len(body), server._max_blksize)
        if plan.timeout is not None:
            self.timeout = float(plan.timeout)
        self.body, self.blksize, self.last = body, plan.blksize, block_count(len(body), plan.blksize)
        if plan.oack:
            self.index, self.expected, self.packet = 0, 0, oack_packet(plan.oack)
        else:
            self.index, self.expected, self.packet = 1, 1, data_packet(body, 1, plan.blksize)
        self.fd = self.sock.fileno()
        loop, watch = server._loop, server._watch
        assert loop is not None and watch is not None
        watch.add(self.fd, self._on_reply)
        self.sent_at = time.monotonic()
        self.timer = loop.call_later(self.timeout, self._on_timer)
        self._send(self.packet)

    def _on_reply(self) -> None:
        try:
            datagram = self.sock.recv(REPLY_READ_BYTES)  # type: ignore[union-attr]
        except BlockingIOError:
            return
        except OSError:  # ICMP port unreachable: the client is gone
            self.end(done=False)
            return
        block = session_reply(datagram)
        if block != self.expected:
            if block == ABORT:
                self.end(done=False)
            return
        if self.index == self.last:
            self.end(done=True)
            return
        index = self.index = self.index + 1
        self.expected = wire_block(index)
        self.packet = data_packet(self.body, index, self.blksize)
        self.tries = 0
        self.sent_at = time.monotonic()
        self._send(self.packet)

    def _on_timer(self) -> None:
        """Retransmit if the last packet has waited `timeout`; else sleep until it has."""
        loop = self.server._loop
        assert loop is not None
        wait = self.sent_at + self.timeout - time.monotonic()
        if wait > EARLY:
            self.timer = loop.call_later(wait, self._on_timer)
            return
        self.tries += 1
        if self.tries > self.server._retries:
            self.timer = None
            self.end(done=False)
            return
        self.sent_at = time.monotonic()
        self.timer = loop.call_later(self.timeout, self._on_timer)
        self._send(self.packet)

    def _send(self, packet: bytes) -> None:
        try:
            self.sock.send(packet)  # type: ignore[union-attr]
        except BlockingIOError:  # send buffer full: as if lost, the timer sends it again
            pass
        except OSError:  # ICMP error from an earlier packet: the client is gone
            self.end(done=False)

    def end(self, *, done: bool, quiet: bool = False) -> None:
        """Free the socket, the timer and the session slot (idempotent)."""
        server = self.server
        if self.lookup is not None:
            self.lookup.cancel()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.sock is not None:
            if self.fd >= 0 and server._watch is not None:
                server._watch.remove(self.fd)
            self.sock.close()
            self.sock = None
        if server._sessions.get(self.addr) is self:
            del server._sessions[self.addr]
            if not quiet:
                self._log_outcome(done)

    def _log_outcome(self, done: bool) -> None:
        server, addr = self.server, self.addr
        if done:
            server._log.info(
                "tftp#%d %s:%d %r: sent %d bytes (blksize %d)",
                self.sid, addr[0], addr[1], server._shown(self.name), len(self.body), self.blksize,
            )
            return
        held = server._admit_log("abandoned")  # a flood of RRQs that never ACK must not flood the log
        if held is not None:
            server._log.info(
                "tftp#%d %s:%d %r: client stopped answering or aborted (+%d such transfers not logged)",
                self.sid, addr[0], addr[1], server._shown(self.name), held,
            )


class _Watch:
    """The transfer sockets in one epoll set, itself one reader of the event loop.

    Every ready transfer of a wake-up is handled in one loop callback, and watching a
    socket is one epoll_ctl instead of asyncio's selector bookkeeping and handle per
    socket. Level-triggered: what is not read now wakes the set again.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, logger: logging.Logger) -> None:
        self._loop, self._log = loop, logger
        self._epoll = select.epoll()
        self._callbacks: dict[int, Callable[[], None]] = {}
        loop.add_reader(self._epoll.fileno(), self.run_ready)

    def add(self, fd: int, callback: Callable[[], None]) -> None:
        self._epoll.register(fd, select.EPOLLIN)
        self._callbacks[fd] = callback

    def remove(self, fd: int) -> None:
        if self._callbacks.pop(fd, None) is not None:
            self._epoll.unregister(fd)

    def run_ready(self) -> None:
        """Step every transfer with a datagram waiting (also called between admitted requests)."""
        callbacks = self._callbacks
        for fd, _events in self._epoll.poll(0):
            callback = callbacks.get(fd)
            if callback is None:
                continue
            try:
                callback()
            except Exception:  # noqa: BLE001 - one transfer's bug must not starve the others
                self._log.exception("TFTP: unexpected failure in a transfer")
                self.remove(fd)

    def close(self) -> None:
        self._loop.remove_reader(self._epoll.fileno())
        self._epoll.close()
        self._callbacks.clear()


class _Resumed:
    """Awaiting this continues a coroutine that was already stepped once (see `_lookup`).

    It hands the task what the coroutine yielded (the future it waits on) and passes
    results, exceptions and cancellation through, as if the task had started it.
    """

    def __init__(self, coroutine: Any, yielded: Any) -> None:
        self._coroutine, self._yielded = coroutine, yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine, yielded = self._coroutine, self._yielded
        while True:
            try:
                sent = yield yielded
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - cancellation and throw() go to the source
                step = coroutine.throw, exc
            else:
                step = coroutine.send, sent
            try:
                yielded = step[0](step[1])
            except StopIteration as finished:
                return finished.value


def _listening_socket(family: int, host: str, port: int, reuse_port: bool) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        _grow_receive_buffer(sock, RECEIVE_BUFFER_BYTES)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _grow_receive_buffer(sock: socket.socket, size: int) -> None:
    """SO_RCVBUFFORCE passes net.core.rmem_max when we may (root); else ask SO_RCVBUF."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


def _session_socket(family: int, host: str, addr: Address) -> socket.socket:
    """A fresh port (the transfer's TID), connected so the kernel drops other peers."""
    sock = socket.socket(family, socket.SOCK_DGRAM | SOCK_NONBLOCK)  # no setblocking() syscalls
    try:
        if not SOCK_NONBLOCK:
            sock.setblocking(False)
        sock.bind((host, 0))
        sock.connect(addr)
    except BaseException:
        sock.close()
        raise
    return sock


def _ensure_descriptors(needed: int, logger: logging.Logger) -> None:
    """Raise the soft RLIMIT_NOFILE to the hard limit when it is below what the cap needs."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:
        logger.warning("TFTP: cannot raise open-file limit from %d to %d: %s", soft, target, exc)
        target = soft
    else:
        logger.info("TFTP: raised open-file soft limit from %d to %d", soft, target)
    if target < needed:
        logger.warning(
            "TFTP: open-file limit %d is below the %d the session cap needs; transfers past it get 'server busy'",
            target, needed,
        )
