"""The agents' web app in real headless Chromium (Debian's chromium, driven by Playwright):
log in, watch a new ticket appear without reload, respond, escalate, resolve. Screenshots go
to the test's output folder. Also: a CSRF-less POST and a <script> in a device string do
nothing."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningServer, cli_json, start_server, stop_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")

HOSTILE_UA = 'Yealink SIP-T21P 34.72.0.60 00:15:65:0e:0e:01"><script>window.__pwned=1</script>'


@pytest.fixture(scope="module")
def web(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    agent = cli_json(module_database_url, "user", "add", "laura", "--role", "agent", "--name", "Laura Agente", "--password", "clave-laura-1")
    cli_json(module_database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example", "--slug", "acme")  # tickets name a real customer
    server = start_server(module_database_url, tmp_path_factory.mktemp("web"))
    try:
        yield server, {"username": "laura", "password": "clave-laura-1", "token": agent["api_token"]}
    finally:
        stop_server(server)


def api(server: RunningServer, token: str, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
    request = urllib.request.Request(
        server.base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no name resolves: nothing leaves the machine
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield instance
        instance.close()


def log_in(page, server: RunningServer, user: dict[str, str], lands: str = "**/tickets") -> None:  # type: ignore[no-untyped-def]
    page.goto(server.base + "/tickets")
    assert "/login" in page.url
    page.fill("input[name=username]", user["username"])
    page.fill("input[name=password]", user["password"])
    page.click("button[type=submit]")
    page.wait_for_url(lands)


def test_agent_sees_a_new_ticket_live_and_works_it(web, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, user = web
    out = tmp_path / "screens"
    out.mkdir()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, server, user)
    page.screenshot(path=str(out / "1-queue-empty.png"))
    # A ticket arrives through the API (another client); the open queue shows it without reload.
    status, created = api(server, user["token"], "POST", "/api/v1/tickets", {
        "type": "incident", "urgency": "high", "impact": "department", "channel": "phone", "account": "acme",
        "requester_name": "Pedro Pérez", "requester_contact": "+57 300 000 0000",
        "subject": "Sin tono en recepción", "detail": "Los teléfonos de recepción no tienen tono.",
    })
    assert status == 201, created
    ticket_id = created["id"]
    assert created["priority"] == "high" and created["first_response_due"]
    row = page.locator(f"tr[data-ticket='{ticket_id}']")
    row.wait_for(timeout=10_000)
    assert "Sin tono en recepción" in row.inner_text() and "Alta" in row.inner_text()
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload happened
    page.screenshot(path=str(out / "2-queue-live-ticket.png"))

    page.click(f"tr[data-ticket='{ticket_id}'] a >> nth=0")
    page.wait_for_url(f"**/tickets/{ticket_id}")
    page.fill("textarea[name=note]", "Estamos revisando la central.")
    page.click("button[value=respond]")
    page.wait_for_url(f"**/tickets/{ticket_id}?hecho=respond")
    assert page.inner_text("#status") == "En curso"
    assert "Estamos revisando la central." in page.inner_text("#timeline")
    page.on("dialog", lambda dialog: dialog.accept())  # escalate and resolve ask first
    page.click("button[value=escalate]")
    page.wait_for_url(f"**/tickets/{ticket_id}?hecho=escalate")
    assert page.inner_text("#status") == "Escalado (nivel 2)"
    page.fill("textarea[name=note]", "Se reinició el troncal.")
    page.click("button[value=resolve]")
    page.wait_for_url(f"**/tickets/{ticket_id}?hecho=resolve")
    assert page.inner_text("#status") == "Resuelto"
    page.screenshot(path=str(out / "3-ticket-resolved.png"), full_page=True)
    status, shown = api(server, user["token"], "GET", f"/api/v1/tickets/{ticket_id}")
    assert shown["status"] == "resolved" and shown["first_response_at"]
    assert [e["kind"] for e in shown["events"]][:4] == ["created", "public_response", "escalated", "resolved"]
    assert sorted(p.name for p in out.iterdir()) == ["1-queue-empty.png", "2-queue-live-ticket.png", "3-ticket-resolved.png"]
    page.close()


def test_post_without_csrf_token_does_nothing(web, browser) -> None:  # type: ignore[no-untyped-def]
    server, user = web
    status, created = api(server, user["token"], "POST", "/api/v1/tickets", {
        "subject": "CSRF", "detail": "x", "requester_name": "A", "requester_contact": "a@x.co", "account": "acme"})
    ticket_id = created["id"]
    page = browser.new_page()
    log_in(page, server, user)
    # A forged form post from the logged-in browser, without the token.
    result = page.evaluate(
        """async (id) => { const r = await fetch(`/tickets/${id}/act`, {method: 'POST',
             headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'action=resolve'});
             return r.status; }""", ticket_id)
    assert result == 403
    assert api(server, user["token"], "GET", f"/api/v1/tickets/{ticket_id}")[1]["status"] == "new"
    page.close()


def test_script_in_a_device_string_is_shown_as_text(web, browser) -> None:  # type: ignore[no-untyped-def]
    server, user = web
    from sqlalchemy.orm import Session

    from provisioner.db.engine import make_engine, session_factory
    from support_link import lifecycle
    from support_link.store import affected_devices, tickets

    engine = make_engine(server.database_url)
    with session_factory(engine).begin() as session:
        assert isinstance(session, Session)
        from datetime import UTC, datetime
        now = datetime.now(UTC)
        ticket, event = lifecycle.new_ticket(
            ticket_type="incident", urgency="medium", impact="individual", subject="<script>window.__pwned=2</script>",
            detail="<img src=x onerror=window.__pwned=3>", requester_name="Acme", requester_contact="soporte@acme.co",
            channel="device", created_at=now, actor=lifecycle.SYSTEM,
        )
        ticket_id = tickets.create(session, ticket, event, "acme", "firmware_older")
        affected_devices.add_device(session, ticket_id, "0015650e0e01", "Ventas",
                              {"user_agent": HOSTILE_UA, "seen": "34.72.0.60", "expected": "34.72.0.75", "ip": "10.0.0.9"}, now)
    engine.dispose()
    page = browser.new_page()
    log_in(page, server, user)
    page.goto(f"{server.base}/tickets/{ticket_id}")
    assert page.evaluate("window.__pwned === undefined")
    assert HOSTILE_UA in page.inner_text("#devices")
    assert "<script>window.__pwned=2</script>" in page.inner_text("h1")
    page.goto(f"{server.base}/tickets")
    assert page.evaluate("window.__pwned === undefined")
    page.close()


def test_installer_previews_fixes_and_confirms_an_import(web, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, _agent = web
    cli_json(server.database_url, "tenant", "create", "Importadora S.A.S.", "--sip-server", "pbx.example.net", "--slug", "importadora")
    installer = cli_json(server.database_url, "user", "add", "ivan", "--role", "installer", "--password", "clave-ivan-1")
    bad = tmp_path / "extensiones.csv"
    bad.write_text("extensión;nombre;departamento;mac;modelo;línea\n301;Ana Gómez;Ventas;00:15:65:AB:CD:01;T21P;1\n3x2;Bo;Ventas;;;\n", encoding="utf-8")
    page = browser.new_page()
    log_in(page, server, {"username": "ivan", "password": "clave-ivan-1"}, lands="**/imports")  # installers see no tickets
    page.goto(server.base + "/imports")
    page.select_option("select[name=tenant]", "importadora")
    page.set_input_files("input[name=file]", str(bad))
    page.click("button:has-text('Revisar')")
    problems = page.inner_text("#problems")
    assert "3" in problems and "extensión" in problems.lower() and "3x2" in problems
    assert page.locator("button:has-text('Confirmar')").count() == 0
    good = tmp_path / "extensiones-ok.csv"
    good.write_text(bad.read_text(encoding="utf-8").replace("3x2", "302"), encoding="utf-8")
    page.select_option("select[name=tenant]", "importadora")
    page.set_input_files("input[name=file]", str(good))
    page.click("button:has-text('Revisar')")
    assert "sin errores" in page.inner_text("#preview")
    page.click("button:has-text('Confirmar')")
    assert "Importación aplicada" in page.inner_text("#preview")
    page.close()
    status, devices = api(server, installer["api_token"], "GET", "/api/v1/devices?tenant=importadora")
    assert status == 200 and [d["mac"] for d in devices["devices"]] == ["001565abcd01"] and devices["next_cursor"] is None


def test_login_with_a_hostile_next_stays_on_this_site(web, browser) -> None:  # type: ignore[no-untyped-def]
    """Finding 7: next=/%09/evil.example once sent a real login to http://evil.example/ (here
    the browser resolves no name, so such a login ends on Chromium's error page instead)."""
    from urllib.parse import urlsplit

    server, user = web
    page = browser.new_page()
    hosts: set[str | None] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(server.base + "/login?next=/%09/evil.example")
    page.fill("input[name=username]", user["username"])
    page.fill("input[name=password]", user["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url == server.base + "/tickets" and hosts == {"127.0.0.1"}
    assert blocked == []  # the queue's script comes from /static: the policy lets it run
    page.close()
