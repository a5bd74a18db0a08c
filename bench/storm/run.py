"""Boot storm, one command: our server against the reference servers, interleaved, medians of 3.

Sets up a SQLite database with `--devices` phones over the homologated models (devices.py,
loaded by `provisioner import extensions`), starts `provisioner serve` (SNMP off, log level
WARNING), pre-renders every file a phone must get through it, starts the references
(references.py: nginx 1 worker on the pre-rendered files, the bare aiohttp+jinja2 render
server, tftpd-hpa on the pre-rendered files) and then, `--runs` times, in this order:

  HTTP asyncio storm  ours, nginx, bare   (each phone its real file order, own connection and 127.x.y.z)
  HTTP wrk storm      ours, nginx, bare   (wrk_storm.lua, `--wrk-seconds` each)
  TFTP storm          ours, tftpd-hpa     (each phone its real file order, one socket per transfer)

and prints each run, the medians and the ratios ours / reference (wrk storms also give the
servers' CPU per request, all their processes and threads: steadier than rates when the
machine is not idle).

    .venv/bin/python bench/storm/run.py                       # 2,000 devices, 256 phones at once
    .venv/bin/python bench/storm/run.py --workers 2 --bare-workers 2
    .venv/bin/python bench/storm/run.py --tftp-concurrency 1200 --skip-http
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import devices  # noqa: E402
import http_storm  # noqa: E402
import references  # noqa: E402
import tftp_storm  # noqa: E402
import wrk_storm  # noqa: E402

PROVISIONER = str(Path(sys.executable).parent / "provisioner")


def cli(url: str, *args: str) -> str:
    env = {**os.environ, "PROVISIONER_DATABASE_URL": url}
    return subprocess.run([PROVISIONER, *args], env=env, check=True, capture_output=True, text=True, timeout=600).stdout


def load_extensions(url: str, slug: str, listing: Path) -> str:
    """Through the real CLI; if that fails (the import code being edited), the admin code the
    `extension add` command runs, row by row. Returns which path loaded them."""
    try:
        cli(url, "import", "extensions", str(listing), "--tenant", slug)
        return "provisioner import extensions"
    except subprocess.CalledProcessError as exc:
        print(f"warning: `provisioner import extensions` failed ({exc.stderr.strip().splitlines()[-1:]}); "
              "loading through provisioner.admin.add_extension", file=sys.stderr)
    sys.path.insert(0, str(devices.ROOT))
    from firmware_catalog import load_catalog
    from provisioner import admin
    from provisioner.db.engine import make_engine, session_factory

    engine, catalog = make_engine(url), load_catalog()
    with session_factory(engine).begin() as session, listing.open(encoding="utf-8") as handle:
        owner = admin.tenant_by_slug(session, slug)
        for row in csv.DictReader(handle):
            admin.add_extension(session, catalog, owner, row["extension"], row["nombre"], department=row["departamento"],
                                assignment=admin.Assignment(row["mac"], row["modelo"], int(row["línea"])))
    engine.dispose()
    return "provisioner.admin.add_extension (fallback)"


def start_ours(url: str, http_port: int, tftp_port: int, workers: int, workdir: Path) -> subprocess.Popen:
    env = {**os.environ, "PROVISIONER_DATABASE_URL": url, "PROVISIONER_HTTP_PORT": str(http_port),
           "PROVISIONER_TFTP_PORT": str(tftp_port), "PROVISIONER_SNMP_ENABLED": "0", "PROVISIONER_LOG_LEVEL": "WARNING"}
    log = (workdir / "provisioner.log").open("wb")
    args = [PROVISIONER, "serve"] + (["--workers", str(workers)] if workers > 1 else [])
    process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True)
    references.wait_http(f"http://127.0.0.1:{http_port}/healthz", 60)
    return process


def stop_ours(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (its HTTP workers included), then wait."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=5)


def fmt(result: dict, rate: str) -> str:
    return (f"{result[rate]:>9,.0f}/s  p50 {result['p50_ms']:>8.1f} ms  p99 {result['p99_ms']:>8.1f} ms  "
            f"failures {result['failures']}" + (f"  failed boots {result['failed_boots']}" if "failed_boots" in result else "")
            + (f"  retransmits {result['retransmits']}" if "retransmits" in result else "")
            + (f"  client cpu {result['client_cpu_share']:.0%}" if "client_cpu_share" in result else "")
            + (f"  server cpu {result['server_cpu_us']:.0f} us/req" if "server_cpu_us" in result else "")
            + (f"  {result['errors']}" if result.get("errors") else ""))


def median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=256, help="HTTP phones at once (and wrk connections)")
    parser.add_argument("--tftp-concurrency", type=int, default=256, help="TFTP phones at once (try 1200, 2000)")
    parser.add_argument("--blksize", type=int, help="TFTP block size the phones ask for (e.g. 1428)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="our HTTP worker processes")
    parser.add_argument("--bare-workers", type=int, default=1, help="bare render server processes")
    parser.add_argument("--wrk-seconds", type=int, default=8)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-wrk", action="store_true")
    parser.add_argument("--skip-tftp", action="store_true")
    args = parser.parse_args()

    processes: list[subprocess.Popen] = []
    ours = None
    with tempfile.TemporaryDirectory(prefix="storm-") as folder:
        workdir = Path(folder)
        os.chmod(workdir, 0o755)
        url = f"sqlite:///{workdir / 'storm.sqlite3'}"
        listing, boots = devices.write(devices.storm_phones(args.devices), workdir)
        phones = json.loads(boots.read_text())
        tenant = json.loads(cli(url, "tenant", "create", "Tormenta S.A.S.", "--sip-server", "pbx.example.net", "--json"))
        key = tenant["key"]
        started = time.perf_counter()
        how = load_extensions(url, tenant["slug"], listing)
        print(f"{args.devices} devices, {sum(p['lines'] for p in phones)} extensions loaded by {how} "
              f"in {time.perf_counter() - started:.1f} s", flush=True)
        ports = {name: references.free_port() for name in ("ours", "nginx", "bare")}
        tftp_ports = {name: references.free_port(socket.SOCK_DGRAM) for name in ("ours", "tftpd-hpa")}
        try:
            ours = start_ours(url, ports["ours"], tftp_ports["ours"], args.workers, workdir)
            started = time.perf_counter()
            saved = references.prerender(f"http://127.0.0.1:{ports['ours']}", key, phones, workdir)
            print(f"pre-rendered {saved} files through our server in {time.perf_counter() - started:.1f} s", flush=True)
            processes.append(references.start_nginx(workdir, ports["nginx"]))
            processes.append(references.start_bare(boots, f"/prov/{key}/", ports["bare"], args.bare_workers))
            processes.append(references.start_tftpd(workdir, tftp_ports["tftpd-hpa"]))
            pids = {"ours": ours.pid, "nginx": processes[0].pid, "bare": processes[1].pid}
            results = run_storms(args, phones, key, ports, tftp_ports, pids)
        finally:
            for process in processes:
                references.stop(process)
            if ours is not None:
                stop_ours(ours)
        report(args, results)


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of a process and its descendants (an HTTP server's workers, threads included)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def run_storms(args: argparse.Namespace, phones: list[dict], key: str, ports: dict, tftp_ports: dict,
               pids: dict[str, int]) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {}
    bases = {name: f"http://127.0.0.1:{port}/prov/{key}/" for name, port in ports.items()}
    for run in range(1, args.runs + 1):
        if not args.skip_http:
            for name, base in bases.items():
                result = http_storm.run(phones, base, args.concurrency)
                results.setdefault(f"http {name}", []).append(result)
                print(f"run {run} http  {name:<9} {fmt(result, 'configs_per_s')}", flush=True)
        if not args.skip_wrk:
            for name, base in bases.items():
                cpu = tree_cpu_seconds(pids[name])
                result = wrk_storm.run(phones, base, args.concurrency, args.wrk_seconds)
                # Server CPU per request: steadier than the rate on a machine that is not idle.
                result["server_cpu_us"] = (tree_cpu_seconds(pids[name]) - cpu) / max(1, result["requests"]) * 1e6
                results.setdefault(f"wrk {name}", []).append(result)
                print(f"run {run} wrk   {name:<9} {fmt(result, 'configs_per_s')}", flush=True)
        if not args.skip_tftp:
            for name, port in tftp_ports.items():
                result = tftp_storm.run(phones, port, f"{key}/", args.tftp_concurrency, blksize=args.blksize)
                results.setdefault(f"tftp {name}", []).append(result)
                print(f"run {run} tftp  {name:<9} {fmt(result, 'files_per_s')}", flush=True)
    return results


def report(args: argparse.Namespace, results: dict[str, list[dict]]) -> None:
    print(f"\nmedians of {args.runs} runs ({args.devices} devices; HTTP {args.concurrency} phones at once, "
          f"TFTP {args.tftp_concurrency}; our workers {args.workers}, bare workers {args.bare_workers})")
    print(f"{'storm':<16} {'rate/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'failures':>8} {'failed boots':>12} {'cpu us/req':>10}")
    for name, runs in results.items():
        rate = "files_per_s" if name.startswith("tftp") else "configs_per_s"
        boots = f"{median(runs, 'failed_boots'):>12.0f}" if "failed_boots" in runs[0] else f"{'':>12}"
        cpu = f"{median(runs, 'server_cpu_us'):>10.0f}" if "server_cpu_us" in runs[0] else ""
        print(f"{name:<16} {median(runs, rate):>9,.0f} {median(runs, 'p50_ms'):>8.1f} {median(runs, 'p99_ms'):>8.1f} "
              f"{median(runs, 'failures'):>8.0f} {boots} {cpu}")
    print("\nratios (ours / reference, medians):")
    for kind, rate in (("http", "configs_per_s"), ("wrk", "configs_per_s"), ("tftp", "files_per_s")):
        mine = results.get(f"{kind} ours")
        if not mine:
            continue
        for name, runs in results.items():
            if name.startswith(kind + " ") and name != f"{kind} ours" and median(runs, rate):
                print(f"  {kind:<5} ours / {name.split(' ', 1)[1]:<9} {median(mine, rate) / median(runs, rate):6.2f}x"
                      + (f"   server CPU per request {median(mine, 'server_cpu_us') / median(runs, 'server_cpu_us'):.2f}x"
                         if "server_cpu_us" in runs[0] else ""))


if __name__ == "__main__":
    main()
