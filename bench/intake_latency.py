"""Config-fetch latency while the ticket worker is busy (issue: boot-storm performance).

For each run: a fresh database with one tenant, 5,000 "storm" phones and 200 "probe" phones
(all Yealink T21P), one `provisioner serve` (SNMP off). Four 5,000-phone storms follow, each
at 128 phones at once from a process of its own, while the 200 probe phones fetch their
config for `--window` seconds from the storm's start. The storm and the writing of the
tickets it raised (watched in the database over one connection) must both end inside that
window, else the run fails: every phase is measured over the same stretch of time, and the
whole of the ticket worker's work is inside it, however late it starts.

The probe is an open loop by default: `--probe-rate` fetches a second (2,000), each due at
its time whether or not earlier ones have answered, its latency counted from when it was
due, so a stall of the server shows in full (a closed loop sends less while the server
stalls and hides it). `--probe-rate 0` is the closed loop of earlier sessions, 32 fetches
at a time over and over, which keeps both cores saturated: there any CPU the ticket work
takes shows as latency. The probe's own garbage collector is off during the window (its
pauses would count as server latency), and the storm process stays until the window is
over (its exit is then outside every phase's window).

  quiet    the storm phones report the supported firmware: no finding, nothing for the
           ticket worker but its routine pass (the baseline)
  raise    they report an unsupported firmware: 5,000 findings, one incident takes them all
  recover  they report the supported firmware again: all 5,000 recover, the incident is
           resolved
  control  the same again: nothing left for the ticket worker. The phases always run in
           this order while the database and the server's heap grow; what the control
           differs from quiet by is that drift, not ticket work

The storms differ only in what they give the ticket worker: each one starts with the answer
caches emptied (config_version bumped, as any config change does), so every storm renders
its configs afresh.

Prints per phase and run: p50/p99 of the probe over the whole window, p99 of the fetches
started during the storm and after its last phone (when a worker held back by the wave
writes), how long the storm took and how long after it the tickets were written, and the
CPU the server (all its threads and processes) and PostgreSQL (all its backends) used; then
the medians of `--runs` runs, the ratios to quiet, and each run's after-the-storm p99 (the
spread between runs is the noise to judge a ratio by), also counted from 0.2 s after the
storm's last phone ("past its tail": the storm's own last answers and connection closes
delay the probe for up to ~0.1 s in every phase, and one such tail can make a run's p99).
`--timeline DIR` writes every probe fetch as CSV (due time from the storm's end, latency),
to see when the slow ones happen.

    .venv/bin/python bench/intake_latency.py                 # SQLite, 3 runs
    .venv/bin/python bench/intake_latency.py --backend postgresql
    .venv/bin/python bench/intake_latency.py --backend postgresql --probe-rate 0      # saturating closed loop
    .venv/bin/python bench/intake_latency.py --backend postgresql --intake-process 0 --max-hold 0   # session 4's design
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import json
import multiprocessing
import multiprocessing.sharedctypes
import multiprocessing.synchronize
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import StaticPool

sys.path.insert(0, str(Path(__file__).resolve().parent / "storm"))
from run import tree_cpu_seconds  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from provisioner.db.changes import bump_config_version  # noqa: E402
from provisioner.db.engine import session_factory  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PROVISIONER = str(Path(sys.executable).parent / "provisioner")
ADMIN_URL = os.environ.get("PROVISIONER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BAD, GOOD = 5000, 200
# (phase, firmware the storm phones report, (phones on the incident, still affected) once written)
PHASES = (("quiet", "34.72.0.75", (0, 0)), ("raise", "34.72.0.60", (BAD, BAD)), ("recover", "34.72.0.75", (BAD, 0)),
          ("control", "34.72.0.75", (BAD, 0)))
DEPARTMENTS = ["Ventas", "Bodega", "Gerencia"]
# The storm's last answers and 128 connection closes reach the probe for up to ~0.1 s
# after its last phone, in every phase: "past the tail" starts after that.
STORM_TAIL = 0.2


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


def ticket_state(engine: Engine) -> tuple[int, int]:
    """(phones on the incident, of which still affected): this bench's tenant has one at most."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT count(*), coalesce(sum(CASE WHEN recovered_at IS NULL THEN 1 ELSE 0 END), 0) FROM sl_affected_device"
        )).one()
    return int(row[0]), int(row[1])


