"""A database that hangs or goes away must not freeze the phones (issue 20, finding 1).

The server reads the database only off its event loop, with a timeout: a phone it knows is
served from memory whatever the database does, an unknown key is the same 404 as ever, and
/readyz (not /healthz) says the database does not answer. A flood of random keys costs a
bounded number of queries and of memory (provisioner.directory, provisioner.negative_cache).

The hung database is a TCP proxy between the server and PostgreSQL that the test freezes:
connections are still accepted, nothing passes either way, as with a database host that
stopped answering; thawed, what was held flows on. Cut, it drops every connection (gone).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import event, text, update
from sqlalchemy.engine import make_url

from firmware_catalog import load_catalog
from provisioner import admin
from provisioner.db.engine import make_engine, postgres_timeouts, session_factory
from provisioner.db.models import Tenant
from provisioner.negative_cache import NegativeCache
from provisioner.readiness import readiness
from provisioner.server import build_core, create_app
from provisioner.settings import Settings
from tests.conftest import fresh_database, start_server, stop_server
from tests.test_boot_e2e import wait_for
from tests.test_directory_watch import MAC, UA, acme_with_one_phone
from tests.test_tftp import RawClient, rrq

TENANT_QUERY = re.compile(r"\bFROM tenant\b")


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database("postgresql", tmp_path) as url:
        yield url


# -- pure parts ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("steps", "asked", "now", "held"),
    [
        ([("a", 0.0)], "a", 4.9, True),  # within ttl (5 s)
        ([("a", 0.0)], "a", 5.0, False),  # expired: the database is asked again
        ([("a", 0.0)], "b", 1.0, False),  # never asked
        ([("a", 0.0), ("b", 1.0), ("c", 2.0)], "a", 2.0, False),  # limit 2: the oldest went
        ([("a", 0.0), ("b", 1.0), ("c", 2.0)], "b", 2.0, True),
        ([("a", 0.0), ("b", 1.0), ("a", 2.0), ("c", 3.0)], "a", 3.0, True),  # asked again: the newest
        ([("a", 0.0), ("b", 1.0), ("a", 2.0), ("c", 3.0)], "b", 3.0, False),
    ],
)
def test_the_negative_cache_expires_and_keeps_at_most_its_limit(
    steps: list[tuple[str, float]], asked: str, now: float, held: bool
) -> None:
    cache = NegativeCache(ttl=5.0, limit=2)
    for key, at in steps:
        cache.add(key, at)
        assert len(cache) <= 2
    assert cache.holds(asked, now) is held


def test_a_flood_of_keys_never_grows_the_negative_cache_past_its_limit() -> None:
    cache = NegativeCache(ttl=5.0, limit=1000)
    for number in range(100_000):
        cache.add(f"key-{number}", number / 1000)
    assert len(cache) == 1000
    assert cache.holds("key-99999", 100.0) and not cache.holds("key-0", 100.0)


@pytest.mark.parametrize(
    ("database", "writer", "status", "body"),
    [
        ("ok", "ok", 200, {"status": "ok"}),
        ("no answer within 2 s", "ok", 503, {"status": "degraded", "database": "no answer within 2 s", "ticket_writer": "ok"}),
        ("ok", "error: BrokenProcessPool", 503,
         {"status": "degraded", "database": "ok", "ticket_writer": "error: BrokenProcessPool"}),
    ],
)
def test_readiness_is_ok_only_when_both_checks_are(database: str, writer: str, status: int, body: dict[str, str]) -> None:
    assert readiness(database, writer) == (status, body)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"connect_timeout": 2, "options": "-c statement_timeout=30000"}),
        ({"connect_timeout": "9"}, {"options": "-c statement_timeout=30000"}),  # the URL's own value wins
        ({"options": "-c search_path=x"}, {"connect_timeout": 2}),
    ],
)
def test_postgres_timeouts_leave_the_urls_own_alone(query: dict[str, str], expected: dict[str, object]) -> None:
    assert postgres_timeouts(query, connect_timeout=0.5, statement_timeout=30) == expected


def test_the_servers_postgres_sessions_have_a_statement_timeout(postgres_url: str, tmp_path: Path) -> None:
    core = build_core(Settings(database_url=postgres_url, db_statement_timeout_seconds=7.5), migrate=False)
    with core.sessions() as session:
        assert session.scalar(text("SHOW statement_timeout")) == "7500ms"
    core.sessions.kw["bind"].dispose()


# -- a hung database, then a gone one (a real server, PostgreSQL) ------------------------------
class FreezableProxy:
    """127.0.0.1:<port> -> `upstream`, one thread pair per connection."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.flowing = threading.Event()
        self.flowing.set()
        self.cut_off = False
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        self.flowing.clear()

    def thaw(self) -> None:
        self.flowing.set()

    def cut(self) -> None:
        """Gone: every connection dropped, new ones closed at once."""
        self.cut_off = True
        with self.lock:
            for sock in self.open:
                _shut(sock)

    def restore(self) -> None:
        self.cut_off = False

    def close(self) -> None:
        self.cut()
        self.thaw()
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_off:
                client.close()
                continue
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        self.flowing.wait()
        try:
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        with self.lock:
            self.open.update((client, server))
        threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()
        self._pipe(client, server)

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self.flowing.wait()  # frozen: what was read waits here, nothing passes
                target.sendall(data)
        except OSError:
            pass
        finally:
            _shut(source)
            _shut(target)
            with self.lock:
                self.open.discard(source)
                self.open.discard(target)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def get(url: str, timeout: float, user_agent: str = UA) -> tuple[int, bytes, float]:
    """Status, body and seconds taken; a timeout fails the test with what it waited for."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read(), time.monotonic() - started
    except TimeoutError:
        pytest.fail(f"no answer within {timeout} s from {url.split('/prov/')[0]}")


def tftp_get(port: int, name: str) -> tuple[bytes, float]:
    started = time.monotonic()
    client = RawClient(port, timeout=2.0)
    try:
        body, _ = client.download(name)
    except TimeoutError:
        pytest.fail("TFTP did not answer within 2 s")
    finally:
        client.close()
    return body, time.monotonic() - started


def tftp_not_found(port: int, name: str) -> bool:
    client = RawClient(port, timeout=2.0)
    try:
        client.request(rrq(name))
        return client.receive()[:4] == b"\x00\x05\x00\x01"
    finally:
        client.close()


def ready(base: str) -> tuple[int, dict[str, str]]:
    status, body, _ = get(f"{base}/readyz", timeout=5)
    return status, json.loads(body)


OTHER_MAC = "001565aabbcd"
OTHER_UA = "Yealink SIP-T21P 34.72.0.75 00:15:65:aa:bb:cd"


def add_tenant(url: str, name: str) -> str:
    """A tenant with extension 201 on OTHER_MAC (a fresh database connection, not the server's)."""
    engine = make_engine(url)
    with session_factory(engine).begin() as session:
        tenant = admin.create_tenant(session, name, "pbx.example.net")
        admin.add_extension(session, load_catalog(), tenant, "201", "Ana", assignment=admin.Assignment(OTHER_MAC, "T21P", 1))
        key = tenant.provisioning_key
    engine.dispose()
    return key


def test_a_hung_database_freezes_no_phone(postgres_url: str, tmp_path: Path) -> None:
    real = make_url(postgres_url)
    proxy = FreezableProxy((real.host or "127.0.0.1", real.port or 5432))
    proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    key = acme_with_one_phone(session_factory(make_engine(postgres_url)))
    server = start_server(proxied, tmp_path, extra_env={"PROVISIONER_DB_TIMEOUT_SECONDS": "1"})
    config = f"{server.base}/prov/{key}/{MAC}.cfg"
    try:
        status, body, _ = get(config, timeout=10)  # warm: the phone is now in memory
        assert status == 200 and b"Ana" in body
        assert b"Ana" in tftp_get(server.tftp_port, f"{key}/{MAC}.cfg")[0]

        proxy.freeze()
        time.sleep(0.3)  # the watcher's next pass is stuck in the database now
        unknown = secrets.token_urlsafe(16)
        status, _, took = get(f"{server.base}/prov/{unknown}/{MAC}.cfg", timeout=2)
        assert status == 404, "an unknown key in an outage is the same 404 as ever"
        assert took < 2
        status, body, took = get(config, timeout=2)
        assert (status, b"Ana" in body) == (200, True) and took < 2
        body, took = tftp_get(server.tftp_port, f"{key}/{MAC}.cfg")
        assert b"Ana" in body and took < 2
        assert tftp_not_found(server.tftp_port, f"{unknown}/{MAC}.cfg")
        status, _, took = get(f"{server.base}/healthz", timeout=2)
        assert status == 200 and took < 0.5
        status, state = ready(server.base)
        assert status == 503 and state["status"] == "degraded" and state["database"] == "no answer within 1 s", state
        created = add_tenant(postgres_url, "Creada en la falla")  # straight to PostgreSQL, not through the proxy
        created_config = f"{server.base}/prov/{created}/{OTHER_MAC}.cfg"
        assert get(created_config, timeout=2, user_agent=OTHER_UA)[0] == 404  # not readable yet
        assert server.alive()

        proxy.thaw()
        assert wait_for(lambda: ready(server.base) == (200, {"status": "ok"}), 20.0), ready(server.base)
        assert wait_for(lambda: get(created_config, timeout=5, user_agent=OTHER_UA)[0] == 200, 20.0)
        assert get(config, timeout=2)[0] == 200

        proxy.cut()  # gone: PostgreSQL stopped
        status, body, _ = get(config, timeout=2)
        assert (status, b"Ana" in body) == (200, True)
        assert get(f"{server.base}/prov/{secrets.token_urlsafe(16)}/{MAC}.cfg", timeout=3)[0] == 404  # never 500
        assert wait_for(lambda: ready(server.base)[0] == 503, 10.0)
        proxy.restore()
        assert wait_for(lambda: ready(server.base)[0] == 200, 20.0)
        assert not re.search(r"config request \w+ .* failed", server.log())  # no 500 at any point
        assert key not in server.log() and created not in server.log()  # keys are secrets, outage or not
    finally:
        proxy.close()
        stop_server(server)


# -- a flood of unknown keys (in process: the queries are counted on the server's engine) ------
def serve_in_process(database_url: str, tmp_path: Path, scenario, **overrides):  # type: ignore[no-untyped-def]
    settings = Settings(database_url=database_url, tftp_port=-1, snmp_enabled=False, firmware_dir=str(tmp_path / "fw"),
                        cache_check_seconds=60.0, **overrides)  # the watcher adds no query to count
    core = build_core(settings, migrate=False)
    key = acme_with_one_phone(core.sessions)
    statements: list[str] = []
    event.listen(core.sessions.kw["bind"], "before_cursor_execute", lambda *args: statements.append(args[2]))

    async def run() -> None:
        server = TestServer(create_app(settings, core))
        await server.start_server()
        try:
            async with aiohttp.ClientSession(headers={"User-Agent": UA}) as http:
                await asyncio.sleep(0.2)  # the watcher's first pass
                await scenario(http, server, core, key, statements)
        finally:
            await server.close()

    asyncio.run(run())


async def status_of(http: aiohttp.ClientSession, server: TestServer, key: str) -> int:
    async with http.get(server.make_url(f"/prov/{key}/{MAC}.cfg")) as response:
        await response.read()
        return response.status


def test_a_flood_of_random_keys_costs_a_bounded_number_of_queries_and_of_memory(database_url: str, tmp_path: Path) -> None:
    async def scenario(http, server, core, key, statements):  # type: ignore[no-untyped-def]
        core.directory.unknown = NegativeCache(ttl=5.0, limit=100)  # small, to see the bound
        gate = asyncio.Semaphore(50)

        async def ask(asked: str) -> int:
            async with gate:
                return await status_of(http, server, asked)

        statements.clear()
        started = time.monotonic()
        statuses = await asyncio.gather(*(ask(secrets.token_urlsafe(16)) for _ in range(1000)))
        took = time.monotonic() - started
        assert set(statuses) == {404}
        lookups = [s for s in statements if TENANT_QUERY.search(s)]
        # One query per round of LOAD_ROUND_SECONDS (0.05 s), whatever the number of keys.
        assert len(lookups) <= took / 0.05 + 2, (len(lookups), took)
        assert len(lookups) < 200
        assert len(core.directory.unknown) <= 100
        assert core.directory.waiting == 0
        assert await status_of(http, server, key) == 200  # the known phone, meanwhile and after

    # One address sends the whole flood: no ban, so that every key reaches the directory.
    serve_in_process(database_url, tmp_path, scenario, miss_limit=1_000_000)


def test_an_unknown_key_is_remembered_only_a_while(database_url: str, tmp_path: Path) -> None:
    """A key asked before its tenant existed is found once the negative entry expires,
    even though creating a tenant does not move config_version."""

    async def scenario(http, server, core, key, statements):  # type: ignore[no-untyped-def]
        later = secrets.token_urlsafe(24)
        assert not core.directory.said_unknown(later)
        assert await status_of(http, server, later) == 404
        assert core.directory.said_unknown(later)
        statements.clear()
        for _ in range(20):
            assert await status_of(http, server, later) == 404
        assert not [s for s in statements if TENANT_QUERY.search(s)]  # answered from memory

        def give_acme_that_key() -> None:
            with core.sessions.begin() as session:
                session.execute(update(Tenant).where(Tenant.provisioning_key == key).values(provisioning_key=later))

        await asyncio.to_thread(give_acme_that_key)
        await asyncio.sleep(0.8)  # past PROVISIONER_NEGATIVE_CACHE_SECONDS
        assert await status_of(http, server, later) == 200

    serve_in_process(database_url, tmp_path, scenario, negative_cache_seconds=0.5)
