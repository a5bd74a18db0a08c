"""No English reaches a person (issue 17): every GET page of the app, as every role, and the
error pages (403, 404, 422, 409 refusals, the new-ticket form's missing fields, 500), read as
the text a person sees, holds none of the known leaks. Customers show by name, never by slug."""

from __future__ import annotations

import html
import json
import re
import urllib.request
from collections.abc import Iterator

import aiohttp
import pytest

from tests.conftest import RunningServer, cli_json, start_server, stop_server

ROLES = ("agent", "specialist", "installer", "admin")
CUSTOMER, SLUG = "Ferretería El Tornillo S.A.S.", "ferreteria-el-tornillo-s-a-s"
LEAKS = [
    "Server got itself in trouble", "Internal Server Error", "missing required ticket fields", "(agent)", "(specialist)",
    "(installer)", "(admin)", "priority:", "status:", "first_response_due", "first_response_at", "resolved_at", "None →",
    "→ None", "Not Found", "Forbidden", "Unauthorized", "Method Not Allowed", "requester_name", "requester_contact",
    "cannot ", "no ticket", "Detail:", "True", "False", "in_progress", "on_time", "at_risk", "breached", "urgent",
    "polycom", "grandstream", "yealink", SLUG,
]


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def leaks(page: str) -> list[str]:
    text = visible_text(page)
    return [leak for leak in LEAKS if leak in text]


def api(server: RunningServer, token: str, method: str, path: str, body: dict | None = None) -> dict:  # type: ignore[type-arg]
    request = urllib.request.Request(server.base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def server(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, dict[str, dict[str, str]], list[int]]]:
    people = {}
    for role in ROLES:
        made = cli_json(module_database_url, "user", "add", f"{role}1", "--role", role, "--name", f"Persona {role}",
                        "--password", f"clave-{role}-1")
        people[role] = {"username": f"{role}1", "password": f"clave-{role}-1", "token": made["api_token"]}
    cli_json(module_database_url, "tenant", "create", CUSTOMER, "--sip-server", "pbx.tornillo.example", "--slug", SLUG)
    cli_json(module_database_url, "extension", "add", "--tenant", SLUG, "--extension", "101", "--name", "Ana Pérez",
             "--mac", "00:15:65:AA:BB:01", "--model", "T21P", "--line", "1")
    running = start_server(module_database_url, tmp_path_factory.mktemp("spanish"))
    try:
        token = people["agent"]["token"]
        fields = {"type": "incident", "urgency": "low", "impact": "individual", "channel": "email", "account": SLUG,
                  "requester_name": "Pedro", "requester_contact": "p@x.co", "subject": "Sin tono", "detail": "Nada suena."}
        busy = api(running, token, "POST", "/api/v1/tickets", fields)["id"]
        for action in ({"action": "take"}, {"action": "respond", "note": "Revisando."},
                       {"action": "reclassify", "urgency": "high", "impact": "organization"}, {"action": "escalate"},
                       {"action": "note", "note": "Interna."}, {"action": "log_work", "minutes": 20, "note": "Central."},
                       {"action": "resolve"}, {"action": "reopen"}, {"action": "resolve"}):
            api(running, token, "POST", f"/api/v1/tickets/{busy}/actions", action)
        fresh = api(running, token, "POST", "/api/v1/tickets", {**fields, "type": "requirement"})["id"]
        problem = api(running, token, "POST", "/api/v1/tickets", {**fields, "type": "problem", "account": ""})["id"]
        yield running, people, [busy, fresh, problem]
    finally:
        stop_server(running)


async def _log_in(session: aiohttp.ClientSession, person: dict[str, str]) -> str:
    async with session.post("/login", data={"username": person["username"], "password": person["password"]}) as response:
        page = await response.text()
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found is not None
    return found[1]


