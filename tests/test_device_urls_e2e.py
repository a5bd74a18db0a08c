"""Per-device provisioning URLs end to end (issue 20): a running `provisioner serve`, a tenant
with `--device-urls on`, and a simulated phone of each vendor booting over real HTTP.

First boot under the tenant key (DHCP option 66); the device config points the phone at its
own URL; the next boot follows it; the tenant key then answers the MAC file with the same 404
as any unknown name, until `device reenroll` or `tenant enroll` say otherwise. `provisioner
render` shows none of the tenant's or the device's secrets."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from provisioner.db.engine import make_engine, session_factory
from provisioner.db.models import Device, Tenant
from tests.conftest import RunningServer, cli_json, run_cli, start_server, stop_server
from tests.phones import DESK_PHONES, SimPhone, parse, provisioning_url
from tests.test_boot_e2e import add_phone, boot, http_get, wait_for

PHONES = [next(p for p in DESK_PHONES if p.catalog_key == key) for key in ("polycom-vvx600", "grandstream-gxp1620", "yealink-t21p")]
IDS = [p.vendor for p in PHONES]


@pytest.fixture(scope="module")
def deployed(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    database_url = module_database_url
    tenant = cli_json(database_url, "tenant", "create", "Urls S.A.S.", "--sip-server", "pbx.urls.example.net")
    assert cli_json(database_url, "tenant", "set", tenant["slug"], "--device-urls", "on")["device_urls"] is True
    for number, phone in enumerate(PHONES, start=401):
        add_phone(database_url, tenant["slug"], phone.mac, phone.model_arg, [str(number)])
    server = start_server(database_url, tmp_path_factory.mktemp("server"))
    try:
        yield server, tenant
    finally:
        stop_server(server)


def not_found_body(server: RunningServer, tenant: dict[str, str]) -> bytes:
    status, body = http_get(f"{server.base}/prov/{tenant['key']}/001565ffffff.cfg")
    assert status == 404
    return body


def mac_file_status(server: RunningServer, tenant: dict[str, str], phone: SimPhone) -> int:
    return http_get(f"{server.base}/prov/{tenant['key']}/{phone.device_file()}", phone.user_agent())[0]


def own_url_of(server: RunningServer, phone: SimPhone) -> str:
    engine = make_engine(server.database_url)
    with session_factory(engine)() as session:
        token = session.scalar(select(Device.url_token).where(Device.mac == phone.mac))
    engine.dispose()
    return f"{server.base}/prov/d/{token}/"


@pytest.mark.parametrize("phone", PHONES, ids=IDS)
def test_first_boot_moves_the_phone_and_the_tenant_key_stops_serving_its_mac_file(deployed, phone: SimPhone) -> None:
    server, tenant = deployed
    first = boot(phone, f"{server.base}/prov/{tenant['key']}/")
    own = provisioning_url(phone.vendor, parse(phone.vendor, first[phone.device_file()]))
    assert own == own_url_of(server, phone) and tenant["key"] not in own
    # The next boot follows the URL its config gave it, and gets the same files.
    second = boot(phone, own)
    assert second == first
    # The tenant key: the same 404 as a MAC nobody assigned.
    status, body = http_get(f"{server.base}/prov/{tenant['key']}/{phone.device_file()}", phone.user_agent())
    assert (status, body) == (404, not_found_body(server, tenant))
    # The phone's own URL: still its file, at every resync.
    assert http_get(own + phone.device_file(), phone.user_agent()) == (200, first[phone.device_file()])


def test_a_device_url_serves_no_other_phones_files(deployed) -> None:
    server, tenant = deployed
    polycom, grandstream, yealink = PHONES
    own = own_url_of(server, yealink)
    for other in (polycom, grandstream):
        assert http_get(own + other.device_file(), other.user_agent())[0] == 404
        assert http_get(own + other.common_file(), other.user_agent())[0] == 404  # another vendor's
    assert http_get(own + "001565ffffff.cfg", yealink.user_agent())[0] == 404
    unknown = f"{server.base}/prov/d/{'x' * 32}/{yealink.device_file()}"
    assert http_get(unknown, yealink.user_agent()) == (404, not_found_body(server, tenant))


def test_reenroll_lets_the_tenant_key_serve_the_mac_file_once_more(deployed) -> None:
    server, tenant = deployed
    phone = PHONES[2]
    mac_file_status(server, tenant, phone)  # enrolls it, if no test before did
    assert mac_file_status(server, tenant, phone) == 404
    assert cli_json(server.database_url, "device", "reenroll", phone.mac.upper()) == {"mac": phone.mac, "enrolled": False}
    assert wait_for(lambda: mac_file_status(server, tenant, phone) == 200 or None)  # enrolled again by this fetch
    assert mac_file_status(server, tenant, phone) == 404


def test_an_enrollment_window_opens_and_closes_the_tenant_key(deployed) -> None:
    server, tenant = deployed
    phone = PHONES[0]
    mac_file_status(server, tenant, phone)  # enrolls it, if no test before did
    assert mac_file_status(server, tenant, phone) == 404
    opened = cli_json(server.database_url, "tenant", "enroll", tenant["slug"], "--minutes", "60")
    assert opened["tenant"] == tenant["slug"]
    assert wait_for(lambda: mac_file_status(server, tenant, phone) == 200 or None)
    assert mac_file_status(server, tenant, phone) == 200  # every fetch while the window is open
    run_cli(server.database_url, "tenant", "enroll", tenant["slug"], "--minutes", "0")
    assert wait_for(lambda: mac_file_status(server, tenant, phone) == 404 or None)


@pytest.mark.parametrize("phone", PHONES, ids=IDS)
def test_render_shows_none_of_the_tenants_or_the_devices_secrets(deployed, phone: SimPhone) -> None:
    server, _tenant = deployed
    engine = make_engine(server.database_url)
    with session_factory(engine)() as session:
        device = session.scalar(select(Device).where(Device.mac == phone.mac))
        owner = session.get(Tenant, device.tenant_id)
        secrets = [owner.provisioning_key, owner.snmp_community, device.admin_password, device.url_token,
                   *(extension.sip_password for extension in device.extensions)]
    engine.dispose()
    port = {"PROVISIONER_HTTP_PORT": str(server.http_port)}  # the URLs the server writes
    masked = run_cli(server.database_url, "render", phone.mac, env=port).stdout
    shown = run_cli(server.database_url, "render", phone.mac, "--show-secrets", env=port).stdout
    assert not [s for s in secrets if s in masked], masked
    assert "********" in masked
    assert device.admin_password in shown and device.url_token in shown
    # --show-secrets prints exactly what the phone gets at its own URL; a look enrolls nobody.
    assert http_get(own_url_of(server, phone) + phone.device_file(), phone.user_agent()) == (200, shown.encode())


def test_switching_device_urls_off_serves_fresh_files_at_both_urls(deployed) -> None:
    server, tenant = deployed
    phone = PHONES[1]
    own = own_url_of(server, phone)
    run_cli(server.database_url, "tenant", "set", tenant["slug"], "--device-urls", "off")
    try:
        def moved_back() -> bool:
            status, body = http_get(own + phone.device_file(), phone.user_agent())
            return status == 200 and provisioning_url(phone.vendor, parse(phone.vendor, body)) is None

        assert wait_for(moved_back)  # no stale cached file still pointing at the device URL
        assert mac_file_status(server, tenant, phone) == 200  # the tenant key serves it again
    finally:
        run_cli(server.database_url, "tenant", "set", tenant["slug"], "--device-urls", "on")

    def moved_again() -> bool:
        status, body = http_get(own + phone.device_file(), phone.user_agent())
        return status == 200 and provisioning_url(phone.vendor, parse(phone.vendor, body)) == own

    assert wait_for(moved_again)


def test_the_server_log_names_no_key_and_no_token(deployed) -> None:
    server, tenant = deployed
    log = server.log()
    tokens = [urllib.parse.urlsplit(own_url_of(server, p)).path.split("/")[3] for p in PHONES]
    assert "sensitive file served" in log
    assert tenant["key"] not in log and not [t for t in tokens if t in log]
