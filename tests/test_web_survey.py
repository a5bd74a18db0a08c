"""The survey report through a real server (SQLite and PostgreSQL): the API's figures, the CLI's
(the same), the page with customers' and agents' names and its charts, and the page in real
Chromium at 1366 and 390 px (no horizontal overflow, every chart drawn)."""

from __future__ import annotations

import json
import secrets
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from provisioner.db.engine import make_engine, session_factory
from support_link.store.models import SurveyRecord
from tests.conftest import RunningServer, cli_json, run_cli, start_server, stop_server
from tests.test_web_browser import CHROMIUM, api, browser, log_in  # noqa: F401 - the shared Chromium fixture

CUSTOMER, SLUG = "Clínica Santa Ana S.A.S.", "clinica-santa-ana"
OTHER, OTHER_SLUG = "Ferretería El Tornillo S.A.S.", "ferreteria-el-tornillo"
BOG = timezone(timedelta(hours=-5))


def _ticket(server: RunningServer, token: str, account: str, subject: str) -> int:
    status, created = api(server, token, "POST", "/api/v1/tickets", {
        "type": "incident", "urgency": "medium", "impact": "individual", "channel": "phone", "account": account,
        "requester_name": "Marta Ríos", "requester_contact": "marta@clinica.example", "subject": subject,
        "detail": "El teléfono de admisiones no timbra."})
    assert status == 201, created
    return int(created["id"])  # type: ignore[index]


def _survey(database_url: str, ticket_id: int, account: str, agent: str | None, resolved: datetime,
            rating: int | None = None, solved: bool | None = None, comment: str | None = None) -> None:
    """One survey as the store keeps it: sent at the resolution, answered three hours later (or never)."""
    engine = make_engine(database_url)
    with session_factory(engine).begin() as session:
        session.add(SurveyRecord(ticket_id=ticket_id, account=account, agent=agent, token_digest=secrets.token_hex(32),
                                 resolved_at=resolved, rating=rating, solved=solved, comment=comment,
                                 answered_at=None if rating is None else resolved + timedelta(hours=3)))
    engine.dispose()


@pytest.fixture(scope="module")
def reported(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    url = module_database_url
    agent = cli_json(url, "user", "add", "laura", "--role", "agent", "--name", "Laura Gómez", "--password", "clave-laura-1")
    cli_json(url, "user", "add", "diego", "--role", "specialist", "--name", "Diego Martínez", "--password", "clave-diego-1")
    cli_json(url, "tenant", "create", CUSTOMER, "--sip-server", "pbx.clinica.example", "--slug", SLUG)
    cli_json(url, "tenant", "create", OTHER, "--sip-server", "pbx.tornillo.example", "--slug", OTHER_SLUG)
    server = start_server(url, tmp_path_factory.mktemp("survey"))
    try:
        token = agent["api_token"]  # type: ignore[index]
        now = datetime.now(BOG)
        last_month = (now.replace(day=1) - timedelta(days=1)).replace(day=10, hour=9)
        rows = [  # account, agent, resolved, rating, solved
            (SLUG, "laura", last_month, 5, True), (SLUG, "laura", last_month + timedelta(days=3), 2, False),
            (SLUG, "diego", last_month + timedelta(days=5), None, None), (OTHER_SLUG, "diego", now - timedelta(minutes=30), 4, True),
            (OTHER_SLUG, None, now - timedelta(minutes=20), None, None),
        ]
        for number, (account, who, resolved, rating, solved) in enumerate(rows):
            ticket_id = _ticket(server, token, account, f"Admisiones sin timbre ({number})")
            _survey(url, ticket_id, account, who, resolved, rating, solved, "Gracias" if rating else None)
        yield server, {"username": "laura", "password": "clave-laura-1", "token": token,
                       "last_month": last_month.strftime("%Y-%m"), "this_month": (now - timedelta(minutes=30)).strftime("%Y-%m")}
    finally:
        stop_server(server)


def test_the_api_answers_the_figures(reported) -> None:  # type: ignore[no-untyped-def]
    server, user = reported
    status, figures = api(server, user["token"], "GET", "/api/v1/reports/survey")
    assert status == 200, figures
    assert isinstance(figures, dict)
    assert figures["total"] == {"sent": 5, "answered": 3, "response_rate": 60.0, "average_rating": 3.7,
                                "ratings": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}, "not_solved": 1, "not_solved_share": 33.3}
    assert {k: (v["sent"], v["answered"], v["average_rating"]) for k, v in figures["by_customer"].items()} == {
        SLUG: (3, 2, 3.5), OTHER_SLUG: (2, 1, 4.0)}
    assert {k: (v["sent"], v["answered"]) for k, v in figures["by_agent"].items()} == {"-": (1, 0), "diego": (2, 1), "laura": (2, 2)}
    assert {k: v["sent"] for k, v in figures["by_month"].items()} == {user["last_month"]: 3, user["this_month"]: 2}

    status, month = api(server, user["token"], "GET", f"/api/v1/reports/survey?month={user['last_month']}")
    assert status == 200 and isinstance(month, dict)
    assert (month["month"], month["total"]["sent"], month["total"]["answered"]) == (user["last_month"], 3, 2)
    for month in ("2026-13", "", "0000-01"):
        status, refused = api(server, user["token"], "GET", f"/api/v1/reports/survey?month={month}")
        assert status == 422 and "AAAA-MM" in refused["detail"], month  # type: ignore[index]


