"""The device list in pages (issue 20, finding 12): 100 a page by cursor, each page read by
bounded queries in a worker thread (100,000 phones once took 4.7 s on the event loop and
stalled phone fetches 2.4 s), a "siguiente" link in the app and next_cursor in the API."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, insert

from firmware_catalog import load_catalog
from provisioner import admin
from provisioner.db.engine import make_engine, session_factory
from provisioner.db.models import Device, PhoneState, Tenant
from provisioner.errors import InputError
from tests.conftest import RunningServer, cli_json, start_server, stop_server

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def add_phones(database_url: str, tenant_slug: str, assigned: int, waiting: int) -> tuple[list[str], list[str]]:
    """`assigned` devices (each seen once) and `waiting` phones seen but not assigned; their MACs, sorted."""
    model_key = load_catalog().desk_models()[0].key
    engine = make_engine(database_url)
    with session_factory(engine).begin() as session:
        tenant = session.query(Tenant).filter_by(slug=tenant_slug).one()
        devices = [f"0015650{index:05x}" for index in range(assigned)]
        others = [f"805ec0{index:06x}" for index in range(waiting)]
        session.execute(insert(Device), [{"tenant_id": tenant.id, "mac": mac, "model_key": model_key, "created_at": NOW} for mac in devices])
        session.execute(insert(PhoneState), [
            {"tenant_id": tenant.id, "mac": mac, "first_seen": NOW, "last_seen": NOW, "last_ip": "10.0.0.9", "last_protocol": "http",
             "findings": []}
            for mac in devices[::2] + others
        ])
    engine.dispose()
    return sorted(devices), sorted(others)


def test_one_page_reads_a_bounded_number_of_rows(database_url: str) -> None:
    cli_json(database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example", "--slug", "acme")
    assigned, waiting = add_phones(database_url, "acme", 3000, 1500)
    engine = make_engine(database_url)
    loaded: list[object] = []
    statements: list[str] = []

    def count(target: object, _context: object) -> None:
        loaded.append(target)

    for model in (Device, PhoneState, Tenant):
        event.listen(model, "load", count)
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        with session_factory(engine)() as session:
            catalog = load_catalog()
            first = admin.device_page(session, catalog)
            assert len(first.rows) == 100 and len(loaded) <= 2 * 101 + 1 and len(statements) <= 6, (len(loaded), statements)
            assert [row.mac for row in first.rows] == assigned[:100]
            # the turn from assigned to waiting phones, and the last page
            loaded.clear()
            turn = admin.device_page(session, catalog, cursor=f"a.{assigned[-50]}")
            assert [row.mac for row in turn.rows] == assigned[-49:] + waiting[:51] and len(loaded) <= 2 * 101 + 1
            shown, cursor = [], None
            while True:
                page = admin.device_page(session, catalog, tenant_slug="acme", cursor=cursor)
                shown += [row.mac for row in page.rows]
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            assert shown == assigned + waiting
            assert admin.device_page(session, catalog, tenant_slug="nadie").rows == []
            with pytest.raises(InputError, match="cursor"):
                admin.device_page(session, catalog, cursor="a.' OR 1=1 --")
    finally:
        for model in (Device, PhoneState, Tenant):
            event.remove(model, "load", count)
        engine.dispose()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[RunningServer, str, list[str]]]:
    cli_json(database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example", "--slug", "acme")
    user = cli_json(database_url, "user", "add", "ana", "--role", "agent", "--password", "clave-ana-1")
    assigned, waiting = add_phones(database_url, "acme", 180, 40)
    running = start_server(database_url, tmp_path)
    try:
        yield running, user["api_token"], assigned + waiting
    finally:
        stop_server(running)


def get(running: RunningServer, path: str, token: str | None = None, cookie: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {"Cookie": cookie or ""}
    with urllib.request.urlopen(urllib.request.Request(running.base + path, headers=headers), timeout=10) as response:
        return response.read().decode()


def test_devices_page_by_page_in_the_api_and_the_app(server) -> None:  # type: ignore[no-untyped-def]
    running, token, every_mac = server
    shown, path = [], "/api/v1/devices?tenant=acme"
    while True:
        page = json.loads(get(running, path, token=token))
        assert len(page["devices"]) <= 100
        shown += [device["mac"] for device in page["devices"]]
        if page["next_cursor"] is None:
            break
        path = f"/api/v1/devices?tenant=acme&cursor={page['next_cursor']}"
    assert shown == every_mac
    documented = json.loads(get(running, "/api/v1/openapi.json"))["paths"]["/api/v1/devices"]["get"]
    assert "cursor" in [p["name"] for p in documented["parameters"]]
    assert "next_cursor" in documented["responses"]["200"]["content"]["application/json"]["schema"]["properties"]

    login = urllib.request.Request(running.base + "/login", data=b"username=ana&password=clave-ana-1", method="POST")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(login, timeout=10)
    except urllib.error.HTTPError as redirect:
        cookie = redirect.headers["Set-Cookie"].split(";")[0]
    shown, path = [], "/devices?tenant=acme"
    while path:
        page = get(running, path, cookie=cookie)
        macs = re.findall(r'<td class="mono"[^>]*>(?:<a href="/devices/[0-9a-f]{12}">)?([0-9a-f]{12})(?:</a>)?</td>', page)
        assert 0 < len(macs) <= 100
        shown += macs
        following = re.search(r'<a id="next-page" href="([^"]+)">', page)
        path = following[1].replace("&amp;", "&") if following else ""
    assert shown == every_mac


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None
