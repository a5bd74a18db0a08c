"""Where our pipeline spends its time per config request, without the network: the same
pipeline `provisioner serve` builds (server.build_core, build_intake, build_pipeline; SNMP off), fed every request of a boot storm
(each phone's files in order, real User-Agents) twice, cold then warm, under cProfile; SQL
statements per request counted on the engine; then the time the sighting writer needs to
write what the pass recorded (write_batch, as the server's background writer calls it).

    .venv/bin/python bench/storm/profile_fetch.py --devices 2000
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import devices  # noqa: E402
from run import cli, load_extensions  # noqa: E402

from provisioner.server import answer, build_core, build_intake, build_pipeline  # noqa: E402
from provisioner.settings import Settings  # noqa: E402
from provisioner.sightings import write_batch  # noqa: E402
from provisioner.values import ConfigRequest, Protocol  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true", help="time without cProfile: microseconds per request")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="storm-profile-") as folder:
        workdir = Path(folder)
        url = f"sqlite:///{workdir / 'storm.sqlite3'}"
        _listing, boots = devices.write(devices.storm_phones(args.devices), workdir)
        phones = json.loads(boots.read_text())
        tenant = json.loads(cli(url, "tenant", "create", "Tormenta S.A.S.", "--sip-server", "pbx.example.net", "--json"))
        load_extensions(url, tenant["slug"], _listing)
        settings = Settings.from_env({"PROVISIONER_DATABASE_URL": url, "PROVISIONER_SNMP_ENABLED": "0",
                                      "PROVISIONER_LOG_LEVEL": "WARNING"})
        core = build_core(settings)
        pipeline = build_pipeline(core, build_intake(settings, core))
        _recorder = core.recorder
        statements = [0]
        event.listen(Engine, "before_cursor_execute", lambda *a, **k: statements.__setitem__(0, statements[0] + 1))
        requests = [ConfigRequest(Protocol.HTTP, tenant["key"], name, agent, f"127.0.0.{p['index'] % 250 + 1}",
                                  datetime.now(UTC)) for p in phones for name, agent, _must in p["files"]]
        for label in ("cold", "warm"):
            statements[0] = 0
            profiler = cProfile.Profile()
            started = time.perf_counter()
            if not args.no_profile:
                profiler.enable()
            for request in requests:
                answer(pipeline, request)
            profiler.disable()
            seconds = time.perf_counter() - started
            print(f"\n== {label}: {len(requests)} requests in {seconds:.2f} s "
                  f"{'' if args.no_profile else 'under cProfile '}({len(requests) / seconds:,.0f}/s, "
                  f"{seconds / len(requests) * 1e6:.1f} us each), {statements[0] / len(requests):.2f} SQL statements per request")
            if not args.no_profile:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
                print("\n".join(out.getvalue().splitlines()[:args.top + 10]))
            # What the sighting writer then does off the request path (a thread of the same process).
            pending, _recorder._pending = list(_recorder._pending), []
            statements[0] = 0
            started = time.perf_counter()
            for first in range(0, len(pending), 500):
                write_batch(core.sessions, pending[first:first + 500])
            seconds = time.perf_counter() - started
            print(f"\n== {label}: writing its {len(pending)} sightings (batches of 500): {seconds:.2f} s "
                  f"({len(pending) / seconds:,.0f}/s), {statements[0] / max(1, len(pending)):.2f} SQL statements per sighting")


if __name__ == "__main__":
    main()
