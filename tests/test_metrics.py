"""`/metrics`: the real `provisioner serve --workers 2` after a small storm (bounded: 140
HTTP fetches, 5 over TFTP) answers counters that match what was served, summed over both
worker processes whichever one the scrape lands on; who may scrape; no MAC, address or key
in any label."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from provisioner.metrics import allowed_to_scrape
from provisioner.settings import Settings
from tests.conftest import RunningServer, cli_json, run_cli, start_server, stop_server
from tests.test_boot_e2e import wait_for

TOKEN = "scrape-token-7c1f"  # nosec B105 - a test's token
CURRENT, OUTDATED = "34.72.0.75", "34.72.0.60"  # the T21P's homologated firmware, and an older one


async def fetch(base: str, key: str, plan: list[tuple[str, str]]) -> list[int]:
    """GET each (file, firmware) once, over fresh connections (so both workers answer)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=20, force_close=True)) as session:
        async def one(filename: str, firmware: str) -> int:
            mac = filename.split(".")[0]
            agent = f"Yealink SIP-T21P {firmware} {':'.join(mac[i:i + 2] for i in range(0, 12, 2))}"
            async with session.get(f"{base}/prov/{key}/{filename}", headers={"User-Agent": agent}) as response:
                await response.read()
                return response.status
        return list(await asyncio.gather(*(one(name, firmware) for name, firmware in plan)))


def scrape(server: RunningServer, token: str | None = TOKEN) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"{server.base}/metrics", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_metrics_after_a_storm_match_what_was_served(database_url: str, tmp_path: Path) -> None:
    tenant = cli_json(database_url, "tenant", "create", "Métricas S.A.S.", "--sip-server", "pbx.example.net")
    for index in range(2):
        run_cli(database_url, "extension", "add", "--tenant", tenant["slug"], "--extension", f"70{index}", "--name", "Ana",
                "--mac", f"00156577000{index}", "--model", "T21P")
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"a previous run's values")  # wiped at start
    server = start_server(database_url, tmp_path, args=("--workers", "2"), extra_env={
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "PROVISIONER_METRICS_NETWORKS": "192.0.2.0/24",
        "PROVISIONER_METRICS_TOKEN": TOKEN, "PROVISIONER_INTAKE_MAX_HOLD_SECONDS": "0",
    })
    try:
        assert wait_for(lambda: len(re.findall(r"HTTP listening on .* \(pid (\d+)\)", server.log())) == 2, timeout=30)
        plan = ([("001565770001.cfg", CURRENT)] * 100 + [("001565770000.cfg", OUTDATED)] * 20
                + [(f"00156577{index:04x}.cfg", CURRENT) for index in range(0x100, 0x114)])  # 20 MACs acme lacks
        statuses = asyncio.run(fetch(server.base, tenant["key"], plan))
        assert statuses == [200] * 120 + [404] * 20
        for _ in range(5):
            got = subprocess.run(["curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                                  f"tftp://127.0.0.1:{server.tftp_port}/{tenant['key']}/001565770001.cfg"],
                                 capture_output=True, text=True, timeout=30)
            assert got.returncode == 0, got.stderr
        # the outdated phone's ticket, written by a worker's ticket process
        assert wait_for(lambda: len(cli_json(database_url, "tickets", "list")) == 1, timeout=30)

        assert scrape(server, None)[0] == 403  # 127.0.0.1 is not in 192.0.2.0/24
        assert scrape(server, "wrong")[0] == 403

        def settled() -> dict[tuple[str, frozenset[tuple[str, str]]], float] | None:
            status, text = scrape(server)
            assert status == 200, text
            found = samples(text)
            written = value(found, "provisioner_tickets_opened_total") == 1  # both workers' observations
            return found if written and value(found, "provisioner_intake_queue_depth") == 0 else None

        found = wait_for(settled, timeout=15)
        assert found, scrape(server)[1]
        assert value(found, "provisioner_configs_served_total", vendor="yealink", protocol="http", status="200") == 120
        assert value(found, "provisioner_configs_served_total", vendor="yealink", protocol="http", status="404") == 20
        assert value(found, "provisioner_configs_served_total", vendor="yealink", protocol="tftp", status="200") == 5
        assert value(found, "provisioner_config_seconds_count", protocol="http") == 140
        assert value(found, "provisioner_config_seconds_count", protocol="tftp") == 5
        assert value(found, "provisioner_config_seconds_bucket", protocol="http", le="+Inf") == 140
        kinds = {dict(labels)["kind"]: count for (name, labels), count in found.items() if name == "provisioner_findings_total"}
        assert kinds and set(kinds.values()) == {20}, kinds  # each outdated fetch judged once
        assert value(found, "provisioner_intake_queue_depth") == 0
        assert value(found, "provisioner_bans_total") == 0
        assert not [k for k in found if k[0] == "provisioner_database_errors_total" and found[k]]
        # Every scrape, whichever worker answers it, sums both processes.
        for _ in range(6):
            again = samples(scrape(server)[1])
            assert value(again, "provisioner_configs_served_total", vendor="yealink", protocol="http", status="200") == 120
        text = scrape(server)[1]
        for secret_or_unbounded in ("00156577", "127.0.0.1", tenant["key"], tenant["slug"]):
            assert secret_or_unbounded not in text
        pids = {re.sub(r"\D", "", path.stem.rsplit("_", 1)[-1]) for path in metrics_dir.glob("counter_*.db")}
        assert len(pids) >= 2 and "999999" not in pids, pids  # both workers counted; the stale file went
    finally:
        stop_server(server)


def test_who_may_scrape() -> None:
    loopback = Settings().metrics_scrapers()  # the default: this machine only
    assert allowed_to_scrape("127.0.0.1", "", loopback, "")
    assert allowed_to_scrape("::1", "", loopback, "")
    assert not allowed_to_scrape("203.0.113.7", "", loopback, "")
    assert not allowed_to_scrape("203.0.113.7", "Bearer anything", loopback, "")  # no token set: none opens it
    assert allowed_to_scrape("203.0.113.7", f"Bearer {TOKEN}", loopback, TOKEN)
    assert not allowed_to_scrape("203.0.113.7", "Bearer wrong", loopback, TOKEN)
    assert not allowed_to_scrape("not an address", "", loopback, "")


def test_the_cli_does_not_import_prometheus_client_before_serve_sets_its_directory() -> None:
    """prometheus-client chooses per-process files or memory when first imported: a CLI that
    imported it early (provisioner.directory through pbx_accounts did) counted half a storm."""
    code = "import sys, provisioner.cli; print('prometheus_client' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"
