"""The HTTP connection guard against real sockets on loopback (provisioner.http_guard).

Each test starts a small aiohttp app on a GuardedSite and plays the client from its own
127.x address (Linux routes all of 127.0.0.0/8 to lo), so per-address rules are exercised as
they are on the internet.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from provisioner.http_guard import GuardedSite, GuardLimits, connection_budget, raise_open_file_limit

BODY = b"x" * 2000


async def _config(_request: web.Request) -> web.Response:
    return web.Response(body=BODY)


async def _upload(request: web.Request) -> web.Response:
    return web.Response(text=str(len(await request.read())))


@pytest.fixture
async def guarded() -> AsyncIterator[tuple[GuardedSite, int]]:
    raise_open_file_limit()
    app = web.Application()
    app.router.add_get("/prov/file", _config)
    app.router.add_post("/upload", _upload)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    limits = GuardLimits(per_source=200, head_timeout=1.0, body_timeout=1.0,
                         exempt=(ipaddress.ip_network("127.0.0.5/32"),))
    site = GuardedSite(runner, limits, "127.0.0.1", 0)
    await site.start()
    yield site, site.port
    await runner.cleanup()


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


async def test_one_address_with_thousands_of_idle_connections_does_not_deny_another(
    guarded: tuple[GuardedSite, int],
) -> None:
    site, port = guarded
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
