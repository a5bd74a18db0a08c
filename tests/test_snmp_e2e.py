"""A running server verifies a phone over SNMP after its config fetch: a real net-snmp agent
plays the phone on loopback. Firmware read by SNMP is recorded and raises a ticket when it
differs; an agent that stops answering becomes `unreachable` after N polls."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import cli_json, run_cli, start_server, stop_server
from tests.test_boot_e2e import http_get, wait_for
from tests.test_snmp_poller import SNMPD, Agent, _require


def open_tickets(database_url: str) -> list[dict]:
    return cli_json(database_url, "tickets", "list")  # type: ignore[return-value]


def test_snmp_drift_and_unreachable_become_tickets(database_url: str, tmp_path: Path) -> None:
    _require(SNMPD)
    tenant = cli_json(database_url, "tenant", "create", "Snmp S.A.S.", "--sip-server", "pbx.example.net")
    mac = "0015654c4c26"
    run_cli(database_url, "extension", "add", "--tenant", tenant["slug"], "--extension", "401", "--name", "Ana",
            "--department", "Ventas", "--mac", mac, "--model", "T21P", "--line", "1")
    agent = Agent(tmp_path, firmware="34.72.0.60", community=tenant["snmp_community"])
    agent.start()
    server = start_server(database_url, tmp_path, extra_env={
        "PROVISIONER_SNMP_ENABLED": "1", "PROVISIONER_SNMP_PORT": str(agent.port),
        "PROVISIONER_SNMP_DELAY_SECONDS": "0.2", "PROVISIONER_SNMP_INTERVAL_SECONDS": "0.5",
        "PROVISIONER_SNMP_TIMEOUT_SECONDS": "0.3", "PROVISIONER_SNMP_RETRIES": "0",
        "PROVISIONER_SNMP_UNREACHABLE_AFTER": "2",
    })
    try:
        # Over TFTP-like HTTP without a User-Agent the fetch tells nothing of the firmware...
        status, _ = http_get(f"{server.base}/prov/{tenant['key']}/{mac}.cfg")
        assert status == 200
        # ...SNMP does: 34.72.0.60 is older than the homologated 34.72.0.75.
        drift = wait_for(lambda: [t for t in open_tickets(database_url) if t["finding"] == "firmware_older"], timeout=20)
        assert drift, server.log()[-2000:]
        assert drift[0]["devices"] == [mac] and "34.72.0.60" in drift[0]["subject"]
        device = next(d for d in cli_json(database_url, "devices") if d["mac"] == mac)
        assert device["firmware"] == "34.72.0.60" and "firmware_older" in device["findings"]
        assert device["open_tickets"] == [drift[0]["id"]]
        # The agent stops answering: unreachable after 2 polls, one ticket with urgency high.
        agent.pause()
        lost = wait_for(lambda: [t for t in open_tickets(database_url) if t["finding"] == "unreachable"], timeout=20)
        assert lost and lost[0]["urgency"] == "high" and lost[0]["devices"] == [mac]
        # It answers again with the supported firmware: both incidents resolve.
        agent.resume()
        agent.restart("34.72.0.75")

        def resolved() -> bool:
            rows = cli_json(database_url, "tickets", "list", "--status", "resolved")
            return {t["finding"] for t in rows} >= {"firmware_older", "unreachable"}

        assert wait_for(resolved, timeout=20), server.log()[-3000:]
        assert server.alive()
    finally:
        stop_server(server)
        agent.stop()
