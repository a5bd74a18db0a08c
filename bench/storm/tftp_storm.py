"""TFTP boot storm: every phone fetches its files in its real boot order, one UDP socket per
transfer bound to the phone's own 127.x.y.z address, `--concurrency` phones at once.

The client retransmits its last packet (RRQ or ACK) after `--retransmit` seconds, up to
`--retries` times, as phones do; `--blksize 1428` asks for that block size (RFC 2348). A
boot fails when a file the phone must get does not arrive, or a file we do not serve
(Polycom .sip.ld without an image, ...) gets anything but a TFTP error.

    .venv/bin/python bench/storm/tftp_storm.py --phones /tmp/storm/phones.json \
        --port 6969 --prefix KEY/ --concurrency 256
"""

from __future__ import annotations

import argparse
import asyncio
import json
import select
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from http_storm import percentile, source_address

RRQ, DATA, ACK, ERROR, OACK = 1, 3, 4, 5, 6


def rrq(name: str, blksize: int | None) -> bytes:
    packet = struct.pack("!H", RRQ) + name.encode() + b"\x00octet\x00"
    if blksize:
        packet += b"blksize\x00" + str(blksize).encode() + b"\x00"
    return packet


def ack(block: int) -> bytes:
    return struct.pack("!HH", ACK, block & 0xFFFF)


def oack_options(packet: bytes) -> dict[str, str]:
    fields = packet[2:].split(b"\x00")
    return {fields[i].decode().lower(): fields[i + 1].decode() for i in range(0, len(fields) - 1, 2)}


@dataclass
class TftpResult:
    phones: int = 0
    files: int = 0  # files received completely
    not_found: int = 0  # expected TFTP errors
    failures: int = 0
    failed_boots: int = 0
    retransmits: int = 0
    bytes: int = 0
    seconds: float = 0.0
    client_cpu: float = 0.0  # CPU seconds this client process used (near `seconds`: the client is the limit)
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def fail(self, kind: str) -> None:
        self.failures += 1
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def summary(self) -> dict:
        return {
            "phones": self.phones, "files": self.files, "not_found": self.not_found,
            "files_per_s": round(self.files / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(self.latencies, 0.50) * 1000, 2),
            "p99_ms": round(percentile(self.latencies, 0.99) * 1000, 2),
            "failures": self.failures, "failed_boots": self.failed_boots, "retransmits": self.retransmits,
            "seconds": round(self.seconds, 2), "client_cpu_share": round(self.client_cpu / self.seconds, 2) if self.seconds else 0.0, "errors": self.errors,
        }


class _Fetch:
    """One file: its own socket bound to the phone's address, in lock step with the server.

    Driven by callbacks (the storm's epoll set, one timer re-armed only when it fires early)
    rather than a task and a queue per transfer, so the client costs little of the CPU it
    shares with the server.
    """

    __slots__ = ("lane", "name", "must_serve", "sock", "peer", "size", "expected", "body", "last", "tries",
                 "sent_at", "timer", "started", "bufsize")

    def __init__(self, lane: _Lane, name: str, must_serve: bool) -> None:
        self.lane, self.name, self.must_serve = lane, name, must_serve
        storm = lane.storm
        self.sock: socket.socket | None = None
        self.peer = storm.server
        self.size, self.expected, self.body, self.tries = 512, 1, bytearray(), 0
        self.bufsize = max(2048, (storm.blksize or 0) + 5)
        self.last = rrq(storm.prefix + name, storm.blksize)
        self.timer: asyncio.TimerHandle | None = None
        self.started = time.perf_counter()

    def start(self) -> None:
        storm = self.lane.storm
        try:
            sock = self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setblocking(False)
            sock.bind((self.lane.source, 0))
            storm.watch(sock.fileno(), self.on_readable)
            sock.sendto(self.last, self.peer)
        except OSError as exc:
            self.finish(type(exc).__name__)
            return
        self.sent_at = time.monotonic()
        self.timer = storm.loop.call_later(storm.retransmit, self.on_timer)

    def on_readable(self) -> None:
        try:
            data, addr = self.sock.recvfrom(self.bufsize)  # type: ignore[union-attr]
        except OSError:  # nothing queued, or an ICMP error: let the timeout decide
            return
        if self.peer is self.lane.storm.server:
            self.peer = addr  # the server's transfer id (its new port)
        elif addr != self.peer:
            self.send(struct.pack("!HH", ERROR, 5) + b"unknown transfer id\x00", addr)
            return
        if len(data) < 4:
            return
        opcode, block = struct.unpack_from("!HH", data)
        if opcode == ERROR:
            self.finish(f"error {block}")
            return
        if opcode == OACK and self.expected == 1:
            self.size = int(oack_options(data).get("blksize", 512))
            self.last = ack(0)
        elif opcode == DATA:
            if block == self.expected & 0xFFFF:
                self.body += data[4:]
                self.last = ack(block)
                self.expected += 1
                if len(data) - 4 < self.size:
                    self.send(self.last, self.peer)
                    self.finish(bytes(self.body))
                    return
            elif block != (self.expected - 1) & 0xFFFF:
                return  # neither the next block nor a duplicate of the last one
        else:
            return
        self.tries = 0
        self.sent_at = time.monotonic()
        self.send(self.last, self.peer)

    def on_timer(self) -> None:
        storm = self.lane.storm
        wait = self.sent_at + storm.retransmit - time.monotonic()
        if wait > 0.001:
            self.timer = storm.loop.call_later(wait, self.on_timer)
            return
        self.tries += 1
        if self.tries > storm.retries:
            self.timer = None
            self.finish("timeout")
            return
        storm.result.retransmits += 1
        self.sent_at = time.monotonic()
        self.timer = storm.loop.call_later(storm.retransmit, self.on_timer)
        self.send(self.last, self.peer)

    def send(self, packet: bytes, addr: tuple[str, int]) -> None:
        try:
            self.sock.sendto(packet, addr)  # type: ignore[union-attr]
        except OSError:  # a full buffer is a lost packet: the timer sends it again
            pass

    def finish(self, outcome: bytes | str) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.sock is not None:
            self.lane.storm.unwatch(self.sock.fileno())
            self.sock.close()
            self.sock = None
        self.lane.fetched(self, outcome)