def test_the_cli_and_the_api_figures_agree(reported) -> None:  # type: ignore[no-untyped-def]
    server, user = reported
    for query, args in (("", ()), (f"?month={user['last_month']}", ("--month", user["last_month"]))):
        status, figures = api(server, user["token"], "GET", "/api/v1/reports/survey" + query)  # no cache: read now
        printed = json.loads(run_cli(server.database_url, "reports", "survey", "--json", *args).stdout)
        assert status == 200 and isinstance(figures, dict)
        figures.pop("at"), printed.pop("at")
        assert printed == figures
    text = run_cli(server.database_url, "reports", "survey").stdout
    assert f"{CUSTOMER}: 2 of 3 answered" in text and "Laura Gómez: 2 of 2 answered" in text, text
    refused = run_cli(server.database_url, "reports", "survey", "--month", "noviembre", check=False)
    assert refused.returncode == 2 and "YYYY-MM" in refused.stderr


def _page(server: RunningServer, user: dict[str, str], path: str) -> tuple[int, str, str]:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    form = urllib.parse.urlencode({"username": user["username"], "password": user["password"]}).encode()
    opener.open(server.base + "/login", data=form, timeout=10).read()
    try:
        with opener.open(server.base + path, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


def test_the_page_names_customers_and_agents(reported) -> None:  # type: ignore[no-untyped-def]
    server, user = reported
    status, _, page = _page(server, user, "/reports/encuesta")
    assert status == 200
    assert CUSTOMER in page and OTHER in page and "Laura Gómez" in page and "Diego Martínez" in page
    assert SLUG not in page.replace(f"value=\"{SLUG}", "") and "Sin responsable" in page
    assert "3 de 5" in page and "60.0 %" in page and "33.3 %" in page
    status, _, month = _page(server, user, f"/reports/encuesta?mes={user['this_month']}")
    assert status == 200 and "1 de 2" in month and CUSTOMER not in month
    for name in ("calificaciones", "mes", "cliente"):
        status, kind, svg = _page(server, user, f"/reports/encuesta/charts/{name}.svg")
        assert status == 200 and kind.startswith("image/svg+xml") and "<svg" in svg, name
    assert CUSTOMER in _page(server, user, "/reports/encuesta/charts/cliente.svg")[2]
    assert _page(server, user, "/reports/encuesta/charts/nada.svg")[0] == 404
    assert _page(server, user, "/reports/encuesta?mes=ayer")[0] == 422
    assert 'href="/reports/encuesta"' in _page(server, user, "/dashboard")[2]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
@pytest.mark.parametrize("width", [1366, 390])
def test_the_page_fits_and_draws_its_charts_in_chromium(reported, browser, width: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.test_web_desk_browser import fits

    server, user = reported
    page = browser.new_page(viewport={"width": width, "height": 900})
    log_in(page, server, user)
    page.goto(server.base + "/dashboard")
    page.click("#survey-link")
    page.wait_for_url("**/reports/encuesta")
    page.wait_for_load_state("load")
    loaded = page.evaluate("Array.from(document.querySelectorAll('.charts img')).map(i => i.complete && i.naturalWidth > 0)")
    assert loaded == [True] * 3
    assert page.inner_text("#answered") == "3 de 5"
    assert CUSTOMER in page.inner_text("#by-customer") and "Laura Gómez" in page.inner_text("#by-agent")
    fits(page)
    page.screenshot(path=str(tmp_path / f"encuesta-{width}.png"), full_page=True)
    page.close()
