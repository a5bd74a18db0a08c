"""One source cannot deny TFTP to others: an address that floods read requests and never
ACKs gets its per-source share of sessions and 'server busy' for the rest, while a phone at
another address gets its whole file within 2 s. Real sockets on loopback (Linux routes all
of 127.0.0.0/8 to lo): the attacker is 127.0.0.2, the phone 127.0.0.3.

The attacker runs in a child process: 12,000 open sockets (a closed one would answer the
server's DATA with ICMP port-unreachable, which ends the session at once) do not fit beside
the server's own descriptors in one process.
"""

from __future__ import annotations

import logging
import select
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from provisioner.tftp import BUSY_PACKET
from tests.conftest import cli_json, fresh_database, run_cli, start_server, stop_server
from tests.phones import DESK_PHONES
from tests.test_tftp import FILES, RawClient, ThreadedServer, rrq
from tests.test_tftp import make_server  # noqa: F401 - the fixture, shared

ATTACKER, PHONE = "127.0.0.2", "127.0.0.3"
FLOOD_REQUESTS = 12_000
PHONE_DEADLINE = 2.0

# Each socket sends its RRQ twice (a lost datagram is retransmitted, as an attacker would;
# the server ignores a repeated RRQ from a port it already serves), then all stay open and
# unread (a 1-byte receive buffer: what the server sends is dropped, never refused) until
# stdin closes or `hold` seconds pass.
FLOOD_SCRIPT = """
import select, socket, sys
host, port, source, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
count, hold = int(sys.argv[5]), float(sys.argv[6])
request = b"\\0\\1" + name.encode() + b"\\0octet\\0"
socks = []
for _ in range(count):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
    sock.setblocking(False)
    sock.bind((source, 0))
    socks.append(sock)
for _ in range(2):
    for sock in socks:
        try:
            sock.sendto(request, (host, port))
        except BlockingIOError:
            pass
print("sent", flush=True)
select.select([sys.stdin], [], [], hold)
"""


