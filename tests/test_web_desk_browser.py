"""An agent's day in real headless Chromium (issue 17), at 1366 px and at 390 px:
log in, find the unassigned ticket, take it, read the time left, respond and resolve (each
with its success message, Reabrir offered only once resolved), find a phone by its
extension, read the dashboard. Every page: no horizontal overflow. Screenshots of every
page go to a folder printed at the start (look at them)."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_catalog import load_catalog
from provisioner import admin
from provisioner.db.engine import make_engine, session_factory
from provisioner.web.dashboard import FRESH
from tests.conftest import RunningServer, cli_json, start_server, stop_server
from tests.phones import SimPhone
from tests.test_web_browser import CHROMIUM, api, browser, log_in  # noqa: F401 - the shared Chromium fixture

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")

CUSTOMER = "Ferretería El Tornillo S.A.S."
SLUG = "ferreteria-el-tornillo-s-a-s"
PHONE = SimPhone("yealink-t21p", "T21P", "0015650d0101", "34.72.0.75", 1)
OLD_PHONE = SimPhone("grandstream-gxp1620", "GXP1620", "000b820d0102", "1.0.4.106", 2)


def add_phone(database_url: str, mac: str, model: str, number: str, name: str) -> None:
    engine = make_engine(database_url)
    with session_factory(engine).begin() as session:
        owner = admin.tenant_by_slug(session, SLUG)
        admin.add_extension(session, load_catalog(), owner, number, name, department="Ventas",
                            assignment=admin.Assignment(mac, model, 1))
    engine.dispose()


def http_get(url: str, user_agent: str) -> int:
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def desk(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    url = module_database_url
    agent = cli_json(url, "user", "add", "laura", "--role", "agent", "--name", "Laura Gómez", "--password", "clave-laura-1")
    tenant = cli_json(url, "tenant", "create", CUSTOMER, "--sip-server", "pbx.tornillo.example", "--slug", SLUG)
    add_phone(url, PHONE.mac, PHONE.model_arg, "101", "Ana Pérez")
    add_phone(url, OLD_PHONE.mac, OLD_PHONE.model_arg, "102", "Bruno Díaz")
    server = start_server(url, tmp_path_factory.mktemp("desk"))
    try:
        for phone in (PHONE, OLD_PHONE):  # each boots once: the dashboard's boots, the old one's finding
            assert http_get(f"{server.base}/prov/{tenant['key']}/{phone.device_file()}", phone.user_agent()) == 200
        yield server, {"username": "laura", "password": "clave-laura-1", "token": agent["api_token"]}
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {folder}")
    return folder


def fits(page) -> None:  # type: ignore[no-untyped-def]
    """No horizontal overflow: the page is no wider than the window."""
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url}: {width} px wide in a {inner} px window"
    # The header keeps "Salir" inside the bar.
    bar, out = page.evaluate("""() => { const bar = document.querySelector('header.top').getBoundingClientRect();
        const b = document.querySelector('.logout button'); if (!b) return [null, null]; const r = b.getBoundingClientRect();
        return [[bar.left, bar.right, bar.top, bar.bottom], [r.left, r.right, r.top, r.bottom]]; }""")
    if bar is not None:
        assert bar[0] <= out[0] and out[1] <= bar[1] and bar[2] <= out[2] and out[3] <= bar[3], (bar, out)


@pytest.mark.parametrize("width", [1366, 390])
def test_an_agents_day(desk, browser, screens: Path, width: int) -> None:  # type: ignore[no-untyped-def]
    server, user = desk
    status, created = api(server, user["token"], "POST", "/api/v1/tickets", {
        "type": "incident", "urgency": "high", "impact": "department", "channel": "phone", "account": SLUG,
        "requester_name": "Pedro Pérez", "requester_contact": "+57 300 000 0000",
        "subject": f"Sin tono en bodega ({width})", "detail": "Los teléfonos de la bodega no tienen tono.",
    })
    assert status == 201, created
    ticket = created["id"]
    out = screens / str(width)
    out.mkdir(exist_ok=True)  # both databases' runs write their pictures side by side
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of resolve/escalate

    log_in(page, server, user)
    assert "Laura Gómez" in page.inner_text("header") and "Agente (nivel 1)" in page.inner_text("header")
    fits(page)
    page.screenshot(path=str(out / "1-cola.png"), full_page=True)

    page.click("#views a:has-text('Sin asignar')")
    page.wait_for_url("**/tickets?view=unassigned")
    row = page.locator(f"tr[data-ticket='{ticket}']")
    assert CUSTOMER in row.inner_text() and SLUG not in page.inner_text("main")
    assert re.search(r"(Quedan|Vencido hace) .*hábiles", row.inner_text()), row.inner_text()
    fits(page)
    page.screenshot(path=str(out / "2-sin-asignar.png"), full_page=True)

    row.locator("a").first.click()
    page.wait_for_url(f"**/tickets/{ticket}")
    assert page.locator("button[value=reopen]").count() == 0  # not offered on a new ticket
    assert re.fullmatch(r"(Quedan|Vencido hace) (\d+ h \d\d min|\d+ min|menos de 1 min) hábiles", page.inner_text("#sla"))
    assert page.inner_text("#customer") == CUSTOMER
    page.click("button[value=take]")
    page.wait_for_url(f"**/tickets/{ticket}?hecho=take")
    assert "Tomó el caso" in page.inner_text("#flash") and page.inner_text("#assignee") == "Laura Gómez"
    fits(page)
    page.screenshot(path=str(out / "3-caso-tomado.png"), full_page=True)

    page.fill("textarea[name=note]", "Estamos revisando la central.")
    page.click("button[value=respond]")
    page.wait_for_url(f"**/tickets/{ticket}?hecho=respond")
    assert "Respuesta registrada" in page.inner_text("#flash")
    assert page.inner_text("#sla") == "Respondido a tiempo"
    page.select_option("select[name=urgency]", "low")
    page.click("form.inline-form button:has-text('Reclasificar')")
    page.wait_for_url(f"**/tickets/{ticket}?hecho=reclassify")
    page.click("button[value=resolve]")
    page.wait_for_url(f"**/tickets/{ticket}?hecho=resolve")
    assert page.inner_text("#status") == "Resuelto" and "Caso resuelto" in page.inner_text("#flash")
    assert page.locator("button[value=reopen]").count() == 1 and page.locator("button[value=resolve]").count() == 0
    timeline = page.inner_text("#timeline")
    assert "Laura Gómez" in timeline and "· laura" not in timeline
    assert "Urgencia: Alta → Baja" in timeline and "Prioridad: Alta → " in timeline, timeline
    assert re.search(r"Resuelto: sin valor → \d{4}-\d\d-\d\d \d\d:\d\d", timeline), timeline
    fits(page)
    page.screenshot(path=str(out / "4-caso-resuelto.png"), full_page=True)

    page.goto(server.base + "/tickets?view=mine&status=all")
    assert page.locator(f"tr[data-ticket='{ticket}']").count() == 1
    fits(page)

    page.goto(server.base + "/devices")
    page.fill("input[name=q]", "101")
    page.click("#device-filters button[type=submit]")
    page.wait_for_url("**/devices?q=101*")
    rows = page.locator("#devices tbody tr")
    assert rows.count() == 1
    text = rows.first.inner_text()
    assert "Ana Pérez" in text and "101" in text and "Yealink" in text and CUSTOMER in text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d(?!:)", text) and "+00:00" not in text, text
    fits(page)
    page.screenshot(path=str(out / "5-equipos-101.png"), full_page=True)

    page.goto(server.base + "/dashboard")
    page.wait_for_load_state("load")
    loaded = page.evaluate("Array.from(document.querySelectorAll('.charts img')).map(i => i.complete && i.naturalWidth > 0)")
    assert loaded == [True] * 6
    assert int(page.inner_text("#open-count")) >= 0
    fits(page)
    page.screenshot(path=str(out / "6-tablero.png"), full_page=True)
    page.close()
    assert sorted(p.name for p in out.iterdir()) == [
        "1-cola.png", "2-sin-asignar.png", "3-caso-tomado.png", "4-caso-resuelto.png", "5-equipos-101.png", "6-tablero.png"]


def test_the_dashboard_figures_agree_in_the_api_and_the_cli(desk) -> None:  # type: ignore[no-untyped-def]
    server, user = desk
    # The phones' sightings are written in batches after their boots: wait until they are in.
    deadline = time.monotonic() + 30
    while True:
        status, figures = api(server, user["token"], "GET", "/api/v1/reports/dashboard")
        assert status == 200
        if figures["phones_by_model"].get("T21P", {}).get("ok") == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    # The API answers figures up to FRESH seconds old (the browser test's dashboard visit may have
    # read them before its second response): read them again once that cache has gone stale.
    time.sleep(FRESH + 0.5)
    status, figures = api(server, user["token"], "GET", "/api/v1/reports/dashboard")
    assert status == 200
    from tests.conftest import run_cli

    printed = json.loads(run_cli(server.database_url, "reports", "dashboard", "--json").stdout)
    for key in ("open_by_priority", "first_response_by_customer", "incidents_by_finding", "phones_by_model"):
        assert printed[key] == figures[key], key
    assert figures["phones_by_model"]["T21P"]["ok"] == 1
    assert sum(figures["boots_per_hour"].values()) >= 2
