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
    try:
        response = urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as refused:
        raise AssertionError(f"{method} {path} {body}: {refused.code} {refused.read().decode()}") from None
    with response:
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


# What the importer said in English before issue 17 (none of it may reach an installer).
IMPORT_LEAKS = [
    "is not", "is empty", "row ", "column ", "separated", "line ", "not available", "may hold", "homologated for",
    "e-mail", "belongs to", "is repeated", "given without", "was ignored", "app, not", "registered as", "printable",
    "characters", "unknown permission", "allowed:",
]
BAD_LIST = (
    "extensión;nombre;correo;permisos;mac;modelo;línea;sip_password;Cargo\n"
    "7;Ana;ana@;satelital;00:15:65;T21P;1;;Gerente\n"
    "102;;;;;;;;\n"
    "103;Luis;;;00:15:65:AA:BB:09;T21P;3;corta;\n"
    "103;Luis B;;;;;;;\n"
    "104;Marta;;;;VVX600;;;\n"
    "105;Pablo;;;00:00:00:00:00:00;T21P;1;;\n"
    "106;Eva;;;00:15:65:AA:BB:0A;Wave Android;;;\n"
    "107;Leo;;;00:15:65:AA:BB:0B;T99;;;\n"
    "108;Rita;;;00:15:65:AA:BB:0C;;;;\n"
    "109;Sara;;;00:15:65:AA:BB:01;GXP1620;1;;\n"
).encode("cp1252")  # as Excel saves a CSV in a Spanish locale
IMPORT_PROBLEMS = [  # (row, cell, message): the page's problems table, one line each
    ("2", "A2", "'7' no es un número de extensión: use de 2 a 6 dígitos"),
    ("2", "C2", "'ana@' no es un correo electrónico válido"),
    ("2", "D2", "permiso desconocido 'satelital' (permitidos: internal, local, national, mobile, international)"),
    ("2", "E2", "'00:15:65' no es una dirección MAC (12 dígitos hexadecimales, p. ej. 00:15:65:AA:BB:CC)"),
    ("3", "B3", "el nombre está vacío"),
    ("4", "G4", "la línea 3 no está disponible: el T21P admite solo la línea 1 (homologado para 1 línea)"),
    ("4", "H4", "la contraseña SIP (sip_password) debe tener de 8 a 128 caracteres imprimibles, sin espacios"),
    ("5", "A5", "la extensión 103 está repetida: ya está en la fila 4"),
    ("7", "E7", "'00:00:00:00:00:00' es todo ceros, no la MAC de un teléfono"),
    ("8", "F8", "Grandstream Wave Android es una aplicación móvil, no se aprovisiona por MAC: indique su modelo sin MAC y sin línea"),
    ("9", "F9", "'T99' no es un modelo homologado (vea `provisioner catalog list`)"),
    ("10", "F10", "falta el modelo: la MAC de un teléfono necesita su modelo (p. ej. T21P, GXP1620, VVX600)"),
]


def import_leaks(text: str) -> list[str]:
    return [leak for leak in [*LEAKS, *IMPORT_LEAKS] if leak in text]


async def test_a_bad_extension_list_reads_in_spanish_on_the_import_page_and_api(server) -> None:  # type: ignore[no-untyped-def]
    """An installer uploads a list with a mistake in almost every row: the real /imports page shows every
    problem in Spanish with its row, cell and what to do, and so does POST /api/v1/imports."""
    running, people, _tickets = server
    async with aiohttp.ClientSession(running.base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        csrf = await _log_in(session, people["installer"])
        form = aiohttp.FormData()
        for key, value in (("csrf_token", csrf), ("step", "preview"), ("tenant", SLUG)):
            form.add_field(key, value)
        form.add_field("file", BAD_LIST, filename="lista.csv", content_type="text/csv")
        async with session.post("/imports", data=form) as response:
            page = await response.text()
    assert response.status == 422, page[:500]
    table = re.search(r'<table class="queue" id="problems">.*?</table>', page, re.S)
    assert table is not None, page
    rows = [[visible_text(cell).strip() for cell in re.findall(r"<td>(.*?)</td>", line, re.S)]
            for line in re.findall(r"<tr>(.*?)</tr>", table[0], re.S) if "<td>" in line]
    shown = {(row, cell, message) for row, _column, cell, message in rows}
    for problem in IMPORT_PROBLEMS:
        assert problem in shown, (problem, sorted(shown))
    assert ("11", "F11", "la MAC 00:15:65:AA:BB:01 está registrada como T21P, no como GXP1620") in shown
    text = re.sub(r"\s+", " ", visible_text(page))
    assert "Hay errores: no se cargó nada" in text and "Windows-1252, separado por ';'" in text
    assert "Fila 1, celda I1: la columna 'Cargo' no se usa y se ignoró" in text  # warnings say where, too
    assert "Fila 6, celda F6: se dio el modelo sin MAC en 1 fila (la primera aquí)" in text
    assert import_leaks(text) == [], import_leaks(text)

    form = aiohttp.FormData()
    form.add_field("tenant", SLUG)
    form.add_field("file", BAD_LIST, filename="lista.csv", content_type="text/csv")
    async with aiohttp.ClientSession(running.base) as session:
        async with session.post("/api/v1/imports", data=form, headers={"Authorization": f"Bearer {people['installer']['token']}"}) as response:
            document = await response.json()
    assert response.status == 422 and document["ok"] is False
    assert {(str(p["row"]), p["cell"], p["message"]) for p in document["problems"]} >= set(IMPORT_PROBLEMS)
    messages = " ".join(p["message"] for p in [*document["problems"], *document["warnings"]]) + " " + document["format"]
    assert import_leaks(messages) == [], import_leaks(messages)