def _storm_process(base: str, key: str, firmware: str, url: str, expected: tuple[int, int],
                   storm_start: "multiprocessing.sharedctypes.Synchronized[float]",
                   storm_end: "multiprocessing.sharedctypes.Synchronized[float]",
                   work_done: "multiprocessing.sharedctypes.Synchronized[float]", until: float) -> None:
    """The storm in a process of its own (its client work must not delay the probe's); then
    it watches the database until the ticket worker has written the storm's tickets, and
    stays until `until` (its exit costs CPU: at the same time in every phase, after the window)."""
    storm_start.value = time.monotonic()
    asyncio.run(fetch_all(base, key, [(i, firmware) for i in range(BAD)], 128))
    storm_end.value = time.monotonic()
    engine = create_engine(url, poolclass=StaticPool)  # one connection: the watching must not load the machine
    try:
        deadline = time.monotonic() + 120
        while ticket_state(engine) != expected and time.monotonic() < deadline:
            time.sleep(0.1)
        if ticket_state(engine) == expected:
            work_done.value = time.monotonic()
    finally:
        engine.dispose()
    time.sleep(max(0.0, until - time.monotonic()))


async def _probe_fetch(session: aiohttp.ClientSession, base: str, key: str, n: int) -> None:
    """The n-th probe fetch: compliant phone BAD + n % GOOD asks for its own file."""
    phone = BAD + n % GOOD
    async with session.get(f"{base}/prov/{key}/{mac(phone)}.cfg", headers={"User-Agent": ua(phone, "34.72.0.75")}) as r:
        await r.read()
        assert r.status == 200, r.status


async def probe_for(base: str, key: str, seconds: float, rate: float) -> list[tuple[float, float]]:
    """The compliant phones fetch their config for `seconds`: at `rate` fetches a second (an
    open loop: each fetch is due at its time, whether or not earlier ones have answered,
    and its latency counts from when it was due), or with `rate` 0 over and over, 32 at a
    time (a closed loop that keeps the server saturated). Returns (start, latency) pairs."""
    if rate <= 0:
        return await _saturating_probe(base, key, seconds)
    latencies: list[tuple[float, float]] = []
    start = time.monotonic()
    count = int(seconds * rate)

    async def one(session: aiohttp.ClientSession, n: int, due: float) -> None:
        await _probe_fetch(session, base, key, n)
        latencies.append((due, time.monotonic() - due))

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:
        running: set[asyncio.Task[None]] = set()
        sent = 0
        while sent < count:
            now = time.monotonic()
            while sent < count and start + sent / rate <= now:
                task = asyncio.create_task(one(session, sent, start + sent / rate))
                running.add(task)
                task.add_done_callback(running.discard)
                sent += 1
            await asyncio.sleep(0.001)
        await asyncio.gather(*running)
    return latencies


async def _saturating_probe(base: str, key: str, seconds: float) -> list[tuple[float, float]]:
    latencies: list[tuple[float, float]] = []
    stop_at = time.monotonic() + seconds

    async def lane(session: aiohttp.ClientSession, offset: int) -> None:
        index = offset
        while time.monotonic() < stop_at:
            started = time.monotonic()
            await _probe_fetch(session, base, key, index)
            latencies.append((started, time.monotonic() - started))
            index += 32

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as session:
        await asyncio.gather(*(lane(session, offset) for offset in range(32)))
    return latencies


def postmaster() -> int | None:
    """The PostgreSQL server's first process (its backends are its children), if running here."""
    found = subprocess.run(["pgrep", "-o", "-x", "postgres"], capture_output=True, text=True).stdout.split()
    return int(found[0]) if found else None


