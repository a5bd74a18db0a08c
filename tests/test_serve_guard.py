"""The connection guard in the real `provisioner serve` (issue 20, finding 5).

The server runs with 2,500 descriptors (soft and hard), so one address holding 3,000 idle
connections would take every one of them without the guard: the phone from another address
would then wait in the listen backlog until it gave up. Clients use their own 127.x source
address (Linux routes all of 127.0.0.0/8 to lo), as attackers and phones do on the internet.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningServer, fresh_database, run_cli, start_server, stop_server
from tests.phones import DESK_PHONES, parse

PHONE = next(p for p in DESK_PHONES if p.catalog_key == "yealink-t21p")
HEAD_TIMEOUT = 3
OPEN_FILE_LIMIT = 2500


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    """A tenant with one phone, served with 2,500 descriptors. SQLite only: the guard sits
    below the database, and each backend would cost another server start."""
    workdir = tmp_path_factory.mktemp("guard")
    with fresh_database("sqlite", workdir) as url:
        key = _tenant_with_phone(url)
        server = start_server(url, workdir, open_file_limit=OPEN_FILE_LIMIT, extra_env={
            "PROVISIONER_HTTP_HEAD_TIMEOUT_SECONDS": str(HEAD_TIMEOUT),
            "PROVISIONER_TFTP_MAX_SESSIONS": "100",  # TFTP's share of the 2,500 descriptors
        })
        try:
            yield server, key
        finally:
            stop_server(server)


def _tenant_with_phone(url: str) -> str:
    import json

    tenant = json.loads(run_cli(url, "tenant", "create", "Acme", "--sip-server", "pbx.example.net", "--json").stdout)
    run_cli(url, "extension", "add", "--tenant", tenant["slug"], "--extension", "101", "--name", "Ana",
            "--mac", PHONE.mac, "--model", PHONE.model_arg, "--line", "1")
    return str(tenant["key"])


def fetch_device_file(server: RunningServer, key: str, source: str, timeout: float = 10) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=timeout, source_address=(source, 0))
    try:
        connection.request("GET", f"/prov/{key}/{PHONE.device_file()}", headers={"User-Agent": PHONE.user_agent()})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_phone_is_served_while_one_address_holds_3000_idle_connections(served: tuple[RunningServer, str]) -> None:
    server, key = served
    held: list[socket.socket] = []
    try:
        for _ in range(3000):  # connect() completes in the kernel even when the server never accepts
            held.append(socket.create_connection(("127.0.0.1", server.http_port), timeout=5, source_address=("127.0.0.2", 0)))
        time.sleep(1)  # let the server accept (and refuse) what it will
        started = time.monotonic()
        status, body = fetch_device_file(server, key, "127.0.0.3")
        elapsed = time.monotonic() - started
        assert status == 200, body[:200]
        assert parse(PHONE.vendor, body), "a real config"
        assert elapsed < 2, f"the phone waited {elapsed:.1f} s"
        assert server.alive()
    finally:
        for sock in held:
            sock.close()
    log = server.log()
    assert "too many connections from one address" in log and "ip=127.0.0.2" in log
    assert log.count("Traceback") == 0, log[-3000:]


def test_a_request_head_sent_a_byte_at_a_time_is_cut(served: tuple[RunningServer, str]) -> None:
    server, key = served
    sock = socket.create_connection(("127.0.0.1", server.http_port), timeout=5, source_address=("127.0.0.4", 0))
    head = f"GET /prov/{key}/{PHONE.device_file()} HTTP/1.1\r\nHost: x\r\nX-Slow: ".encode() + b"a" * 200
    started = time.monotonic()
    cut_after = None
    try:
        for byte in head:
            try:
                sock.sendall(bytes([byte]))
                sock.settimeout(0.2)  # a byte every 0.2 s, watching for the server to end it meanwhile
                if sock.recv(4096) == b"":
                    cut_after = time.monotonic() - started
                    break
            except TimeoutError:
                continue
            except ConnectionError:
                cut_after = time.monotonic() - started
                break
    finally:
        sock.close()
    assert cut_after is not None, "the slow head was never cut"
    assert cut_after < HEAD_TIMEOUT + 2, f"cut after {cut_after:.1f} s"
    # The same phone, at a normal pace, is still served.
    assert fetch_device_file(server, key, "127.0.0.4")[0] == 200
