"""Every error of the web app and the API, through a real server: Spanish pages in the app's
look, JSON {"error", "message"} under /api/v1/, and the phones' /prov/ path untouched.
Malformed input (broken JSON or multipart, ids past 2^63) is a 400/404, never a 500."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import RunningServer, cli_json, start_server, stop_server

HUGE_ID = "99999999999999999999999"  # past 2^63: no BIGINT holds it


@pytest.fixture(scope="module")
def server(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    agent = cli_json(module_database_url, "user", "add", "ana", "--role", "agent", "--password", "clave-ana-1")
    installer = cli_json(module_database_url, "user", "add", "ivan", "--role", "installer", "--password", "clave-ivan-1")
    running = start_server(module_database_url, tmp_path_factory.mktemp("errors"))
    try:
        yield running, {"agent": agent["api_token"], "installer": installer["api_token"]}
    finally:
        stop_server(running)


@pytest.fixture
async def browser(server: tuple[RunningServer, dict[str, str]]) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """A logged-in agent's session and its CSRF token."""
    running, _tokens = server
    async with aiohttp.ClientSession(running.base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.post("/login", data={"username": "ana", "password": "clave-ana-1", "next": "/tickets"}) as response:
            page = await response.text()
        assert response.status == 200 and "Cola" in page
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert csrf is not None
        yield session, csrf[1]


def assert_spanish_page(page: str) -> None:
    assert '<html lang="es">' in page and "/static/app.css" in page  # the app's own look
    assert "Not Found" not in page and "Server got itself in trouble" not in page


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status", "code"),
    [
        ("GET", f"/api/v1/tickets/{HUGE_ID}", None, None, 404, "not_found"),
        ("GET", "/api/v1/tickets/12abc", None, None, 404, "not_found"),
        ("GET", f"/api/v1/tickets/{2**31}", None, None, 404, "not_found"),  # past PostgreSQL's integer
        ("GET", f"/api/v1/tickets/{2**63 - 1}", None, None, 404, "not_found"),
        ("GET", f"/api/v1/tickets/{2**63}", None, None, 404, "not_found"),
        ("GET", "/api/v1/tickets/%C2%B2", None, None, 404, "not_found"),  # '²' is a digit to str.isdigit
        ("GET", "/api/v1/tickets/999999", None, None, 404, "not_found"),
        ("POST", "/api/v1/tickets", b"{not json", "application/json", 400, "bad_json"),
        ("POST", "/api/v1/tickets", b"[1, 2]", "application/json", 400, "bad_request"),
        ("POST", "/api/v1/tickets", b'"texto"', "application/json", 400, "bad_request"),
        ("POST", "/api/v1/tickets", b"\xff\xfe{}", "application/json", 400, "bad_encoding"),
        ("POST", "/api/v1/tickets", b"{}", "application/json", 422, "missing_fields"),
        ("POST", f"/api/v1/tickets/{HUGE_ID}/actions", b'{"action": "resolve"}', "application/json", 404, "not_found"),
        ("POST", "/api/v1/tickets/1/actions", b'{"action": "log_work", "minutes": "mucho"}', "application/json", 422, "invalid"),
        ("POST", "/api/v1/tickets/1/actions", b'{"action": "log_work", "minutes": {"a": 1}}', "application/json", 422, "invalid"),
        ("POST", "/api/v1/tickets/1/actions", b'{"action": "bailar"}', "application/json", 422, "invalid"),
        ("GET", "/api/v1/tickets?priority=altisima", None, None, 422, "invalid_classification"),
        ("GET", "/api/v1/nada", None, None, 404, "not_found"),
        ("DELETE", "/api/v1/tickets", None, None, 405, "method_not_allowed"),
    ],
)
async def test_api_errors_are_json_in_spanish(server, method: str, path: str, body: bytes | None, content_type: str | None,
                                              status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    running, tokens = server
    headers = {"Content-Type": content_type} if content_type else {}
    got, document, response_headers = await _api_with(running, tokens["agent"], method, path, body, headers)
    assert (got, document["error"]) == (status, code), document
    assert document["message"] and "Traceback" not in str(document)
    if status == 405:
        assert "GET" in response_headers["Allow"]


async def _api_with(running: RunningServer, token: str, method: str, path: str, body: bytes | None, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    async with aiohttp.ClientSession(running.base) as session:
        async with session.request(method, path, data=body, headers={"Authorization": f"Bearer {token}", **headers}) as response:
            assert response.content_type == "application/json", await response.text()
            return response.status, await response.json(), response.headers


async def upload(running: RunningServer, token: str, tenant: str) -> tuple[int, dict]:
    """POST /api/v1/imports with a small CSV list (a dry run)."""
    form = aiohttp.FormData()
    form.add_field("tenant", tenant)
    form.add_field("file", b"extension,name\n101,Ana\n", filename="lista.csv")
    async with aiohttp.ClientSession(running.base) as session:
        async with session.post("/api/v1/imports", data=form, headers={"Authorization": f"Bearer {token}"}) as response:
            return response.status, await response.json()


async def test_api_refusals_by_who_asks(server) -> None:  # type: ignore[no-untyped-def]
    running, tokens = server
    status, document, _ = await _api_with(running, "", "GET", "/api/v1/tickets", None, {})
    assert (status, document["error"]) == (401, "unauthorized") and "Bearer" in document["message"]
    status, document = await upload(running, tokens["agent"], "acme")
    assert (status, document["error"]) == (403, "forbidden") and "instaladores" in document["message"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"garbage", "multipart/form-data; boundary=xyz"), (b"--xyz\r\nbroken", "multipart/form-data; boundary=xyz"),
     (b"a=1", "multipart/form-data")],
)
async def test_a_broken_multipart_upload_is_a_bad_request(server, body: bytes, content_type: str) -> None:  # type: ignore[no-untyped-def]
    running, tokens = server
    status, document, _ = await _api_with(running, tokens["installer"], "POST", "/api/v1/imports", body, {"Content-Type": content_type})
    assert (status, document["error"]) == (400, "bad_request") and document["message"] == "El formulario enviado está mal formado."


