"""Config-fetch latency while the ticket worker is busy (issue: boot-storm performance).

For each run: a fresh database with one tenant, 5,000 "storm" phones and 200 "probe" phones
(all Yealink T21P), one `provisioner serve` (SNMP off). Three 5,000-phone storms follow, each
at 128 phones at once from a process of its own, while the 200 probe phones fetch their
config over and over (32 at a time) until the storm is over and `--tail` seconds more:

  quiet    the storm phones report the supported firmware: no finding, nothing for the
           ticket worker but its routine pass (the baseline)
  raise    they report an unsupported firmware: 5,000 findings, one incident takes them all
  recover  they report the supported firmware again: all 5,000 recover, the incident is
           resolved

The storms differ only in what they give the ticket worker: each one starts with the answer
caches emptied (config_version bumped, as any config change does), so every storm renders
its configs afresh. The incident's size after each phase shows that the worker finished its
work inside the measured window.

Prints p50/p99 of the probe per phase and run, the CPU the server (all its threads and
processes) and PostgreSQL (all its backends) used during each phase, the medians of `--runs` runs and the ratios
raise / quiet and recover / quiet.

    .venv/bin/python bench/intake_latency.py                 # SQLite, 3 runs
    .venv/bin/python bench/intake_latency.py --backend postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import multiprocessing
import multiprocessing.synchronize
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

sys.path.insert(0, str(Path(__file__).resolve().parent / "storm"))
from run import tree_cpu_seconds  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from provisioner.db.changes import bump_config_version  # noqa: E402
from provisioner.db.engine import session_factory  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PROVISIONER = str(Path(sys.executable).parent / "provisioner")
ADMIN_URL = os.environ.get("PROVISIONER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BAD, GOOD = 5000, 200
DEPARTMENTS = ["Ventas", "Bodega", "Gerencia"]


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


def tenant_with_phones(url: str, workdir: Path, phones: int) -> dict:
    """A tenant with `phones` T21P phones (MACs mac(0)..), one line each, loaded by the real
    CLI import; returns the tenant as `tenant create --json` prints it."""
    tenant = json.loads(cli(url, "tenant", "create", "Bench S.A.S.", "--sip-server", "pbx.example.net", "--json"))
    listing = workdir / "ext.csv"
    with listing.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["extension", "name", "department", "mac", "model", "line"])
        for i in range(phones):
            writer.writerow([str(100000 + i), f"Persona {i}", DEPARTMENTS[i % 3], mac(i), "T21P", "1"])
    cli(url, "import", "extensions", str(listing), "--tenant", tenant["slug"])
    return tenant


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


def incident_devices(url: str) -> tuple[int, int]:
    """(phones on the largest incident, of which still affected)."""
    rows = json.loads(cli(url, "tickets", "list", "--json", "--status", "all"))
    largest = max(rows, key=lambda r: len(r["devices"]), default=None)
    if largest is None:
        return 0, 0
    detail = json.loads(cli(url, "tickets", "show", str(largest["id"]), "--json"))
    devices = detail["affected_devices"]
    return len(devices), sum(1 for d in devices if d["recovered_at"] is None)


def _storm_process(base: str, key: str, firmware: str, done: "multiprocessing.synchronize.Event") -> None:
    """The storm in a process of its own: its client work must not delay the probe's."""
    asyncio.run(fetch_all(base, key, [(i, firmware) for i in range(BAD)], 128))
    done.set()


async def probe_until(base: str, key: str, done: "multiprocessing.synchronize.Event", tail: float) -> list[float]:
    """The compliant phones fetch their config over and over, 32 at a time, until the storm
    is over and `tail` seconds more (the ticket worker drains every 0.5 s)."""
    latencies: list[float] = []
    stop_at: list[float] = []

    async def lane(session: aiohttp.ClientSession, offset: int) -> None:
        index = offset
        while not stop_at or time.monotonic() < stop_at[0]:
            if done.is_set() and not stop_at:
                stop_at.append(time.monotonic() + tail)
            phone = BAD + index % GOOD
            started = time.perf_counter()
            async with session.get(f"{base}/prov/{key}/{mac(phone)}.cfg",
                                   headers={"User-Agent": ua(phone, "34.72.0.75")}) as r:
                await r.read()
                assert r.status == 200, r.status
            latencies.append(time.perf_counter() - started)
            index += 32

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as session:
        await asyncio.gather(*(lane(session, offset) for offset in range(32)))
    return latencies


