"""The agents' side of issue 16 through a real server (SQLite and PostgreSQL): a requirement's
resolution date proposed on the ticket page and in the API (past, today-in-Bogota and unreadable
dates refused in Spanish), the requester's counter-proposal accepted, the agreed date and its
state on the page and in the JSON; the requester's email, attachments downloaded (never inline;
another ticket's attachment is not found) and the survey's answer on the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import urllib.error
import urllib.parse
import urllib.request

import pytest

from provisioner.db.engine import make_engine, session_factory
from support_link import lifecycle
from support_link.attachments import check_attachment
from support_link.lifecycle import Actor, ActorKind
from support_link.store import attachments, surveys, tickets
from tests.conftest import RunningServer, cli_json, start_server, stop_server
from tests.test_web_browser import CHROMIUM, api, browser, log_in  # noqa: F401 - the shared Chromium fixture

BOGOTA = ZoneInfo("America/Bogota")
REQUESTER = Actor(ActorKind.REQUESTER, "marta@clinica.example")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LOG = "2026-12-02 08:01 REGISTER 401\n2026-12-02 08:02 REGISTER 200 OK\n".encode()


@pytest.fixture(scope="module")
def desk(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    url = module_database_url
    agent = cli_json(url, "user", "add", "laura", "--role", "agent", "--name", "Laura Gómez", "--password", "clave-laura-1")
    cli_json(url, "tenant", "create", "Clínica Santa Ana S.A.S.", "--sip-server", "pbx.clinica.example", "--slug", "clinica")
    server = start_server(url, tmp_path_factory.mktemp("agreements"))
    try:
        yield server, {"username": "laura", "password": "clave-laura-1", "token": agent["api_token"]}  # type: ignore[index]
    finally:
        stop_server(server)


def _store(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    return engine, session_factory(engine)


def _requirement(server: RunningServer, token: str, kind: str = "requirement") -> int:
    status, created = api(server, token, "POST", "/api/v1/tickets", {
        "type": kind, "urgency": "low", "impact": "individual", "channel": "phone", "account": "clinica",
        "requester_name": "Marta Ríos", "requester_contact": "+57 601 555 0101",
        "subject": "Extensión nueva para admisiones", "detail": "Crear la extensión 215 con buzón de voz."})
    assert status == 201, created
    return int(created["id"])  # type: ignore[index]


def _today() -> datetime:
    return datetime.now(BOGOTA)


class SignedIn:
    """A signed-in person's cookies and CSRF token, over plain HTTP (sync: the module's Chromium
    fixture keeps an event loop running, so no asyncio client here)."""

    def __init__(self, server: RunningServer, user: dict[str, str]) -> None:
        self.base = server.base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        status, page, _ = self.send("/login", {"username": user["username"], "password": user["password"]})
        found = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert status == 200 and found is not None
        self.csrf = found[1]

    def send(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        data = None if form is None else urllib.parse.urlencode(form).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=20) as response:
                return response.status, response.read().decode("latin-1"), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("latin-1"), dict(exc.headers)

    def page(self, path: str) -> str:
        status, body, _ = self.send(path)
        assert status == 200, body[-1000:]
        return body.encode("latin-1").decode()

    def act(self, ticket: int, **form: str) -> tuple[int, str]:
        status, body, _ = self.send(f"/tickets/{ticket}/act", {"csrf_token": self.csrf, **form})
        return status, body.encode("latin-1").decode()


def test_an_agent_proposes_and_accepts_a_counter_proposal_on_the_page(desk) -> None:  # type: ignore[no-untyped-def]
    server, user = desk
    ticket = _requirement(server, user["token"])
    today = _today().date()
    person = SignedIn(server, user)
    page = person.page(f"/tickets/{ticket}")
    assert 'name="on" type="date"' in page and f'min="{today + timedelta(days=1)}"' in page
    for refused, words in ((today - timedelta(days=1), "posterior a hoy en Bogotá"), (today, "posterior a hoy en Bogotá"),
                           (today + timedelta(days=400), "más de un año")):
        status, page = person.act(ticket, action="propose_date", on=refused.isoformat())
        assert status == 409 and words in page, page[-2000:]  # refused by today's calendar
    status, page = person.act(ticket, action="propose_date", on="10/12/2026")
    assert status == 422 and "AAAA-MM-DD" in page

    ours = today + timedelta(days=5)
    status, page = person.act(ticket, action="propose_date", on=ours.isoformat())
    assert status == 200 and "Fecha de solución propuesta: el solicitante puede aceptarla" in page
    assert f"{ours}, propuesta por la mesa de ayuda" in page and 'value="accept_date"' not in page
    assert "Fecha de solución propuesta" in page  # the timeline's event name

    theirs = today + timedelta(days=8)  # the requester counters (the portal's part, through the store)
    engine, sessions = _store(server.database_url)
    with sessions.begin() as db:
        tickets.act(db, ticket, lifecycle.ProposeResolutionDate(theirs), REQUESTER, datetime.now(BOGOTA))
    engine.dispose()
    page = person.page(f"/tickets/{ticket}")
    assert f"{theirs}, propuesta por el solicitante" in page and 'value="accept_date"' in page
    status, page = person.act(ticket, action="accept_date")
    assert status == 200 and "Fecha de solución acordada con el solicitante." in page
    agreed = re.search(r'<dd id="agreed-date">([^<]+)</dd>', page)
    assert agreed is not None and agreed[1] == f"{theirs} (pendiente)"
    assert 'id="proposal"' not in page and "Fecha de solución acordada" in page
    status, page = person.act(ticket, action="accept_date")  # nothing pending any more
    assert status == 409 and "Solo se acepta una fecha que propuso el solicitante." in page

    late = _requirement(server, user["token"])  # the requester proposed a day that is gone by the time the agent looks
    engine, sessions = _store(server.database_url)
    with sessions.begin() as db:  # as a proposal made days ago leaves the row (the lifecycle acts only after creation)
        record = tickets.load_record(db, late)
        record.proposed_resolution_on, record.proposed_by = today - timedelta(days=1), "requester"
    engine.dispose()
    status, page = person.act(late, action="accept_date")
    assert status == 409 and "ya pasó en Bogotá" in page
    status, refused = api(server, user["token"], "POST", f"/api/v1/tickets/{late}/actions", {"action": "accept_date"})
    assert status == 409 and "ya pasó" in refused["detail"]  # type: ignore[index]

    incident = _requirement(server, user["token"], "incident")
    status, page = person.act(incident, action="propose_date", on=ours.isoformat())
    assert status == 409 and "Solo los requerimientos" in page

    status, shown = api(server, user["token"], "GET", f"/api/v1/tickets/{ticket}")
    assert status == 200 and isinstance(shown, dict)
    assert (shown["agreed_resolution_on"], shown["resolution_date_state"], shown["proposed_resolution_on"], shown["proposed_by"]) == (
        theirs.isoformat(), "pending", None, None)


def test_the_api_proposes_and_refuses_as_the_page_does(desk) -> None:  # type: ignore[no-untyped-def]
    server, user = desk
    ticket = _requirement(server, user["token"])
    path = f"/api/v1/tickets/{ticket}/actions"
    today = _today().date()
    status, refused = api(server, user["token"], "POST", path, {"action": "propose_date", "on": today.isoformat()})
    assert status == 409 and "posterior a hoy en Bogotá" in refused["detail"], refused  # type: ignore[index]
    for unreadable in ({"action": "propose_date"}, {"action": "propose_date", "on": "2026-02-30"},
                       {"action": "note", "on": "0000-00-00"}):  # a date that is none, whatever the action
        status, refused = api(server, user["token"], "POST", path, unreadable)
        assert status == 422, (unreadable, refused)
    on = (today + timedelta(days=3)).isoformat()
    status, shown = api(server, user["token"], "POST", path, {"action": "propose_date", "on": on})
    assert status == 200 and isinstance(shown, dict), shown
    assert (shown["proposed_resolution_on"], shown["proposed_by"], shown["agreed_resolution_on"], shown["resolution_date_state"]) == (
        on, "agent", None, None)
    assert shown["events"][-1]["kind"] == "resolution_date_proposed"
    status, refused = api(server, user["token"], "POST", path, {"action": "accept_date"})  # its own proposal
    assert status == 409, refused
    status, rows = api(server, user["token"], "GET", "/api/v1/tickets?status=all")
    assert status == 200 and [r["proposed_resolution_on"] for r in rows if r["id"] == ticket] == [on]  # type: ignore[union-attr, index]


def test_the_page_shows_email_attachments_and_the_survey(desk) -> None:  # type: ignore[no-untyped-def]
    server, user = desk
    ticket, other = _requirement(server, user["token"]), _requirement(server, user["token"])
    engine, sessions = _store(server.database_url)
    with sessions.begin() as db:
        record = tickets.load_record(db, ticket)
        record.requester_email = "marta@clinica.example"  # as the portal and the mail intake store it
        ids = []
        for name, data in (("factura diciembre.pdf", PDF), ("registro-sip.log", LOG)):
            accepted = check_attachment(name, data)
            ids.append(attachments.add(db, ticket, filename=accepted.filename, content_type=accepted.content_type,
                                       data=data, source="portal", now=datetime.now(BOGOTA)))
        other_id = attachments.add(db, other, filename="otro.pdf", content_type="application/pdf", data=PDF, source="email",
                                   now=datetime.now(BOGOTA))
    status, _ = api(server, user["token"], "POST", f"/api/v1/tickets/{ticket}/actions", {"action": "resolve", "note": "Extensión creada."})
    assert status == 200
    person = SignedIn(server, user)
    page = person.page(f"/tickets/{ticket}")
    assert 'id="requester-email"' in page and "marta@clinica.example" in page
    assert f'href="/tickets/{ticket}/adjuntos/{ids[0]}"' in page and "factura diciembre.pdf" in page and "registro-sip.log" in page
    assert 'id="survey"' not in page  # no survey sent yet

    status, body, headers = person.send(f"/tickets/{ticket}/adjuntos/{ids[0]}")
    assert status == 200 and body.encode("latin-1") == PDF
    assert headers["Content-Type"] == "application/pdf" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Disposition"] == "attachment; filename*=UTF-8''factura%20diciembre.pdf"
    status, body, headers = person.send(f"/tickets/{ticket}/adjuntos/{ids[1]}")
    assert status == 200 and body.encode("latin-1") == LOG
    assert headers["Content-Type"].startswith("text/plain") and "attachment" in headers["Content-Disposition"]
    for wrong in (f"/tickets/{ticket}/adjuntos/{other_id}", f"/tickets/{ticket}/adjuntos/99999", f"/tickets/{ticket}/adjuntos/uno"):
        assert person.send(wrong)[0] == 404, wrong

    with sessions.begin() as db:  # the requester answers the survey (the portal's part, through the store)
        surveys.current(db, ticket, datetime.now(BOGOTA))
    assert "aún sin respuesta" in person.page(f"/tickets/{ticket}")
    with sessions.begin() as db:
        surveys.answer(db, ticket, rating=2, solved=False, comment="El buzón de voz no quedó configurado.",
                       actor=REQUESTER, now=datetime.now(BOGOTA))
    page = person.page(f"/tickets/{ticket}")
    assert '<strong id="survey-rating">2 de 5</strong>' in page and "No quedó resuelto" in page
    assert "El buzón de voz no quedó configurado." in page and "Encuesta: no quedó resuelto, caso reabierto" in page
    assert '<strong id="status">En curso</strong>' in page
    engine.dispose()
    status, figures = api(server, user["token"], "GET", "/api/v1/reports/survey")
    assert status == 200 and figures["by_customer"]["clinica"]["not_solved"] >= 1  # type: ignore[index]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
@pytest.mark.parametrize("width", [1366, 390])
def test_a_requirements_page_fits_in_chromium(desk, browser, width: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The date form, a long attachment name and the survey fit a phone-sized window; the date
    input proposes, and the agreed date's line reads as the rulebook's words."""
    from tests.test_web_desk_browser import fits

    server, user = desk
    ticket = _requirement(server, user["token"])
    engine, sessions = _store(server.database_url)
    with sessions.begin() as db:
        tickets.load_record(db, ticket).requester_email = "marta.rios.coordinadora.admisiones@clinica-santa-ana.example"
        name = "acta-de-entrega-extensiones-admisiones-y-urgencias-diciembre-2026-firmada.pdf"
        attachments.add(db, ticket, filename=name, content_type="application/pdf", data=PDF, source="email", now=datetime.now(BOGOTA))
    engine.dispose()
    page = browser.new_page(viewport={"width": width, "height": 900})
    log_in(page, server, user)
    page.goto(f"{server.base}/tickets/{ticket}")
    on = (_today().date() + timedelta(days=6)).isoformat()
    page.fill("#propose-date input[name=on]", on)
    page.click("#propose-date button")
    page.wait_for_url(f"**/tickets/{ticket}?hecho=propose_date")
    assert page.inner_text("#proposal") == f"{on}, propuesta por la mesa de ayuda"
    assert page.locator("#attachments a").count() == 1
    fits(page)
    page.screenshot(path=str(tmp_path / f"requerimiento-{width}.png"), full_page=True)
    page.close()
