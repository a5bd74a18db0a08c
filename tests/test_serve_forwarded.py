"""Behind a reverse proxy: `provisioner serve --trusted-proxy` believes X-Forwarded-For from
that proxy only, for the phone's address in the pipeline and for every web handler, and does
not cap the proxy's own connections. The proxy is played from 127.0.0.20, a client straight
to the server from 127.0.0.21 (Linux routes all of 127.0.0.0/8 to lo)."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import time
from collections.abc import Iterator

import pytest
from aiohttp import web

from provisioner.forwarded import parse_networks
from provisioner.http_guard import GuardedSite, GuardLimits, believe_forwarded_for
from tests.conftest import RunningServer, cli_json, fresh_database, run_cli, start_server, stop_server
from tests.phones import DESK_PHONES

PHONE = next(p for p in DESK_PHONES if p.catalog_key == "yealink-t21p")
PROXY, DIRECT = "127.0.0.20", "127.0.0.21"
PER_SOURCE = 20


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    """SQLite only: the address is decided before the pipeline reaches the database."""
    workdir = tmp_path_factory.mktemp("proxied")
    with fresh_database("sqlite", workdir) as url:
        tenant = json.loads(run_cli(url, "tenant", "create", "Acme", "--sip-server", "pbx.example.net", "--json").stdout)
        run_cli(url, "extension", "add", "--tenant", tenant["slug"], "--extension", "101", "--name", "Ana",
                "--mac", PHONE.mac, "--model", PHONE.model_arg, "--line", "1")
        server = start_server(url, workdir, args=("--trusted-proxy", f"{PROXY}/32,10.9.0.0/16"), extra_env={
            "PROVISIONER_HTTP_MAX_CONNECTIONS_PER_SOURCE": str(PER_SOURCE),
            "PROVISIONER_HTTP_HEAD_TIMEOUT_SECONDS": "60",  # idle connections stay while they are counted
            "PROVISIONER_SIGHTING_FLUSH_SECONDS": "0.2",
        })
        try:
            yield server, str(tenant["key"])
        finally:
            stop_server(server)


def fetch(server: RunningServer, key: str, source: str, forwarded_for: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", f"/prov/{key}/{PHONE.device_file()}",
                           headers={"User-Agent": PHONE.user_agent(), "X-Forwarded-For": forwarded_for})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _last_ip(server: RunningServer) -> str | None:
    rows = cli_json(server.database_url, "devices")
    assert isinstance(rows, list)
    return next(row["last_ip"] for row in rows if row["mac"] == PHONE.mac)


def _wait_for_last_ip(server: RunningServer, expected: str) -> str | None:
    deadline = time.monotonic() + 10
    seen = _last_ip(server)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.3)
        seen = _last_ip(server)
    return seen


def test_the_phone_behind_the_trusted_proxy_is_the_source(proxied: tuple[RunningServer, str]) -> None:
    server, key = proxied
    # A forged entry on the left, the address nginx appended on the right, then our own proxy chain.
    assert fetch(server, key, PROXY, "6.6.6.6, 190.24.8.16, 10.9.3.3") == 200
    assert f"http 190.24.8.16 '{PHONE.device_file()}' -> 200" in server.log()
    assert _wait_for_last_ip(server, "190.24.8.16") == "190.24.8.16"  # the sighting, SNMP's target


def test_a_forged_header_from_anyone_else_is_ignored(proxied: tuple[RunningServer, str]) -> None:
    server, key = proxied
    assert fetch(server, key, DIRECT, "190.24.8.99") == 200
    assert f"http {DIRECT} '{PHONE.device_file()}' -> 200" in server.log()
    assert "190.24.8.99" not in server.log()
    assert _wait_for_last_ip(server, DIRECT) == DIRECT


def _hold(server: RunningServer, source: str, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", server.http_port), timeout=5, source_address=(source, 0))
            for _ in range(count)]


def _reset(sock: socket.socket) -> bool:
    sock.settimeout(0.1)
    try:
        return sock.recv(1) == b""
    except ConnectionError:
        return True
    except TimeoutError:
        return False


def test_the_trusted_proxy_is_not_capped_but_others_are(proxied: tuple[RunningServer, str]) -> None:
    server, key = proxied
    from_proxy, direct = _hold(server, PROXY, 2 * PER_SOURCE), _hold(server, DIRECT, 2 * PER_SOURCE)
    try:
        time.sleep(0.5)
        assert not any(_reset(sock) for sock in from_proxy)
        assert sum(_reset(sock) for sock in direct) == PER_SOURCE
        last = from_proxy[-1]  # the proxy's 40th connection carries a phone's request
        last.settimeout(10)
        last.sendall(f"GET /prov/{key}/{PHONE.device_file()} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     f"User-Agent: {PHONE.user_agent()}\r\nX-Forwarded-For: 190.24.8.17\r\n\r\n".encode())
        assert last.recv(12) == b"HTTP/1.1 200"
    finally:
        for sock in from_proxy + direct:
            sock.close()


# -- the web app's handlers see the same address (login throttling counts by it) -------------
async def _remote(request: web.Request) -> web.Response:
    return web.Response(text=request.remote or "")


async def test_every_handler_sees_the_client_behind_a_trusted_proxy() -> None:
    app = web.Application()
    app.router.add_post("/login", _remote)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    assert runner.server is not None
    believe_forwarded_for(runner.server, parse_networks(PROXY))
    site = GuardedSite(runner, GuardLimits(), "127.0.0.1", 0)
    await site.start()
    try:
        async def remote_seen(source: str, forwarded_for: str) -> str:
            reader, writer = await asyncio.open_connection("127.0.0.1", site.port, local_addr=(source, 0))
            writer.write(f"POST /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n"
                         f"X-Forwarded-For: {forwarded_for}\r\n\r\n".encode())
            answer = await reader.read()
            writer.close()
            return answer.rpartition(b"\r\n\r\n")[2].decode()

        assert await remote_seen(PROXY, "6.6.6.6, 190.24.8.16") == "190.24.8.16"
        assert await remote_seen(DIRECT, "190.24.8.16") == DIRECT
        assert await remote_seen(PROXY, "not an address") == PROXY
    finally:
        await runner.cleanup()