def get_pages(ticket_ids: list[int]) -> list[str]:
    """Every GET page of the app's route tables (ids filled in), plus its views and its errors."""
    from provisioner.web import app as web_app, dashboard, installers, tickets

    paths = []
    for route in (*web_app.ROUTES, *tickets.ROUTES, *installers.ROUTES, *dashboard.ROUTES):
        if route.method != "GET" or route.path.startswith("/api/") or route.path in ("/tickets/events", "/dashboard/charts/{name}.svg"):
            continue
        paths += [route.path.replace("{id}", str(i)) for i in ticket_ids] if "{id}" in route.path else [route.path]
    return paths + [
        "/tickets?view=mine", "/tickets?view=unassigned", "/tickets?status=all", "/tickets?priority=bailar",
        "/tickets/99999999", "/tickets/abc", "/no-existe", "/devices?q=101", "/devices?q=aabb01&which=assigned",
        "/devices?compliance=bailar", "/devices?cursor=bailar", "/dashboard/charts/bailar.svg",
    ]


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
async def test_no_english_on_any_page(server, role: str) -> None:  # type: ignore[no-untyped-def]
    running, people, ticket_ids = server
    seen: dict[str, list[str]] = {}
    statuses = set()
    async with aiohttp.ClientSession(running.base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        if role != "anonymous":
            await _log_in(session, people[role])
        for path in get_pages(ticket_ids):
            async with session.get(path) as response:
                page = await response.text()
            statuses.add(response.status)
            assert response.status < 500, (path, page[:500])
            if leaks(page):
                seen[path] = leaks(page)
    assert seen == {}, seen
    if role in ("agent", "admin"):  # a bad filter shows the page again with the message, not a bare error page
        async with aiohttp.ClientSession(running.base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            await _log_in(session, people[role])
            async with session.get("/devices?compliance=bailar") as response:
                page = await response.text()
            assert response.status == 422 and 'id="device-filters"' in page and "bailar" in visible_text(page)
    assert {200, 404} <= statuses and (role in ("admin", "anonymous") or 403 in statuses or role == "agent")


async def test_refusals_and_form_errors_are_spanish(server) -> None:  # type: ignore[no-untyped-def]
    running, people, (busy, fresh, _problem) = server
    async with aiohttp.ClientSession(running.base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        csrf = await _log_in(session, people["agent"])
        async with session.post("/tickets/new", data={"csrf_token": csrf, "account": SLUG}) as response:
            page = await response.text()
        assert response.status == 422 and not leaks(page)
        assert "Faltan campos obligatorios: Solicitante, Contacto del solicitante, Detalle, Asunto." in visible_text(page)
        form = {"csrf_token": csrf, "account": "no-existe", "type": "incident", "urgency": "low", "impact": "individual", "channel": "phone", "subject": "x", "detail": "y", "requester_name": "A", "requester_contact": "a"}
        async with session.post("/tickets/new", data=form) as response:
            page = await response.text()
        assert response.status == 422 and "No hay un cliente «no-existe»" in visible_text(page) and not leaks(page), re.sub(r"\s+", " ", visible_text(page))
        async with session.post(f"/tickets/{fresh}/act", data={"csrf_token": csrf, "action": "reopen"}) as response:
            page = await response.text()
        assert response.status == 409 and "No se puede «Reabrir» un caso en estado «Nuevo»." in visible_text(page) and not leaks(page)
        async with session.post(f"/tickets/{busy}/act", data={"csrf_token": csrf, "action": "bailar"}) as response:
            page = await response.text()
        assert response.status == 422 and not leaks(page) and 'id="timeline"' in page  # the ticket, shown again
        assert "Acción desconocida." in visible_text(page)
        async with session.post("/tickets/new", data={"csrf_token": csrf}, allow_redirects=False) as response:
            assert response.status == 422
        async with session.delete("/tickets") as response:  # 405
            page = await response.text()
        assert response.status == 405 and not leaks(page) and "Método no permitido" in visible_text(page)
    async with aiohttp.ClientSession(running.base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        await _log_in(session, people["installer"])
        async with session.get("/tickets") as response:
            page = await response.text()
        assert response.status == 403 and "Acceso denegado" in visible_text(page) and not leaks(page)
    # The API keeps its JSON errors.
    request = urllib.request.Request(running.base + "/api/v1/tickets/99999999", headers={"Authorization": f"Bearer {people['agent']['token']}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 404 and json.loads(refused.value.read())["error"] == "not_found"


def test_the_500_page_is_spanish() -> None:
    from provisioner.web.errors import INTERNAL
    from provisioner.web.pages import html_environment

    page = html_environment().get_template("error.html").render(user=None, csrf_token="", answer=INTERNAL)
    assert "Algo salió mal" in visible_text(page) and not leaks(page)


def test_a_busy_ticket_reads_in_spanish_with_names(server) -> None:  # type: ignore[no-untyped-def]
    running, people, (busy, _fresh, _problem) = server
    import asyncio

    async def read() -> str:
        async with aiohttp.ClientSession(running.base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            await _log_in(session, people["specialist"])
            async with session.get(f"/tickets/{busy}") as response:
                return visible_text(await response.text())

    text = asyncio.run(read())
    for line in ("Responsable: sin valor → Persona agent", "Prioridad: Baja → Urgente", "Escalado: no → sí", "Estado: Resuelto → En curso",
                 CUSTOMER, "Persona agent: "):
        assert line in text, line
    assert "agent1" not in text
