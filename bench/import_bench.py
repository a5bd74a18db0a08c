"""Benchmark: bulk import of N-row extension lists on SQLite and PostgreSQL.

    .venv/bin/python bench/import_bench.py                       # 1k, 10k, 100k on both databases
    .venv/bin/python bench/import_bench.py --sizes 100000 --backends postgresql

Each (database, size) runs in its own process, so its peak memory (ru_maxrss) is its own: it
should stay nearly flat from 10k to 100k rows (the import keeps its indexes on disk).
The file is a realistic Spanish-locale CSV (see provisioner/importing/sample.py), made before
the clock starts. Timed: reading + validating + writing + commit, as `provisioner import
extensions` does it, for three runs on the same tenant:

    fresh      every row is new (extensions and phones created)
    unchanged  the same file again (validated, nothing written)
    updated    every name changed (validated, every row updated in place)

PostgreSQL: a scratch database named provisioner_import_bench, recreated per run, on the
server at PROVISIONER_BENCH_POSTGRES_URL (default postgres@127.0.0.1:5432, trust auth).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("PROVISIONER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BENCH_DB = "provisioner_import_bench"
PHONES = (("T21P", "001565", 1), ("SIP-T21P", "001565", 1), ("GXP1620", "000b82", 2), ("GXP1630", "000b82", 3),
          ("VVX600", "0004f2", 1))


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _database(backend: str, workdir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{BENCH_DB}"'))
    admin.dispose()
    return make_url(ADMIN_URL).set(database=BENCH_DB).render_as_string(hide_password=False)


def _files(workdir: Path, rows: int) -> tuple[Path, Path]:
    from provisioner.importing.sample import write_sample_csv

    fresh = workdir / "fresh.csv"
    with open(fresh, "w", encoding="utf-8-sig", newline="") as out:
        write_sample_csv(out, rows, phones=PHONES)
    renamed = workdir / "renamed.csv"
    with open(fresh, encoding="utf-8-sig", newline="") as source, open(renamed, "w", encoding="utf-8-sig", newline="") as out:
        reader, writer = csv.reader(source, delimiter=";"), csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(next(reader))
        for row in reader:
            row[1] += " María"
            writer.writerow(row)
    return fresh, renamed


def one(backend: str, rows: int) -> dict[str, object]:
    """Run in a fresh process: set up, then time the three imports."""
    from firmware_catalog import load_catalog
    from firmware_catalog.check import suspicious_keys
    from provisioner.db.engine import make_engine, session_factory, upgrade
    from provisioner.db.models import Tenant
    from provisioner.importing.pipeline import import_extensions
    from provisioner.importing.reader import open_table

    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        workdir = Path(tmp)
        fresh, renamed = _files(workdir, rows)
        engine = make_engine(_database(backend, workdir))
        upgrade(engine)
        with session_factory(engine).begin() as session:
            session.add(Tenant(name="Bench S.A.S.", slug="bench", provisioning_key="bench-key", sip_server="pbx.bench.example",
                               snmp_community="ro-bench", admin_password="bench", created_at=datetime.now(UTC)))
        catalog = load_catalog()
        suspicious = frozenset(suspicious_keys(catalog))
        result: dict[str, object] = {"backend": backend, "rows": rows, "baseline_rss_mb": round(_maxrss_mb(), 1)}
        for label, path in (("fresh", fresh), ("unchanged", fresh), ("updated", renamed)):
            started = time.perf_counter()
            with open_table(path) as table, session_factory(engine)() as session:
                report = import_extensions(session, table, "bench", catalog, suspicious)
                assert report.ok, report.problems[:5]
                session.commit()
            seconds = time.perf_counter() - started
            result[label] = {"seconds": round(seconds, 2), "rows_per_s": round(rows / seconds),
                             "summary": report.summary.as_dict(), "peak_rss_mb": round(_maxrss_mb(), 1)}
        engine.dispose()
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--one", nargs=2, metavar=("BACKEND", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return
    print(f"{'database':<11} {'rows':>7} | {'fresh s':>7} {'rows/s':>8} {'peak MB':>8} | {'same s':>6} {'rows/s':>8} | "
          f"{'update s':>8} {'rows/s':>8} | {'peak MB':>7}")
    for backend in args.backends.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            run = subprocess.run([sys.executable, __file__, "--one", backend, str(size)], capture_output=True, text=True, cwd=ROOT)
            if run.returncode != 0:
                print(f"{backend:<11} {size:>7} | failed: {run.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(run.stdout)
            fresh, same, updated = r["fresh"], r["unchanged"], r["updated"]
            print(f"{backend:<11} {size:>7} | {fresh['seconds']:>7} {fresh['rows_per_s']:>8} {fresh['peak_rss_mb']:>8} | "
                  f"{same['seconds']:>6} {same['rows_per_s']:>8} | {updated['seconds']:>8} {updated['rows_per_s']:>8} | "
                  f"{updated['peak_rss_mb']:>7}")
    print("peak MB: the process's maximum resident set (Python, SQLAlchemy, drivers included) after that run;"
          " the baseline before any import is about", end=" ")
    print("the 1k row's figure.")


if __name__ == "__main__":
    main()
