"""Run Debian's wrk with wrk_storm.lua against one server: every file a phone must get
(200), walked phone after phone with each phone's real User-Agent, over `--connections`
keep-alive connections for `--seconds`.

    .venv/bin/python bench/storm/wrk_storm.py --phones /tmp/storm/phones.json \
        --url http://127.0.0.1:8080/prov/KEY/ --connections 256 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

SCRIPT = Path(__file__).with_name("wrk_storm.lua")
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def request_lines(phones: list[dict], prefix: str) -> list[str]:
    return [f"{prefix}{name}\t{agent}" for p in phones for name, agent, must in p["files"] if must]


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"(\d+) requests in", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = sum(int(x) for x in sockets.groups()) if sockets else 0
    return {
        "configs_per_s": float(rate.group(1)) if rate else 0.0,
        "p50_ms": _ms(p50.group(1)) if p50 else float("nan"),
        "p99_ms": _ms(p99.group(1)) if p99 else float("nan"),
        "requests": int(total.group(1)) if total else 0,
        "failures": (int(non2xx.group(1)) if non2xx else 0) + socket_errors,
    }


def run(phones: list[dict], url: str, connections: int = 256, seconds: int = 10, threads: int = 2) -> dict:
    parts = urlsplit(url)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(request_lines(phones, parts.path)) + "\n")
    try:
        env = {**os.environ, "STORM_REQUESTS": handle.name}
        command = [shutil.which("wrk") or "/usr/bin/wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
                   "--timeout", "10s", "--latency", "-s", str(SCRIPT), f"{parts.scheme}://{parts.netloc}/"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
        return parse_wrk(done.stdout)
    finally:
        os.unlink(handle.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=Path, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(run(json.loads(args.phones.read_text()), args.url, args.connections, args.seconds, args.threads)))


if __name__ == "__main__":
    main()
