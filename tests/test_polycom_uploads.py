"""Polycom uploads end to end (issue 15 item 5): a running `provisioner serve` on SQLite and
PostgreSQL, simulated Polycom phones over real HTTP.

The phone PUTs its override file (<mac>-phone.cfg) and its logs to the directory it
provisions from; after a "reboot" (its boot files again) it GETs the override file back and
gets the same bytes. What an attacker might send instead is refused: too large (413), a MAC
the tenant does not have or another tenant's (404, nothing stored), names that climb out of
the directory or are not uploads (404), an override file that would move the phone (403), too
many uploads (429). The last N logs are kept. The device page shows both, escaped.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from provisioner.db.engine import make_engine, session_factory
from provisioner.db.models import Device, PhoneUpload
from tests.conftest import RunningServer, cli_json, start_server, stop_server
from tests.phones import DESK_PHONES
from tests.test_boot_e2e import add_phone, boot, http_get

VVX = next(p for p in DESK_PHONES if p.catalog_key == "polycom-vvx600")
IP331 = next(p for p in DESK_PHONES if p.catalog_key == "polycom-ip331")
OTHER_TENANTS_MAC = "64167f00beef"
SEALED_MAC = "64167f00c0de"  # a phone of a tenant with per-device URLs
MAX_BYTES = 4096
LOGS_KEPT = 3
PER_HOUR = 8

# What a VVX writes when its user sets a speed dial and a ring tone on the phone [POLY-FAQ].
OVERRIDE = (b'<?xml version="1.0" standalone="yes"?>\n<PHONE_CONFIG>\n'
            b'<OVERRIDES dir.local.contacts.1.contact="2001" np.normal.ringing.calls.tonePattern="ringer7"'
            b' up.backlight.idleIntensity="1"/>\n</PHONE_CONFIG>\n')


@pytest.fixture(scope="module")
def deployed(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, dict[str, str], dict[str, str], dict[str, str]]]:
    url = module_database_url
    acme = cli_json(url, "tenant", "create", "Acme Uploads", "--sip-server", "pbx.acme.example.net")
    other = cli_json(url, "tenant", "create", "Otra Empresa", "--sip-server", "pbx.otra.example.net")
    sealed = cli_json(url, "tenant", "create", "Sellada", "--sip-server", "pbx.sellada.example.net")
    cli_json(url, "tenant", "set", sealed["slug"], "--device-urls", "on")
    add_phone(url, acme["slug"], VVX.mac, VVX.model_arg, ["301"])
    add_phone(url, acme["slug"], IP331.mac, IP331.model_arg, ["302"])
    add_phone(url, other["slug"], OTHER_TENANTS_MAC, "VVX600", ["401"])
    add_phone(url, sealed["slug"], SEALED_MAC, "VVX600", ["501"])
    server = start_server(url, tmp_path_factory.mktemp("uploads"), extra_env={
        "PROVISIONER_UPLOAD_MAX_BYTES": str(MAX_BYTES), "PROVISIONER_UPLOAD_LOGS_KEPT": str(LOGS_KEPT),
        "PROVISIONER_UPLOADS_PER_HOUR": str(PER_HOUR),
    })
    try:
        yield server, acme, other, sealed
    finally:
        stop_server(server)


def put(url: str, body: bytes, user_agent: str | None = VVX.user_agent(), chunked: bool = False) -> int:
    """An HTTP PUT as the phone sends it (Content-Length, or chunked when asked)."""
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        headers = {"User-Agent": user_agent} if user_agent else {}
        if chunked:
            connection.request("PUT", parsed.path, body=iter([body[i:i + 1000] for i in range(0, len(body), 1000)]),
                               headers=headers, encode_chunked=True)
        else:
            connection.request("PUT", parsed.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except (ConnectionResetError, BrokenPipeError):
        return -1  # the server cut a body it refused before it was all sent
    finally:
        connection.close()


def stored(server: RunningServer, mac: str, kind: str) -> list[bytes]:
    engine = make_engine(server.database_url)
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(PhoneUpload.body).join(Device, Device.id == PhoneUpload.device_id)
                                        .where(Device.mac == mac, PhoneUpload.kind == kind).order_by(PhoneUpload.id)))
    finally:
        engine.dispose()


def test_the_override_file_survives_a_reboot(deployed) -> None:
    server, acme, _other, _sealed = deployed
    base = f"{server.base}/prov/{acme['key']}/"
    first = boot(VVX, base)  # a first boot: no override file yet (404)
    assert put(base + f"{VVX.mac}-phone.cfg", OVERRIDE.replace(b"ringer7", b"ringer2")) == 201
    assert put(base + f"{VVX.mac}-phone.cfg", OVERRIDE) == 204  # the user changed it again
    # "Reboot": the boot files again, then the override file, as the phone asks for it.
    for filename, phase, must_serve in VVX.boot_files():
        if filename.endswith("-phone.cfg"):
            assert http_get(base + filename, VVX.user_agent(phase=phase)) == (200, OVERRIDE)
        elif must_serve:
            assert http_get(base + filename, VVX.user_agent(phase=phase)) == (200, first[filename])
    assert stored(server, VVX.mac, "override") == [OVERRIDE]  # one override file per phone
    # The other phone of the tenant has none: its name is still the usual 404.
    assert http_get(base + f"{IP331.mac}-phone.cfg", IP331.user_agent())[0] == 404
    assert b"ringer7" not in server.log().encode()  # bodies are never logged


def test_oversize_uploads_are_refused_and_not_stored(deployed) -> None:
    server, acme, _other, _sealed = deployed
    base = f"{server.base}/prov/{acme['key']}/"
    big = b"x" * (MAX_BYTES + 1)
    assert put(base + f"{IP331.mac}-app.log", big, IP331.user_agent()) in (413, -1)
    assert put(base + f"{IP331.mac}-app.log", big, IP331.user_agent(), chunked=True) in (413, -1)
    assert stored(server, IP331.mac, "app_log") == []
    assert put(base + f"{IP331.mac}-app.log", b"y" * MAX_BYTES, IP331.user_agent()) == 201  # the cap itself fits
    assert "-> 413" in server.log()


def test_unknown_and_other_tenants_macs_and_path_tricks_are_refused(deployed) -> None:
    server, acme, other, _sealed = deployed
    base = f"{server.base}/prov/{acme['key']}/"
    refused = [
        f"{OTHER_TENANTS_MAC}-phone.cfg",  # another tenant's phone, below this tenant's key
        "0004f2999999-phone.cfg",  # nobody's phone
        "000000000000-phone.cfg",  # Polycom's "every phone" name is no phone
        f"{VVX.mac}-user.cfg",  # a config we serve is never written by a phone
        f"{VVX.mac}.cfg",
        f"{VVX.mac}-web.cfg",
        f"polycom/{VVX.mac}-phone.cfg",
        f"..%2f{VVX.mac}-phone.cfg",
        f"%2e%2e/{VVX.mac}-phone.cfg",
        f"{VVX.mac}-phone.cfg%00.txt",
    ]
    for name in refused:
        assert put(base + name, b"<PHONE_CONFIG/>") == 404, name
    assert put(f"{server.base}/prov/not-a-key/{VVX.mac}-phone.cfg", b"<PHONE_CONFIG/>") == 404
    assert stored(server, OTHER_TENANTS_MAC, "override") == []
    # The other tenant's own key takes its phone's file; this tenant's key never serves it back.
    assert put(f"{server.base}/prov/{other['key']}/{OTHER_TENANTS_MAC}-phone.cfg", OVERRIDE) == 201
    assert http_get(base + f"{OTHER_TENANTS_MAC}-phone.cfg", VVX.user_agent())[0] == 404
    assert http_get(f"{server.base}/prov/{other['key']}/{OTHER_TENANTS_MAC}-phone.cfg")[0] == 200
    # The config the server renders is untouched by any of it.
    status, body = http_get(base + f"{VVX.mac}-user.cfg", VVX.user_agent())
    assert status == 200 and b"PHONE_CONFIG/" not in body


def test_an_override_file_that_moves_the_phone_is_refused(deployed) -> None:
    server, _acme, other, _sealed = deployed
    base = f"{server.base}/prov/{other['key']}/"
    for parameter in ('device.prov.serverName="evil.example.net"', 'reg.1.server.1.address="sip.evil.example"',
                      'voIpProt.server.1.address="sip.evil.example"', 'APP_FILE_PATH="http://evil/sip.ld"'):
        body = b'<PHONE_CONFIG><OVERRIDES ' + parameter.encode() + b'/></PHONE_CONFIG>'
        assert put(base + f"{OTHER_TENANTS_MAC}-phone.cfg", body) == 403, parameter
    assert http_get(base + f"{OTHER_TENANTS_MAC}-phone.cfg")[1] == OVERRIDE  # still the phone's own


def test_a_device_url_takes_only_its_own_phones_files(deployed) -> None:
    server, _acme, _other, sealed = deployed
    key_base = f"{server.base}/prov/{sealed['key']}/"
    assert http_get(key_base + f"{SEALED_MAC}-user.cfg", VVX.user_agent())[0] == 200  # enrols the phone
    engine = make_engine(server.database_url)
    with session_factory(engine)() as session:
        token = session.scalar(select(Device.url_token).where(Device.mac == SEALED_MAC))
    engine.dispose()
    own = f"{server.base}/prov/d/{token}/"
    assert put(key_base + f"{SEALED_MAC}-phone.cfg", OVERRIDE) == 404  # the key no longer serves this phone
    assert put(own + f"{VVX.mac}-phone.cfg", OVERRIDE) == 404  # another phone's name below this URL
    assert put(own + f"{SEALED_MAC}-phone.cfg", OVERRIDE) == 201
    assert http_get(own + f"{SEALED_MAC}-phone.cfg", VVX.user_agent()) == (200, OVERRIDE)
    assert http_get(key_base + f"{SEALED_MAC}-phone.cfg", VVX.user_agent())[0] == 404


def test_logs_rotate_and_uploads_are_rate_limited(deployed) -> None:
    server, acme, _other, _sealed = deployed
    base = f"{server.base}/prov/{acme['key']}/"
    logs = [f"0101000000|so   |4|00|boot {n}\n".encode() for n in range(LOGS_KEPT + 2)]
    for log in logs:
        assert put(base + f"{VVX.mac}-boot.log", log, VVX.user_agent(phase="Updater")) in (201, 204)
    assert stored(server, VVX.mac, "boot_log") == logs[-LOGS_KEPT:]
    statuses = [put(base + f"{VVX.mac}-boot.log", b"again\n", VVX.user_agent(phase="Updater"))
                for _ in range(PER_HOUR - len(logs) + 1)]
    assert statuses[:-1] == [204] * (len(statuses) - 1) and statuses[-1] == 429
    assert len(stored(server, VVX.mac, "boot_log")) == LOGS_KEPT


def test_the_device_page_shows_the_override_file_and_logs_escaped(deployed) -> None:
    server, acme, _other, _sealed = deployed
    base = f"{server.base}/prov/{acme['key']}/"
    assert put(base + f"{VVX.mac}-app.log", b"1201 sip <script>alert(1)</script> \x1b[31m reg ok\n") in (201, 204)
    cli_json(server.database_url, "user", "add", "lucia", "--role", "agent", "--password", "clave-lucia-1")
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    opener.open(urllib.request.Request(server.base + "/login", data=b"username=lucia&password=clave-lucia-1"), timeout=10)
    page = opener.open(f"{server.base}/devices/{VVX.mac}", timeout=10).read().decode()
    assert "ringer7" in page and "dir.local.contacts.1.contact" in page  # the override file
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "\x1b" not in page
    assert "Registro de la aplicación" in page and "Registro de arranque" in page
    listing = opener.open(f"{server.base}/devices", timeout=10).read().decode()
    assert re.search(rf'href="/devices/{VVX.mac}"', listing)
