"""Where `provisioner serve` spends its time under a boot storm: the real server, started under
cProfile (main thread: the event loop) in a child process, stormed by wrk (wrk_storm.lua) and
by the asyncio client, stopped with SIGTERM; prints the top functions by own and cumulative time.
`--tftp` storms TFTP (twice: cold, warm) instead of HTTP. `--no-sighting-writer` never starts the background sighting writer (diagnosis: what it costs).

    .venv/bin/python bench/storm/profile_serve.py --devices 2000 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import devices  # noqa: E402
import http_storm  # noqa: E402
import tftp_storm  # noqa: E402
import references  # noqa: E402
import wrk_storm  # noqa: E402
from run import cli, load_extensions  # noqa: E402

CHILD = """
import cProfile, sys
from provisioner.cli import main
if sys.argv[2] == "off":  # diagnosis only: sightings are recorded in memory but never written
    from provisioner.sightings import SightingRecorder
    SightingRecorder.start = lambda self: None
profiler = cProfile.Profile()
profiler.enable()
try:
    main(["serve"], standalone_mode=False)
finally:
    profiler.disable()
    profiler.dump_stats(sys.argv[1])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--tftp", action="store_true", help="storm TFTP (tftp_storm.py) instead of HTTP")
    parser.add_argument("--no-sighting-writer", action="store_true",
                        help="diagnosis: never start the background sighting writer (shows what it costs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="storm-serve-profile-") as folder:
        workdir = Path(folder)
        url = f"sqlite:///{workdir / 'storm.sqlite3'}"
        listing, boots = devices.write(devices.storm_phones(args.devices), workdir)
        phones = json.loads(boots.read_text())
        tenant = json.loads(cli(url, "tenant", "create", "Tormenta S.A.S.", "--sip-server", "pbx.example.net", "--json"))
        load_extensions(url, tenant["slug"], listing)
        port = references.free_port()
        tftp_port = references.free_port(socket.SOCK_DGRAM) if args.tftp else -1
        stats = workdir / "serve.prof"
        env = {**os.environ, "PROVISIONER_DATABASE_URL": url, "PROVISIONER_HTTP_PORT": str(port),
               "PROVISIONER_TFTP_PORT": str(tftp_port), "PROVISIONER_SNMP_ENABLED": "0", "PROVISIONER_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen([sys.executable, "-c", CHILD, str(stats), "off" if args.no_sighting_writer else "on"], env=env, cwd=workdir,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            references.wait_http(f"http://127.0.0.1:{port}/healthz", 60)
            base = f"http://127.0.0.1:{port}/prov/{tenant['key']}/"
            if args.tftp:
                for run in ("cold", "warm"):
                    print(f"tftp storm ({run}):", json.dumps(tftp_storm.run(phones, tftp_port, f"{tenant['key']}/", args.concurrency)))
            else:
                print("asyncio storm:", json.dumps(http_storm.run(phones, base, args.concurrency)))
                print("wrk storm:    ", json.dumps(wrk_storm.run(phones, base, args.concurrency, args.seconds)))
        finally:
            references.stop(server)
        for order in ("tottime", "cumulative"):
            print(f"\n== by {order}")
            pstats.Stats(str(stats)).strip_dirs().sort_stats(order).print_stats(args.top)


if __name__ == "__main__":
    main()
