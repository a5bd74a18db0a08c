"""What the ticket worker itself costs for a storm (issue: boot-storm performance).

For each run: a fresh database with one tenant and 5,000 phones (loaded by `provisioner import
extensions`), then `TicketIntake.process` -- exactly what the server's worker thread runs --
on batches of `--batch` observations, as the server's 0.5 s drains hand them over:

  raise    5,000 phones report an unsupported firmware: one incident takes them all
  recover  the same 5,000 phones report the supported firmware (a firmware campaign): each
           recovers, and the incident is resolved with the last one

Prints wall and CPU time (the worker thread's own) per phase, medians of `--runs` runs.

    .venv/bin/python bench/intake_batch.py                          # SQLite and PostgreSQL
    .venv/bin/python bench/intake_batch.py --backends postgresql --batch 5000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from intake_latency import DEPARTMENTS, database, mac, tenant_with_phones, ua  # noqa: E402
from provisioner.db.engine import make_engine, session_factory  # noqa: E402
from provisioner.incidents import DeviceFinding  # noqa: E402
from provisioner.findings import PROVISIONING_KINDS, FindingKind  # noqa: E402
from provisioner.intake import TicketIntake  # noqa: E402
from provisioner.ticket_writer import Observation  # noqa: E402

PHONES = 5000


def one_run(backend: str, batch: int, phones: int = PHONES) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        url = database(backend, Path(folder))
        tenant = tenant_with_phones(url, Path(folder), phones)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                tenant_id = conn.execute(text("select id from tenant where slug = :s"), {"s": tenant["slug"]}).scalar_one()
            intake = TicketIntake(session_factory(engine), lambda: datetime.now(UTC))
            now = datetime.now(UTC)
            wrong = [
                Observation(tenant_id, mac(i), (DeviceFinding(
                    tenant["slug"], FindingKind.FIRMWARE_OLDER, mac(i), "T21P", "34.72.0.60", "34.72.0.75", DEPARTMENTS[i % 3],
                    now, "127.0.0.1", "http", ua(i, "34.72.0.60")),), PROVISIONING_KINDS, now)
                for i in range(phones)
            ]
            fixed = [Observation(tenant_id, mac(i), (), PROVISIONING_KINDS, now) for i in range(phones)]
            result = {}
            for phase, observations in (("raise", wrong), ("recover", fixed)):
                started, cpu = time.perf_counter(), time.thread_time()
                for first in range(0, phones, batch):
                    intake.process(observations[first : first + batch])
                result[f"{phase}_s"] = time.perf_counter() - started
                result[f"{phase}_cpu_s"] = time.thread_time() - cpu
            stats = intake.stats
            assert (stats.opened, stats.joined, stats.recovered, stats.resolved) == (1, phones, phones, 1), stats
            return result
        finally:
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--batch", type=int, default=1250, help="observations per drain")
    parser.add_argument("--phones", type=int, default=PHONES)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for backend in args.backends.split(","):
        runs = []
        for n in range(args.runs):
            runs.append(one_run(backend, args.batch, args.phones))
            print(f"{backend} run {n + 1}: " + "  ".join(f"{k}={v:.2f}" for k, v in runs[-1].items()), flush=True)
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"median ({backend}, {args.phones} phones, batches of {args.batch}, {args.runs} runs): "
              f"raise {med['raise_s']:.2f} s (cpu {med['raise_cpu_s']:.2f} s), "
              f"recover {med['recover_s']:.2f} s (cpu {med['recover_cpu_s']:.2f} s)", flush=True)


if __name__ == "__main__":
    main()
