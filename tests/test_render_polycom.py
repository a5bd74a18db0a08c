"""Polycom rendering (SoundPoint IP 331, SoundPoint IP 550, VVX 600): every output is parsed with a
real XML parser and checked against UCS parameter names from public sources (SoundPoint IP / UCS
admin guides, wazo's Polycom base.tpl and master files, FusionPBX's ip331/vvx600 templates; see
phones.md §2)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_catalog import CatalogEntry, load_catalog
from provisioner.errors import UnsupportedSetting
from provisioner.rendering import environment, model_slug, template_chain
from provisioner.values import LineView, RenderContext, RenderedFile, Role, TenantView
from provisioner.vendors.polycom import renderer as polycom
from provisioner.vendors.polycom.renderer import Wanted

# -- samples -----------------------------------------------------------------------------------
BASE_URL = "http://prov.example.net:8080/prov/Kq3v9x/"
ADMIN_PW = "AdminPw7Xq2"  # the device's own (RenderContext.admin_password)
TENANT = TenantView(
    name="Acme Colombia S.A.S.",
    slug="acme-colombia-s-a-s",
    sip_server="pbx.acme.example.net",
    sip_port=5070,
    sip_transport="udp",
    snmp_community="ro-5f2a9c01be77",
    ntp_server="ntp.acme.example.net",
    base_url=BASE_URL,
)


def entry(key: str, model: str, firmware: str, lines: int, device_max: int, aliases: tuple[str, ...],
          part: str) -> CatalogEntry:
    return CatalogEntry(key=key, vendor="polycom", model=model, kind="desk", firmware=firmware, lines=lines,
                        device_max_lines=device_max, aliases=aliases, part_number=part,
                        firmware_file=f"{part}.sip.ld", template="polycom")


# Homologated (service-model.md §9), device maxima and UA tokens from public data (phones.md §2).
IP331 = entry("polycom-ip331", "SoundPoint IP 331", "4.0.13.1445", 2, 2, ("SPIP_331", "SPIP331", "IP 331"), "2345-12365-001")
IP550 = entry("polycom-ip550", "SoundPoint IP 550", "5.0.13.0881", 1, 4, ("SPIP_550", "SPIP550", "IP 550"), "2345-12500-001")
VVX600 = entry("polycom-vvx600", "VVX600", "5.8.1.7278", 1, 16, ("VVX_600", "VVX 600", "VVX600"), "3111-44600-001")
ENTRIES = {"IP331": IP331, "IP550": IP550, "VVX600": VVX600}
MACS = {"IP331": "0004f2000331", "IP550": "0004f2000550", "VVX600": "64167f000600"}
# Other vendors' rows reach a family-wide file too (the server lists every image it has).
GXP1620 = CatalogEntry(key="grandstream-gxp1620", vendor="grandstream", model="GXP1620", kind="desk",
                       firmware="1.0.4.106", lines=2, device_max_lines=2, aliases=("GXP1620",),
                       firmware_file="gxp1600fw.bin")


def image_url(e: CatalogEntry) -> str:
    return BASE_URL + str(e.firmware_file)


def line(n: int, name: str | None = None, password: str | None = None) -> LineView:
    number = str(200 + n)
    staff = name if name is not None else f"Empleado {n} Peña"
    return LineView(number=n, extension=number, display_name=staff, label=f"{number} {staff}",
                    auth_user=f"acme-colombia-s-a-s-{number}", password=password or f"Sip{n}pw9Zk4rT7m")


def lines(*numbers: int) -> tuple[LineView, ...]:
    return tuple(line(n) for n in numbers)


def ctx_for(model: str, line_views: tuple[LineView, ...] | None = None, **changes: object) -> RenderContext:
    e = ENTRIES[model]
    given_lines = line_views if line_views is not None else lines(*range(1, e.lines + 1))
    ctx = RenderContext(tenant=TENANT, entry=e, mac=MACS[model], lines=given_lines, admin_password=ADMIN_PW)
    return replace(ctx, **changes) if changes else ctx


def rendered(filename: str, ctx: RenderContext) -> RenderedFile:
    result = polycom.render(filename, ctx)
    assert result is not None, filename
    return result


def parse(body: bytes) -> tuple[ET.Element, dict[str, str]]:
    """Root and every parameter (attributes of every element); a parameter written twice in one
    file would be ambiguous (first one wins on the phone): fail."""
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')
    root = ET.fromstring(body)
    names = [name for element in root.iter() for name in element.attrib]
    assert len(names) == len(set(names)), f"duplicate parameters: {sorted(n for n in names if names.count(n) > 1)}"
    return root, {name: value for element in root.iter() for name, value in element.attrib.items()}


def device_params(ctx: RenderContext) -> dict[str, str]:
    return parse(rendered(f"{ctx.mac}-user.cfg", ctx).body)[1]


def common_params(ctx: RenderContext) -> dict[str, str]:
    return parse(rendered("common.cfg", ctx).body)[1]


def registrations(params: dict[str, str]) -> set[int]:
    return {int(m[1]) for name in params if (m := re.match(r"reg\.(\d+)\.", name))}


# -- which names are served --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("filename", "wanted"),
    [
        ("000000000000.cfg", Wanted(Role.MASTER)),
        ("0004f2000331.cfg", Wanted(Role.MASTER, "0004f2000331")),
        ("64167f000600.cfg", Wanted(Role.MASTER, "64167f000600")),
        ("common.cfg", Wanted(Role.COMMON)),
        ("0004f2000331-user.cfg", Wanted(Role.DEVICE, "0004f2000331")),
        # Firmware is served from disk by the server; phones' uploads and extra files are not ours.
        ("2345-12365-001.sip.ld", None),
        ("3111-44500-001.3111-44500-001.sip.ld", None),  # doubled prefix seen in a VVX 500 trace [ORYK]
        ("sip.ld", None),
        ("0004f2000331-phone.cfg", None),
        ("0004f2000331-web.cfg", None),
        ("0004f2000331-license.cfg", None),
        ("000000000000-license.cfg", None),
        ("0004f2000331-directory.xml", None),
        ("000000000000-directory.xml", None),
        ("0004f2000331-calls.xml", None),
        ("0004f2000331-boot.log", None),
        ("0004f2000331-app.log", None),
        ("000000000000-user.cfg", None),  # not a MAC: never a device file
        ("phone1.cfg", None),
        ("sip.cfg", None),
        ("cfg0004f2000331.xml", None),
        ("y000000000034.cfg", None),
        ("0004f200033.cfg", None),
        ("0004f20003311.cfg", None),
        ("common.cfg.bak", None),
        ("../common.cfg", None),
        ("polycom/common.cfg", None),
        ("", None),
    ],
)
def test_requested_names_are_classified(filename: str, wanted: Wanted | None) -> None:
    assert polycom.wanted_file(filename) == wanted
    if wanted is None:
        assert polycom.render(filename, ctx_for("IP331")) is None


def test_a_device_name_is_answered_only_for_that_phone() -> None:
    ctx = ctx_for("IP331")
    for name in ("0004f2000999-user.cfg", "0004f2000999.cfg"):
        assert polycom.render(name, ctx) is None
        assert polycom.render(name, replace(ctx, mac=None)) is None
    assert polycom.render("0004f2000331-user.cfg", replace(ctx, mac=None)) is None
    assert polycom.render("0004f2000331-user.cfg", replace(ctx, mac="0004F2000331")) is not None


@pytest.mark.parametrize(
    ("filename", "sensitive"),
    [("000000000000.cfg", False), ("0004f2000331.cfg", False), ("common.cfg", False), ("0004f2000331-user.cfg", True)],
)
def test_every_file_is_utf8_xml_with_its_sensitivity(filename: str, sensitive: bool) -> None:
    result = rendered(filename, ctx_for("IP331", firmware_url=image_url(IP331)))
    assert result.content_type in ("application/xml", "text/xml")
    assert result.sensitive is sensitive
    parse(result.body)
    result.body.decode("utf-8")


# -- accounts ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "numbers"),
    [("IP331", (1, 2)), ("IP331", (1,)), ("IP331", (2,)), ("IP550", (1,)), ("VVX600", (1,)), ("VVX600", ())],
)
def test_device_file_has_exactly_the_lines_given(model: str, numbers: tuple[int, ...]) -> None:
    params = device_params(ctx_for(model, lines(*numbers)))
    assert registrations(params) == set(numbers)
    for n in numbers:
        given = line(n)
        assert params[f"reg.{n}.address"] == given.auth_user
        assert params[f"reg.{n}.auth.userId"] == given.auth_user
        assert params[f"reg.{n}.auth.password"] == given.password
        assert params[f"reg.{n}.displayName"] == given.display_name
        assert params[f"reg.{n}.label"] == given.label
        assert params[f"reg.{n}.lineKeys"] == "1"
        assert params[f"reg.{n}.server.1.address"] == "pbx.acme.example.net"
        assert params[f"reg.{n}.server.1.port"] == "5070"
        assert params[f"reg.{n}.server.1.transport"] == "UDPOnly"


@pytest.mark.parametrize(
    ("transport", "expected"),
    [("udp", "UDPOnly"), ("tcp", "TCPOnly"), ("tls", "TLS"), ("UDP", "UDPOnly"), (" tls ", "TLS")],
)
def test_transport_and_port_follow_the_tenant(transport: str, expected: str) -> None:
    tenant = replace(TENANT, sip_transport=transport, sip_port=5061, sip_server="10.20.30.40")
    params = device_params(ctx_for("IP331", tenant=tenant))
    for n in (1, 2):
        assert params[f"reg.{n}.server.1.transport"] == expected
        assert params[f"reg.{n}.server.1.port"] == "5061"
        assert params[f"reg.{n}.server.1.address"] == "10.20.30.40"


@pytest.mark.parametrize("transport", ["sctp", "ws", "dnsnaptr", ""])
def test_a_transport_polycom_cannot_be_told_is_an_error(transport: str) -> None:
    with pytest.raises(UnsupportedSetting):
        polycom.render("0004f2000331-user.cfg", ctx_for("IP331", tenant=replace(TENANT, sip_transport=transport)))


# -- time and resync ---------------------------------------------------------------------------
def test_bogota_is_utc_minus_5_all_year_without_dst() -> None:
    bogota = ZoneInfo("America/Bogota")
    start = datetime(2024, 1, 1, 12, tzinfo=bogota)
    for day in range(0, 366, 7):
        moment = start + timedelta(days=day)
        assert moment.utcoffset() == timedelta(seconds=polycom.GMT_OFFSET_SECONDS)
        assert moment.dst() == timedelta(0)


@pytest.mark.parametrize("filename", ["common.cfg", "0004f2000331-user.cfg"])
def test_time_zone_and_sntp_in_common_and_device_files(filename: str) -> None:
    _, params = parse(rendered(filename, ctx_for("IP331")).body)
    assert params["tcpIpApp.sntp.address"] == "ntp.acme.example.net"
    assert params["tcpIpApp.sntp.address.overrideDHCP"] == "1"
    assert params["tcpIpApp.sntp.gmtOffset"] == "-18000"
    assert params["tcpIpApp.sntp.gmtOffset.overrideDHCP"] == "1"
    assert params["tcpIpApp.sntp.daylightSavings.enable"] == "0"


def test_device_file_also_sets_the_device_level_time() -> None:
    params = device_params(ctx_for("VVX600"))
    assert params["device.set"] == "1"
    assert params["device.sntp.serverName.set"] == "1" and params["device.sntp.serverName"] == "ntp.acme.example.net"
    assert params["device.sntp.gmtOffset.set"] == "1" and params["device.sntp.gmtOffset"] == "-18000"


@pytest.mark.parametrize("filename", ["common.cfg", "0004f2000331-user.cfg"])
def test_without_a_tenant_ntp_server_dhcp_keeps_providing_it(filename: str) -> None:
    _, params = parse(rendered(filename, ctx_for("IP331", tenant=replace(TENANT, ntp_server="  "))).body)
    assert "tcpIpApp.sntp.address" not in params and "device.sntp.serverName" not in params
    assert params["tcpIpApp.sntp.address.overrideDHCP"] == "0"
    assert params["tcpIpApp.sntp.gmtOffset"] == "-18000"


@pytest.mark.parametrize(("seconds", "period"), [(86400, "86400"), (7200, "7200"), (3600, "3600"), (600, "3600"), (0, "3600")])
def test_common_file_polls_every_resync_period(seconds: int, period: str) -> None:
    params = common_params(ctx_for("IP331", tenant=replace(TENANT, resync_seconds=seconds)))
    assert params["prov.polling.enabled"] == "1"
    assert params["prov.polling.mode"] == "rel"
    assert params["prov.polling.period"] == period


def test_common_file_is_tenant_wide_and_carries_no_account() -> None:
    with_phone = rendered("common.cfg", ctx_for("VVX600")).body
    without = rendered("common.cfg", RenderContext(tenant=TENANT)).body
    assert with_phone == without
    assert not registrations(parse(without)[1])


# -- secrets -----------------------------------------------------------------------------------
def test_admin_password_is_set_in_the_device_file_with_its_set_flags() -> None:
    params = device_params(ctx_for("IP550"))
    assert params["device.set"] == "1"
    assert params["device.auth.localAdminPassword.set"] == "1"
    assert params["device.auth.localAdminPassword"] == "AdminPw7Xq2"


def test_no_admin_password_means_the_phone_keeps_its_own() -> None:
    params = device_params(ctx_for("IP550", admin_password=""))
    assert not any("localAdminPassword" in name for name in params)


@pytest.mark.parametrize("filename", ["000000000000.cfg", "0004f2000331.cfg", "common.cfg"])
def test_master_and_common_files_never_carry_a_password(filename: str) -> None:
    # Even when handed lines (the server never does that for these files), nothing leaks.
    ctx = ctx_for("IP331", firmware_url=image_url(IP331), family_firmware=((IP331, image_url(IP331)),))
    body = rendered(filename, ctx).body
    secrets = [ADMIN_PW, *(line_view.password for line_view in ctx.lines)]
    assert not any(secret.encode() in body for secret in secrets)
    _, params = parse(body)
    assert not any("password" in name.lower() or name.startswith("reg.") for name in params)


# -- hostile values ----------------------------------------------------------------------------
HOSTILE_NAMES = [
    ("O'Brien & <Sons> \"x\"", "O'Brien & <Sons> \"x\""),
    ('Peña\r\nreg.1.auth.password="x"', 'Peña reg.1.auth.password="x"'),
    ('x" reg.1.auth.password="stolen', 'x" reg.1.auth.password="stolen'),
    ("Ctl\x00\x01\x07\x08\x0b\x0c\x1b\x7fEnd", "CtlEnd"),
    ("]]><!-- --></reg><device device.set=\"1\"/>", "]]><!-- --></reg><device device.set=\"1\"/>"),
    ("José Ñandú — 日本 😀", "José Ñandú — 日本 😀"),
    ("Línea\u2028dos\u0085tres", "Línea dos tres"),
]


@pytest.mark.parametrize(("name", "expected"), HOSTILE_NAMES)
def test_hostile_staff_names_keep_the_xml_well_formed_and_round_trip(name: str, expected: str) -> None:
    hostile = LineView(number=1, extension="201", display_name=name, label=f"201 {name}",
                       auth_user="acme-201", password="Sip1pw9Zk4rT7m")
    body = rendered("0004f2000331-user.cfg", ctx_for("IP331", (hostile, line(2)))).body
    _, params = parse(body)
    assert params["reg.1.displayName"] == expected
    assert params["reg.1.label"] == f"201 {expected}"
    assert params["reg.1.auth.password"] == "Sip1pw9Zk4rT7m"
    assert registrations(params) == {1, 2}
    assert sum(1 for name_ in params if name_.endswith(".auth.password")) == 2


def test_hostile_passwords_and_tenant_values_round_trip() -> None:
    tenant = replace(TENANT, ntp_server='ntp"x&y', sip_server="pbx<1>&\"")
    secret = LineView(number=1, extension="201", display_name="Uno", label="201 Uno",
                      auth_user='u"s&e<r', password="p&<>\"'\x01w")
    params = device_params(ctx_for("VVX600", (secret,), tenant=tenant, admin_password="a&b<c>\"d'e"))
    assert params["device.auth.localAdminPassword"] == "a&b<c>\"d'e"
    assert params["tcpIpApp.sntp.address"] == 'ntp"x&y'
    assert params["reg.1.server.1.address"] == "pbx<1>&\""
    assert params["reg.1.auth.userId"] == 'u"s&e<r'
    assert params["reg.1.auth.password"] == "p&<>\"'w"


def test_accents_are_written_as_utf8() -> None:
    body = rendered("0004f2000331-user.cfg", ctx_for("IP331")).body
    assert "Empleado 1 Peña".encode("utf-8") in body


def _as_attribute(text: str) -> str:
    """What an XML parser gives back for a value after the xml filter: control characters gone,
    line breaks as one space; tabs survive (written as character references)."""
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)
    return re.sub(r"[\r\n\u0085\u2028\u2029]+", " ", text)


# U+FFFE/U+FFFF and lone surrogates are dropped by the filter: tested separately below.
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"), max_size=40)


@settings(max_examples=150, deadline=None)
@given(name=_TEXT, label=_TEXT, password=_TEXT, user=_TEXT)
def test_any_line_text_keeps_the_device_file_well_formed(name: str, label: str, password: str, user: str) -> None:
    view = LineView(number=1, extension="201", display_name=name, label=label, auth_user=user, password=password)
    params = device_params(ctx_for("VVX600", (view,)))
    assert params["reg.1.displayName"] == _as_attribute(name)
    assert params["reg.1.label"] == _as_attribute(label)
    assert params["reg.1.auth.password"] == _as_attribute(password)
    assert params["reg.1.address"] == _as_attribute(user)
    assert registrations(params) == {1}


def test_noncharacters_and_lone_surrogates_keep_the_xml_well_formed() -> None:
    view = replace(line(1), display_name="Ana\ufffeMar\uffffía\ud800")
    params = device_params(ctx_for("VVX600", (view,)))
    assert params["reg.1.displayName"] == "AnaMaría"


# -- master file -------------------------------------------------------------------------------
def master(filename: str, ctx: RenderContext) -> tuple[ET.Element, dict[str, str]]:
    root, params = parse(rendered(filename, ctx).body)
    assert root.tag == "APPLICATION"
    return root, params


def children(root: ET.Element) -> dict[str, dict[str, str]]:
    return {child.tag: dict(child.attrib) for child in root}


@pytest.mark.parametrize("filename", ["000000000000.cfg", "0004f2000331.cfg"])
def test_master_reads_the_device_file_before_the_common_file(filename: str) -> None:
    root, _ = master(filename, ctx_for("IP331", firmware_url=image_url(IP331)))
    files = [name.strip() for name in root.attrib["CONFIG_FILES"].split(",")]
    assert files == ["[PHONE_MAC_ADDRESS]-user.cfg", "common.cfg"]
    for child in root:
        token = child.tag.removeprefix("APPLICATION_")
        assert child.attrib[f"CONFIG_FILES_{token}"] == root.attrib["CONFIG_FILES"]


def test_family_master_points_each_model_with_an_image_at_it() -> None:
    family = ((IP331, image_url(IP331)), (GXP1620, BASE_URL + "gxp1600fw.bin"), (VVX600, image_url(VVX600)))
    root, params = master("000000000000.cfg", RenderContext(tenant=TENANT, family_firmware=family))
    assert children(root) == {
        "APPLICATION_SPIP331": {"APP_FILE_PATH_SPIP331": image_url(IP331), "CONFIG_FILES_SPIP331": polycom.CONFIG_FILES},
        "APPLICATION_VVX600": {"APP_FILE_PATH_VVX600": image_url(VVX600), "CONFIG_FILES_VVX600": polycom.CONFIG_FILES},
    }
    assert "APP_FILE_PATH" not in root.attrib  # never a model-blind image
    assert not any("SPIP550" in name or "GXP" in name for name in params)


def test_family_master_ignores_other_vendors_rows_whatever_their_aliases() -> None:
    look_alike = replace(VVX600, key="yealink-vvx600", vendor="yealink")
    root, _ = master("000000000000.cfg", RenderContext(tenant=TENANT, family_firmware=((look_alike, BASE_URL + "x.rom"),)))
    assert list(root) == []


def test_family_master_without_images_has_no_app_file_path() -> None:
    for ctx in (RenderContext(tenant=TENANT), ctx_for("VVX600")):
        root, params = master("000000000000.cfg", ctx)
        assert list(root) == []
        assert not any(name.startswith("APP_FILE_PATH") for name in params)


def test_family_master_includes_the_requesting_model_when_the_server_names_it() -> None:
    root, _ = master("000000000000.cfg", ctx_for("IP550", mac=None, firmware_url=image_url(IP550)))
    assert set(children(root)) == {"APPLICATION_SPIP550"}


@pytest.mark.parametrize(("model", "token"), [("IP331", "SPIP331"), ("IP550", "SPIP550"), ("VVX600", "VVX600")])
def test_device_master_names_only_its_own_model_image(model: str, token: str) -> None:
    e = ENTRIES[model]
    family = tuple((other, image_url(other)) for other in ENTRIES.values())
    root, params = master(f"{MACS[model]}.cfg", ctx_for(model, firmware_url=image_url(e), family_firmware=family))
    assert children(root) == {
        f"APPLICATION_{token}": {f"APP_FILE_PATH_{token}": image_url(e), f"CONFIG_FILES_{token}": polycom.CONFIG_FILES},
    }
    assert [name for name in params if name.startswith("APP_FILE_PATH")] == [f"APP_FILE_PATH_{token}"]


def test_device_master_without_its_image_has_no_app_file_path() -> None:
    family = ((VVX600, image_url(VVX600)),)
    root, params = master("0004f2000331.cfg", ctx_for("IP331", firmware_url=None, family_firmware=family))
    assert list(root) == []
    assert not any(name.startswith("APP_FILE_PATH") for name in params)


def test_firmware_url_is_escaped_and_round_trips() -> None:
    url = 'http://prov.example.net/prov/k/2345-12365-001.sip.ld?a=1&b="2"'
    root, _ = master("0004f2000331.cfg", ctx_for("IP331", firmware_url=url))
    assert children(root)["APPLICATION_SPIP331"]["APP_FILE_PATH_SPIP331"] == url


@pytest.mark.parametrize(
    ("aliases", "token"),
    [
        (("SPIP_331", "SPIP331"), "SPIP331"),
        (("SoundPoint IP 550", "SPIP_550"), "SPIP550"),
        (("VVX 600", "VVX_600"), "VVX600"),
        (("SSIP_6000",), "SSIP6000"),
        (("IP 331", "IP331"), None),  # no UA token: no child can be named
        ((), None),
    ],
)
def test_application_token_comes_from_the_ua_model_token(aliases: tuple[str, ...], token: str | None) -> None:
    assert polycom.application_token(replace(IP331, aliases=aliases)) == token


# -- per-model templates -----------------------------------------------------------------------
def polycom_chain(entry: CatalogEntry | None) -> tuple[str, ...]:
    return template_chain(polycom.TEMPLATES, polycom.DEVICE_BASE, entry)


@pytest.mark.parametrize(
    ("e", "chain"),
    [
        (IP331, ("polycom/ip331.j2", "polycom/base-device.j2")),
        (VVX600, ("polycom/vvx600.j2", "polycom/base-device.j2")),
        (replace(VVX600, template="polycom/ip550.j2"), ("polycom/ip550.j2", "polycom/vvx600.j2", "polycom/base-device.j2")),
        (replace(IP331, key="polycom-../../x"), ("polycom/base-device.j2",)),
        (None, ("polycom/base-device.j2",)),
    ],
)
def test_template_chain_is_model_then_family_base(e: CatalogEntry | None, chain: tuple[str, ...]) -> None:
    assert polycom_chain(e) == chain


@pytest.mark.parametrize("model", list(ENTRIES))
def test_each_homologated_model_has_its_own_template(model: str) -> None:
    chosen = environment().select_template(list(polycom_chain(ENTRIES[model])))
    assert chosen.name == f"polycom/{model.lower()}.j2"


@pytest.mark.parametrize(
    ("model", "calls_per_key", "base_profile"),
    [("IP331", "8", None), ("IP550", "24", None), ("VVX600", "24", "Generic")],
)
def test_models_differ_in_line_key_capacity_and_base_profile(model: str, calls_per_key: str, base_profile: str | None) -> None:
    params = device_params(ctx_for(model))
    for n in registrations(params):
        assert params[f"reg.{n}.callsPerLineKey"] == calls_per_key
    assert params.get("device.baseProfile") == base_profile
    assert params.get("device.baseProfile.set") == ("1" if base_profile else None)


def test_an_unknown_polycom_model_falls_back_to_the_family_base() -> None:
    other = replace(VVX600, key="polycom-vvx999", aliases=("VVX_999",))
    params = device_params(ctx_for("VVX600", entry=other))
    assert registrations(params) == {1}
    assert "reg.1.callsPerLineKey" not in params and "device.baseProfile" not in params


def test_the_packaged_catalog_polycom_rows_get_a_model_template_and_a_master_child() -> None:
    rows = [e for e in load_catalog().entries if e.vendor == "polycom"]
    assert {e.key for e in rows} == {IP331.key, IP550.key, VVX600.key}
    for e in rows:
        assert polycom.application_token(e) == {IP331.key: "SPIP331", IP550.key: "SPIP550", VVX600.key: "VVX600"}[e.key]
        assert environment().select_template(list(polycom_chain(e))).name == f"polycom/{model_slug(e)}.j2"
