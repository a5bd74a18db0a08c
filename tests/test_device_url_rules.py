"""Per-device URLs and secret masking as pure functions (issue 20): who may fetch a MAC file
where (provisioner.enrollment), what each vendor writes to move a phone to its own URL, and
that `provisioner render`'s masking hides every secret of every vendor (provisioner.masking)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from firmware_catalog import load_catalog
from provisioner.enrollment import device_url_serves, enrolls, tenant_key_serves
from provisioner.masking import MASK, mask_secrets
from provisioner.values import (
    DeviceRecord, Identification, LineView, RenderContext, Role, TenantRecord, TenantView,
)
from provisioner.vendors import VENDORS
from tests.phones import DESK_PHONES, SimPhone, parse, provisioning_url

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
KEY = "TenantKey0123456789abcdefghijklmn"
TOKEN = "DeviceToken0123456789abcdefghijk"
OWN_URL = f"http://prov.example.net:8080/prov/d/{TOKEN}/"
VIEW = TenantView(
    name="Acme", slug="acme", sip_server="pbx.acme.example.net", sip_port=5060, sip_transport="udp",
    snmp_community="ro-community77", ntp_server="ntp.acme.example.net",
    base_url=f"http://prov.example.net:8080/prov/{KEY}/",
)
ADMIN_PW = "DevAdmin7Xq2"
DEVICE = DeviceRecord(1, "001565000021", "yealink-t21p", (), admin_password=ADMIN_PW, token=TOKEN,
                      provisioning_url=OWN_URL)


def tenant(device_urls: bool, window: timedelta | None = None) -> TenantRecord:
    return TenantRecord(1, KEY, replace(VIEW, device_urls=device_urls), device_urls,
                        NOW + window if window is not None else None)


# -- who may fetch a MAC file under the tenant key ---------------------------------------------
@pytest.mark.parametrize(
    ("device_urls", "enrolled", "window", "serves"),
    [
        (False, False, None, True),  # the feature off: as always
        (False, True, None, True),  # switched off after enrolment: the key serves again
        (True, False, None, True),  # the first fetch (or a re-enrolled phone)
        (True, True, None, False),  # enrolled: its own URL only
        (True, True, timedelta(minutes=5), True),  # enrolment window open
        (True, True, timedelta(0), False),  # the window ends at its end
        (True, True, timedelta(minutes=-5), False),  # and stays closed after
    ],
)
def test_tenant_key_serves_the_mac_file(device_urls: bool, enrolled: bool, window: timedelta | None, serves: bool) -> None:
    assert tenant_key_serves(tenant(device_urls, window), replace(DEVICE, enrolled=enrolled), NOW) is serves


def test_only_a_served_first_fetch_of_a_device_url_tenant_enrolls() -> None:
    assert enrolls(tenant(True), DEVICE)
    assert not enrolls(tenant(True), replace(DEVICE, enrolled=True))
    assert not enrolls(tenant(False), DEVICE)
    assert not enrolls(tenant(True), None)


@pytest.mark.parametrize(
    ("ident", "serves"),
    [
        (Identification(Role.DEVICE, "yealink", mac="001565000021"), True),  # its own MAC file
        (Identification(Role.COMMON, "yealink"), True),  # its vendor's common file
        (Identification(Role.FIRMWARE, "yealink"), True),
        (Identification(Role.DEVICE, "yealink", mac="001565000099"), False),  # another phone's
        (Identification(Role.MASTER, "polycom", mac="001565000099"), False),
        (Identification(Role.COMMON, "polycom"), False),  # another vendor's common file
        (Identification(Role.COMMON, None), True),  # a name no vendor claims alone: the owner's decides
        (Identification(Role.OTHER, "yealink", mac="001565000021"), False),
        (Identification(Role.UNKNOWN), False),
    ],
)
def test_a_device_url_serves_its_own_files_and_its_vendors_shared_ones(ident: Identification, serves: bool) -> None:
    assert device_url_serves(ident, DEVICE, "yealink") is serves


# -- what each vendor writes --------------------------------------------------------------------
ONE_PER_VENDOR = [next(p for p in DESK_PHONES if p.vendor == vendor) for vendor in ("polycom", "grandstream", "yealink")]
CATALOG = load_catalog()


def line(n: int) -> LineView:
    return LineView(n, f"20{n}", f"Empleado {n}", f"20{n} Empleado", f"acme-20{n}", f"SipPassword{n}xyz9")


def device_context(phone: SimPhone, own_url: str | None, device_urls: bool = True) -> RenderContext:
    entry = CATALOG.get(phone.catalog_key)
    assert entry is not None
    return RenderContext(replace(VIEW, device_urls=device_urls), entry, phone.mac, (line(1),),
                         admin_password=ADMIN_PW, provisioning_url=own_url)


def rendered(phone: SimPhone, filename: str, ctx: RenderContext) -> bytes:
    file = VENDORS[phone.vendor].render(filename, ctx)
    assert file is not None, filename
    return file.body


@pytest.mark.parametrize("phone", ONE_PER_VENDOR, ids=lambda p: p.vendor)
def test_the_device_file_moves_the_phone_to_its_own_url(phone: SimPhone) -> None:
    params = parse(phone.vendor, rendered(phone, phone.device_file(), device_context(phone, OWN_URL)))
    assert provisioning_url(phone.vendor, params) == OWN_URL


@pytest.mark.parametrize("phone", ONE_PER_VENDOR, ids=lambda p: p.vendor)
def test_without_device_urls_nothing_moves_the_phone(phone: SimPhone) -> None:
    params = parse(phone.vendor, rendered(phone, phone.device_file(), device_context(phone, None, device_urls=False)))
    assert provisioning_url(phone.vendor, params) is None


@pytest.mark.parametrize("phone", ONE_PER_VENDOR, ids=lambda p: p.vendor)
def test_shared_files_never_name_a_device_url_nor_move_the_phone_back(phone: SimPhone) -> None:
    ctx = replace(device_context(phone, None), mac=None, lines=(), admin_password="")
    body = rendered(phone, phone.common_file(), ctx)
    assert TOKEN.encode() not in body
    params = parse(phone.vendor, body)
    # Grandstream reads cfg.xml after its own file: a tenant path there would undo the move.
    assert "P237" not in params and "auto_provision.server.url" not in params
    assert "device.prov.serverName" not in params


def test_grandstream_common_file_keeps_the_tenant_path_when_device_urls_are_off() -> None:
    phone = ONE_PER_VENDOR[1]
    ctx = replace(device_context(phone, None, device_urls=False), mac=None, lines=(), admin_password="")
    assert parse("grandstream", rendered(phone, "cfg.xml", ctx))["P237"] == f"prov.example.net:8080/prov/{KEY}"


@pytest.mark.parametrize("phone", ONE_PER_VENDOR, ids=lambda p: p.vendor)
def test_the_admin_password_is_the_devices_own(phone: SimPhone) -> None:
    body = rendered(phone, phone.device_file(), device_context(phone, OWN_URL))
    assert ADMIN_PW in body.decode()


# -- masking ------------------------------------------------------------------------------------
SECRETS = [KEY, TOKEN, VIEW.snmp_community, ADMIN_PW, line(1).password]


@pytest.mark.parametrize("phone", ONE_PER_VENDOR, ids=lambda p: p.vendor)
@pytest.mark.parametrize("by_value", [True, False], ids=["parameters-and-values", "parameters-only"])
def test_masking_hides_every_secret_of_every_vendor(phone: SimPhone, by_value: bool) -> None:
    """By parameter alone already (the vendor names them), and by value on top."""
    text = rendered(phone, phone.device_file(), device_context(phone, OWN_URL)).decode()
    assert [s for s in SECRETS if s in text and s != KEY], "the file carries the device's secrets"
    masked = mask_secrets(text, VENDORS[phone.vendor].secret_parameters, SECRETS if by_value else [])
    leaked = [s for s in SECRETS if s in masked]
    assert leaked == ([] if by_value else [s for s in (KEY,) if s in masked]), leaked
    assert MASK in masked
    # Only values changed: every line is still there, and the file still parses.
    assert masked.count("\n") == text.count("\n")
    parse(phone.vendor, masked.encode())


def test_the_grandstream_snmp_community_is_masked_by_its_parameter() -> None:
    phone = ONE_PER_VENDOR[1]
    text = rendered(phone, phone.device_file(), device_context(phone, OWN_URL)).decode()
    assert f"<P21902>{VIEW.snmp_community}</P21902>" in text
    assert f"<P21902>{MASK}</P21902>" in mask_secrets(text, VENDORS["grandstream"].secret_parameters, [])


def test_an_empty_value_and_a_longer_secret_containing_a_shorter_one() -> None:
    pattern = VENDORS["yealink"].secret_parameters
    assert mask_secrets("account.2.password = \n", pattern, []) == "account.2.password = \n"
    assert mask_secrets("x=abcdef y=abc", None, ["abc", "abcdef"]) == f"x={MASK} y={MASK}"
