"""HTTP boot storm: every phone boots in its real file order over its own keep-alive
connection, from its own 127.x.y.z source address, `--concurrency` phones at once.

A request counts as served when the status is the one the phone must get (200 for its
configs, 404 for files we do not serve, e.g. a Polycom .sip.ld without an image); anything
else, a reset, or no answer within `--timeout` is a failure (and ends that phone's boot).

    .venv/bin/python bench/storm/http_storm.py --phones /tmp/storm/phones.json \
        --url http://127.0.0.1:8080/prov/KEY/ --concurrency 256
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


def source_address(index: int) -> str:
    """A distinct loopback address per phone (127.10.0.1 upwards, never .0 or .255)."""
    return f"127.{10 + index // 62500}.{(index // 250) % 250 + 1}.{index % 250 + 1}"


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class StormResult:
    phones: int = 0
    requests: int = 0
    configs: int = 0  # 200 answers
    failures: int = 0
    failed_boots: int = 0
    bytes: int = 0
    seconds: float = 0.0
    client_cpu: float = 0.0  # CPU seconds this client process used (near `seconds`: the client is the limit)
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, float | int | dict[str, int]]:
        return {
            "phones": self.phones, "requests": self.requests, "configs": self.configs,
            "configs_per_s": round(self.configs / self.seconds, 1) if self.seconds else 0.0,
            "requests_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(self.latencies, 0.50) * 1000, 2),
            "p99_ms": round(percentile(self.latencies, 0.99) * 1000, 2),
            "failures": self.failures, "failed_boots": self.failed_boots,
            "seconds": round(self.seconds, 2), "client_cpu_share": round(self.client_cpu / self.seconds, 2) if self.seconds else 0.0, "errors": self.errors,
        }

    def fail(self, kind: str) -> None:
        self.failures += 1
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep-alive) of one HTTP/1.1 response with a Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, keep = 0, True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            keep = False
    body = await reader.readexactly(length) if length else b""
    return status, body, keep


async def boot_phone(phone: dict, host: str, port: int, prefix: str, result: StormResult, timeout: float) -> None:
    """One phone: connect from its own address, ask for its files in order (one deadline per
    request, `timeout` seconds), stop at the first wrong answer."""
    source = source_address(phone["index"])
    writer = None
    ok = True
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
        for name, user_agent, must_serve in phone["files"]:
            request = (f"GET {prefix}{name} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: {user_agent}\r\n"
                       "Accept: */*\r\n\r\n").encode()
            started = time.perf_counter()
            writer.write(request)
            async with asyncio.timeout(timeout):
                status, body, keep = await read_response(reader)
            result.latencies.append(time.perf_counter() - started)
            result.requests += 1
            if status != (200 if must_serve else 404):
                result.fail(f"status {status}")
                ok = False
                break
            if status == 200:
                result.configs += 1
                result.bytes += len(body)
            if not keep:
                writer.close()
                async with asyncio.timeout(timeout):
                    reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
        result.fail(type(exc).__name__)
        ok = False
    finally:
        if writer is not None:
            writer.close()
    result.phones += 1
    result.failed_boots += not ok


async def storm(phones: list[dict], url: str, concurrency: int, timeout: float = 10.0) -> StormResult:
    parts = urlsplit(url)
    host, port, prefix = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    result = StormResult()
    queue = iter(phones)

    async def lane() -> None:  # one lane = one phone at a time; `concurrency` lanes at once
        for phone in queue:
            await boot_phone(phone, host, port, prefix, result, timeout)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    result.client_cpu = time.process_time() - cpu
    return result


def run(phones: list[dict], url: str, concurrency: int, timeout: float = 10.0) -> dict:
    return asyncio.run(storm(phones, url, concurrency, timeout)).summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=Path, required=True, help="phones.json from devices.py")
    parser.add_argument("--url", required=True, help="base URL the file names are appended to")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    print(json.dumps(run(json.loads(args.phones.read_text()), args.url, args.concurrency, args.timeout)))


if __name__ == "__main__":
    main()