@contextmanager
def flood(port: int, name: str, count: int = FLOOD_REQUESTS, hold: float = 20.0) -> Iterator[None]:
    """`count` RRQs for `name` from ATTACKER, never ACKed; the sockets stay open meanwhile."""
    child = subprocess.Popen(
        [sys.executable, "-c", FLOOD_SCRIPT, "127.0.0.1", str(port), ATTACKER, name, str(count), str(hold)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        ready, _, _ = select.select([child.stdout], [], [], 30)
        assert ready and child.stdout.readline() == b"sent\n", child.stderr.read() if child.stderr else ""  # type: ignore[union-attr]
        yield
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def download_from(source: str, port: int, name: str, within: float) -> bytes:
    """A phone at `source`: RRQ (resent every 0.25 s until answered), then DATA/ACK in lock
    step; the whole file within `within` seconds, or the test fails."""
    deadline = time.monotonic() + within
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        chunks: list[bytes] = []
        expected, peer = 1, None
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"{len(chunks)} blocks of {name!r} within {within} s"
            if peer is None:
                sock.sendto(rrq(name), ("127.0.0.1", port))
            sock.settimeout(min(left, 0.25))
            try:
                packet, sender = sock.recvfrom(70000)
            except TimeoutError:
                continue
            assert packet[:2] != b"\x00\x05", f"ERROR from the server: {packet!r}"
            if packet[:4] != struct.pack("!HH", 3, expected):
                continue  # a duplicate
            peer = sender
            chunks.append(packet[4:])
            sock.sendto(struct.pack("!HH", 4, expected), peer)
            if len(packet) - 4 < 512:
                return b"".join(chunks)
            expected += 1


def security_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "provisioner.security" and r.levelno == logging.WARNING]


def test_a_flooding_source_does_not_deny_a_phone_at_another_address(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    server = ThreadedServer(timeout=0.5, retries=3)  # default caps; unanswered sessions end after ~2 s
    try:
        with flood(server.port, "exact1024.bin"):
            start = time.monotonic()
            assert download_from(PHONE, server.port, "big.bin", PHONE_DEADLINE) == FILES["big.bin"]
            took = time.monotonic() - start
            assert server.server.active_sessions <= 513  # the attacker's share, and nothing more
            server.wait_idle(6)  # the attacker's sessions time out and free their slots
        assert took < PHONE_DEADLINE
        assert download_from(ATTACKER, server.port, "small.cfg", PHONE_DEADLINE) == FILES["small.cfg"]
    finally:
        server.close()
    lines = security_warnings(caplog)
    assert len(lines) == 1 and ATTACKER in lines[0], lines


# --- the per-source cap, a few datagrams at a time ------------------------------------------

def counting(calls: list[str]) -> Callable[[str, str], bytes | None]:
    def serve(name: str, client_ip: str) -> bytes | None:
        calls.append(client_ip)
        return FILES.get(name)
    return serve


def test_over_its_cap_a_source_gets_busy_and_costs_no_source_call(
    make_server: Callable[..., ThreadedServer], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    calls: list[str] = []
    server = make_server(max_sessions_per_source=3, timeout=5.0, source=counting(calls))
    attackers = [RawClient(server.port, source=ATTACKER) for _ in range(20)]
    try:
        for client in attackers:
            client.request(rrq("exact1024.bin"))
        replies = [client.receive() for client in attackers]
        assert sum(r[:4] == b"\x00\x03\x00\x01" for r in replies) == 3
        assert replies.count(BUSY_PACKET) == 17
        assert calls == [ATTACKER] * 3 and server.server.active_sessions == 3
        assert download_from(PHONE, server.port, "small.cfg", PHONE_DEADLINE) == FILES["small.cfg"]
        first = next(c for c, r in zip(attackers, replies, strict=True) if r[:4] == b"\x00\x03\x00\x01")
        first.send(b"\x00\x05\x00\x00bye\x00")  # one of its three ends: the source has a slot again
        deadline = time.monotonic() + 2
        while server.server.active_sessions > 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        again = RawClient(server.port, source=ATTACKER)
        again.request(rrq("small.cfg"))
        assert again.receive()[:4] == b"\x00\x03\x00\x01"
        again.close()
    finally:
        for client in attackers:
            client.close()
    tftp_lines = [r for r in caplog.records if r.name == "provisioner.tftp" and ATTACKER in r.getMessage()]
    assert len(tftp_lines) <= 1  # the refusals log nothing there; at most the ended transfer's line
    assert security_warnings(caplog) == [
        f"TFTP per-source cap (3 sessions) reached by {ATTACKER}: refused with 'server busy' (+0 refused since last report)",
    ]


def test_each_source_over_its_cap_is_reported_once(
    make_server: Callable[..., ThreadedServer], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    server = make_server(max_sessions_per_source=2, timeout=5.0)
    clients = [RawClient(server.port, source=source) for source in (ATTACKER, "127.0.0.4") for _ in range(10)]
    try:
        for client in clients:
            client.request(rrq("big.bin"))
        assert [client.receive() for client in clients].count(BUSY_PACKET) == 16
    finally:
        for client in clients:
            client.close()
    lines = security_warnings(caplog)
    assert len(lines) == 2 and ATTACKER in lines[0] and "127.0.0.4" in lines[1], lines


def test_sessions_that_never_get_their_acks_free_the_sources_slots(make_server: Callable[..., ThreadedServer]) -> None:
    server = make_server(max_sessions_per_source=2, timeout=0.2, retries=1)
    silent = [RawClient(server.port, source=ATTACKER) for _ in range(3)]
    try:
        for client in silent:
            client.request(rrq("small.cfg"))
        assert [client.receive() for client in silent].count(BUSY_PACKET) == 1
        assert server.wait_idle(2) > 0.3  # two tries of 0.2 s each, then the slots are free
        assert download_from(ATTACKER, server.port, "small.cfg", PHONE_DEADLINE) == FILES["small.cfg"]
    finally:
        for client in silent:
            client.close()


# --- no tenant key in any log line ------------------------------------------------------------

KEY = "Xq3v9ZkT0bW1yR7uJ2mN8pL5sD4fG6hA"
HIDDEN = "key#a4eb1683"


async def keyed_source(path: str, client_ip: str) -> bytes | None:
    """Like the real server's: `<key>/<file>`; its failures quote the key as a database's would."""
    key, _, name = path.lstrip("/").partition("/")
    if name == "boom.cfg":
        raise RuntimeError(f"[SQL: SELECT * FROM tenant WHERE key = ?] [parameters: ('{key}',)]")
    if name == "text.cfg":
        return "not bytes"  # type: ignore[return-value]
    return FILES.get(name) if key == KEY else None


def test_no_tftp_log_line_shows_the_tenant_key(
    make_server: Callable[..., ThreadedServer], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = make_server(source=keyed_source, timeout=0.2, retries=1)
    assert download_from(PHONE, server.port, f"{KEY}/small.cfg", PHONE_DEADLINE) == FILES["small.cfg"]
    for name in (f"/{KEY}/nope.cfg", f"{KEY}/boom.cfg", f"{KEY}/text.cfg", f"{KEY}cfg000b82a1b201.xml"):
        client = RawClient(server.port)
        client.request(rrq(name))
        assert client.receive()[:4] == b"\x00\x05\x00\x01"
        client.close()
    silent = RawClient(server.port)
    silent.request(rrq(f"{KEY}/big.bin"))  # never ACKed: the 'stopped answering' line
    assert silent.receive()[:4] == b"\x00\x03\x00\x01"
    server.wait_idle(2)
    silent.close()
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for line in ("small.cfg': sent", "nope.cfg': not found", "source failed for", "source returned str", "stopped answering"):
        assert line in logged
    assert f"{HIDDEN}/small.cfg" in logged and f"('{HIDDEN}',)" in logged  # the traceback, key hidden
    assert KEY not in logged


# --- end to end: the real `provisioner serve` -------------------------------------------------

def test_real_server_a_flooding_source_does_not_deny_a_phone_and_no_key_is_logged(tmp_path: Path) -> None:
    phone = DESK_PHONES[-1]
    with fresh_database("sqlite", tmp_path) as database_url:
        tenant = cli_json(database_url, "tenant", "create", "Acme S.A.S.", "--sip-server", "pbx.acme.example.net")
        run_cli(database_url, "extension", "add", "--tenant", tenant["slug"], "--extension", "101", "--name", "Ana",
                "--mac", phone.mac, "--model", phone.model_arg, "--line", "1")
        server = start_server(database_url, tmp_path)
        try:
            path = f"{tenant['key']}/{phone.device_file()}"
            expected = download_from(PHONE, server.tftp_port, path, 10)  # the cold first fetch renders it
            assert b"account.1.enable = 1" in expected
            with flood(server.tftp_port, path):
                start = time.monotonic()
                assert download_from(PHONE, server.tftp_port, path, PHONE_DEADLINE) == expected
                assert time.monotonic() - start < PHONE_DEADLINE
            assert server.alive()
        finally:
            stop_server(server)
    log = server.log()
    assert log.count(f"TFTP per-source cap (512 sessions) reached by {ATTACKER}") == 1, log[-3000:]
    assert "session cap (10000) reached" not in log
    assert tenant["key"] not in log