class _Lane:
    """One phone at a time: its files in boot order, one transfer after the other."""

    def __init__(self, storm: _Storm) -> None:
        self.storm = storm
        self.source, self.files, self.next_file, self.ok = "", [], 0, True

    def next_phone(self) -> None:
        phone = next(self.storm.phones, None)
        if phone is None:
            self.storm.lane_done()
            return
        self.source, self.files, self.next_file, self.ok = source_address(phone["index"]), phone["files"], 0, True
        self.next_fetch()

    def next_fetch(self) -> None:
        if self.next_file == len(self.files):
            self.storm.phone_done(self.ok)
            self.next_phone()
            return
        name, _user_agent, must_serve = self.files[self.next_file]
        self.next_file += 1
        _Fetch(self, name, must_serve).start()

    def fetched(self, fetch: _Fetch, outcome: bytes | str) -> None:
        result = self.storm.result
        result.latencies.append(time.perf_counter() - fetch.started)
        if isinstance(outcome, bytes) and fetch.must_serve:
            result.files += 1
            result.bytes += len(outcome)
        elif outcome == "error 1" and not fetch.must_serve:
            result.not_found += 1
        else:
            result.fail(outcome if isinstance(outcome, str) else "served a file that must not be")
            self.ok = False
            if fetch.must_serve:
                self.next_file = len(self.files)  # the phone stops booting
        self.storm.loop.call_soon(self.next_fetch)  # not from inside the finished transfer's callback


class _Storm:
    def __init__(self, phones: list[dict], server: tuple[str, int], prefix: str, blksize: int | None,
                 retransmit: float, retries: int) -> None:
        self.loop = asyncio.get_running_loop()
        self.phones, self.server, self.prefix, self.blksize = iter(phones), server, prefix, blksize
        self.retransmit, self.retries = retransmit, retries
        self.result = TftpResult()
        self.running = 0
        self.finished: asyncio.Future[None] = self.loop.create_future()
        # Every transfer socket in one epoll set, one loop callback per wake-up (as the server does).
        self.epoll = select.epoll()
        self.callbacks: dict[int, Callable[[], None]] = {}
        self.loop.add_reader(self.epoll.fileno(), self.on_ready)

    def watch(self, fd: int, callback: Callable[[], None]) -> None:
        self.epoll.register(fd, select.EPOLLIN)
        self.callbacks[fd] = callback

    def unwatch(self, fd: int) -> None:
        if self.callbacks.pop(fd, None) is not None:
            self.epoll.unregister(fd)

    def on_ready(self) -> None:
        for fd, _events in self.epoll.poll(0):
            callback = self.callbacks.get(fd)
            if callback is not None:
                callback()

    def close(self) -> None:
        self.loop.remove_reader(self.epoll.fileno())
        self.epoll.close()

    def phone_done(self, ok: bool) -> None:
        self.result.phones += 1
        self.result.failed_boots += not ok

    def lane_done(self) -> None:
        self.running -= 1
        if self.running == 0 and not self.finished.done():
            self.finished.set_result(None)


async def storm(phones: list[dict], port: int, prefix: str, concurrency: int, *, host: str = "127.0.0.1",
                blksize: int | None = None, retransmit: float = 1.0, retries: int = 5) -> TftpResult:
    state = _Storm(phones, (host, port), prefix, blksize, retransmit, retries)
    lanes = [_Lane(state) for _ in range(concurrency)]
    state.running = len(lanes)
    started, cpu = time.perf_counter(), time.process_time()
    try:
        for lane in lanes:
            lane.next_phone()
        await state.finished
    finally:
        state.close()
    result = state.result
    result.seconds = time.perf_counter() - started
    result.client_cpu = time.process_time() - cpu
    return result


def run(phones: list[dict], port: int, prefix: str, concurrency: int, **options: object) -> dict:
    return asyncio.run(storm(phones, port, prefix, concurrency, **options)).summary()  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--prefix", default="", help="path before each file name (our server: 'KEY/')")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--blksize", type=int)
    parser.add_argument("--retransmit", type=float, default=1.0)
    parser.add_argument("--retries", type=int, default=5)
    args = parser.parse_args()
    phones = json.loads(args.phones.read_text())
    print(json.dumps(run(phones, args.port, args.prefix, args.concurrency, blksize=args.blksize,
                         retransmit=args.retransmit, retries=args.retries)))


if __name__ == "__main__":
    main()
