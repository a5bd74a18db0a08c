"""Logging in, tried as an attacker would, through a real server (issue 20, findings 7, 9, 12):
no redirect to another site after login, 10 failures lock a user name or an address out for
10 minutes (429, even with the right password), an unknown user name takes as long as a
wrong password, and the session cookie is Secure when asked or when serving TLS."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from provisioner.settings import Settings
from tests.conftest import RunningServer, cli_json, start_server, stop_server

LAURA = {"username": "laura", "password": "clave-laura-1"}


@pytest.fixture(scope="module")
def database(module_database_url: str) -> str:
    cli_json(module_database_url, "user", "add", "laura", "--role", "agent", "--password", LAURA["password"])
    cli_json(module_database_url, "user", "add", "ivan", "--role", "installer", "--password", "clave-ivan-1")
    return module_database_url


@pytest.fixture(scope="module")
def shared_server(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """For tests that fail no login."""
    running = start_server(database, tmp_path_factory.mktemp("login"))
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture
def server(database: str, tmp_path: Path) -> Iterator[RunningServer]:
    """A server of its own: what one test's failures lock must not lock the next test out."""
    running = start_server(database, tmp_path)
    try:
        yield running
    finally:
        stop_server(running)


async def post_login(running: RunningServer, username: str, password: str, next_: str | None = None) -> tuple[int, str, str]:
    form = {"username": username, "password": password, **({"next": next_} if next_ is not None else {})}
    async with aiohttp.ClientSession(running.base) as session:
        async with session.post("/login", data=form, allow_redirects=False) as response:
            return response.status, response.headers.get("Location", ""), await response.text()


@pytest.mark.parametrize(
    "hostile",
    ["/\t/evil.example", "/%09/evil.example", "//evil.example", "/\\evil.example", "https://evil.example/", "/\n/evil.example"],
)
async def test_login_never_redirects_to_another_site(shared_server: RunningServer, hostile: str) -> None:
    status, location, _ = await post_login(shared_server, **LAURA, next_=hostile)
    assert (status, location) == (303, "/tickets")
    async with aiohttp.ClientSession(shared_server.base) as session:  # the form does not carry it either
        async with session.get("/login", params={"next": hostile}) as response:
            page = await response.text()
    assert 'name="next" value="/tickets"' in page


async def test_login_keeps_a_page_of_this_site(shared_server: RunningServer) -> None:
    status, location, _ = await post_login(shared_server, **LAURA, next_="/tickets/12?x=1")
    assert (status, location) == (303, "/tickets/12?x=1")
    status, location, _ = await post_login(shared_server, "ivan", "clave-ivan-1")
    assert (status, location) == (303, "/imports")  # an installer sees no tickets: lands on imports


async def test_ten_failures_lock_out_even_the_right_password(server: RunningServer) -> None:
    for attempt in range(10):
        status, _, page = await post_login(server, "laura", f"mala-{attempt}")
        assert status == 401 and "Usuario o contraseña incorrectos." in page
    status, _, page = await post_login(server, **LAURA)
    assert status == 429 and "Demasiados intentos fallidos" in page and '<html lang="es">' in page
    status, _, page = await post_login(server, "ivan", "clave-ivan-1")  # the address is locked too
    assert status == 429


async def test_an_unknown_user_takes_as_long_as_a_wrong_password(server: RunningServer) -> None:
    known, unknown = [], []
    for attempt in range(5):  # 10 failures: the last locks the address, after it was answered
        for name, times in (("laura", known), (f"nadie{attempt}", unknown)):
            started = time.perf_counter()
            status, _, _ = await post_login(server, name, "mala")
            times.append(time.perf_counter() - started)
            assert status == 401
    # scrypt takes ~50-100 ms; a skipped check answered in ~6 ms. Half is far from both.
    assert statistics.median(unknown) >= 0.5 * statistics.median(known), (known, unknown)


@pytest.mark.parametrize(("args", "env", "secure"), [
    ((), {}, False),
    (("--cookie-secure",), {}, True),
    ((), {"PROVISIONER_COOKIE_SECURE": "1"}, True),
])
async def test_the_session_cookie_is_secure_when_asked(database: str, tmp_path: Path, args: tuple[str, ...],
                                                        env: dict[str, str], secure: bool) -> None:
    running = start_server(database, tmp_path, args=args, extra_env=env)
    try:
        async with aiohttp.ClientSession(running.base) as session:
            async with session.post("/login", data=LAURA, allow_redirects=False) as response:
                cookie = response.headers["Set-Cookie"]
    finally:
        stop_server(running)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert ("secure" in [part.strip().lower() for part in cookie.split(";")]) == secure, cookie


def test_serving_tls_makes_the_cookie_secure_by_itself() -> None:
    assert not Settings().session_cookie_secure
    assert Settings(cookie_secure=1).session_cookie_secure
    assert Settings(tls_cert="/etc/provisioner/cert.pem", tls_key="/etc/provisioner/key.pem").session_cookie_secure