async def test_an_import_for_an_unknown_tenant_is_404(server) -> None:  # type: ignore[no-untyped-def]
    running, tokens = server
    status, document = await upload(running, tokens["installer"], "nadie")
    assert (status, document["error"]) == (404, "unknown_tenant"), document


@pytest.mark.parametrize(
    ("method", "path", "status", "words"),
    [
        ("GET", f"/tickets/{HUGE_ID}", 404, "No existe"),
        ("GET", "/tickets/abc", 404, "No existe"),
        ("GET", "/tickets/999999", 404, "No existe ese caso."),
        ("GET", "/nada/por/aqui", 404, "Esta página no existe."),
        ("DELETE", "/tickets", 405, "Esta dirección no acepta ese método."),
        ("GET", "/tickets?status=perdido", 422, "Tipo, urgencia, impacto, prioridad, estado o canal desconocido."),
    ],
)
async def test_pages_answer_errors_in_spanish(browser, method: str, path: str, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    session, _csrf = browser
    async with session.request(method, path) as response:
        page = await response.text()
    assert response.status == status and response.content_type == "text/html"
    assert words in page
    assert_spanish_page(page)


async def test_a_refused_form_is_shown_again_with_what_was_typed(browser) -> None:  # type: ignore[no-untyped-def]
    session, csrf = browser
    form = {"csrf_token": csrf, "type": "incident", "urgency": "altisima", "impact": "individual", "channel": "phone",
            "subject": "Sin tono en bodega", "detail": "x", "requester_name": "Rita", "requester_contact": "rita@acme.co"}
    async with session.post("/tickets/new", data=form) as response:
        page = await response.text()
    assert response.status == 422
    assert "Tipo, urgencia, impacto, prioridad, estado o canal desconocido." in page and 'value="Sin tono en bodega"' in page
    assert_spanish_page(page)
    async with session.post(f"/tickets/{HUGE_ID}/act", data={"csrf_token": csrf, "action": "resolve"}) as response:
        assert response.status == 404 and "No existe" in await response.text()
    async with session.post("/tickets/1/act", data=b"garbage", headers={"Content-Type": "multipart/form-data; boundary=xyz"}) as response:
        page = await response.text()
    assert response.status == 400 and "El formulario enviado está mal formado." in page


async def test_forbidden_and_csrf_refusals_are_spanish_pages(browser) -> None:  # type: ignore[no-untyped-def]
    session, csrf = browser
    async with session.get("/imports") as response:  # an agent is not an installer
        page = await response.text()
    assert response.status == 403 and "Solo instaladores y administradores importan extensiones." in page
    assert_spanish_page(page)
    async with session.post("/tickets/new", data={"subject": "sin token"}) as response:
        page = await response.text()
    assert response.status == 403 and "token CSRF" in page


async def test_the_phones_path_keeps_its_one_404(server) -> None:  # type: ignore[no-untyped-def]
    running, _tokens = server
    async with aiohttp.ClientSession(running.base) as session:
        answers = []
        for path in ("/prov/no-such-key/001565aabbcc.cfg", "/prov/no-such-key", "/prov/", f"/prov/{HUGE_ID}/x"):
            async with session.get(path) as response:
                answers.append((response.status, response.content_type, await response.text()))
    assert set(answers) == {(404, "text/plain", "404: Not Found")}  # aiohttp's own, whatever the path


# -- the middleware alone, on a tiny app: unexpected errors ---------------------------------------
async def _boom(request: web.Request) -> web.Response:
    raise RuntimeError("secret internals")


@pytest.fixture
async def tiny() -> AsyncIterator[TestClient]:
    from provisioner.web.app import setup_web

    app = web.Application()
    setup_web(app, None)  # type: ignore[arg-type] - no route here touches the database
    for path in ("/boom", "/api/v1/boom", "/prov/key/boom"):
        app.router.add_get(path, _boom)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def test_an_unexpected_error_is_a_spanish_500_without_details(tiny: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    response = await tiny.get("/boom")
    page = await response.text()
    assert response.status == 500 and "Error interno del servidor" in page and "secret internals" not in page
    assert_spanish_page(page)
    response = await tiny.get("/api/v1/boom")
    assert response.status == 500 and await response.json() == {
        "error": "internal", "message": "Error interno del servidor. Quedó registrado para el equipo técnico."}
    assert any("secret internals" in (r.exc_text or "") for r in caplog.records if r.name == "provisioner.web")
    response = await tiny.get("/prov/key/boom")  # not ours to answer: aiohttp's plain 500
    assert response.status == 500 and "Error interno" not in await response.text()
