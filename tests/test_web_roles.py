"""Who may use what: every route of the web app and the API, for every role, through a real
server (issue 20, finding 8: installers could act on tickets, every role saw everything).

MATRIX is written out by hand from the rule, not derived from the code's tables:

    admin                 everything
    agent, specialist     tickets (read and act), devices (read)
    installer             extension imports, devices (read), onboarding kits and readiness
                          boards; no tickets at all

Each request is harmless when allowed (an empty form, an unknown action: 422), so the
status tells the role check apart from the work. A route missing from MATRIX, or one
registered without the role tables, fails test_every_route_is_in_the_tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import RunningServer, cli_json, start_server, stop_server

PHONE_MAC = "0004f2a1b2c3"  # the device whose page /devices/{mac} is
ROLES = ("anonymous", "agent", "specialist", "installer", "admin")

# method, path ({id}: a real ticket, {slug}: the tenant acme), what is sent, then the status for each of ROLES.
# Anonymous: the app sends the browser to /login (303), the API answers 401.
MATRIX = [
    ("GET", "/", None, 303, 303, 303, 303, 303),
    ("GET", "/login", None, 200, 200, 200, 200, 200),
    ("POST", "/login", "own password", 401, 303, 303, 303, 303),
    ("POST", "/logout", "csrf", 303, 303, 303, 303, 303),
    ("GET", "/static/app.css", None, 200, 200, 200, 200, 200),
    ("GET", "/tickets", None, 303, 200, 200, 403, 200),
    ("GET", "/tickets/events", None, 303, 200, 200, 403, 200),
    ("GET", "/tickets/new", None, 303, 200, 200, 403, 200),
    ("POST", "/tickets/new", "csrf", 303, 422, 422, 403, 422),
    ("GET", "/tickets/{id}", None, 303, 200, 200, 403, 200),
    ("POST", "/tickets/{id}/act", "csrf action=bailar", 303, 422, 422, 403, 422),
    ("GET", "/tickets/{id}/adjuntos/{attachment_id}", None, 303, 404, 404, 403, 404),  # the ticket has none: not found
    ("GET", "/imports", None, 303, 403, 403, 200, 200),
    ("POST", "/imports", "csrf", 303, 403, 403, 422, 422),
    ("GET", "/devices", None, 303, 200, 200, 200, 200),
    ("GET", "/devices/{mac}", None, 303, 200, 200, 200, 200),
    ("GET", "/dashboard", None, 303, 200, 200, 403, 200),
    ("GET", "/dashboard/charts/{name}.svg", None, 303, 200, 200, 403, 200),
    ("GET", "/tenants", None, 303, 403, 403, 200, 200),
    ("GET", "/tenants/{slug}/onboarding", None, 303, 403, 403, 200, 200),
    ("GET", "/tenants/{slug}/readiness", None, 303, 403, 403, 200, 200),
    ("GET", "/campaigns", None, 303, 200, 200, 200, 200),
    ("GET", "/campaigns/{id}", None, 303, 404, 404, 404, 404),  # no campaign with the ticket's id: read-only pages
    ("GET", "/api/v1/openapi.json", None, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/tickets", None, 401, 200, 200, 403, 200),
    ("POST", "/api/v1/tickets", "json {}", 401, 422, 422, 403, 422),
    ("GET", "/api/v1/tickets/{id}", None, 401, 200, 200, 403, 200),
    ("POST", "/api/v1/tickets/{id}/actions", "json action=bailar", 401, 422, 422, 403, 422),
    ("GET", "/api/v1/devices", None, 401, 200, 200, 200, 200),
    ("POST", "/api/v1/imports", "multipart without a file", 401, 403, 403, 422, 422),
    # A softphone's one-time link: the token is the credential, the same for everyone (a made-up one: 404).
    ("GET", "/softphone/{token}", None, 404, 404, 404, 404, 404),
    ("POST", "/softphone/{token}", None, 404, 404, 404, 404, 404),
    ("GET", "/api/v1/reports/dashboard", None, 401, 200, 200, 403, 200),
    ("GET", "/reports/encuesta", None, 303, 200, 200, 403, 200),
    ("GET", "/reports/encuesta/charts/{name}.svg", None, 303, 200, 200, 403, 200),
    ("GET", "/api/v1/reports/survey", None, 401, 200, 200, 403, 200),
    # Inviting a customer's staff to the portal: those who attend tickets (an empty form: 422).
    ("GET", "/solicitantes", None, 303, 200, 200, 403, 200),
    ("GET", "/tenants/{slug}/solicitantes", None, 303, 200, 200, 403, 200),
    ("POST", "/tenants/{slug}/solicitantes", "csrf", 303, 422, 422, 403, 422),
    # The customer portal: no staff login opens it (its own session; tests/test_portal_web.py walks it
    # as requesters). Signed-out pages answer everyone alike; the rest send everyone to /portal/entrar.
    # A POST without the portal's own form token is refused (403) before anything else.
    ("GET", "/portal/", None, 303, 303, 303, 303, 303),
    ("GET", "/portal/entrar", None, 200, 200, 200, 200, 200),
    ("POST", "/portal/entrar", "csrf", 403, 403, 403, 403, 403),
    ("POST", "/portal/salir", "csrf", 303, 303, 303, 303, 303),
    ("GET", "/portal/registro", None, 200, 200, 200, 200, 200),
    ("POST", "/portal/registro", "csrf", 403, 403, 403, 403, 403),
    ("GET", "/portal/enlace/{token}", None, 404, 404, 404, 404, 404),
    ("POST", "/portal/enlace/{token}", "csrf", 403, 403, 403, 403, 403),
    ("GET", "/portal/casos", None, 303, 303, 303, 303, 303),
    ("GET", "/portal/casos/nuevo", None, 303, 303, 303, 303, 303),
    ("POST", "/portal/casos/nuevo", "csrf", 303, 303, 303, 303, 303),
    ("GET", "/portal/casos/{id}", None, 303, 303, 303, 303, 303),
    ("POST", "/portal/casos/{id}/responder", "csrf", 303, 303, 303, 303, 303),
    ("GET", "/portal/casos/{id}/adjuntos/{attachment_id}", None, 303, 303, 303, 303, 303),
    ("POST", "/portal/casos/{id}/fecha", "csrf", 303, 303, 303, 303, 303),
    ("GET", "/portal/casos/{id}/encuesta", None, 303, 303, 303, 303, 303),
    ("POST", "/portal/casos/{id}/encuesta", "csrf", 303, 303, 303, 303, 303),
    ("GET", "/portal/encuesta/{token}", None, 404, 404, 404, 404, 404),
    ("POST", "/portal/encuesta/{token}", "csrf", 403, 403, 403, 403, 403),
]

CASES = [
    pytest.param(method, path, sent, role, expected, id=f"{role}-{method}-{path}")
    for method, path, sent, *statuses in MATRIX
    for role, expected in zip(ROLES, statuses, strict=True)
]


@pytest.fixture(scope="module")
def server(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, dict[str, dict[str, str]], int]]:
    people = {}
    for role in ROLES[1:]:
        made = cli_json(module_database_url, "user", "add", f"{role}1", "--role", role, "--password", f"clave-{role}-1")
        people[role] = {"username": f"{role}1", "password": f"clave-{role}-1", "token": made["api_token"]}
    cli_json(module_database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example", "--slug", "acme")
    cli_json(module_database_url, "extension", "add", "--tenant", "acme", "--extension", "101", "--name", "Ana",
             "--mac", PHONE_MAC, "--model", "VVX600", "--line", "1")
    running = start_server(module_database_url, tmp_path_factory.mktemp("roles"))
    try:
        ticket_id = _create_ticket(running, people["admin"]["token"])
        yield running, people, ticket_id
    finally:
        stop_server(running)


def _create_ticket(running: RunningServer, token: str) -> int:
    import json
    import urllib.request

    request = urllib.request.Request(
        running.base + "/api/v1/tickets", method="POST", headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        data=json.dumps({"subject": "Sin tono", "detail": "x", "requester_name": "Ana", "requester_contact": "ana@acme.co"}).encode(),
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(json.loads(response.read())["id"])


async def _log_in(session: aiohttp.ClientSession, person: dict[str, str]) -> str:
    """Log in; return the CSRF token of the page the person lands on."""
    async with session.post("/login", data={"username": person["username"], "password": person["password"]}) as response:
        page = await response.text()
    assert response.status == 200, page
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found is not None and found[1]
    return found[1]


@pytest.mark.parametrize(("method", "path", "sent", "role", "expected"), CASES)
async def test_every_role_on_every_route(server, method: str, path: str, sent: str | None, role: str, expected: int) -> None:  # type: ignore[no-untyped-def]
    running, people, ticket_id = server
    path = (path.replace("{id}", str(ticket_id)).replace("{mac}", PHONE_MAC).replace("{slug}", "acme")
            .replace("{token}", "made-up-token-" + "x" * 20).replace("{attachment_id}", "1").replace("{name}", "calificaciones" if path.startswith("/reports/") else "abiertos"))
    person = people.get(role)
    async with aiohttp.ClientSession(running.base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        csrf = await _log_in(session, person) if person and not path.startswith("/api/") and path != "/login" else ""
        headers = {"Authorization": f"Bearer {person['token']}"} if person and path.startswith("/api/") else {}
        kwargs: dict[str, object] = {"headers": headers, "allow_redirects": False}
        if sent == "own password":
            kwargs["data"] = {"username": person["username"], "password": person["password"]} if person else {"username": "nadie", "password": "x"}
        elif sent == "csrf":
            kwargs["data"] = {"csrf_token": csrf}
        elif sent == "csrf action=bailar":
            kwargs["data"] = {"csrf_token": csrf, "action": "bailar"}
        elif sent == "json {}":
            kwargs["json"] = {}
        elif sent == "json action=bailar":
            kwargs["json"] = {"action": "bailar"}
        elif sent == "multipart without a file":
            form = aiohttp.FormData()
            form.add_field("tenant", "acme")
            kwargs["data"] = form
        async with session.request(method, path, **kwargs) as response:  # type: ignore[arg-type]
            streaming = path == "/tickets/events" and response.status == 200  # never ends by itself
            body = b"" if streaming else await response.read()
            status, location = response.status, response.headers.get("Location", "")
    assert status == expected, body[:500]
    if status == 303 and path.startswith("/portal/"):
        assert location.startswith(("/portal/entrar", "/portal/casos")), location  # a staff session is no portal login
    elif status == 303 and role == "anonymous" and path != "/logout":
        assert location.startswith("/login")
    if status == 403:
        assert "Solo" in body.decode()  # the Spanish refusal of that part of the app


def test_every_route_is_in_the_tables() -> None:
    """Every registered route comes from a role table (app.register) and is in MATRIX."""
    from provisioner.web import api, app as web_app, campaigns, dashboard, device_files, installers, onboarding, softphones, survey, tickets
    from provisioner.web.app import setup_web
    from provisioner.web.api import setup_api
    from provisioner.web.installers import setup_installers
    from provisioner.web.onboarding import setup_onboarding
    from provisioner.web.tickets import setup_tickets
    from provisioner.web import portal, requester_invites

    application = web.Application()
    setup_web(application, None)  # type: ignore[arg-type] - registering routes touches no database
    setup_tickets(application, None)  # type: ignore[arg-type]
    setup_api(application)
    setup_installers(application)
    device_files.setup_device_files(application)
    softphones.setup_softphones(application, None, None, None, None)  # type: ignore[arg-type]
    dashboard.setup_dashboard(application)
    survey.setup_survey(application)
    setup_onboarding(application)
    campaigns.setup_campaigns(application)
    portal.setup_portal(application)
    requester_invites.setup_requester_invites(application)
    registered = {(route.method, route.resource.canonical) for route in application.router.routes() if route.method != "HEAD"}
    tables = {(r.method, r.path) for r in (
        *web_app.ROUTES, *tickets.ROUTES, *api.ROUTES, *installers.ROUTES, *device_files.ROUTES, *softphones.ROUTES,
        *dashboard.ROUTES, *survey.ROUTES, *onboarding.ROUTES, *campaigns.ROUTES, *portal.ROUTES, *requester_invites.ROUTES,
    )}
    tested = {(method, path) for method, path, *_ in MATRIX}
    registered.discard(("GET", "/static"))  # the style sheet and the queue's script: public files
    registered -= {("POST", "/prov/app/"), ("POST", "/prov/{key}/"), ("POST", "/prov/{key}/jitsi")}  # Jitsi's provisioning: the phones' path
    tested.discard(("GET", "/static/app.css"))
    assert registered - tables == set(), "registered without a role (use app.register and a ROUTES table)"
    assert registered == tested, "every route needs a row in MATRIX"