@dataclass
class Phase:
    latencies: list[tuple[float, float]]  # (started, seconds) of each probe fetch
    storm_start: float
    storm_end: float
    work_done: float  # when the incident showed the storm's tickets written (0: never)
    window_end: float


def measure(url: str, base: str, key: str, firmware: str, expected: tuple[int, int], window: float,
            rate: float) -> Phase:
    """Probe latencies for `window` seconds from the start of a 5,000-phone storm whose phones
    report `firmware`; `expected` is the incident once the ticket worker has written what the
    storm raised. The answer caches are emptied first (as any config change does), so that
    every phase's storm renders its configs afresh and differs from the others only in its
    findings."""
    engine = create_engine(url)
    with session_factory(engine).begin() as session:
        bump_config_version(session)
    engine.dispose()
    time.sleep(1)  # the server checks config_version every 0.25 s
    context = multiprocessing.get_context("spawn")
    storm_start, storm_end, work_done = context.Value("d", 0.0), context.Value("d", 0.0), context.Value("d", 0.0)
    storm = context.Process(target=_storm_process,
                            args=(base, key, firmware, url, expected, storm_start, storm_end, work_done,
                                  time.monotonic() + window + 1))
    storm.start()
    gc.disable()  # the probe measures the server: a pause of its own collector would count as latency
    try:
        latencies = asyncio.run(probe_for(base, key, window, rate))
        window_end = time.monotonic()
    finally:
        gc.enable()
        storm.join(timeout=180)
    return Phase(latencies, storm_start.value, storm_end.value, work_done.value, window_end)


def write_timeline(folder: Path, phase: str, measured: Phase) -> None:
    """Every probe fetch of the phase as a CSV row (due time and latency, in ms from the
    storm's end; ticket work ends at `work_done`), to see when the slow fetches happen."""
    folder.mkdir(parents=True, exist_ok=True)
    name = folder / f"{phase}-{len(list(folder.glob(phase + '-*.csv'))) + 1}.csv"
    with name.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["due_ms_from_storm_end", "latency_ms", "work_done_ms_from_storm_end", "storm_end_monotonic_s"])
        done = (measured.work_done - measured.storm_end) * 1000
        for started, seconds in measured.latencies:
            writer.writerow([f"{(started - measured.storm_end) * 1000:.1f}", f"{seconds * 1000:.2f}", f"{done:.0f}", f"{measured.storm_end:.4f}"])