def postmaster() -> int | None:
    """The PostgreSQL server's first process (its backends are its children), if running here."""
    found = subprocess.run(["pgrep", "-o", "-x", "postgres"], capture_output=True, text=True).stdout.split()
    return int(found[0]) if found else None


def measure(url: str, base: str, key: str, firmware: str, tail: float) -> list[float]:
    """Probe latencies during one 5,000-phone storm whose phones report `firmware`. The
    answer caches are emptied first (as any config change does), so that every phase's
    storm renders its configs afresh and differs from the others only in its findings."""
    engine = create_engine(url)
    with session_factory(engine).begin() as session:
        bump_config_version(session)
    engine.dispose()
    time.sleep(1)  # the server checks config_version every 0.25 s
    done = multiprocessing.get_context("spawn").Event()
    storm = multiprocessing.get_context("spawn").Process(target=_storm_process, args=(base, key, firmware, done))
    storm.start()
    try:
        return asyncio.run(probe_until(base, key, done, tail))
    finally:
        storm.join(timeout=120)


def one_run(backend: str, tail: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        url = database(backend, workdir)
        tenant = tenant_with_phones(url, workdir, BAD + GOOD)
        port = 18000 + os.getpid() % 1000
        env = {**os.environ, "PROVISIONER_DATABASE_URL": url, "PROVISIONER_HTTP_PORT": str(port),
               "PROVISIONER_TFTP_PORT": "-1", "PROVISIONER_SNMP_ENABLED": "0", "PROVISIONER_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen([PROVISIONER, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        result: dict[str, float] = {}
        try:
            for _ in range(100):
                try:
                    asyncio.run(fetch_all(base, tenant["key"], [(BAD, "34.72.0.75")], 1))
                    break
                except Exception:
                    time.sleep(0.1)
            asyncio.run(fetch_all(base, tenant["key"], [(i, "34.72.0.75") for i in range(BAD, BAD + GOOD)] * 5, 32))
            time.sleep(2)
            database_server = postmaster() if backend == "postgresql" else None
            for phase, firmware in (("quiet", "34.72.0.75"), ("raise", "34.72.0.60"), ("recover", "34.72.0.75")):
                cpu = tree_cpu_seconds(server.pid), tree_cpu_seconds(database_server) if database_server else 0.0
                latencies = measure(url, base, tenant["key"], firmware, tail)
                result[f"{phase}_server_cpu_s"] = tree_cpu_seconds(server.pid) - cpu[0]
                result[f"{phase}_db_cpu_s"] = (tree_cpu_seconds(database_server) - cpu[1]) if database_server else 0.0
                result[f"{phase}_p50_ms"] = percentile(latencies, 0.5) * 1000
                result[f"{phase}_p99_ms"] = percentile(latencies, 0.99) * 1000
                result[f"{phase}_fetches"] = len(latencies)
                on_incident, affected = incident_devices(url)
                result[f"{phase}_incident"] = on_incident
                result[f"{phase}_affected"] = affected
        finally:
            server.terminate()
            server.wait(timeout=60)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tail", type=float, default=2.0, help="seconds the probe goes on after each storm")
    args = parser.parse_args()
    runs = []
    for n in range(args.runs):
        result = one_run(args.backend, args.tail)
        runs.append(result)
        print(f"run {n + 1}: " + "  ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()), flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"median ({args.backend}, {args.runs} runs):")
    for phase in ("quiet", "raise", "recover"):
        print(f"  {phase:8} p50 {med[phase + '_p50_ms']:6.1f} ms  p99 {med[phase + '_p99_ms']:6.1f} ms  "
              f"({med[phase + '_fetches']:.0f} fetches; incident {med[phase + '_incident']:.0f} phones, "
              f"{med[phase + '_affected']:.0f} affected; CPU server {med[phase + '_server_cpu_s']:.2f} s, "
              f"PostgreSQL {med[phase + '_db_cpu_s']:.2f} s)")
    for phase in ("raise", "recover"):
        print(f"  {phase} / quiet: p50 {med[phase + '_p50_ms'] / med['quiet_p50_ms']:.2f}  "
              f"p99 {med[phase + '_p99_ms'] / med['quiet_p99_ms']:.2f}")


if __name__ == "__main__":
    main()
