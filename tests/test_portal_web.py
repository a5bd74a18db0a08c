"""The customer portal through a real server, on SQLite and PostgreSQL: invited requesters,
new requests with attachments, replies, dates, the survey, and tenant isolation per route."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from provisioner.db.engine import make_engine, session_factory
from support_link.lifecycle import Actor, ActorKind, ProposeResolutionDate
from support_link.store import surveys, tickets
from support_link.store.models import TicketRecord
from tests.conftest import RunningServer, cli_json, start_server, stop_server

PASSWORD = "Caballo-Bateria-42"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
SECRET_SUBJECT = "Sin tono en recepción de Acme"
INTERNAL = "nota interna: la clave del conmutador es 1234"


@pytest.fixture(scope="module")
def portal(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    url = module_database_url
    cli_json(url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example", "--slug", "acme")
    cli_json(url, "tenant", "create", "Tornillo", "--sip-server", "pbx.tornillo.example", "--slug", "tornillo")
    cli_json(url, "tenant", "set", "acme", "--email-domains", "acme.co")
    admin = cli_json(url, "user", "add", "admin1", "--role", "admin", "--password", "clave-admin-1")
    cli_json(url, "user", "add", "installer1", "--role", "installer", "--password", "clave-installer-1")
    links = {
        "ana": cli_json(url, "requester", "invite", "--tenant", "acme", "--email", "ana@acme.co", "--name", "Ana")["link"],
        "beto": cli_json(url, "requester", "invite", "--tenant", "tornillo", "--email", "beto@tornillo.co", "--name", "Beto")["link"],
    }
    running = start_server(url, tmp_path_factory.mktemp("portal"))
    try:
        yield {"server": running, "links": links, "token": admin["api_token"], "url": url}
    finally:
        stop_server(running)


def client(running: RunningServer) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(running.base, cookie_jar=aiohttp.CookieJar(unsafe=True))


def token_in(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page[:2000]
    return found[1]


async def use_link(session: aiohttp.ClientSession, link: str, name: str) -> None:
    path = link[link.index("/portal/"):]
    async with session.get(path) as response:
        form = token_in(await response.text())
    data = {"csrf_token": form, "name": name, "password": PASSWORD, "password_again": PASSWORD}
    async with session.post(path, data=data, allow_redirects=False) as response:
        assert response.status == 303, await response.text()
        assert response.headers["Location"] == "/portal/casos"
        cookie = response.cookies["portal_session"]
        assert cookie["path"] == "/portal/" and cookie["httponly"] and cookie["samesite"] == "Strict"


async def log_in(session: aiohttp.ClientSession, email: str, password: str = PASSWORD) -> int:
    async with session.get("/portal/entrar") as response:
        form = token_in(await response.text())
    async with session.post("/portal/entrar", data={"csrf_token": form, "email": email, "password": password},
                            allow_redirects=False) as response:
        return response.status


async def page_token(session: aiohttp.ClientSession, path: str = "/portal/casos/nuevo") -> str:
    async with session.get(path) as response:
        assert response.status == 200
        return token_in(await response.text())


def new_request(csrf: str, subject: str, files: list[tuple[str, bytes]] = ()) -> aiohttp.FormData:  # type: ignore[assignment]
    form = aiohttp.FormData()
    for key, value in {"csrf_token": csrf, "type": "incident", "stopped": "si", "reach": "area", "subject": subject,
                       "detail": "Ningún teléfono del piso 3 tiene tono desde las 8:00.", "requester_name": "Ana",
                       "requester_contact": "ana@acme.co · 3001234567"}.items():
        form.add_field(key, value)
    for name, data in files:
        form.add_field("files", data, filename=name, content_type="application/octet-stream")
    return form


def api(running: RunningServer, token: str, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(running.base + path, method="POST", data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def opened(portal: dict[str, Any]) -> dict[str, Any]:
    """Ana (acme) and Beto (tornillo) set their passwords; Ana opens a request with a PNG."""
    import asyncio

    async def run() -> dict[str, Any]:
        running = portal["server"]
        async with client(running) as beto:
            await use_link(beto, portal["links"]["beto"], "Beto Ruiz")
        async with client(running) as ana:
            await use_link(ana, portal["links"]["ana"], "Ana Gómez")
            csrf = await page_token(ana)
            async with ana.post("/portal/casos/nuevo", data=new_request(csrf, SECRET_SUBJECT, [("captura.png", PNG)]),
                                allow_redirects=False) as response:
                assert response.status == 303, await response.text()
                ticket_id = int(response.headers["Location"].split("/")[3].split("?")[0])
            async with ana.get(f"/portal/casos/{ticket_id}") as response:
                page = await response.text()
            attachment_id = int(re.search(rf"/portal/casos/{ticket_id}/adjuntos/(\d+)", page)[1])  # type: ignore[index]
        return {"ticket_id": ticket_id, "attachment_id": attachment_id, "page": page}

    return asyncio.run(run())


def test_a_new_request_is_a_portal_ticket_of_the_tenant(portal: dict[str, Any], opened: dict[str, Any]) -> None:
    sessions = session_factory(make_engine(portal["url"]))
    with sessions() as session:
        record = session.scalars(select(TicketRecord).where(TicketRecord.id == opened["ticket_id"])).one()
        assert (record.account, record.channel, record.requester_email) == ("acme", "portal", "ana@acme.co")
        assert (record.urgency, record.impact, record.priority) == ("high", "department", "high")
        stored = tickets.get(session, opened["ticket_id"])
        assert stored.events[0].actor == Actor(ActorKind.REQUESTER, "Ana Gómez")
    assert SECRET_SUBJECT in opened["page"] and "captura.png" in opened["page"]
    assert "Solicitud registrada" in opened["page"] and "a más tardar" in opened["page"]


async def test_the_attachment_downloads_as_an_attachment(portal: dict[str, Any], opened: dict[str, Any]) -> None:
    async with client(portal["server"]) as ana:
        assert await log_in(ana, "ana@acme.co") == 303
        async with ana.get(f"/portal/casos/{opened['ticket_id']}/adjuntos/{opened['attachment_id']}") as response:
            body = await response.read()
            headers = response.headers
    assert body == PNG and headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"].startswith("attachment;") and "captura.png" in headers["Content-Disposition"]
    assert headers["X-Content-Type-Options"] == "nosniff"


async def test_a_refused_attachment_keeps_the_form(portal: dict[str, Any], opened: dict[str, Any]) -> None:
    async with client(portal["server"]) as ana:
        assert await log_in(ana, "ana@acme.co") == 303
        csrf = await page_token(ana)
        form = new_request(csrf, "Otro asunto", [("virus.exe", b"MZ\x90\x00" + b"\x00" * 100)])
        async with ana.post("/portal/casos/nuevo", data=form, allow_redirects=False) as response:
            page = await response.text()
    assert response.status == 422 and "virus.exe" in page and "Otro asunto" in page


async def test_no_csrf_token_no_request(portal: dict[str, Any], opened: dict[str, Any]) -> None:
    async with client(portal["server"]) as ana:
        assert await log_in(ana, "ana@acme.co") == 303
        async with ana.post("/portal/casos/nuevo", data=new_request("forged", "Forjada"), allow_redirects=False) as response:
            assert response.status == 403
        async with ana.post(f"/portal/casos/{opened['ticket_id']}/responder", data={"text": "hola"}, allow_redirects=False) as response:
            assert response.status == 403


def _routes(ticket_id: int, attachment_id: int) -> list[tuple[str, str]]:
    return [
        ("GET", f"/portal/casos/{ticket_id}"),
        ("POST", f"/portal/casos/{ticket_id}/responder"),
        ("GET", f"/portal/casos/{ticket_id}/adjuntos/{attachment_id}"),
        ("POST", f"/portal/casos/{ticket_id}/fecha"),
        ("GET", f"/portal/casos/{ticket_id}/encuesta"),
        ("POST", f"/portal/casos/{ticket_id}/encuesta"),
    ]


async def test_another_tenants_requester_finds_nothing_on_any_route(portal: dict[str, Any], opened: dict[str, Any]) -> None:
    from provisioner.web.portal import ROUTES

    ticket_id, attachment_id = opened["ticket_id"], opened["attachment_id"]
    walked = _routes(ticket_id, attachment_id)
    with_id = {(r.method, r.path) for r in ROUTES if "{id}" in r.path}
    assert {(m, re.sub(r"/\d+", "/{id}", p, count=1).replace(f"/{attachment_id}", "/{attachment_id}")) for m, p in walked} == with_id
    async with client(portal["server"]) as beto:
        assert await log_in(beto, "beto@tornillo.co") == 303
        csrf = await page_token(beto)
        for method, path in walked:
            data = {"csrf_token": csrf, "text": "hola", "choice": "accept", "rating": "5", "solved": "si"}
            async with beto.request(method, path, data=data if method == "POST" else None, allow_redirects=False) as response:
                body = await response.read()
            assert response.status == 404, (method, path, response.status)
            assert SECRET_SUBJECT.encode() not in body and b"captura" not in body
        async with beto.get("/portal/casos") as response:
            listing = await response.text()
        assert SECRET_SUBJECT not in listing and f"#{ticket_id}<" not in listing
        async with beto.get(f"/portal/casos/{ticket_id + 100000}") as response:  # a ticket that does not exist: the same answer
            assert response.status == 404
    sessions = session_factory(make_engine(portal["url"]))
    with sessions() as session:  # and nothing was written on Ana's ticket
        assert [e.kind for e in tickets.get(session, ticket_id).events] == ["created"]


async def test_staff_and_portal_logins_are_apart(portal: dict[str, Any], opened: dict[str, Any]) -> None:
    async with client(portal["server"]) as staff:
        async with staff.post("/login", data={"username": "admin1", "password": "clave-admin-1"}) as response:
            assert response.status == 200
        async with staff.get("/portal/casos", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"].startswith("/portal/entrar")
    async with client(portal["server"]) as ana:
        assert await log_in(ana, "ana@acme.co") == 303
        async with ana.get("/tickets", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"].startswith("/login")
    async with client(portal["server"]) as staff:
        assert await log_in(staff, "admin1", "clave-admin-1") == 401  # a staff password is no portal account


async def test_login_redirects_stay_in_the_portal(portal: dict[str, Any], opened: dict[str, Any]) -> None:
    async with client(portal["server"]) as ana:
        async with ana.get("/portal/entrar?next=//evil.example/") as response:
            page = await response.text()
        form = token_in(page)
        for target, expected in (("//evil.example/", "/portal/casos"), ("/tickets", "/portal/casos"),
                                 (f"/portal/casos/{opened['ticket_id']}", f"/portal/casos/{opened['ticket_id']}")):
            ana.cookie_jar.clear(lambda morsel: morsel.key == "portal_session")
            async with ana.post("/portal/entrar", data={"csrf_token": form, "email": "ana@acme.co", "password": PASSWORD,
                                                        "next": target}, allow_redirects=False) as response:
                assert response.headers["Location"] == expected


async def test_registration_answers_the_same_for_any_address(portal: dict[str, Any]) -> None:
    pages = []
    async with client(portal["server"]) as someone:
        for email in ("nuevo@acme.co", "nadie@gmail.com", "ana@acme.co"):
            async with someone.get("/portal/registro") as response:
                form = token_in(await response.text())
            async with someone.post("/portal/registro", data={"csrf_token": form, "email": email}) as response:
                pages.append((response.status, (await response.text()).replace(form, "")))
    assert pages[0] == pages[1] == pages[2] and pages[0][0] == 200


async def test_the_survey_link_reaches_only_its_survey(portal: dict[str, Any], opened: dict[str, Any]) -> None:
    running, url = portal["server"], portal["url"]
    async with client(running) as ana:
        assert await log_in(ana, "ana@acme.co") == 303
        csrf = await page_token(ana)
        async with ana.post("/portal/casos/nuevo", data=new_request(csrf, "Cambiar el nombre en pantalla"), allow_redirects=False) as response:
            ticket_id = int(response.headers["Location"].split("/")[3].split("?")[0])
    api(running, portal["token"], f"/api/v1/tickets/{ticket_id}/actions", {"action": "note", "note": INTERNAL})
    api(running, portal["token"], f"/api/v1/tickets/{ticket_id}/actions", {"action": "respond", "note": "Ya lo cambiamos."})
    api(running, portal["token"], f"/api/v1/tickets/{ticket_id}/actions", {"action": "resolve"})
    sessions = session_factory(make_engine(url))
    with sessions.begin() as session:
        token = surveys.new_link_token(session, ticket_id, datetime.now(UTC))
    async with client(running) as stranger:
        async with stranger.get(f"/portal/encuesta/{token}") as response:
            page = await response.text()
        assert response.status == 200 and INTERNAL not in page and "¿Quedó resuelto?" in page
        async with stranger.get(f"/portal/casos/{ticket_id}", allow_redirects=False) as response:
            assert response.status == 303  # the token is no login
        data = {"csrf_token": token_in(page), "rating": "4", "solved": "si", "comment": "Rápido"}
        async with stranger.post(f"/portal/encuesta/{token}", data=data) as response:
            assert response.status == 200 and "Gracias" in await response.text()
        async with stranger.post(f"/portal/encuesta/{token}", data=data) as response:
            assert response.status == 409  # once
    with sessions() as session:
        assert tickets.get(session, ticket_id).ticket.status == "closed"
        assert surveys.latest(session, ticket_id).rating == 4  # type: ignore[union-attr]
    async with client(running) as ana:
        assert await log_in(ana, "ana@acme.co") == 303
        async with ana.get(f"/portal/casos/{ticket_id}") as response:
            page = await response.text()
    assert "Ya lo cambiamos." in page and INTERNAL not in page and "Cerrado" in page
    async with client(running) as ana:
        assert await log_in(ana, "ana@acme.co") == 303
        csrf = await page_token(ana)
        async with ana.post(f"/portal/casos/{ticket_id}/responder", data={"csrf_token": csrf, "text": "¿Sigue?"}) as response:
            assert response.status == 409 and "nueva solicitud" in await response.text()  # closed: a new request


async def test_a_reply_with_an_attachment_reaches_the_timeline(portal: dict[str, Any], opened: dict[str, Any]) -> None:
    running, url = portal["server"], portal["url"]
    async with client(running) as ana:
        assert await log_in(ana, "ana@acme.co") == 303
        csrf = await page_token(ana)
        async with ana.post("/portal/casos/nuevo", data=new_request(csrf, "Buzón de voz lleno"), allow_redirects=False) as response:
            ticket_id = int(response.headers["Location"].split("/")[3].split("?")[0])
        form = aiohttp.FormData()
        form.add_field("csrf_token", csrf)
        form.add_field("text", "Adjunto el registro del teléfono.")
        form.add_field("files", b"2026-12-02 08:00 reboot\n", filename="registro.log", content_type="text/plain")
        async with ana.post(f"/portal/casos/{ticket_id}/responder", data=form) as response:
            page = await response.text()
        assert response.status == 200 and "Adjunto el registro del teléfono." in page and "registro.log" in page
        async with ana.post(f"/portal/casos/{ticket_id}/responder", data={"csrf_token": csrf, "text": " "}) as response:
            assert response.status == 422  # nothing to send
    sessions = session_factory(make_engine(url))
    with sessions() as session:
        stored = tickets.get(session, ticket_id)
        from support_link.store import attachments

        files = attachments.listed(session, ticket_id)
    reply = [e for e in stored.events if e.kind == "requester_reply"]
    assert len(reply) == 1 and reply[0].note == "Adjunto el registro del teléfono."
    assert [(f.filename, f.source, f.event_id) for f in files] == [("registro.log", "portal", reply[0].id)]


async def test_a_requirement_date_is_accepted_and_a_survey_no_reopens(portal: dict[str, Any], opened: dict[str, Any]) -> None:
    running, url = portal["server"], portal["url"]
    async with client(running) as ana:
        assert await log_in(ana, "ana@acme.co") == 303
        csrf = await page_token(ana)
        form = new_request(csrf, "Dos extensiones nuevas para ventas")
        form._fields = [f for f in form._fields if f[0]["name"] != "type"]  # noqa: SLF001 - the type asked below
        form.add_field("type", "requirement")
        async with ana.post("/portal/casos/nuevo", data=form, allow_redirects=False) as response:
            ticket_id = int(response.headers["Location"].split("/")[3].split("?")[0])
        day = date.today() + timedelta(days=10)
        sessions = session_factory(make_engine(url))
        with sessions.begin() as session:
            tickets.act(session, ticket_id, ProposeResolutionDate(day), Actor(ActorKind.AGENT, "admin1"), datetime.now(UTC))
        page_csrf = await page_token(ana, f"/portal/casos/{ticket_id}")
        async with ana.post(f"/portal/casos/{ticket_id}/fecha", data={"csrf_token": page_csrf, "choice": "accept"}) as response:
            page = await response.text()
        assert response.status == 200 and f"{day.isoformat()} · pendiente" in page
        api(running, portal["token"], f"/api/v1/tickets/{ticket_id}/actions", {"action": "resolve"})
        async with ana.get(f"/portal/casos/{ticket_id}/encuesta") as response:
            survey_page = await response.text()
        data = {"csrf_token": token_in(survey_page), "rating": "2", "solved": "no", "comment": "Falta una extensión"}
        async with ana.post(f"/portal/casos/{ticket_id}/encuesta", data=data) as response:
            page = await response.text()
        assert response.status == 200 and "Falta una extensión" in page
    with sessions() as session:
        stored = tickets.get(session, ticket_id)
    assert stored.ticket.status == "in_progress" and stored.ticket.agreed_resolution_on == day


async def test_a_device_incident_is_summarised(portal: dict[str, Any], opened: dict[str, Any]) -> None:
    from support_link import lifecycle
    from support_link.lifecycle import SYSTEM
    from support_link.store import affected_devices

    running, url = portal["server"], portal["url"]
    moment = datetime.now(UTC)
    sessions = session_factory(make_engine(url))
    with sessions.begin() as session:
        ticket, event = lifecycle.new_ticket(
            ticket_type="incident", urgency="medium", impact="department", subject="Firmware desactualizado en Acme",
            detail="Equipos afectados: 3\nMAC 0004f2a1b2c3 admin clave-admin-telefono", requester_name="Sistema",
            requester_contact="-", channel="device", created_at=moment, actor=SYSTEM)
        ticket_id = tickets.create(session, ticket, event, account="acme", finding="firmware_older")
        affected_devices.add_devices(session, ticket_id, [
            (f"0004f2a1b2c{n}", "Ventas", {"firmware": "5.9.0", "admin_password": "clave-admin-telefono"}) for n in range(3)
        ], moment)
    async with client(running) as ana:
        assert await log_in(ana, "ana@acme.co") == 303
        async with ana.get(f"/portal/casos/{ticket_id}") as response:
            page = await response.text()
    assert response.status == 200 and "3 equipos afectados" in page
    for secret in ("0004f2a1b2c", "clave-admin-telefono", "5.9.0", "Equipo afectado agregado", "firmware_older"):
        assert secret not in page



async def test_five_full_attachments_pass_where_the_app_limit_would_refuse(portal: dict[str, Any], opened: dict[str, Any]) -> None:
    from support_link.attachments import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS

    from provisioner.web.limits import MAX_BODY

    big = PNG + b"\x00" * (MAX_ATTACHMENT_BYTES - len(PNG))
    assert MAX_ATTACHMENTS * len(big) >= MAX_BODY  # with the form around them, more than any other route takes
    async with client(portal["server"]) as ana:
        assert await log_in(ana, "ana@acme.co") == 303
        csrf = await page_token(ana)
        files = [(f"foto-{n}.png", big) for n in range(MAX_ATTACHMENTS)]
        async with ana.post("/portal/casos/nuevo", data=new_request(csrf, "Cinco fotos", files), allow_redirects=False) as response:
            assert response.status == 303, await response.text()
        too_many = [*files[:1], *[(f"x-{n}.png", PNG) for n in range(MAX_ATTACHMENTS)]]
        async with ana.post("/portal/casos/nuevo", data=new_request(csrf, "Seis fotos", too_many), allow_redirects=False) as response:
            assert response.status == 422 and "hasta 5 archivos" in await response.text()
        one_too_big = [("enorme.png", big + b"\x00")]
        async with ana.post("/portal/casos/nuevo", data=new_request(csrf, "Foto enorme", one_too_big), allow_redirects=False) as response:
            assert response.status == 422 and "enorme.png" in await response.text()
        async with ana.post("/portal/casos/1/fecha", data={"csrf_token": csrf, "pad": "x" * (MAX_BODY + 1)}) as response:
            assert response.status == 413  # the larger body is for the two routes with attachments only


async def test_staff_invite_from_the_tenant_page(portal: dict[str, Any], opened: dict[str, Any]) -> None:
    async with client(portal["server"]) as staff:
        async with staff.post("/login", data={"username": "admin1", "password": "clave-admin-1"}) as response:
            assert response.status == 200
        async with staff.get("/tenants/tornillo/solicitantes") as response:
            page = await response.text()
        csrf = token_in(page)
        assert "beto@tornillo.co" in page and "ana@acme.co" not in page
        async with staff.post("/tenants/tornillo/solicitantes", data={"csrf_token": csrf, "email": "ana@acme.co", "name": "Ana"}) as response:
            assert response.status == 409 and "otro cliente" in await response.text()
        async with staff.post("/tenants/tornillo/solicitantes", data={"csrf_token": csrf, "email": "Eva@Tornillo.co", "name": "Eva"}) as response:
            page = await response.text()
        link = re.search(r'class="one-time-link">([^<]+)<', page)
        assert response.status == 200 and link is not None and "/portal/enlace/" in link[1]
        assert "Entréguele este enlace" in page  # no SMTP on this server: handed over by the agent
        async with staff.get("/tenants/tornillo/solicitantes") as response:
            again = await response.text()
        assert "eva@tornillo.co" in again and "Invitado (sin contraseña)" in again and link[1] not in again  # shown once
    async with client(portal["server"]) as eva:
        await use_link(eva, link[1], "Eva Ríos")
        async with eva.get("/portal/casos") as response:
            assert "Eva Ríos · Tornillo" in await response.text()

# Last in the module: it locks 127.0.0.1 out of the portal's login for 10 minutes.
async def test_wrong_passwords_lock_the_portal_login(portal: dict[str, Any], opened: dict[str, Any]) -> None:
    async with client(portal["server"]) as someone:
        statuses = [await log_in(someone, "beto@tornillo.co", "no-es-la-clave") for _ in range(10)]
        assert statuses[0] == 401 and set(statuses) <= {401, 429}  # this address may have failed before (last test)
        assert await log_in(someone, "beto@tornillo.co") == 429  # even with the right password
