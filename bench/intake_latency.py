"""Config-fetch latency while the ticket worker is busy (issue: auto-open device incidents).

For each run: a fresh database with one tenant, 5,000 phones on an unsupported firmware and
200 compliant phones; one `provisioner serve` (SNMP off). Two measurements, interleaved in
the same run and against the same server:

  idle  compliant phones fetch their config (concurrency 32) before any finding exists;
  busy  5,000 phones on the wrong firmware boot at once; as soon as every one has its
        config, the compliant phones fetch again while the ticket worker is still folding
        those 5,000 findings into the incident (checked: the incident is not complete when
        the busy measurement starts).

Prints p50/p99 per run and the medians of `--runs` runs, and the busy/idle ratio.

    .venv/bin/python bench/intake_latency.py                 # SQLite, 3 runs
    .venv/bin/python bench/intake_latency.py --backend postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PROVISIONER = str(Path(sys.executable).parent / "provisioner")
ADMIN_URL = os.environ.get("PROVISIONER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BAD, GOOD = 5000, 200


def mac(index: int) -> str:
    return f"00156b{index:06x}"


def cli(url: str, *args: str) -> str:
    env = {**os.environ, "PROVISIONER_DATABASE_URL": url}
    return subprocess.run([PROVISIONER, *args], env=env, check=True, capture_output=True, text=True).stdout


def database(backend: str, workdir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def ua(index: int, firmware: str) -> str:
    m = mac(index)
    return f"Yealink SIP-T21P {firmware} " + ":".join(m[i : i + 2] for i in range(0, 12, 2))


async def fetch_all(base: str, key: str, phones: list[tuple[int, str]], concurrency: int) -> list[float]:
    latencies: list[float] = []
    limit = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def one(index: int, firmware: str) -> None:
            async with limit:
                started = time.perf_counter()
                async with session.get(f"{base}/prov/{key}/{mac(index)}.cfg", headers={"User-Agent": ua(index, firmware)}) as r:
                    await r.read()
                    assert r.status == 200, r.status
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(one(i, fw) for i, fw in phones))
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def incident_devices(url: str) -> int:
    rows = json.loads(cli(url, "tickets", "list", "--json"))
    return max((len(r["devices"]) for r in rows), default=0)


def one_run(backend: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        url = database(backend, workdir)
        tenant = json.loads(cli(url, "tenant", "create", "Bench S.A.S.", "--sip-server", "pbx.example.net", "--json"))
        listing = workdir / "ext.csv"
        with listing.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["extension", "name", "department", "mac", "model", "line"])
            for i in range(BAD + GOOD):
                writer.writerow([str(100000 + i), f"Persona {i}", ["Ventas", "Bodega", "Gerencia"][i % 3], mac(i), "T21P", "1"])
        cli(url, "import", "extensions", str(listing), "--tenant", tenant["slug"])
        port = 18000 + os.getpid() % 1000
        env = {**os.environ, "PROVISIONER_DATABASE_URL": url, "PROVISIONER_HTTP_PORT": str(port),
               "PROVISIONER_TFTP_PORT": "-1", "PROVISIONER_SNMP_ENABLED": "0", "PROVISIONER_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen([PROVISIONER, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    asyncio.run(fetch_all(base, tenant["key"], [(BAD, "34.72.0.75")], 1))
                    break
                except Exception:
                    time.sleep(0.1)
            good = [(i, "34.72.0.75") for i in range(BAD, BAD + GOOD)] * 5
            asyncio.run(fetch_all(base, tenant["key"], good, 32))  # warm caches
            time.sleep(2)  # let the warm-up's sightings be written: idle means idle
            idle = asyncio.run(fetch_all(base, tenant["key"], good, 32))
            asyncio.run(fetch_all(base, tenant["key"], [(i, "34.72.0.60") for i in range(BAD)], 128))
            before = incident_devices(url)
            busy = asyncio.run(fetch_all(base, tenant["key"], good, 32))
            after = incident_devices(url)
        finally:
            server.terminate()
            server.wait(timeout=60)
        return {
            "idle_p50_ms": percentile(idle, 0.5) * 1000, "idle_p99_ms": percentile(idle, 0.99) * 1000,
            "busy_p50_ms": percentile(busy, 0.5) * 1000, "busy_p99_ms": percentile(busy, 0.99) * 1000,
            "incident_devices_before": before, "incident_devices_after": after,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for n in range(args.runs):
        result = one_run(args.backend)
        runs.append(result)
        print(f"run {n + 1}: " + "  ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()), flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"median ({args.backend}, {args.runs} runs): idle p50 {med['idle_p50_ms']:.1f} ms p99 {med['idle_p99_ms']:.1f} ms; "
          f"busy p50 {med['busy_p50_ms']:.1f} ms p99 {med['busy_p99_ms']:.1f} ms; "
          f"ratio p50 {med['busy_p50_ms'] / med['idle_p50_ms']:.2f} p99 {med['busy_p99_ms'] / med['idle_p99_ms']:.2f}")


if __name__ == "__main__":
    main()
