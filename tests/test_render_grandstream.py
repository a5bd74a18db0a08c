"""Grandstream rendering (GXP1610/1620/1628/1630, GXV3275, DP750): every output is parsed with a
real XML parser and checked against P-value tables taken from public sources (FusionPBX's
gxp16xx, gxv3275 and dp750 templates, wazo's Grandstream base.tpl; see phones.md §3.4)."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_catalog import CatalogEntry, allowed_lines
from provisioner.errors import UnsupportedSetting
from provisioner.rendering import template_chain
from provisioner.values import LineView, RenderContext, RenderedFile, Role, TenantView
from provisioner.vendors.grandstream import renderer as grandstream
from provisioner.vendors.grandstream.renderer import Wanted

# -- samples -----------------------------------------------------------------------------------
TENANT = TenantView(
    name="Acme Colombia S.A.S.",
    slug="acme-colombia-s-a-s",
    sip_server="pbx.acme.example.net",
    sip_port=5070,
    sip_transport="udp",
    snmp_community="ro-5f2a9c01be77",
    ntp_server="ntp.acme.example.net",
    base_url="http://prov.example.net:8080/prov/Kq3v9x/",
)
SERVER = "pbx.acme.example.net:5070"
ADMIN_PW = "AdminPw7Xq2"  # the device's own (RenderContext.admin_password)
MAC = "000b82001620"


def entry(key: str, model: str, firmware: str, lines: int, device_max: int, kind: str = "desk") -> CatalogEntry:
    image = "gxp1600fw.bin" if model.startswith("GXP16") else None
    return CatalogEntry(key=key, vendor="grandstream", model=model, kind=kind, firmware=firmware, lines=lines,
                        device_max_lines=device_max, aliases=(model,), firmware_file=image)


# Homologated (service-model.md §9) with the device maxima from public data (phones.md §3.6).
ENTRIES = {
    "GXP1610": entry("grandstream-gxp1610", "GXP1610", "1.0.4.106", 2, 1),
    "GXP1620": entry("grandstream-gxp1620", "GXP1620", "1.0.4.106", 2, 2),
    "GXP1628": entry("grandstream-gxp1628", "GXP1628", "1.0.4.106", 2, 2),
    "GXP1630": entry("grandstream-gxp1630", "GXP1630", "1.0.4.106", 3, 3),
    "GXV3275": entry("grandstream-gxv3275", "GXV3275", "1.0.3.198", 6, 6, kind="video"),
    "DP750": entry("grandstream-dp750", "DP750", "1.0.4.2", 5, 10, kind="dect"),
}

# Account P-values: active, account name, SIP server, user ID, auth ID, password, display name, transport.
FIELDS = ("active", "name", "server", "user", "auth", "password", "display", "transport")
GXP_ACCOUNTS = {
    1: ("P271", "P270", "P47", "P35", "P36", "P34", "P3", "P130"),
    2: ("P401", "P417", "P402", "P404", "P405", "P406", "P407", "P448"),
    3: ("P501", "P517", "P502", "P504", "P505", "P506", "P507", "P548"),
}
GXV_ACCOUNTS = {
    **GXP_ACCOUNTS,
    4: ("P601", "P617", "P602", "P604", "P605", "P606", "P607", "P648"),
    5: ("P1701", "P1717", "P1702", "P1704", "P1705", "P1706", "P1707", "P1748"),
    6: ("P1801", "P1817", "P1802", "P1804", "P1805", "P1806", "P1807", "P1848"),
}
ACCOUNT_TABLES = {"GXP1610": GXP_ACCOUNTS, "GXP1620": GXP_ACCOUNTS, "GXP1628": GXP_ACCOUNTS,
                  "GXP1630": GXP_ACCOUNTS, "GXV3275": GXV_ACCOUNTS}


def dp750_keys(n: int) -> dict[str, str]:
    """DP750 account arrays, 0-based: account n is index n - 1."""
    i = n - 1
    return {"active": f"P{4595 + i}", "profile": f"P{4150 + i}", "user": f"P{4060 + i}",
            "auth": f"P{4090 + i}", "password": f"P{4120 + i}", "display": f"P{4180 + i}"}


DP750_HANDSETS = {1: ("P27020", "P4300"), 2: ("P27021", "P4310"), 3: ("P27022", "P4320"),
                  4: ("P27023", "P4250"), 5: ("P27024", "P21328")}


def line(n: int, name: str | None = None) -> LineView:
    number = str(200 + n)
    staff = name if name is not None else f"Empleado {n} Peña"
    return LineView(number=n, extension=number, display_name=staff, label=f"{number} {staff}",
                    auth_user=f"acme-colombia-s-a-s-{number}", password=f"Sip{n}pw9Zk4rT7m")


def lines(*numbers: int) -> tuple[LineView, ...]:
    return tuple(line(n) for n in numbers)


def device_ctx(model: str, line_views: tuple[LineView, ...] | None = None, **changes: object) -> RenderContext:
    e = ENTRIES[model]
    given_lines = line_views if line_views is not None else lines(*range(1, allowed_lines(e) + 1))
    ctx = RenderContext(tenant=TENANT, entry=e, mac=MAC, lines=given_lines, admin_password=ADMIN_PW)
    return replace(ctx, **changes) if changes else ctx


def device_file(ctx: RenderContext) -> RenderedFile:
    rendered = grandstream.render(f"cfg{MAC}.xml", ctx)
    assert rendered is not None
    return rendered


def parse(body: bytes) -> tuple[ET.Element, dict[str, str]]:
    """The document root and its P-values; a P-value written twice would be ambiguous: fail."""
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(body)
    assert root.tag == "gs_provision" and root.get("version") == "1"
    config = root.find("config")
    assert config is not None and config.get("version") == "1"
    keys = [child.tag for child in config]
    assert len(keys) == len(set(keys)), f"duplicate P-values: {sorted(k for k in keys if keys.count(k) > 1)}"
    return root, {child.tag: child.text or "" for child in config}


def params_of(ctx: RenderContext) -> dict[str, str]:
    return parse(device_file(ctx).body)[1]


def account(params: dict[str, str], keys: tuple[str, ...]) -> dict[str, str | None]:
    return {field: params.get(key) for field, key in zip(FIELDS, keys)}


def as_phone_sees(text: str) -> str:
    """What survives in the XML: control characters dropped, line breaks folded to one space."""
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)
    return re.sub(r"[\r\n\u0085\u2028\u2029]+", " ", text)


# -- file names ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("filename", "wanted"),
    [
        ("cfg000b82001620.xml", Wanted(Role.DEVICE, "000b82001620")),
        ("cfgc074ad2bd859.xml", Wanted(Role.DEVICE, "c074ad2bd859")),
        ("cfg.xml", Wanted(Role.COMMON)),
        ("cfggxp1620.xml", Wanted(Role.COMMON)),
        ("cfggxp1615.xml", Wanted(Role.COMMON)),  # seen in the field for this family
        ("cfggxv3275.xml", Wanted(Role.COMMON)),
        ("cfgdp750.xml", Wanted(Role.COMMON)),
        ("cfg000b82001620", None),  # legacy binary: we serve XML only
        ("cfg000b82001620.bin", None),
        ("gxp1600fw.bin", None),  # firmware: served from disk by the server
        ("000b82001620.cfg", None),  # a Yealink/Polycom-style name
        ("cfg000b82001620.xml.bak", None),
        ("cfg000b8200162.xml", None),  # 11 hex digits
        ("y000000000034.cfg", None),
        ("", None),
    ],
)
def test_file_names_this_vendor_serves(filename: str, wanted: Wanted | None) -> None:
    assert grandstream.wanted_file(filename) == wanted


@pytest.mark.parametrize("filename", ["cfg000b82001620", "cfg000b82001620.bin", "gxp1600fw.bin", "phonebook.xml"])
def test_names_not_served_render_to_none(filename: str) -> None:
    assert grandstream.render(filename, device_ctx("GXP1620")) is None


def test_device_file_is_served_only_to_its_own_mac() -> None:
    assert grandstream.render("cfg000b82009999.xml", device_ctx("GXP1620")) is None
    assert grandstream.render(f"cfg{MAC}.xml", device_ctx("GXP1620", mac=None)) is None


def test_device_file_shape_encoding_and_flags() -> None:
    rendered = device_file(device_ctx("GXP1620"))
    assert rendered.content_type == "application/xml"
    assert rendered.sensitive is True
    root, _ = parse(rendered.body)
    assert root.findtext("mac") == MAC
    assert "Empleado 1 Peña".encode() in rendered.body  # UTF-8, not entities or Latin-1


# -- accounts per model ----------------------------------------------------------------------------
@pytest.mark.parametrize("model", sorted(ACCOUNT_TABLES))
def test_every_allowed_line_becomes_an_account(model: str) -> None:
    e = ENTRIES[model]
    params = params_of(device_ctx(model))
    table = ACCOUNT_TABLES[model]
    for n in range(1, allowed_lines(e) + 1):
        given = line(n)
        assert account(params, table[n]) == {
            "active": "1", "name": given.label, "server": SERVER, "user": given.auth_user,
            "auth": given.auth_user, "password": given.password, "display": given.display_name,
            "transport": "0",
        }, f"{model} account {n}"


def test_a_gxp1610_is_never_written_an_account_it_lacks() -> None:
    """Homologated for 2, the device has 1 account: even handed line 2, no P401.. block is written."""
    params = params_of(device_ctx("GXP1610", lines(1, 2)))
    assert params["P271"] == "1" and not {"P401", "P404", "P405", "P406"} & set(params)


@pytest.mark.parametrize("model", sorted(ACCOUNT_TABLES))
def test_nothing_beyond_the_lines_given(model: str) -> None:
    e = ENTRIES[model]
    params = params_of(device_ctx(model))
    table = ACCOUNT_TABLES[model]
    known = e.device_max_lines or e.lines  # the slots the device has
    for n, keys in table.items():
        if n <= allowed_lines(e):
            continue
        if n <= known:  # a slot the device has: written disabled and cleared
            got = account(params, keys)
            assert got["active"] == "0"
            assert got["user"] == got["auth"] == got["password"] == got["display"] == got["name"] == ""
        else:  # a slot the device does not have: not written at all
            assert not set(keys) & set(params), f"{model} writes account {n}"
    passwords = {params[keys[FIELDS.index("password")]] for keys in table.values() if keys[5] in params}
    assert passwords - {""} == {line(n).password for n in range(1, allowed_lines(e) + 1)}


def test_gxp1610_gets_the_one_account_it_has_although_homologated_for_two() -> None:
    """Issue 15 item 1: public data gives the GXP1610 one SIP account [WZ-GI]; line 2 was written
    as P401..P407 for an account the phone lacks and never registered."""
    params = params_of(device_ctx("GXP1610"))
    assert params["P35"] == line(1).auth_user
    assert not {"P401", "P404", "P501"} & set(params)


def test_a_line_that_moved_away_is_disabled_and_cleared() -> None:
    params = params_of(device_ctx("GXP1630", lines(2)))  # lines 1 and 3 were reassigned
    assert account(params, GXP_ACCOUNTS[2])["active"] == "1"
    for n in (1, 3):
        got = account(params, GXP_ACCOUNTS[n])
        assert (got["active"], got["user"], got["auth"], got["password"]) == ("0", "", "", "")


def test_a_device_with_no_lines_still_gets_every_slot_disabled() -> None:
    params = params_of(device_ctx("GXP1620", ()))
    assert (params["P271"], params["P401"]) == ("0", "0")
    assert params["P2"] == ADMIN_PW  # and the rest of the device settings


@pytest.mark.parametrize(("transport", "code"), [("udp", "0"), ("tcp", "1"), ("tls", "2"), ("TLS", "2")])
def test_transport_on_every_account(transport: str, code: str) -> None:
    ctx = device_ctx("GXV3275", tenant=replace(TENANT, sip_transport=transport))
    params = params_of(ctx)
    assert [params[keys[7]] for keys in GXV_ACCOUNTS.values()] == [code] * 6


def test_unknown_transport_is_refused() -> None:
    with pytest.raises(UnsupportedSetting):
        device_file(device_ctx("GXP1620", tenant=replace(TENANT, sip_transport="sctp")))


def test_ipv6_sip_server_gets_brackets() -> None:
    params = params_of(device_ctx("GXP1620", tenant=replace(TENANT, sip_server="2001:db8::10", sip_port=5060)))
    assert params["P47"] == "[2001:db8::10]:5060"


# -- GXV3275 and DP750 differences ----------------------------------------------------------------
def test_gxv3275_accounts_four_to_six_and_its_own_values() -> None:
    params = params_of(device_ctx("GXV3275"))
    assert [params[GXV_ACCOUNTS[n][3]] for n in (4, 5, 6)] == [line(n).auth_user for n in (4, 5, 6)]
    assert [params[GXV_ACCOUNTS[n][5]] for n in (4, 5, 6)] == [line(n).password for n in (4, 5, 6)]
    assert params["P194"] == "3"  # GXV: 3 = every P193 minutes (1 would mean daily)
    assert params["P64"] == "COT5"  # its own list's Bogota entry


def test_dp750_profile_accounts_and_handsets() -> None:
    params = params_of(device_ctx("DP750"))
    assert (params["P271"], params["P47"], params["P130"]) == ("1", SERVER, "0")  # profile 1
    for n in range(1, 6):
        keys, given = dp750_keys(n), line(n)
        assert {f: params[k] for f, k in keys.items()} == {
            "active": "1", "profile": "0", "user": given.auth_user, "auth": given.auth_user,
            "password": given.password, "display": given.display_name,
        }, f"DP750 account {n}"
        name_key, line_key = DP750_HANDSETS[n]
        assert params[line_key] == str(n)  # handset n rings account n
        assert params[name_key] == given.label[:10]
    for n in range(6, 11):  # accounts the base has but the operator does not use
        keys = dp750_keys(n)
        assert (params[keys["active"]], params[keys["user"]], params[keys["password"]]) == ("0", "", "")
    assert not {"P35", "P34", "P404", "P406"} & set(params)  # no GXP-style accounts


def test_dp750_handset_without_a_line_rings_nothing() -> None:
    params = params_of(device_ctx("DP750", lines(1, 3)))
    assert [params[DP750_HANDSETS[n][1]] for n in range(1, 6)] == ["1", "0", "3", "0", "0"]
    assert params[DP750_HANDSETS[2][0]] == ""


# -- tenant-wide settings ---------------------------------------------------------------------------
@pytest.mark.parametrize("model", sorted(ENTRIES))
def test_time_ntp_resync_and_config_server(model: str) -> None:
    params = params_of(device_ctx(model))
    assert params["P30"] == "ntp.acme.example.net"
    assert params["P64"] == TIME_ZONES[model]
    assert "P246" not in params  # every model's own list has a UTC-5 entry: no custom string
    assert params["P193"] == "1440"  # 86400 s
    assert params["P212"] == "1"  # HTTP
    assert params["P237"] == "prov.example.net:8080/prov/Kq3v9x"


# Bogota (UTC-5, no DST) as each model's own time zone list names it (issue 15 item 3):
# GXP16xx "EST5" (not "EST5EDT"), GXV3275 "COT5", DP750 "TZH+5" (GMT-05:00 of the DP/GXW list).
TIME_ZONES = {"GXP1610": "EST5", "GXP1620": "EST5", "GXP1628": "EST5", "GXP1630": "EST5",
              "GXV3275": "COT5", "DP750": "TZH+5"}


@pytest.mark.parametrize("zone", ["COT+5", "COT5", "EST5"])
def test_posix_time_zone_means_bogota(zone: str) -> None:
    """A real POSIX TZ parser (the C library) reads the string as UTC-5, like America/Bogota."""
    code = f"import os, time; os.environ['TZ'] = {zone!r}; time.tzset(); print(time.timezone, time.daylight)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    bogota = datetime(2024, 7, 1, tzinfo=ZoneInfo("America/Bogota")).utcoffset()
    assert bogota is not None
    assert result.stdout.split() == [str(int(-bogota.total_seconds())), "0"]


@pytest.mark.parametrize(("seconds", "minutes"), [(86400, "1440"), (3600, "60"), (600, "60"), (10**8, "86400")])
def test_resync_interval_in_minutes_within_the_phone_range(seconds: int, minutes: str) -> None:
    params = params_of(device_ctx("GXP1620", tenant=replace(TENANT, resync_seconds=seconds)))
    assert (params["P194"], params["P193"]) == ("1", minutes)


def test_https_config_server() -> None:
    params = params_of(device_ctx("GXP1620", tenant=replace(TENANT, base_url="https://prov.example.net/p/K/")))
    assert (params["P212"], params["P237"]) == ("2", "prov.example.net/p/K")


def test_snmp_and_admin_password_in_the_device_file() -> None:
    params = params_of(device_ctx("GXP1628"))
    assert params["P2"] == ADMIN_PW
    assert (params["P21896"], params["P21904"], params["P21902"]) == ("1", "2", TENANT.snmp_community)


@pytest.mark.parametrize(
    ("url", "method", "path"),
    [
        ("http://prov.example.net:8080/prov/Kq3v9x/gxp1600fw.bin", "1", "prov.example.net:8080/prov/Kq3v9x"),
        ("https://fw.example.net/gxp1600fw.bin", "2", "fw.example.net"),
    ],
)
def test_firmware_path_only_when_an_image_is_offered(url: str, method: str, path: str) -> None:
    assert not {"P192", "P6767"} & set(params_of(device_ctx("GXP1620")))
    params = params_of(device_ctx("GXP1620", firmware_url=url))
    assert (params["P6767"], params["P192"]) == (method, path)


@pytest.mark.parametrize("model", sorted(ENTRIES))
def test_firmware_check_is_on_only_together_with_our_firmware_server(model: str) -> None:
    """P238 0 (always check) only in a file that also writes P192 (this server's folder); else 2
    (always skip): a phone still pointed at the factory server never upgrades itself off the
    homologated build. P194 stays on: on this firmware it also drives the config resync."""
    without = params_of(device_ctx(model))
    assert (without["P238"], "P192" in without) == ("2", False)
    with_image = params_of(device_ctx(model, firmware_url="http://prov.example.net:8080/prov/Kq3v9x/x.bin"))
    assert (with_image["P238"], with_image["P192"]) == ("0", "prov.example.net:8080/prov/Kq3v9x")
    assert without["P194"] == with_image["P194"] != "0"


# -- common files: no secrets -------------------------------------------------------------------------
COMMON_CASES = [("cfg.xml", None), ("cfggxp1620.xml", "GXP1620"), ("cfggxv3275.xml", "GXV3275"), ("cfgdp750.xml", "DP750")]


@pytest.mark.parametrize(("filename", "model"), COMMON_CASES)
def test_common_files_carry_tenant_settings_only(filename: str, model: str | None) -> None:
    e = ENTRIES[model] if model else None
    # Even if handed lines and a firmware URL by mistake, a common file must not show them.
    ctx = RenderContext(tenant=TENANT, entry=e, lines=lines(1, 2),
                        firmware_url="http://prov.example.net:8080/prov/Kq3v9x/gxp1600fw.bin", admin_password=ADMIN_PW)
    rendered = grandstream.render(filename, ctx)
    assert rendered is not None
    assert rendered.sensitive is False and rendered.content_type == "application/xml"
    root, params = parse(rendered.body)
    assert root.find("mac") is None
    assert params["P47"] == SERVER and params["P130"] == "0"
    assert params["P237"] == "prov.example.net:8080/prov/Kq3v9x"
    assert params["P30"] == "ntp.acme.example.net"
    if model is None:  # cfg.xml: any model may read it, so the self-defined zone every model offers
        assert (params["P64"], params["P246"]) == ("customize", "COT+5")
    else:
        assert params["P64"] == TIME_ZONES[model] and "P246" not in params
    assert params["P238"] == "2"  # a common file never offers firmware: the check stays off
    assert "P193" in params and "P194" in params
    secrets = [ADMIN_PW, TENANT.snmp_community, line(1).password, line(2).password,
               line(1).auth_user, line(1).display_name]
    assert not [s for s in secrets if s.encode() in rendered.body]
    assert not {"P2", "P34", "P35", "P36", "P271", "P406", "P4120", "P21902", "P192"} & set(params)


@pytest.mark.parametrize("model", sorted(ENTRIES))
def test_cfg_xml_is_the_same_bytes_whatever_model_asks(model: str) -> None:
    """cfg.xml names no model, and over TFTP no User-Agent does either: whoever asks gets the
    same generic file (issue 15 item 8b), while cfg<model>.xml stays the model's own."""
    generic = grandstream.render("cfg.xml", RenderContext(tenant=TENANT, entry=None))
    asked = grandstream.render("cfg.xml", RenderContext(tenant=TENANT, entry=ENTRIES[model]))
    assert generic is not None and asked is not None and asked.body == generic.body
    own = grandstream.render(f"cfg{model.lower()}.xml", RenderContext(tenant=TENANT, entry=ENTRIES[model]))
    assert own is not None and parse(own.body)[1]["P64"] == TIME_ZONES[model]


def test_device_file_of_each_model_holds_the_admin_password_and_the_common_file_does_not() -> None:
    for model, e in ENTRIES.items():
        assert params_of(device_ctx(model))["P2"] == ADMIN_PW, model
        common = grandstream.render(f"cfg{model.lower()}.xml", RenderContext(tenant=TENANT, entry=e, admin_password=ADMIN_PW))
        assert common is not None and ADMIN_PW.encode() not in common.body, model


# -- hostile text -----------------------------------------------------------------------------------
HOSTILE = [
    "O'Brien & <Sons> \"x\"",
    "Peña\r\n<P34>x</P34>",
    "Ana\x00\x07\x1b Ruiz\x7f",
    "]]><P2>pwned</P2><!--",
    "Renée \u2028 Dœ\ttab",
    "&amp; &#x41; &lt;",
]


@pytest.mark.parametrize("model", sorted(ENTRIES))
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_staff_names_keep_the_xml_well_formed(model: str, name: str) -> None:
    numbers = (1, 2) if allowed_lines(ENTRIES[model]) >= 2 else (1,)
    hostile = tuple(replace(line(n), display_name=name, label=f"20{n} {name}") for n in numbers)
    params = params_of(device_ctx(model, hostile))
    if model == "DP750":
        displays = [params[dp750_keys(n)["display"]] for n in numbers]
        labels = [params[DP750_HANDSETS[n][0]] for n in numbers]
        expected_labels = [as_phone_sees(f"20{n} {name}"[:10]) for n in numbers]
    else:
        table = ACCOUNT_TABLES[model]
        displays = [params[table[n][6]] for n in numbers]
        labels = [params[table[n][1]] for n in numbers]
        expected_labels = [as_phone_sees(f"20{n} {name}") for n in numbers]
    assert displays == [as_phone_sees(name)] * len(numbers)
    assert labels == expected_labels
    assert params["P2"] == ADMIN_PW  # nothing injected over the real values
    if model != "DP750":
        assert params["P34"] == line(1).password


def test_hostile_tenant_values_and_passwords_round_trip() -> None:
    tenant = replace(TENANT, ntp_server="ntp<&>\"'", snmp_community="c<]]>")
    odd = replace(line(1), password="p&<>\"'w0rd]]>")
    params = params_of(device_ctx("GXP1620", (odd,), tenant=tenant, admin_password="a&<b>\"'c"))
    assert (params["P30"], params["P2"], params["P21902"], params["P34"]) == (
        "ntp<&>\"'", "a&<b>\"'c", "c<]]>", "p&<>\"'w0rd]]>")


# XML 1.0 has no way to carry U+FFFE/U+FFFF or lone surrogates; the filter drops them (tested below).
_XML_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"), max_size=40)


@settings(max_examples=150, deadline=None)
@given(name=_XML_TEXT, label=_XML_TEXT)
def test_any_staff_name_round_trips(name: str, label: str) -> None:
    params = params_of(device_ctx("GXP1620", (replace(line(1), display_name=name, label=label),)))
    assert (params["P3"], params["P270"]) == (as_phone_sees(name), as_phone_sees(label))


def test_noncharacters_in_a_name_do_not_break_the_xml() -> None:
    params_of(device_ctx("GXP1620", (replace(line(1), display_name="Ana\uffff\ud800"),)))


# -- template choice ------------------------------------------------------------------------------------
def test_template_fallback_chain_is_explicit() -> None:
    assert template_chain(grandstream.TEMPLATES, grandstream.BASE, None) == ("grandstream/base.j2",)
    assert template_chain(grandstream.TEMPLATES, grandstream.BASE, ENTRIES["GXP1620"]) == ("grandstream/gxp1620.j2", "grandstream/base.j2")
    with_choice = replace(ENTRIES["GXV3275"], template="grandstream/gxv3275.j2")
    assert template_chain(grandstream.TEMPLATES, grandstream.BASE, with_choice) == ("grandstream/gxv3275.j2", "grandstream/base.j2")
    family_only = replace(ENTRIES["DP750"], template="grandstream")  # as the shipped catalog writes it
    assert template_chain(grandstream.TEMPLATES, grandstream.BASE, family_only) == ("grandstream/dp750.j2", "grandstream/base.j2")


def test_a_missing_catalog_template_falls_back_to_the_model_then_the_base() -> None:
    odd = replace(ENTRIES["DP750"], template="grandstream/not-there.j2")
    params = params_of(RenderContext(tenant=TENANT, entry=odd, mac=MAC, lines=lines(1)))
    assert params[dp750_keys(1)["user"]] == line(1).auth_user  # dp750.j2 was used
    unknown = replace(ENTRIES["GXP1620"], key="grandstream-gxp1625", model="GXP1625")
    assert params_of(RenderContext(tenant=TENANT, entry=unknown, mac=MAC, lines=lines(1)))["P35"] == line(1).auth_user
