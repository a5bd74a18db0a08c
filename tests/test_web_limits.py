"""Limits and headers of the web app and the API, through a real server (issue 20, findings 10
and 12): one 25 MB body limit everywhere (413 as JSON under /api/v1/, a Spanish page in the
app), length limits on ticket text, and the security headers on every answer but the phones'."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from provisioner.web.limits import MAX_BODY, too_long
from tests.conftest import RunningServer, cli_json, start_server, stop_server

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
TICKET = {"subject": "Sin tono", "detail": "Nada suena.", "requester_name": "Ana", "requester_contact": "ana@acme.co"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"subject": "x" * 200, "detail": "y" * 20_000}, None),
        ({"subject": "x" * 201}, "El asunto tiene 201 caracteres; el máximo es 200."),
        ({"requester_name": "á" * 201}, "El nombre del solicitante tiene 201 caracteres; el máximo es 200."),
        ({"requester_contact": "x" * 900_000}, "El contacto del solicitante tiene 900000 caracteres; el máximo es 200."),
        ({"detail": "x" * 20_001}, "El detalle tiene 20001 caracteres; el máximo es 20000."),
        ({"note": "x" * 20_001}, "La nota tiene 20001 caracteres; el máximo es 20000."),
        ({"note": None, "account": "x" * 300}, None),  # no limit of ours: the database's column decides
    ],
)
def test_text_limits(fields: dict[str, object], message: str | None) -> None:
    assert too_long(fields) == message


@pytest.fixture(scope="module")
def server(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    agent = cli_json(module_database_url, "user", "add", "ana", "--role", "agent", "--password", "clave-ana-1")
    running = start_server(module_database_url, tmp_path_factory.mktemp("limits"))
    try:
        yield running, agent["api_token"]
    finally:
        stop_server(running)


@pytest.fixture
async def browser(server: tuple[RunningServer, str]) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    running, _token = server
    async with aiohttp.ClientSession(running.base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.post("/login", data={"username": "ana", "password": "clave-ana-1"}) as response:
            page = await response.text()
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert csrf is not None
        yield session, csrf[1]


# -- one body limit: 25 MB --------------------------------------------------------------------
@pytest.fixture(scope="module")
def filler() -> memoryview:
    """25 MB + 1 of 'x', built once; requests send slices of it."""
    return memoryview(b"x" * (MAX_BODY + 1))


async def body_of(size: int, prefix: bytes, filler: memoryview, suffix: bytes = b"") -> AsyncIterator[bytes | memoryview]:
    """A body of exactly `size` bytes, sent in pieces: prefix, slices of the filler (no copy), suffix."""
    yield prefix
    middle = size - len(prefix) - len(suffix)
    for start in range(0, middle, 1 << 20):
        yield filler[start:min(start + (1 << 20), middle)]
    yield suffix


@pytest.mark.parametrize(("size", "status", "code"), [(MAX_BODY - 1, 422, "invalid"), (MAX_BODY + 1, 413, "too_large")])
async def test_api_takes_bodies_up_to_25_mb(server, filler: memoryview, size: int, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    running, token = server
    body = body_of(size, b'{"subject": "', filler, b'"}')  # just under: read whole, then judged (subject too long)
    async with aiohttp.ClientSession(running.base) as session:
        async with session.post("/api/v1/tickets", data=body, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}) as response:
            document = await response.json()
    assert (response.status, document["error"]) == (status, code), document
    if status == 413:
        assert document["message"] == "Lo enviado es demasiado grande."


@pytest.mark.parametrize(("size", "status", "words"), [
    (MAX_BODY - 1, 422, "Faltan campos obligatorios"), (MAX_BODY + 1, 413, "Lo enviado es demasiado grande."),
])
async def test_app_forms_take_bodies_up_to_25_mb(browser, filler: memoryview, size: int, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    session, csrf = browser
    body = body_of(size, f"csrf_token={csrf}&relleno=".encode(), filler)  # a field nobody reads
    async with session.post("/tickets/new", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}) as response:
        page = await response.text()
    assert response.status == status and words in page and '<html lang="es">' in page


# -- ticket text ------------------------------------------------------------------------------
async def api(running: RunningServer, token: str, path: str, body: dict[str, object]) -> tuple[int, dict]:
    async with aiohttp.ClientSession(running.base) as session:
        async with session.post(path, json=body, headers={"Authorization": f"Bearer {token}"}) as response:
            return response.status, await response.json()


async def test_api_refuses_ticket_text_past_its_limit(server) -> None:  # type: ignore[no-untyped-def]
    running, token = server
    status, document = await api(running, token, "/api/v1/tickets", {**TICKET, "subject": "x" * 900_000})
    assert (status, document["error"]) == (422, "invalid")
    assert document["detail"] == "El asunto tiene 900000 caracteres; el máximo es 200."
    status, created = await api(running, token, "/api/v1/tickets", {**TICKET, "subject": "x" * 200, "detail": "y" * 20_000})
    assert status == 201 and created["subject"] == "x" * 200
    status, document = await api(running, token, f"/api/v1/tickets/{created['id']}/actions", {"action": "note", "note": "z" * 20_001})
    assert (status, document["detail"]) == (422, "La nota tiene 20001 caracteres; el máximo es 20000.")
    status, document = await api(running, token, f"/api/v1/tickets/{created['id']}/actions",
                                 {"action": "log_work", "minutes": 5, "note": "z" * 20_001})
    assert (status, document["detail"]) == (422, "La nota tiene 20001 caracteres; el máximo es 20000.")


async def test_the_form_refuses_a_long_subject_and_keeps_what_was_typed(browser) -> None:  # type: ignore[no-untyped-def]
    session, csrf = browser
    async with session.post("/tickets/new", data={"csrf_token": csrf, **TICKET, "subject": "x" * 201}) as response:
        page = await response.text()
    assert response.status == 422 and "El asunto tiene 201 caracteres; el máximo es 200." in page
    assert 'value="Ana"' in page and 'name="subject" maxlength="200"' in page


# -- headers ----------------------------------------------------------------------------------
async def test_every_answer_but_the_phones_carries_the_security_headers(server, browser) -> None:  # type: ignore[no-untyped-def]
    running, token = server
    session, _csrf = browser
    bearer = {"Authorization": f"Bearer {token}"}
    answers = []
    async with aiohttp.ClientSession(running.base) as anonymous:
        for client, path, headers in [
            (anonymous, "/login", {}), (anonymous, "/tickets", {}), (anonymous, "/static/app.css", {}),
            (anonymous, "/static/queue.js", {}), (anonymous, "/nada", {}), (anonymous, "/api/v1/tickets", {}),
            (anonymous, "/api/v1/openapi.json", {}), (anonymous, "/api/v1/devices", bearer), (anonymous, "/api/v1/tickets/999999", bearer),
            (session, "/tickets", {}), (session, "/devices", {}), (session, "/tickets/events", {}),
        ]:
            async with client.get(path, headers=headers, allow_redirects=False) as response:
                answers.append((path, response.status, {name: response.headers.get(name) for name in SECURITY_HEADERS}))
        async with anonymous.get("/prov/no-such-key/001565aabbcc.cfg") as response:
            phones = (response.status, await response.text(), [name for name in SECURITY_HEADERS if name in response.headers])
    assert [status for _path, status, _headers in answers] == [200, 303, 200, 200, 404, 401, 200, 200, 404, 200, 200, 200]
    for path, _status, headers in answers:
        assert headers == SECURITY_HEADERS, path
    assert phones == (404, "404: Not Found", [])
