"""Read-only TFTP server on asyncio: the adapter between UDP sockets and a `FileSource`.

    listening socket --classify (tftp_wire)--> RRQ --> session task:
        source(filename, client ip) --> bytes | None
        own ephemeral socket (the RFC 1350 TID), connected to the client
        OACK? -> ACK 0, then DATA n -> ACK n in lock step, retransmitting on timeout

Everything a peer can send is decided by the pure `provisioner.tftp_wire`; this module
only moves datagrams, counts sessions and logs. No exception from a datagram, the source
or a socket leaves the event loop's callbacks: each is caught, logged (rate-limited for
what peers cause) and turned into an ERROR packet or silence.

tftpy is used only to encode OACK and ERROR packets (once per session at most; ERROR
packets are built once at import). DATA packets and ACKs are a `struct` of two shorts,
cheaper than a tftpy object per block. Sockets are watched by asyncio's epoll selector,
never `select()`, so thousands of sessions do not hit FD_SETSIZE.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import resource
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tftpy.TftpPacketTypes import TftpPacketERR, TftpPacketOACK

from provisioner.tftp_wire import (
    ABORT,
    MAX_BLKSIZE,
    MIN_BLKSIZE,
    ErrorCode,
    Ignored,
    LogBudget,
    Plan,
    ReadRequest,
    Refusal,
    block_count,
    classify,
    data_packet,
    negotiate,
    session_reply,
    wire_block,
)

FileSource = Callable[[str, str], Awaitable[bytes | None]]
Address = tuple[Any, ...]  # (host, port) or the IPv6 4-tuple

RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
FD_MARGIN = 256  # descriptors kept for the listening socket, HTTP, the database, logs
DRAIN_BATCH = 256  # extra queued datagrams read per wake-up, so sessions still get their turn
LOG_INTERVAL = 10.0  # seconds between two log lines about the same kind of peer trouble
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)  # Linux; ignores rmem_max with CAP_NET_ADMIN

log = logging.getLogger("provisioner.tftp")


def _encode_error(code: ErrorCode, message: bytes | None = None) -> bytes:
    packet = TftpPacketERR()
    packet.errorcode = int(code)
    if message is not None:  # tftpy encodes only its own table's texts; code 0 has none
        packet.errmsgs = {int(code): message}
    return bytes(packet.encode().buffer)


ERROR_PACKETS: dict[ErrorCode, bytes] = {code: _encode_error(code) for code in ErrorCode if code != ErrorCode.NOT_DEFINED}
BUSY_PACKET = _encode_error(ErrorCode.NOT_DEFINED, b"server busy")


def encode_oack(options: tuple[tuple[str, str], ...]) -> bytes:
    packet = TftpPacketOACK()
    packet.options = dict(options)
    return bytes(packet.encode().buffer)


class TftpServer:
    """Serve files from `source` over TFTP (RRQ only) until `stop()`."""

    def __init__(
        self, source: FileSource, *, host: str = "127.0.0.1", port: int = 69,
        max_sessions: int = 2000, default_max_blksize: int = 1468, timeout: float = 1.0,
        retries: int = 5, logger: logging.Logger | None = None, source_timeout: float = 10.0,
    ) -> None:
        if not MIN_BLKSIZE <= default_max_blksize <= MAX_BLKSIZE:
            raise ValueError(f"default_max_blksize must be within {MIN_BLKSIZE}..{MAX_BLKSIZE}")
        if max_sessions < 1 or timeout <= 0 or retries < 0 or source_timeout <= 0:
            raise ValueError("max_sessions >= 1, timeout > 0, retries >= 0 and source_timeout > 0 required")
        self._source = source
        self._host, self._port = host, port
        self._max_sessions, self._max_blksize = max_sessions, default_max_blksize
        self._timeout, self._retries, self._source_timeout = timeout, retries, source_timeout
        self._log = logger or log
        self._family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._transport: asyncio.DatagramTransport | None = None
        self._sock: socket.socket | None = None
        self._sessions: dict[Address, asyncio.Task[None]] = {}
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
        sock = _listening_socket(self._family, self._host, self._port)
        self.receive_buffer = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        if self.receive_buffer < RECEIVE_BUFFER_BYTES:
            self._log.warning(
                "TFTP receive buffer clamped to %d bytes (wanted %d); raise net.core.rmem_max",
                self.receive_buffer, RECEIVE_BUFFER_BYTES,
            )
        self._port = sock.getsockname()[1]
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(lambda: _Listener(self), sock=sock)
        self._sock = sock

    async def stop(self) -> None:
        """Close the listening socket and end every transfer."""
        if self._transport is not None:
            self._sock = None
            self._transport.close()
            self._transport = None
        tasks = list(self._sessions.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- the listening port -------------------------------------------------------

    def on_datagram(self, datagram: bytes, addr: Address) -> None:
        """One wake-up of the listening socket: this datagram, then what else is queued.

        asyncio hands over one datagram per loop iteration; under a burst of phones that
        would leave the rest waiting behind every busy transfer socket, so drain here.
        """
        self._handle(datagram, addr)
        for _ in range(DRAIN_BATCH):
            if self._sock is None:
                return
            try:
                datagram, addr = self._sock.recvfrom(65535)
            except OSError:  # BlockingIOError: the queue is empty
                return
            self._handle(datagram, addr)

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
            self._reply(BUSY_PACKET, addr)
            held = self._admit_log("busy")
            if held is not None:
                self._log.warning(
                    "TFTP session cap (%d) reached: refused %s:%d with 'server busy' (+%d refused since last report)",
                    self._max_sessions, addr[0], addr[1], held,
                )
            return
        task = asyncio.get_running_loop().create_task(self._serve(request, addr, next(self._ids)))
        self._sessions[addr] = task
        task.add_done_callback(lambda done: self._forget(addr, done))

    def _forget(self, addr: Address, task: asyncio.Task[None]) -> None:
        if self._sessions.get(addr) is task:
            del self._sessions[addr]

    def _reply(self, packet: bytes, addr: Address) -> None:
        if self._transport is not None:
            self._transport.sendto(packet, addr)

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

    # --- one transfer ------------------------------------------------------------

    async def _serve(self, request: ReadRequest, addr: Address, sid: int) -> None:
        try:
            body = await self._lookup(request.filename, addr[0], sid)
            endpoint = await self._open_endpoint(addr, sid)
            if endpoint is None:
                return
            transport, protocol = endpoint
            try:
                if body is None:
                    transport.sendto(ERROR_PACKETS[ErrorCode.FILE_NOT_FOUND])
                    self._log.info("tftp#%d %s:%d %r: not found", sid, addr[0], addr[1], request.filename)
                    return
                plan = negotiate(request.options, len(body), self._max_blksize)
                timeout = float(plan.timeout) if plan.timeout is not None else self._timeout
                exchange = _Exchange(transport, protocol, timeout, self._retries)
                done = await _transfer(exchange, body, plan)
                self._log_outcome(sid, addr, request.filename, len(body), plan, done)
            finally:
                transport.close()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one broken transfer must not touch the others
            self._log.exception("tftp#%d %s:%d: transfer failed", sid, addr[0], addr[1])

    async def _lookup(self, filename: str, client_ip: str, sid: int) -> bytes | None:
        try:
            body = await asyncio.wait_for(self._source(filename, client_ip), self._source_timeout)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the source's failure is a "File not found"
            held = self._admit_log("source-failure")
            if held is not None:
                self._log.exception(
                    "tftp#%d source failed for %r from %s (+%d failures not logged)", sid, filename, client_ip, held,
                )
            return None
        if body is None or isinstance(body, bytes):
            return body
        if isinstance(body, (bytearray, memoryview)):
            return bytes(body)
        self._log.error("tftp#%d source returned %s for %r, not bytes", sid, type(body).__name__, filename)
        return None

    async def _open_endpoint(self, addr: Address, sid: int) -> tuple[asyncio.DatagramTransport, _SessionProtocol] | None:
        try:
            sock = _session_socket(self._family, self._host, addr)
            loop = asyncio.get_running_loop()
            return await loop.create_datagram_endpoint(_SessionProtocol, sock=sock)
        except OSError as exc:  # EMFILE and friends: tell the phone to come back later
            self._reply(BUSY_PACKET, addr)
            if self._admit_log("socket-failure") is not None:
                self._log.error("tftp#%d cannot open a transfer socket for %s: %s", sid, addr[0], exc)
            return None

    def _log_outcome(self, sid: int, addr: Address, name: str, size: int, plan: Plan, done: bool) -> None:
        if done:
            self._log.info("tftp#%d %s:%d %r: sent %d bytes (blksize %d)", sid, addr[0], addr[1], name, size, plan.blksize)
            return
        held = self._admit_log("abandoned")  # a flood of RRQs that never ACK must not flood the log
        if held is not None:
            self._log.info(
                "tftp#%d %s:%d %r: client stopped answering or aborted (+%d such transfers not logged)",
                sid, addr[0], addr[1], name, held,
            )


async def _transfer(exchange: _Exchange, body: bytes, plan: Plan) -> bool:
    """OACK then ACK 0 if options were accepted, then every DATA block in lock step."""
    if plan.oack and not await exchange.send(encode_oack(plan.oack), 0):
        return False
    for index in range(1, block_count(len(body), plan.blksize) + 1):
        if not await exchange.send(data_packet(body, index, plan.blksize), index):
            return False
    return True


class _Exchange:
    """Send a packet, wait for the ACK of `block`, retransmit on timeout up to `retries` times."""

    def __init__(self, transport: asyncio.DatagramTransport, protocol: _SessionProtocol, timeout: float, retries: int) -> None:
        self._transport, self._protocol = transport, protocol
        self._timeout, self._attempts = timeout, retries + 1
        self._loop = asyncio.get_running_loop()

    async def send(self, packet: bytes, block: int) -> bool:
        for _ in range(self._attempts):
            if self._protocol.aborted:
                return False
            waiter = self._protocol.expect(wire_block(block))
            self._transport.sendto(packet)
            timer = self._loop.call_later(self._timeout, _settle, waiter, False)
            try:
                if await waiter:
                    return True
            finally:
                timer.cancel()
        return False


def _settle(waiter: asyncio.Future[bool], value: bool) -> None:
    if not waiter.done():
        waiter.set_result(value)


class _SessionProtocol(asyncio.DatagramProtocol):
    """A transfer's own socket: resolves the waiter on the expected ACK, ignores the rest.

    Duplicate or stale ACKs do nothing (no Sorcerer's Apprentice resend); an ERROR from
    the client or an ICMP error (the client's port is gone) ends the transfer.
    """

    def __init__(self) -> None:
        self.aborted = False
        self._expected = -2
        self._waiter: asyncio.Future[bool] | None = None

    def expect(self, block: int) -> asyncio.Future[bool]:
        self._expected = block
        self._waiter = asyncio.get_running_loop().create_future()
        return self._waiter

    def datagram_received(self, data: bytes, addr: Address) -> None:
        reply = session_reply(data)
        if reply == ABORT:
            self._abort()
        elif reply == self._expected and self._waiter is not None:
            _settle(self._waiter, True)

    def error_received(self, exc: Exception) -> None:
        self._abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._abort()

    def _abort(self) -> None:
        self.aborted = True
        if self._waiter is not None:
            _settle(self._waiter, False)


class _Listener(asyncio.DatagramProtocol):
    def __init__(self, server: TftpServer) -> None:
        self._server = server

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self._server.on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("TFTP listening socket: %s", exc)


def _listening_socket(family: int, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
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
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
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