def one_run(backend: str, window: float, rate: float, server_env: dict[str, str], timeline: Path | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        url = database(backend, workdir)
        tenant = tenant_with_phones(url, workdir, BAD + GOOD)
        port = 18000 + os.getpid() % 1000
        env = {**os.environ, "PROVISIONER_DATABASE_URL": url, "PROVISIONER_HTTP_PORT": str(port),
               "PROVISIONER_TFTP_PORT": "-1", "PROVISIONER_SNMP_ENABLED": "0", "PROVISIONER_LOG_LEVEL": "WARNING",
               **server_env}
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
            for phase, firmware, expected in PHASES:
                cpu = tree_cpu_seconds(server.pid), tree_cpu_seconds(database_server) if database_server else 0.0
                measured = measure(url, base, tenant["key"], firmware, expected, window, rate)
                result[f"{phase}_server_cpu_s"] = tree_cpu_seconds(server.pid) - cpu[0]
                result[f"{phase}_db_cpu_s"] = (tree_cpu_seconds(database_server) - cpu[1]) if database_server else 0.0
                if not measured.storm_end or not measured.work_done or measured.work_done > measured.window_end:
                    raise SystemExit(f"{phase}: the storm or its tickets did not finish inside the {window} s window")
                if timeline is not None:
                    write_timeline(timeline, phase, measured)
                latencies = [seconds for _, seconds in measured.latencies]
                during = [seconds for started, seconds in measured.latencies if started < measured.storm_end]
                after = [seconds for started, seconds in measured.latencies if started >= measured.storm_end]
                past_tail = [seconds for started, seconds in measured.latencies if started >= measured.storm_end + STORM_TAIL]
                result[f"{phase}_p50_ms"] = percentile(latencies, 0.5) * 1000
                result[f"{phase}_p99_ms"] = percentile(latencies, 0.99) * 1000
                result[f"{phase}_fetches"] = len(latencies)
                result[f"{phase}_storm_p99_ms"] = percentile(during, 0.99) * 1000
                result[f"{phase}_after_p99_ms"] = percentile(after, 0.99) * 1000
                result[f"{phase}_past_tail_p99_ms"] = percentile(past_tail, 0.99) * 1000
                result[f"{phase}_storm_s"] = measured.storm_end - measured.storm_start
                result[f"{phase}_work_after_storm_s"] = measured.work_done - measured.storm_end
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
    parser.add_argument("--window", type=float, default=12.0,
                        help="seconds the probe runs from each storm's start (the storm and its tickets must end inside it)")
    parser.add_argument("--probe-rate", type=float, default=2000,
                        help="probe fetches a second (open loop); 0: 32 at a time, over and over (saturates the server)")
    parser.add_argument("--intake-process", choices=["0", "1"], help="the server's PROVISIONER_INTAKE_PROCESS (default: its own)")
    parser.add_argument("--max-hold", help="the server's PROVISIONER_INTAKE_MAX_HOLD_SECONDS (default: its own)")
    parser.add_argument("--timeline", type=Path, help="write every probe fetch of each phase and run as CSV into this folder")
    args = parser.parse_args()
    server_env = {name: value for name, value in (("PROVISIONER_INTAKE_PROCESS", args.intake_process),
                                                  ("PROVISIONER_INTAKE_MAX_HOLD_SECONDS", args.max_hold)) if value is not None}
    runs = []
    for n in range(args.runs):
        result = one_run(args.backend, args.window, args.probe_rate, server_env, args.timeline)
        runs.append(result)
        print(f"run {n + 1}: " + "  ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()), flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"median ({args.backend}, {args.runs} runs, server {server_env or 'defaults'}):")
    for phase, _, _ in PHASES:
        print(f"  {phase:8} p50 {med[phase + '_p50_ms']:6.1f} ms  p99 {med[phase + '_p99_ms']:6.1f} ms  "
              f"p99 during / after the storm {med[phase + '_storm_p99_ms']:6.1f} / {med[phase + '_after_p99_ms']:5.1f} ms  "
              f"(storm {med[phase + '_storm_s']:.1f} s, tickets written {med[phase + '_work_after_storm_s']:.1f} s after it; {med[phase + '_fetches']:.0f} fetches; "
              f"incident {med[phase + '_incident']:.0f} phones, {med[phase + '_affected']:.0f} affected; "
              f"CPU server {med[phase + '_server_cpu_s']:.2f} s, PostgreSQL {med[phase + '_db_cpu_s']:.2f} s)")
    for phase, _, _ in PHASES:
        print(f"  {phase:8} p99 after the storm, run by run: " + ", ".join(f"{r[phase + '_after_p99_ms']:.1f}" for r in runs) + " ms; "
              "past its tail: " + ", ".join(f"{r[phase + '_past_tail_p99_ms']:.1f}" for r in runs) + " ms")
    for phase in ("raise", "recover", "control"):
        print(f"  {phase} / quiet: p50 {med[phase + '_p50_ms'] / med['quiet_p50_ms']:.2f}  "
              f"p99 {med[phase + '_p99_ms'] / med['quiet_p99_ms']:.2f}  "
              f"p99 during the storm {med[phase + '_storm_p99_ms'] / med['quiet_storm_p99_ms']:.2f}  "
              f"p99 after it {med[phase + '_after_p99_ms'] / med['quiet_after_p99_ms']:.2f}  "
              f"p99 past its tail {med[phase + '_past_tail_p99_ms'] / med['quiet_past_tail_p99_ms']:.2f}")


if __name__ == "__main__":
    main()
