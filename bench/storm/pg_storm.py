"""10,000 phones against two server processes sharing one PostgreSQL database, one command.

The production shape: two independent `provisioner serve` processes behind a load balancer,
one database. This bench

  1. creates a fresh database storm_<pid> on `--pg-url` (dropped at the end, also on failure),
  2. loads `--devices` phones (devices.py) with the real CLI (`provisioner import extensions`),
  3. starts two `provisioner serve` (own HTTP port each, TFTP and SNMP off, log level WARNING),
  4. boots every phone once over HTTP in its real file order (http_storm.py), the first half of
     the phones against server A and the second half against server B, both storms at once from
     two client processes, `--concurrency` phones at once *per server*, each phone from its own
     127.x.y.z address,
  5. polls count(*) of `sighting` until it stops moving (how long the sighting writers take to
     drain after the storm), then stops both servers with SIGTERM (a clean shutdown flushes
     what is still pending),
  6. checks the database: one `sighting` row per request the clients made (200 and 404 alike;
     service.fetch records every request for a known tenant), per server (by source address),
     one `phone_state` row per distinct MAC seen, and no request errors.

    .venv/bin/python bench/storm/pg_storm.py                       # 10,000 phones, 128 per server at once
    .venv/bin/python bench/storm/pg_storm.py --devices 1000 --concurrency 64
    .venv/bin/python bench/storm/pg_storm.py --pg-url postgresql+psycopg://postgres@db.example:5432

Exit status 0 when every request succeeded and was recorded, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import devices  # noqa: E402
import http_storm  # noqa: E402
import references  # noqa: E402
import run as storm  # noqa: E402  (cli, load_extensions, start_ours, stop_ours, fmt)

SERVERS = ("A", "B")


def create_database(base_url: str, name: str) -> str:
    """CREATE DATABASE name on the server of base_url; returns the URL of the new database."""
    url = make_url(base_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(base_url: str, name: str) -> None:
    admin = create_engine(make_url(base_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())


def transactions(engine: Engine) -> tuple[int, int]:
    """(commits, rollbacks) on this database so far (pg_stat_database; may lag by about a second).
    A pooled connection that only read ends in a rollback, so lookups count there."""
    with engine.connect() as connection:
        row = connection.execute(text("SELECT xact_commit, xact_rollback FROM pg_stat_database "
                                      "WHERE datname = current_database()")).one()
        return int(row[0]), int(row[1])


def wait_for_drain(engine: Engine, settle: float, poll: float = 0.05) -> tuple[int, float]:
    """Poll count(*) of sighting until it has not moved for `settle` seconds.
    Returns (count, seconds from the call until the last change)."""
    started = time.perf_counter()
    last = count(engine, "SELECT count(*) FROM sighting")
    changed = started
    while time.perf_counter() - changed < settle:
        time.sleep(poll)
        now = count(engine, "SELECT count(*) FROM sighting")
        if now != last:
            last, changed = now, time.perf_counter()
    return last, changed - started


def storm_both(halves: dict[str, list[dict]], bases: dict[str, str], concurrency: int, timeout: float) -> dict[str, dict]:
    """Both HTTP storms at once, one client process each (one asyncio client per server)."""
    with ProcessPoolExecutor(len(halves), mp_context=multiprocessing.get_context("spawn")) as pool:
        # Start the client processes (and their imports) before the clock does.
        list(pool.map(http_storm.source_address, range(4 * len(halves))))
        futures = {name: pool.submit(http_storm.run, halves[name], bases[name], concurrency, timeout) for name in halves}
        return {name: future.result() for name, future in futures.items()}


def database_figures(engine: Engine, server_of_ip: dict[str, str]) -> dict:
    with engine.connect() as connection:
        per_ip = connection.execute(text("SELECT source_ip, count(*), count(*) FILTER (WHERE served) FROM sighting GROUP BY source_ip")).all()
        figures = {
            "sightings": count(engine, "SELECT count(*) FROM sighting"),
            "served": count(engine, "SELECT count(*) FROM sighting WHERE served"),
            "sighting_macs": count(engine, "SELECT count(DISTINCT mac) FROM sighting WHERE mac IS NOT NULL"),
            "phone_state": count(engine, "SELECT count(*) FROM phone_state"),
            "phone_state_macs": count(engine, "SELECT count(DISTINCT (tenant_id, mac)) FROM phone_state"),
            "unmatched_state": count(engine, "SELECT count(*) FROM phone_state p WHERE NOT EXISTS "
                                             "(SELECT 1 FROM sighting s WHERE s.tenant_id = p.tenant_id AND s.mac = p.mac)"),
        }
        try:  # the support_link tables (ticket intake); absent when the intake is not installed
            figures["tickets"] = dict(connection.execute(text("SELECT status, count(*) FROM sl_ticket GROUP BY status")).all())
        except Exception:
            figures["tickets"] = {}
    split = {name: {"sightings": 0, "served": 0} for name in (*SERVERS, "other")}
    for ip, rows, served in per_ip:
        side = split[server_of_ip.get(ip, "other")]
        side["sightings"] += rows
        side["served"] += served
    figures["split"] = split
    return figures


def assign(phones: list[dict], spread: bool) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """The phones each server gets, and which server each source address talks to.

    By default a phone talks to one server (a load balancer with sticky sources): the first half
    of the phones to A, the second to B (both halves cycle over every model). With `spread`, each
    phone's files alternate between A and B (a balancer per connection, a phone that reconnects
    per file), so both servers' sighting writers fold the same MAC into phone_state at once; the
    order of a phone's files across the two servers is then not kept, and the per-server split
    of the sightings cannot be told from the source address."""
    if spread:
        halves = {"A": [{**p, "files": p["files"][0::2]} for p in phones],
                  "B": [{**p, "files": p["files"][1::2]} for p in phones if p["files"][1::2]]}
        return halves, {}
    half = len(phones) // 2
    halves = {"A": phones[:half], "B": phones[half:]}
    return halves, {http_storm.source_address(p["index"]): side for side, group in halves.items() for p in group}


def log_trouble(log: Path, tail: int = 30) -> tuple[int, list[str]]:
    """(number of ERROR/Traceback lines, the last `tail` lines) of a server's log."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    bad = sum(1 for line in lines if " ERROR " in line or line.startswith("Traceback") or " CRITICAL " in line)
    return bad, lines[-tail:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=128, help="phones at once per server (both servers: twice this)")
    parser.add_argument("--runs", type=int, default=1, help="storms per database (each phone boots once per run)")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432",
                        help="PostgreSQL server; the bench creates and drops its own database there")
    parser.add_argument("--timeout", type=float, default=10.0, help="client deadline per request, seconds")
    parser.add_argument("--settle", type=float, default=3.0, help="count(*) unchanged this long = writers drained")
    parser.add_argument("--spread", action="store_true",
                        help="alternate each phone's files between the two servers (same MAC on both at once)")
    parser.add_argument("--keep", action="store_true", help="keep the database and temp dir (for a post-mortem)")
    args = parser.parse_args()

    name = f"storm_{os.getpid()}"
    folder = Path(tempfile.mkdtemp(prefix="pg-storm-"))
    os.chmod(folder, 0o755)
    servers: dict[str, object] = {}
    ok = False
    try:
        url = create_database(args.pg_url, name)
        print(f"database {name} on {make_url(args.pg_url).render_as_string()}; logs in {folder}", flush=True)
        listing, boots = devices.write(devices.storm_phones(args.devices), folder)
        phones = json.loads(boots.read_text())
        tenant = json.loads(storm.cli(url, "tenant", "create", "Tormenta S.A.S.", "--sip-server", "pbx.example.net", "--json"))
        started = time.perf_counter()
        how = storm.load_extensions(url, tenant["slug"], listing)
        print(f"{args.devices} devices, {sum(p['lines'] for p in phones)} extensions loaded by {how} "
              f"in {time.perf_counter() - started:.1f} s", flush=True)

        halves, server_of_ip = assign(phones, args.spread)
        ports = {side: references.free_port() for side in SERVERS}
        for side in SERVERS:
            (folder / side).mkdir()
            servers[side] = storm.start_ours(url, ports[side], -1, 1, folder / side)
        bases = {side: f"http://127.0.0.1:{ports[side]}/prov/{tenant['key']}/" for side in SERVERS}
        engine = create_engine(url)
        ok = storm_runs(args, engine, halves, bases, server_of_ip, servers, folder)
        engine.dispose()
    finally:
        for process in servers.values():
            storm.stop_ours(process)  # no-op when already stopped
        if args.keep:
            print(f"kept database {name} and {folder}")
        else:
            drop_database(args.pg_url, name)
            for path in sorted(folder.rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()
            folder.rmdir()
    return 0 if ok else 1


def storm_runs(args, engine, halves, bases, server_of_ip, servers, folder: Path) -> bool:
    phones = len({p["index"] for group in halves.values() for p in group})
    totals = {"requests": 0, "configs": 0, "failures": 0, "split": {side: 0 for side in SERVERS}}
    for run in range(1, args.runs + 1):
        commits = transactions(engine)
        results = storm_both(halves, bases, args.concurrency, args.timeout)
        wall = max(r["seconds"] for r in results.values())  # the two storms start together
        for side, result in results.items():
            print(f"run {run} server {side} {len(halves[side]):>6} phones {result['requests']:>7} requests "
                  f"{storm.fmt(result, 'configs_per_s')}", flush=True)
            totals["requests"] += result["requests"]
            totals["configs"] += result["configs"]
            totals["failures"] += result["failures"]
            totals["split"][side] += result["requests"]
        configs = sum(r["configs"] for r in results.values())
        print(f"run {run} both     {phones:>6} phones {sum(r['requests'] for r in results.values()):>7} requests "
              f"{configs / wall:>9,.0f}/s overall in {wall:.1f} s (2 x {args.concurrency} phones at once)", flush=True)
        drained, drain_s = wait_for_drain(engine, args.settle)
        print(f"run {run} sighting writers: {drained} rows in the database {drain_s:.2f} s after the storm "
              f"(clients counted {totals['requests']} requests so far)", flush=True)
        time.sleep(1)  # let the servers' sessions report their statistics
        run_requests = sum(r["requests"] for r in results.values())
        (c0, r0), (c1, r1) = commits, transactions(engine)
        print(f"run {run} database, per request (both servers): {(c1 - c0) / run_requests:.2f} commits "
              f"(sighting batches, ticket intake), {(r1 - r0) / run_requests:.2f} rollbacks (read-only lookups)", flush=True)

    before_stop = count(engine, "SELECT count(*) FROM sighting")
    started = time.perf_counter()
    for process in servers.values():
        storm.stop_ours(process)  # SIGTERM: each server flushes its pending sightings
    stop_s = time.perf_counter() - started
    exits = {side: process.returncode for side, process in servers.items()}
    db = database_figures(engine, server_of_ip)
    print(f"SIGTERM both: stopped in {stop_s:.1f} s (exit codes {exits}); "
          f"{db['sightings'] - before_stop} sightings written at shutdown")

    print(f"\n{'':<8} {'requests':>9} {'sightings':>9} {'200s':>7} {'served':>7}")
    for side in SERVERS:
        mine = db["split"][side] if server_of_ip else {"sightings": "-", "served": "-"}
        print(f"{'server ' + side:<8} {totals['split'][side]:>9} {mine['sightings']:>9} {'':>7} {mine['served']:>7}")
    if db["split"]["other"]["sightings"]:
        print(f"{'spread' if not server_of_ip else 'unknown':<8} {'':>9} {db['split']['other']['sightings']:>9}")
    print(f"{'total':<8} {totals['requests']:>9} {db['sightings']:>9} {totals['configs']:>7} {db['served']:>7}")
    print(f"phone_state rows {db['phone_state']} (distinct MACs {db['phone_state_macs']}); distinct MACs in sightings "
          f"{db['sighting_macs']}; phones booted {phones}; "
          f"phone_state rows without a sighting {db['unmatched_state']}")

    problems = []
    if totals["failures"]:
        problems.append(f"{totals['failures']} request errors")
    if db["sightings"] != totals["requests"]:
        problems.append(f"{db['sightings']} of {totals['requests']} sightings recorded "
                        f"({totals['requests'] - db['sightings']:+} missing)")
    for side in SERVERS if server_of_ip else ():
        if db["split"][side]["sightings"] != totals["split"][side]:
            problems.append(f"server {side}: {db['split'][side]['sightings']} sightings for {totals['split'][side]} requests")
    if db["served"] != totals["configs"]:
        problems.append(f"{db['served']} sightings marked served for {totals['configs']} 200 answers")
    if db["phone_state"] != db["sighting_macs"] or db["phone_state_macs"] != db["phone_state"] or db["unmatched_state"]:
        problems.append(f"{db['phone_state']} phone_state rows for {db['sighting_macs']} distinct MACs seen")
    if db["sighting_macs"] != phones:
        problems.append(f"{db['sighting_macs']} distinct MACs identified for {phones} phones")
    if any(code != 0 for code in exits.values()):
        problems.append(f"server exit codes {exits}")
    if db["tickets"]:
        print(f"tickets the storm opened (ticket intake, both servers): {db['tickets']}")
    logged = []  # an ERROR in a server's log is a finding even when every sighting arrived
    for side in SERVERS:
        bad, tail = log_trouble(folder / side / "provisioner.log")
        if bad:
            logged.append(f"server {side} logged {bad} ERROR/Traceback lines")
        if bad or problems:
            print(f"\n--- server {side} log ({folder / side / 'provisioner.log'}), last {len(tail)} lines ---")
            print("\n".join(tail) or "(empty)")

    line = f"\nVERDICT: {phones} phones, {totals['requests']} requests, {totals['failures']} errors, {db['sightings']} sightings recorded"
    print(line + (" -- FAIL: " + "; ".join(problems) if problems else " (all)") + ("; " + "; ".join(logged) if logged else ""))
    return not problems and not logged


if __name__ == "__main__":
    sys.exit(main())
