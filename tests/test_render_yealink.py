"""Yealink T19P/T20P/T21P configs, read back line by line the way the phone reads them.

Catalog entries are built here (not loaded) so these tests pin the facts they rely on:
homologated lines 1 for all three; device maximum T19P 1, T20P 2, T21P 2; common files
y000000000031.cfg (T19P), y000000000007.cfg (T20P, V73), y000000000034.cfg (T21P).
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_catalog import CatalogEntry
from provisioner.errors import UnsupportedSetting
from provisioner.rendering import kv_value, template_chain
from provisioner.values import LineView, RenderContext, RenderedFile, TenantView
from provisioner.vendors.yealink import renderer as yealink

T19P = CatalogEntry("yealink-t19p", "yealink", "T19P", "desk", "31.72.0.75", 1, 1,
                    aliases=("SIP-T19P",), common_file_code="031", firmware_file="31.72.0.75.rom")
T20P = CatalogEntry("yealink-t20p", "yealink", "T20P", "desk", "9.73.0.50", 1, 2,
                    aliases=("SIP-T20P",), common_file_code="007", firmware_file="9.73.0.50.rom")
T21P = CatalogEntry("yealink-t21p", "yealink", "T21P", "desk", "34.72.0.75", 1, 2,
                    aliases=("SIP-T21P",), common_file_code="034", firmware_file="34.72.0.75.rom")
GXP1620 = CatalogEntry("grandstream-gxp1620", "grandstream", "GXP1620", "desk", "1.0.4.106", 2, 2)
MODELS = [T19P, T20P, T21P]
COMMON_FILES = {T19P: "y000000000031.cfg", T20P: "y000000000007.cfg", T21P: "y000000000034.cfg"}

MAC = "001565aabbcc"
ADMIN_PW = "Adm1nSecret"
TENANT = TenantView(
    name="Acme & Cía", slug="acme", sip_server="pbx.acme.example.net", sip_port=5070, sip_transport="tcp",
    snmp_community="ro-5f3a9c0e11d2", ntp_server="ntp.acme.example.net",
    base_url="http://203.0.113.10:8080/prov/KEY/", resync_seconds=86400,
)


def line(n: int = 1, name: str = "Ana Gómez", password: str | None = None, ext: str | None = None) -> LineView:
    ext = ext or f"10{n}"
    return LineView(n, ext, name, f"{ext} {name}", f"acme-{ext}", f"SipSecret{n}xyz" if password is None else password)


# --- the reader: what a V72/V73 phone does with the file -----------------------------------------
HEADER = "#!version:1.0.0.1"
_KEY_VALUE = re.compile(r"(?P<key>[a-z0-9_]+(?:\.[a-z0-9_]+)*) = (?P<value>.*)")


def parse(body: bytes) -> dict[str, str]:
    """key -> value of a Yealink config; fails on anything that is not a clean line.

    Every line must be the version header (first line only), blank, a "#" comment or
    `key = value` with a dotted lower-case key and no surrounding spaces on the value.
    LF only: a CR or any other line separator (U+2028, VT, FF, ...) would be a line break to
    some reader, so text.splitlines() must agree with split("\\n"). Duplicate keys fail too:
    a value that smuggled in a second `account.1.password` would show up here.
    """
    text = body.decode("utf-8")
    assert "\r" not in text, "CR in file"
    rows = text.split("\n")
    if rows and rows[-1] == "":
        rows.pop()
    assert text.splitlines() == rows, "a character other than LF breaks a line"
    assert rows and rows[0] == HEADER, f"first line must be {HEADER!r}"
    params: dict[str, str] = {}
    for row in rows[1:]:
        if row == "" or row.startswith("#"):
            continue
        match = _KEY_VALUE.fullmatch(row)
        assert match, f"not a key = value line: {row!r}"
        key, value = match.group("key"), match.group("value")
        assert value == value.strip(), f"value with surrounding spaces: {row!r}"
        assert key not in params, f"duplicate key {key}"
        params[key] = value
    return params


def line_count(body: bytes) -> int:
    return len(body.decode("utf-8").split("\n"))


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"account.1.enable = 1\n", "first line"),
        (HEADER.encode() + b"\naccount.1.enable=1\n", "not a key = value"),
        (HEADER.encode() + b"\naccount.1.enable = 1\r\n", "CR"),
        (HEADER.encode() + b"\naccount.1.label = a\xe2\x80\xa8b\n", "other than LF"),
        (HEADER.encode() + b"\naccount.1.label = a\nx\n", "not a key = value"),
        (HEADER.encode() + b"\naccount.1.password = a\naccount.1.password = b\n", "duplicate"),
        (HEADER.encode() + b"\naccount.1.label =  a\n", "surrounding spaces"),
    ],
)
def test_the_reader_rejects_what_a_phone_would_misread(body: bytes, problem: str) -> None:
    with pytest.raises(AssertionError, match=problem):
        parse(body)


# --- helpers -------------------------------------------------------------------------------------
def device(entry: CatalogEntry, lines: tuple[LineView, ...] = (line(1),), tenant: TenantView = TENANT,
           firmware_url: str | None = None, admin_password: str = ADMIN_PW) -> RenderedFile:
    out = yealink.render(f"{MAC}.cfg", RenderContext(tenant, entry, MAC, lines, firmware_url, admin_password=admin_password))
    assert out is not None
    return out


def common(entry: CatalogEntry, tenant: TenantView = TENANT, firmware_url: str | None = None,
           lines: tuple[LineView, ...] = ()) -> RenderedFile:
    out = yealink.render(COMMON_FILES[entry], RenderContext(tenant, entry, None, lines, firmware_url))
    assert out is not None
    return out


def enabled_accounts(params: dict[str, str]) -> set[int]:
    return {int(k.split(".")[1]) for k, v in params.items() if re.fullmatch(r"account\.\d+\.enable", k) and v == "1"}


def account_slots(params: dict[str, str]) -> set[int]:
    return {int(k.split(".")[1]) for k in params if k.startswith("account.")}


# --- device file ---------------------------------------------------------------------------------
@pytest.mark.parametrize("entry", MODELS, ids=lambda e: e.model)
def test_device_file_registers_the_line_on_the_tenant_server(entry: CatalogEntry) -> None:
    out = device(entry)
    assert out.sensitive and out.content_type == "text/plain; charset=utf-8"
    params = parse(out.body)
    assert params["account.1.enable"] == "1"
    assert params["account.1.label"] == "101 Ana Gómez"
    assert params["account.1.display_name"] == "Ana Gómez"
    assert params["account.1.auth_name"] == params["account.1.user_name"] == "acme-101"
    assert params["account.1.password"] == "SipSecret1xyz"
    assert params["account.1.sip_server.1.address"] == "pbx.acme.example.net"
    assert params["account.1.sip_server.1.port"] == "5070"
    assert params["account.1.transport"] == "1"


# (model, lines given) -> accounts enabled, account slots written (up to the device maximum)
ACCOUNT_CASES = [
    (T19P, (1,), {1}, {1}),
    (T19P, (), set(), {1}),
    (T20P, (1,), {1}, {1, 2}),
    (T20P, (2,), {2}, {1, 2}),
    (T20P, (1, 2), {1, 2}, {1, 2}),
    (T21P, (1,), {1}, {1, 2}),
    (T21P, (), set(), {1, 2}),
    (T21P, (2,), {2}, {1, 2}),
]


@pytest.mark.parametrize(("entry", "numbers", "enabled", "slots"), ACCOUNT_CASES,
                         ids=[f"{c[0].model}-{c[1]}" for c in ACCOUNT_CASES])
def test_exactly_the_given_lines_are_enabled_and_other_slots_are_cleared(
    entry: CatalogEntry, numbers: tuple[int, ...], enabled: set[int], slots: set[int]
) -> None:
    params = parse(device(entry, tuple(line(n) for n in numbers)).body)
    assert enabled_accounts(params) == enabled
    assert account_slots(params) == slots
    for n in slots - enabled:
        assert params[f"account.{n}.enable"] == "0"
        for key in ("label", "display_name", "auth_name", "user_name", "password", "sip_server.1.address"):
            assert params[f"account.{n}.{key}"] == "%NULL%", key
    for n in enabled:
        assert params[f"account.{n}.user_name"] == f"acme-10{n}"
        assert params[f"account.{n}.password"] == f"SipSecret{n}xyz"


@pytest.mark.parametrize(("entry", "number"), [(T19P, 2), (T21P, 3), (T20P, 0)])
def test_a_line_beyond_the_device_accounts_is_refused(entry: CatalogEntry, number: int) -> None:
    with pytest.raises(UnsupportedSetting, match="do not fit"):
        device(entry, (line(number),))


@pytest.mark.parametrize(("transport", "code"), [("udp", "0"), ("tcp", "1"), ("tls", "2"), ("TLS", "2")])
def test_transport_codes(transport: str, code: str) -> None:
    tenant = replace(TENANT, sip_transport=transport)
    for entry in MODELS:
        assert parse(device(entry, tenant=tenant).body)["account.1.transport"] == code


def test_a_transport_v72_cannot_express_is_refused() -> None:
    tenant = replace(TENANT, sip_transport="sctp")
    with pytest.raises(UnsupportedSetting, match="sctp"):
        device(T21P, tenant=tenant)


@pytest.mark.parametrize("entry", MODELS, ids=lambda e: e.model)
def test_admin_password_is_in_the_device_file_only(entry: CatalogEntry) -> None:
    params = parse(device(entry).body)
    assert params["security.user_name.admin"] == "admin"
    assert params["security.user_password"] == f"admin:{ADMIN_PW}"
    common_body = common(entry).body
    assert ADMIN_PW.encode() not in common_body
    assert not [k for k in parse(common_body) if k.startswith("security.")]


# --- clock: both files (FPX-768: V72 ignored local_time.* in the common file) ---------------------
@pytest.mark.parametrize("entry", MODELS, ids=lambda e: e.model)
@pytest.mark.parametrize("which", ["common", "device"])
def test_bogota_clock_and_ntp_in_both_files(entry: CatalogEntry, which: str) -> None:
    params = parse((common(entry) if which == "common" else device(entry)).body)
    assert params["local_time.ntp_server1"] == "ntp.acme.example.net"
    assert params["local_time.time_zone"] == "-5"
    assert params["local_time.summer_time"] == "0"  # Colombia: no DST, so the name cannot move the clock
    # V72/V73's own list has no Colombia entry; this is one of its UTC-5 names.
    assert params["local_time.time_zone_name"] == "United States-Eastern Time"


# --- common file -----------------------------------------------------------------------------------
@pytest.mark.parametrize("entry", MODELS, ids=lambda e: e.model)
def test_common_file_carries_tenant_settings_and_no_secret(entry: CatalogEntry) -> None:
    # Even handed lines, the common file must not carry them.
    out = common(entry, lines=(line(1),))
    assert not out.sensitive and out.content_type == "text/plain; charset=utf-8"
    params = parse(out.body)
    assert params["auto_provision.repeat.enable"] == "1"
    assert params["auto_provision.repeat.minutes"] == "1440"
    assert params["network.snmp.enable"] == "1"
    assert params["network.snmp.port"] == "161"
    assert params["network.snmp.trust_ip"] == "203.0.113.10"
    assert not [k for k in params if k.startswith(("account.", "security.")) or "password" in k]
    for secret in (ADMIN_PW, "SipSecret1xyz", TENANT.snmp_community, "acme-101"):
        assert secret.encode() not in out.body


@pytest.mark.parametrize("entry", MODELS, ids=lambda e: e.model)
def test_firmware_url_only_when_the_image_is_there(entry: CatalogEntry) -> None:
    url = f"{TENANT.base_url}{entry.firmware_file}"
    assert "firmware.url" not in parse(common(entry).body)
    assert "firmware.url" not in parse(device(entry).body)
    # The service only ever gives a phone's own file a URL (a campaign's phone, in its window).
    assert parse(device(entry, firmware_url=url).body)["firmware.url"] == url


@pytest.mark.parametrize(("seconds", "minutes"), [(86400, "1440"), (3600, "60"), (90, "2"), (60, "1"), (604800, "10080")])
def test_resync_every_resync_seconds_in_minutes(seconds: int, minutes: str) -> None:
    tenant = replace(TENANT, resync_seconds=seconds)
    assert parse(common(T21P, tenant=tenant).body)["auto_provision.repeat.minutes"] == minutes


def test_a_resync_period_that_is_not_positive_is_refused() -> None:
    tenant = replace(TENANT, resync_seconds=0)
    with pytest.raises(UnsupportedSetting, match="resync"):
        common(T21P, tenant=tenant)


@pytest.mark.parametrize(
    ("base_url", "trust_ip"),
    [
        ("http://203.0.113.10:8080/prov/K/", "203.0.113.10"),
        ("https://[2001:db8::5]/prov/K/", "2001:db8::5"),
        ("https://prov.operator.example.co/prov/K/", "%NULL%"),  # a name: the phone takes addresses
    ],
)
def test_snmp_trusts_the_provisioning_server_when_it_is_an_address(base_url: str, trust_ip: str) -> None:
    tenant = replace(TENANT, base_url=base_url)
    assert parse(common(T19P, tenant=tenant).body)["network.snmp.trust_ip"] == trust_ip


# --- hostile and odd values ---------------------------------------------------------------------------
# (staff name as typed, what the phone must hold). The first file line count must not change.
HOSTILE_NAMES = [
    ("Peña\r\naccount.1.password = x", "Peña account.1.password = x"),
    ("Peña\naccount.2.enable = 1", "Peña account.2.enable = 1"),
    ("Ana\u2028security.user_password = admin:x", "Ana security.user_password = admin:x"),
    ("Ana\x85Gómez", "Ana Gómez"),
    ("Ana\x0bGómez\x0cX", "AnaGómezX"),
    ("Ana\x1cGómez", "AnaGómez"),
    ("\x00\x1b[31mRojo", "[31mRojo"),
    ("#no es comentario", "#no es comentario"),
    ("a = b = c", "a = b = c"),
    ("100% = %NULL% x", "100% = %NULL% x"),
    ("  Ana  ", "Ana"),
    ("O'Brien & <Hijos> \"x\"", "O'Brien & <Hijos> \"x\""),
    ("Zoë 日本 😀", "Zoë 日本 😀"),
]


@pytest.mark.parametrize(("name", "held"), HOSTILE_NAMES)
@pytest.mark.parametrize("entry", MODELS, ids=lambda e: e.model)
def test_hostile_staff_names_stay_on_their_line_and_round_trip(entry: CatalogEntry, name: str, held: str) -> None:
    clean = device(entry, (line(1, "Ana"),)).body
    hostile = device(entry, (line(1, name),)).body
    assert line_count(hostile) == line_count(clean)
    params = parse(hostile)
    assert params["account.1.display_name"] == held
    assert params["account.1.label"] == kv_value(f"101 {name}")  # the label is "<ext> <name>"
    assert params["account.1.password"] == "SipSecret1xyz"
    assert params["security.user_password"] == f"admin:{ADMIN_PW}"
    assert enabled_accounts(params) == {1}


@pytest.mark.parametrize("name", ["%NULL%", "%null%", "", "  ", "\r\n", "\x00"])
def test_a_name_that_would_blank_the_label_falls_back_to_the_extension(name: str) -> None:
    lv = LineView(1, "101", name, name, "acme-101", "SipSecret1xyz")
    params = parse(device(T21P, (lv,)).body)
    assert params["account.1.label"] == params["account.1.display_name"] == "101"


@given(st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_any_staff_name_keeps_the_file_shape(name: str) -> None:
    hostile = device(T20P, (line(1, name), line(2, name))).body
    assert line_count(hostile) == line_count(device(T20P, (line(1, "Ana"), line(2, "Ana"))).body)
    params = parse(hostile)
    assert params["account.1.password"] == "SipSecret1xyz" and params["account.2.password"] == "SipSecret2xyz"
    assert enabled_accounts(params) == {1, 2}


@pytest.mark.parametrize("password", ["p#ss=w:rd%NULL%x", "#leading-hash", "a=b=c==", "ñandú-Ü", "x" * 128])
def test_odd_but_writable_passwords_round_trip_exactly(password: str) -> None:
    params = parse(device(T21P, (line(1, password=password),), admin_password=password).body)
    assert params["account.1.password"] == password
    assert params["security.user_password"] == f"admin:{password}"


@pytest.mark.parametrize("password", ["abc\ndef-1", "abc\r\nx = y", " padded1", "trailing1 ", "", "%NULL%", "%null%", "a\x00b"])
@pytest.mark.parametrize("which", ["sip", "admin"])
def test_passwords_the_format_cannot_carry_exactly_are_refused_without_echo(password: str, which: str) -> None:
    if which == "sip":
        lines, admin_password = (line(1, password=password),), ADMIN_PW
    else:
        lines, admin_password = (line(1),), password
    with pytest.raises(yealink.UnwritableSecret) as caught:
        device(T20P, lines, admin_password=admin_password)
    assert isinstance(caught.value, UnsupportedSetting) and isinstance(caught.value, ValueError)
    if password.strip():
        assert password.strip() not in str(caught.value)


# --- T20P (V73) specifics ----------------------------------------------------------------------------
def test_t20p_also_gets_the_legacy_server_keys_written_and_cleared() -> None:
    params = parse(device(T20P, (line(1),)).body)
    assert params["account.1.sip_server_host"] == params["account.1.sip_server.1.address"] == "pbx.acme.example.net"
    assert params["account.1.sip_server_port"] == params["account.1.sip_server.1.port"] == "5070"
    assert params["account.2.enable"] == "0"
    assert params["account.2.sip_server_host"] == params["account.2.sip_server_port"] == "%NULL%"
    for entry in (T19P, T21P):
        assert not [k for k in parse(device(entry).body) if "sip_server_host" in k or "sip_server_port" in k]


def test_t20p_common_file_is_007_not_its_firmware_prefix() -> None:
    ctx = RenderContext(TENANT, T20P, None, ())
    assert yealink.render("y000000000007.cfg", ctx) is not None
    assert yealink.render("y000000000009.cfg", ctx) is None


T22P = CatalogEntry("yealink-t22p", "yealink", "T22P", "desk", "7.73.0.50", 1, 3, common_file_code="005")


@pytest.mark.parametrize(
    ("entry", "chosen"),
    [(T20P, "yealink/t20p.j2"), (T19P, "yealink/t19p.j2"), (T21P, "yealink/t21p.j2"), (T22P, "yealink/base.j2")],
)
def test_template_chain_model_then_family_base(entry: CatalogEntry, chosen: str) -> None:
    chain = template_chain(yealink.TEMPLATES, yealink.FAMILY_BASE, entry)
    assert chain == (f"yealink/{entry.model.lower()}.j2", "yealink/base.j2")
    assert yealink.model_template(entry).name == chosen


def test_a_model_without_its_own_template_renders_from_the_family_base() -> None:
    params = parse(device(T22P, (line(1),)).body)
    assert enabled_accounts(params) == {1} and account_slots(params) == {1, 2, 3}
    assert "account.1.sip_server_host" not in params


# --- names this vendor does not serve ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("filename", "ctx"),
    [
        ("y000000000034.cfg", RenderContext(TENANT, T19P, None, ())),  # another model's common file
        ("y000000000000.cfg", RenderContext(TENANT, T21P, None, ())),  # T28P's code
        ("y000000000031.cfg", RenderContext(TENANT, None, None, ())),  # no model known
        ("001565ffffff.cfg", RenderContext(TENANT, T21P, MAC, (line(1),))),  # not this phone
        (f"{MAC}.cfg", RenderContext(TENANT, T21P, None, ())),  # no phone assigned
        (f"{MAC}-local.cfg", RenderContext(TENANT, T21P, MAC, (line(1),))),
        (f"{MAC}.boot", RenderContext(TENANT, T21P, MAC, (line(1),))),
        ("34.72.0.75.rom", RenderContext(TENANT, T21P, MAC, ())),  # images come from disk
        (f"cfg{MAC}.xml", RenderContext(TENANT, T21P, MAC, (line(1),))),
        (f"{MAC}.cfg", RenderContext(TENANT, GXP1620, MAC, (line(1),))),  # another vendor's phone
        ("../y000000000034.cfg", RenderContext(TENANT, T21P, None, ())),
    ],
)
def test_names_it_does_not_serve(filename: str, ctx: RenderContext) -> None:
    assert yealink.render(filename, ctx) is None
