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
import struct
import time
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


class _Inbox(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait((data, addr))

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable: let the timeout decide
        pass


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


async def fetch(name: str, source: str, server: tuple[str, int], blksize: int | None, retransmit: float,
                retries: int, result: TftpResult) -> bytes | str:
    """The file's bytes, or why not ("error N", "timeout")."""
    loop = asyncio.get_running_loop()
    transport, inbox = await loop.create_datagram_endpoint(_Inbox, local_addr=(source, 0))
    try:
        peer, size, expected, body = server, 512, 1, bytearray()
        last = rrq(name, blksize)
        transport.sendto(last, peer)
        tries = 0
        while True:
            try:
                data, addr = await asyncio.wait_for(inbox.queue.get(), retransmit)
            except asyncio.TimeoutError:
                tries += 1
                if tries > retries:
                    return "timeout"
                result.retransmits += 1
                transport.sendto(last, peer)
                continue
            if peer is server:
                peer = addr  # the server's transfer id (its new port)
            elif addr != peer:
                transport.sendto(struct.pack("!HH", ERROR, 5) + b"unknown transfer id\x00", addr)
                continue
            opcode = struct.unpack_from("!H", data)[0]
            if opcode == ERROR:
                return f"error {struct.unpack_from('!H', data, 2)[0]}"
            if opcode == OACK and expected == 1:
                size = int(oack_options(data).get("blksize", 512))
                last = ack(0)
            elif opcode == DATA:
                block = struct.unpack_from("!H", data, 2)[0]
                if block == expected & 0xFFFF:
                    body += data[4:]
                    last = ack(block)
                    expected += 1
                    if len(data) - 4 < size:
                        transport.sendto(last, peer)
                        return bytes(body)
                elif block != (expected - 1) & 0xFFFF:
                    continue  # neither the next block nor a duplicate of the last one
            else:
                continue
            tries = 0
            transport.sendto(last, peer)
    finally:
        transport.close()


async def boot_phone(phone: dict, server: tuple[str, int], prefix: str, blksize: int | None, retransmit: float,
                     retries: int, result: TftpResult) -> None:
    source, ok = source_address(phone["index"]), True
    for name, _user_agent, must_serve in phone["files"]:
        started = time.perf_counter()
        try:
            outcome = await fetch(prefix + name, source, server, blksize, retransmit, retries, result)
        except OSError as exc:
            outcome = type(exc).__name__
        result.latencies.append(time.perf_counter() - started)
        if isinstance(outcome, bytes) and must_serve:
            result.files += 1
            result.bytes += len(outcome)
        elif outcome == "error 1" and not must_serve:
            result.not_found += 1
        else:
            result.fail(outcome if isinstance(outcome, str) else "served a file that must not be")
            ok = False
            if must_serve:
                break
    result.phones += 1
    result.failed_boots += not ok


async def storm(phones: list[dict], port: int, prefix: str, concurrency: int, *, host: str = "127.0.0.1",
                blksize: int | None = None, retransmit: float = 1.0, retries: int = 5) -> TftpResult:
    result, queue = TftpResult(), iter(phones)

    async def lane() -> None:
        for phone in queue:
            await boot_phone(phone, (host, port), prefix, blksize, retransmit, retries, result)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
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
