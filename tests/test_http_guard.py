"""The HTTP connection guard against real sockets on loopback (provisioner.http_guard).

Each test starts a small aiohttp app on a GuardedSite and plays the client from its own
127.x address (Linux routes all of 127.0.0.0/8 to lo), so per-address rules are exercised as
they are on the internet.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import resource
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web

from provisioner.http_guard import (
    AcceptErrorThrottle, GuardedSite, GuardLimits, connection_budget, raise_open_file_limit, throttle_accept_errors,
)
from tests.certificates import self_signed

BODY = b"x" * 2000
LIMITS = GuardLimits(per_source=200, head_timeout=1.0, body_timeout=1.0, exempt=(ipaddress.ip_network("127.0.0.5/32"),))


async def _config(_request: web.Request) -> web.Response:
    return web.Response(body=BODY)


async def _upload(request: web.Request) -> web.Response:
    return web.Response(text=str(len(await request.read())))


async def _busy_then_upload(request: web.Request) -> web.Response:
    await asyncio.sleep(2.5)  # the handler is busy longer than the body timeout before it reads
    return await _upload(request)


async def _big(_request: web.Request) -> web.Response:
    return web.Response(body=b"f" * 64_000_000)  # more than loopback's socket buffers hold


@asynccontextmanager
async def guarded_site(limits: GuardLimits = LIMITS, ssl_context: ssl.SSLContext | None = None,
                       backlog: int = 128) -> AsyncIterator[GuardedSite]:
    raise_open_file_limit()
    app = web.Application(client_max_size=8_000_000)
    app.router.add_get("/prov/file", _config)
    app.router.add_post("/upload", _upload)
    app.router.add_post("/busy-upload", _busy_then_upload)
    app.router.add_get("/big", _big)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = GuardedSite(runner, limits, "127.0.0.1", 0, ssl_context=ssl_context, backlog=backlog)
    await site.start()
    try:
        yield site
    finally:
        await runner.cleanup()


@pytest.fixture
async def guarded() -> AsyncIterator[tuple[GuardedSite, int]]:
    async with guarded_site() as site:
        yield site, site.port


async def _connect(port: int, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


async def _get(port: int, source: str) -> bytes:
    reader, writer = await _connect(port, source)
    writer.write(b"GET /prov/file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = await reader.read()
    writer.close()
    return answer


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """True when the server ends the connection (EOF or reset) within `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(4096):
                pass
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


@pytest.mark.parametrize(
    ("requested", "limit", "budget"),
    [(20_000, 20_000, 19_488), (1_000, 20_000, 1_000), (20_000, 600, 88), (20_000, 100, 1)],
)
def test_connection_budget_keeps_the_descriptor_reserve(requested: int, limit: int, budget: int) -> None:
    assert connection_budget(requested, limit) == budget


@pytest.mark.parametrize(
    ("limit", "tftp_sessions", "budget"),
    [(1_048_576, 10_000, 20_000),  # a usual hard limit: room for everything
     (30_000, 10_000, 19_488),  # 30,000 - 512 reserved - 10,000 for TFTP
     (20_000, 10_000, 9_744),  # too low for both: HTTP keeps half of what is left
     (2_500, 100, 1_888)],
)
def test_connection_budget_leaves_tftp_its_sessions(limit: int, tftp_sessions: int, budget: int) -> None:
    assert connection_budget(20_000, limit, shared_with=tftp_sessions) == budget


async def test_one_address_with_thousands_of_idle_connections_does_not_deny_another() -> None:
    # A head timeout longer than the 3,000 connects take on a loaded machine: the idle ones
    # must still be held, by the cap alone, when they are counted.
    async with guarded_site(GuardLimits(per_source=200, head_timeout=30, body_timeout=30)) as site:
        port = site.port
        held = []
        refused = 0
        for _ in range(3000):  # bounded: one attacker address, 3,000 connection attempts
            try:
                held.append(await _connect(port, "127.0.0.2"))
            except OSError:
                refused += 1
        await asyncio.sleep(0.2)
        assert site.guard is not None
        assert site.guard.per_source["127.0.0.2"] == 200  # the cap, not 3,000
        started = time.monotonic()
        answer = await _get(port, "127.0.0.3")
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(BODY)
        assert time.monotonic() - started < 2
        for _reader, writer in held:
            writer.close()


async def test_a_request_head_sent_a_byte_at_a_time_is_cut(guarded: tuple[GuardedSite, int]) -> None:
    _site, port = guarded
    reader, writer = await _connect(port, "127.0.0.4")
    started = time.monotonic()

    async def dribble() -> None:
        for byte in b"GET /prov/file HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            writer.write(bytes([byte]))
            await asyncio.sleep(0.2)

    sender = asyncio.create_task(dribble())
    assert await _closed_within(reader, 5)
    assert time.monotonic() - started < 4  # head timeout 1 s + sweep every 1 s
    sender.cancel()
    writer.close()


async def test_an_idle_connection_that_never_speaks_is_cut(guarded: tuple[GuardedSite, int]) -> None:
    _site, port = guarded
    reader, writer = await _connect(port, "127.0.0.4")
    assert await _closed_within(reader, 4)
    writer.close()


async def test_a_stalled_body_is_cut_and_a_slow_moving_one_is_not(guarded: tuple[GuardedSite, int]) -> None:
    _site, port = guarded
    reader, writer = await _connect(port, "127.0.0.6")
    writer.write(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"y" * 10)
    assert await _closed_within(reader, 5)
    writer.close()

    reader, writer = await _connect(port, "127.0.0.6")
    writer.write(b"POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 100\r\n\r\n")
    for _ in range(10):  # 10 bytes every 0.4 s: 4 s in all, longer than the 1 s stall limit
        writer.write(b"z" * 10)
        await asyncio.sleep(0.4)
    answer = await reader.read()
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"100")
    writer.close()


async def test_kept_alive_requests_with_pauses_are_served(guarded: tuple[GuardedSite, int]) -> None:
    _site, port = guarded
    reader, writer = await _connect(port, "127.0.0.7")
    for _ in range(3):
        writer.write(b"GET /prov/file HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert await reader.readexactly(len(BODY)) == BODY
        await asyncio.sleep(0.6)  # idle between requests: under the head timeout, no byte pending
    writer.close()


async def test_an_exempt_network_is_not_capped_and_counts_are_released(guarded: tuple[GuardedSite, int]) -> None:
    site, port = guarded
    assert site.guard is not None
    held = [await _connect(port, "127.0.0.5") for _ in range(300)]
    await asyncio.sleep(0.2)
    assert site.guard.per_source["127.0.0.5"] == 300
    for _reader, writer in held:
        writer.close()
    await asyncio.sleep(0.3)
    assert "127.0.0.5" not in site.guard.per_source


async def test_the_kernel_queue_is_as_long_as_asked() -> None:
    """asyncio accepts a small batch per wakeup, but the listen backlog stays what serve asks."""
    async with guarded_site(backlog=4096) as site:
        listing = subprocess.run(["ss", "-ltnH", f"sport = :{site.port}"], capture_output=True, text=True, check=True)
        assert listing.stdout.split()[2] == "4096", listing.stdout  # Send-Q of a listening socket: its backlog


async def test_a_handler_busy_before_reading_does_not_make_the_body_stalled() -> None:
    async with guarded_site() as site:
        reader, writer = await _connect(site.port, "127.0.0.8")
        size = 4_000_000  # far more than aiohttp buffers before it stops reading
        writer.write(b"POST /busy-upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     + f"Content-Length: {size}\r\n\r\n".encode() + b"u" * size)
        answer = await asyncio.wait_for(reader.read(), 10)
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(str(size).encode())
        writer.close()


async def test_a_response_the_client_does_not_read_is_cut() -> None:
    async with guarded_site() as site:
        assert site.guard is not None
        _reader, writer = await _connect(site.port, "127.0.0.9")
        writer.write(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        await asyncio.sleep(0.5)
        assert site.guard.per_source.get("127.0.0.9") == 1  # sending, the client reads nothing
        await asyncio.sleep(3)  # the body timeout (1 s) and a sweep
        assert "127.0.0.9" not in site.guard.per_source
        writer.close()


# -- TLS: the guard counts and times connections before their handshake ----------------------
@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
async def tls_site(certificate: tuple[Path, Path]) -> AsyncIterator[GuardedSite]:
    async with guarded_site(ssl_context=_server_context(certificate)) as site:
        yield site


def _client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


async def test_https_is_served_and_its_connections_released(tls_site: GuardedSite, certificate: tuple[Path, Path]) -> None:
    assert tls_site.guard is not None
    for _ in range(3):
        reader, writer = await asyncio.open_connection("127.0.0.1", tls_site.port, local_addr=("127.0.0.11", 0),
                                                       ssl=_client_context(certificate), server_hostname="localhost")
        writer.write(b"GET /prov/file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = await reader.read()
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(BODY)
        writer.close()
    await asyncio.sleep(0.3)
    assert "127.0.0.11" not in tls_site.guard.per_source


async def test_a_request_that_comes_with_the_end_of_the_handshake_is_served(
    tls_site: GuardedSite, certificate: tuple[Path, Path],
) -> None:
    """curl's request often arrives with its TLS Finished (about 1 in 10 on loopback), before
    start_tls has returned: lost, it would wait for the head timeout and be cut."""
    for _ in range(20):
        fetched = await asyncio.create_subprocess_exec(
            "curl", "-sS", "--max-time", "5", "--cacert", str(certificate[0]), "--interface", "127.0.0.11",
            f"https://127.0.0.1:{tls_site.port}/prov/file", stdout=asyncio.subprocess.PIPE)
        body, _ = await fetched.communicate()
        assert body == BODY


async def test_unfinished_tls_handshakes_are_capped(certificate: tuple[Path, Path]) -> None:
    async with guarded_site(GuardLimits(per_source=200, head_timeout=30), _server_context(certificate)) as site:
        assert site.guard is not None
        held = [await _connect(site.port, "127.0.0.12") for _ in range(300)]  # TCP only, no ClientHello
        await asyncio.sleep(0.3)
        assert site.guard.per_source["127.0.0.12"] == 200  # counted before any handshake
        for _reader, writer in held:
            writer.close()


async def test_an_unfinished_tls_handshake_is_cut_after_the_head_timeout(tls_site: GuardedSite) -> None:
    assert tls_site.guard is not None
    reader, writer = await _connect(tls_site.port, "127.0.0.12")
    await asyncio.sleep(0.2)
    assert tls_site.guard.per_source["127.0.0.12"] == 1
    assert await _closed_within(reader, 4)  # head timeout 1 s + a sweep
    await asyncio.sleep(0.2)
    assert "127.0.0.12" not in tls_site.guard.per_source
    writer.close()


async def test_a_failed_tls_handshake_releases_its_connection(tls_site: GuardedSite) -> None:
    assert tls_site.guard is not None
    reader, writer = await _connect(tls_site.port, "127.0.0.13")
    writer.write(b"GET /prov/file HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP to the HTTPS port
    assert await _closed_within(reader, 2)
    writer.close()
    await asyncio.sleep(0.2)
    assert "127.0.0.13" not in tls_site.guard.per_source


# -- asyncio's accept errors at the descriptor limit -----------------------------------------
def test_out_of_descriptor_records_pass_once_a_minute() -> None:
    now = [0.0]
    throttle = AcceptErrorThrottle(clock=lambda: now[0])

    def record(message: str, error: BaseException | None = None) -> logging.LogRecord:
        exc_info = (type(error), error, None) if error else None
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, (), exc_info)  # type: ignore[arg-type]

    accept = "socket.accept() out of system resource\nsocket: <asyncio.TransportSocket fd=7>"
    assert throttle.filter(record(accept, OSError(24, "Too many open files")))
    assert not any(throttle.filter(record(accept)) for _ in range(500))
    assert not throttle.filter(record("Exception in callback X", OSError(24, "Too many open files")))
    assert throttle.filter(record("Task exception was never retrieved", ValueError("other")))  # not ours
    now[0] = 61.0
    passed = record(accept)
    assert throttle.filter(passed)
    assert "501 more like it in the last minute" in passed.getMessage()


async def test_accept_at_the_descriptor_limit_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    """The guard's budget keeps HTTP below the limit, but other sockets (TFTP's) can still take
    the last descriptors: then asyncio's accept fails on every try, and says so once."""
    throttle = throttle_accept_errors()
    limits = GuardLimits(per_source=10_000, head_timeout=30, body_timeout=30)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    async with guarded_site(limits) as site:
        clients = subprocess.Popen(  # 300 connections from another process, held for 6 s
            [sys.executable, "-c", "import socket, sys, time\n"
             "held = [socket.create_connection(('127.0.0.1', int(sys.argv[1])), source_address=('127.0.0.14', 0))"
             " for _ in range(300)]\ntime.sleep(6)", str(site.port)],
        )
        resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 30, hard))
        try:
            with caplog.at_level(logging.ERROR, logger="asyncio"):
                await asyncio.sleep(3.5)  # asyncio retries a refused accept every second
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            clients.kill()
            clients.wait()
    logging.getLogger("asyncio").removeFilter(throttle)
    told = [r for r in caplog.records if r.getMessage().startswith("socket.accept() out of system resource")]
    assert len(told) == 1
    assert throttle.dropped >= 100  # one batch of accept tries alone is 128 records
