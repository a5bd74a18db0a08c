"""A phone's whole way in, for real: DHCP option 66 from the kit's own dnsmasq snippet, to its
config, to the readiness board (issue 18).

Two network namespaces made by the test and joined by a veth pair (names unique per run,
always deleted): in the "site" namespace a real dnsmasq, configured with exactly what
`provisioner onboarding SLUG --dhcp dnsmasq` printed, and the real provisioning server, bound
on the veth address; in the "phone" namespace a DHCP client (tests/dhcp_client.py: DISCOVER,
REQUEST, reads 66 and 160), then a simulated Yealink T21P that boots from the URL option 66
gave it. Recipe: shared/reference/network.md §5. SQLite only: PostgreSQL listens on the host's
loopback, which a namespace does not reach.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import cli_json, fresh_database, run_cli
from tests.phones import DESK_PHONES, parse_yealink

ROOT = Path(__file__).resolve().parent.parent
SITE_ADDRESS = "192.0.2.1"
SUBNET = "192.0.2.0/24"
PHONE = next(p for p in DESK_PHONES if p.catalog_key == "yealink-t21p")


def _run(*command: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({result.returncode}): {result.stdout}{result.stderr}")
    return result


def _namespaces_allowed() -> str | None:
    """Why this machine cannot run the test, or None."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces (ip netns add)"
    for tool in ("ip", "dnsmasq"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/test installs iproute2 and dnsmasq-base)"
    probe = f"p18{secrets.token_hex(4)}"
    made = _run("ip", "netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"network namespaces are not allowed here: {made.stderr.strip()}"
    _run("ip", "netns", "del", probe, check=False)
    return None


@pytest.fixture
def namespaces() -> Iterator[tuple[str, str, str, str]]:
    """(site namespace, phone namespace, site veth, phone veth); deleted whatever happens."""
    reason = _namespaces_allowed()
    if reason:
        pytest.skip(reason)
    tag = secrets.token_hex(3)
    site, phone = f"o18s{tag}", f"o18p{tag}"
    site_if, phone_if = f"o18s{tag}", f"o18p{tag}"  # interface names: at most 15 characters
    try:
        _run("ip", "netns", "add", site)
        _run("ip", "netns", "add", phone)
        _run("ip", "link", "add", site_if, "type", "veth", "peer", "name", phone_if)
        _run("ip", "link", "set", site_if, "netns", site)
        _run("ip", "link", "set", phone_if, "netns", phone)
        _run("ip", "-n", site, "addr", "add", f"{SITE_ADDRESS}/24", "dev", site_if)
        for namespace, interface in ((site, site_if), (phone, phone_if)):
            _run("ip", "-n", namespace, "link", "set", interface, "up")
            _run("ip", "-n", namespace, "link", "set", "lo", "up")
        yield site, phone, site_if, phone_if
    finally:
        for namespace in (phone, site):  # deleting a namespace deletes its end of the veth
            _run("ip", "netns", "del", namespace, check=False)
        _run("ip", "link", "del", site_if, check=False)  # if it never moved into its namespace


def _wait(check, seconds: float = 30):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_phone_boots_from_option_66_handed_out_by_the_kits_dnsmasq(namespaces, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site, phone_ns, site_if, phone_if = namespaces
    with fresh_database("sqlite", tmp_path) as database_url:
        public = {"PROVISIONER_PUBLIC_URL": f"http://{SITE_ADDRESS}:8080", "PROVISIONER_TFTP_PORT": "6969"}
        tenant = cli_json(database_url, "tenant", "create", "Acme Colombia", "--sip-server", "pbx.acme.example", "--slug", "acme")
        run_cli(database_url, "extension", "add", "--tenant", "acme", "--extension", "201", "--name", "Ana",
                "--mac", PHONE.mac, "--model", PHONE.model_arg)
        board = json.loads(run_cli(database_url, "readiness", "acme", "--json").stdout)
        assert board["expected"] == 1 and board["ready"] == 0
        assert _group(board, "never_seen")["macs"] == [PHONE.mac]

        # The kit's dnsmasq snippet, as printed for the installer, plus what a host running
        # several dnsmasq needs (no DNS, this interface only, files in our folder).
        snippet = run_cli(database_url, "onboarding", "acme", "--subnet", SUBNET, "--dhcp", "dnsmasq", env=public).stdout
        url = f"http://{SITE_ADDRESS}:8080/prov/{tenant['key']}/"
        assert f'dhcp-option=66,"{url}"' in snippet
        (tmp_path / "kit-dnsmasq.conf").write_text(snippet)
        (tmp_path / "dnsmasq.conf").write_text(
            f"port=0\ninterface={site_if}\nbind-interfaces\ndhcp-authoritative\nlog-dhcp\n"
            f"dhcp-leasefile={tmp_path / 'leases'}\nconf-file={tmp_path / 'kit-dnsmasq.conf'}\n"
        )
        _run("dnsmasq", "--test", f"--conf-file={tmp_path / 'dnsmasq.conf'}")
        server = None
        try:
            _run("ip", "netns", "exec", site, "dnsmasq", f"--conf-file={tmp_path / 'dnsmasq.conf'}",
                 f"--pid-file={tmp_path / 'dnsmasq.pid'}", f"--log-facility={tmp_path / 'dnsmasq.log'}")
            env = {**os.environ, **public, "PROVISIONER_DATABASE_URL": database_url, "PROVISIONER_HOST": SITE_ADDRESS,
                   "PROVISIONER_HTTP_PORT": "8080", "PROVISIONER_SNMP_ENABLED": "0",
                   "PROVISIONER_FIRMWARE_DIR": str(tmp_path / "firmware"), "PROVISIONER_CACHE_CHECK_SECONDS": "0.05"}
            log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
            server = subprocess.Popen(["ip", "netns", "exec", site, str(Path(sys.executable).parent / "provisioner"), "serve"],
                                      stdout=log, stderr=subprocess.STDOUT, env=env)
            _wait(lambda: _run("ip", "netns", "exec", site, "curl", "-sf", f"http://{SITE_ADDRESS}:8080/healthz",
                               check=False).returncode == 0)

            # The phone's side: DHCP first, nothing else configured.
            answer = _run("ip", "netns", "exec", phone_ns, sys.executable, str(ROOT / "tests" / "dhcp_client.py"), phone_if, "20",
                          timeout=40)
            lease = json.loads(answer.stdout)
            assert lease["options"]["66"] == url, lease
            assert lease["options"]["160"] == url, lease  # Polycom's option, forced by the kit
            assert lease["options"]["3"] == SITE_ADDRESS  # the router the kit wrote for this subnet
            assert lease["address"].startswith("192.0.2.") and lease["address"] != SITE_ADDRESS
            _run("ip", "-n", phone_ns, "addr", "add", f"{lease['address']}/24", "dev", phone_if)

            # ...then it boots from the URL option 66 carried, against the real server.
            booted = json.loads(_run("ip", "netns", "exec", phone_ns, sys.executable, str(ROOT / "tests" / "boot_from_url.py"),
                                     lease["options"]["66"], PHONE.catalog_key, timeout=60).stdout)
            status, body = booted[PHONE.device_file()]
            assert status == 200
            params = parse_yealink(body.encode())
            assert params["account.1.sip_server.1.address"] == "pbx.acme.example"
            assert params["account.1.user_name"] == "acme-201"  # the extension's SIP user

            # The board sees it: booted, homologated firmware, lines within limits; ready with SNMP off.
            board = _wait(lambda: (b := json.loads(run_cli(database_url, "readiness", "acme", "--json",
                                                             env={"PROVISIONER_SNMP_ENABLED": "0"}).stdout))["ready"] == 1 and b)
            assert board["green"] is True and _group(board, "booted")["macs"] == [PHONE.mac]
            assert _group(board, "registered")["count"] is None and _group(board, "registered")["status"] == "sin datos del PBX"
        finally:
            if server is not None:
                server.terminate()
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            pid_file = tmp_path / "dnsmasq.pid"
            if pid_file.exists():
                _run("kill", pid_file.read_text().strip(), check=False)
        leases = (tmp_path / "leases").read_text() if (tmp_path / "leases").exists() else ""
        assert lease["address"] in leases  # dnsmasq really leased it (REQUEST/ACK, not just an offer)


def _group(board: dict, key: str) -> dict:  # type: ignore[type-arg]
    return next(g for g in board["groups"] if g["key"] == key)
