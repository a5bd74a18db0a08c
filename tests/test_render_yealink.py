"""Yealink T19P/T20P/T21P configs, parsed line by line as the phone reads them."""

from __future__ import annotations

import pytest

from firmware_catalog import load_catalog
from provisioner.values import LineView, RenderContext, TenantView
from provisioner.vendors import yealink
from tests.phones import parse_yealink

CATALOG = load_catalog()
TENANT = TenantView("Acme & Cía", "acme", "pbx.acme.example.net", 5070, "tcp", "Adm1nSecret", "ro-public",
                    "ntp.acme.example.net", "http://prov.example.net/prov/KEY/")
MODELS = {"yealink-t19p": "031", "yealink-t20p": "007", "yealink-t21p": "034"}
MAC = "001565aabbcc"


def line(n: int = 1, name: str = "Ana Gómez") -> LineView:
    return LineView(n, f"10{n}", name, f"10{n} {name}", f"acme-10{n}", f"SipSecret{n}xyz")


def ctx(key: str, lines: tuple[LineView, ...] = (), firmware_url: str | None = None, mac: str | None = MAC) -> RenderContext:
    return RenderContext(TENANT, CATALOG.get(key), mac, lines, firmware_url)


def render_device(key: str, lines: tuple[LineView, ...]) -> dict[str, str]:
    out = yealink.render(f"{MAC}.cfg", ctx(key, lines))
    assert out is not None and out.sensitive and out.content_type.startswith("text/plain")
    return parse_yealink(out.body)


@pytest.mark.parametrize("key", MODELS)
def test_device_file_carries_the_account_server_and_time_zone(key: str) -> None:
    params = render_device(key, (line(1),))
    assert params["account.1.enable"] == "1"
    assert params["account.1.user_name"] == params["account.1.auth_name"] == "acme-101"
    assert params["account.1.password"] == "SipSecret1xyz"
    assert params["account.1.display_name"] == "Ana Gómez"
    assert params["account.1.sip_server.1.address"] == "pbx.acme.example.net"
    assert params["account.1.sip_server.1.port"] == "5070"
    assert params["account.1.transport"] == "1"
    assert params["local_time.time_zone"] == "-5" and params["local_time.summer_time"] == "0"
    assert params["local_time.ntp_server1"] == "ntp.acme.example.net"
    assert params["security.user_password"] == "admin:Adm1nSecret"


@pytest.mark.parametrize(("key", "slots"), [("yealink-t19p", 1), ("yealink-t20p", 2), ("yealink-t21p", 2)])
def test_unused_accounts_up_to_the_device_maximum_are_cleared(key: str, slots: int) -> None:
    params = render_device(key, (line(1),))
    enabled = {k for k, v in params.items() if k.endswith(".enable") and k.startswith("account.")}
    assert enabled == {f"account.{n}.enable" for n in range(1, slots + 1)}
    for n in range(2, slots + 1):
        assert params[f"account.{n}.enable"] == "0" and params[f"account.{n}.password"] == "%NULL%"


def test_t20p_also_gets_the_legacy_server_keys() -> None:
    t20p, t21p = render_device("yealink-t20p", (line(1),)), render_device("yealink-t21p", (line(1),))
    assert t20p["account.1.sip_server_host"] == "pbx.acme.example.net" and t20p["account.1.sip_server_port"] == "5070"
    assert "account.1.sip_server_host" not in t21p


@pytest.mark.parametrize(
    "name",
    ["Peña\r\naccount.1.password = x", "O'Brien & <Sons> \"x\"", "tab\there\x00\x1b[31m", "#not a comment", "a = b = c"],
)
def test_hostile_names_stay_on_one_line_and_round_trip(name: str) -> None:
    clean = render_device("yealink-t21p", (line(1),))
    hostile = render_device("yealink-t21p", (line(1, name),))
    assert len(hostile) == len(clean)
    assert hostile["account.1.password"] == "SipSecret1xyz"
    expected = " ".join(name.replace("\x00", "").replace("\x1b", "").replace("\t", "\t").split("\r\n")).strip()
    assert hostile["account.1.display_name"] == expected.replace("\t", "\t")


@pytest.mark.parametrize(("key", "code"), MODELS.items())
def test_common_file_has_no_secret_and_points_at_firmware_only_when_present(key: str, code: str) -> None:
    name = f"y000000000{code}.cfg"
    plain = yealink.render(name, ctx(key, (line(1),), mac=None))
    assert plain is not None and not plain.sensitive
    params = parse_yealink(plain.body)
    assert "firmware.url" not in params
    assert not [k for k in params if "password" in k or k.startswith("account.")]
    assert b"Adm1nSecret" not in plain.body and b"SipSecret" not in plain.body
    assert params["local_time.time_zone"] == "-5"
    assert params["auto_provision.server.url"] == TENANT.base_url
    url = f"{TENANT.base_url}{CATALOG.get(key).firmware_file}"
    with_fw = parse_yealink(yealink.render(name, ctx(key, firmware_url=url, mac=None)).body)
    assert with_fw["firmware.url"] == url


def test_names_it_does_not_serve() -> None:
    assert yealink.render("y000000000034.cfg", ctx("yealink-t19p")) is None  # another model's common file
    assert yealink.render("001565ffffff.cfg", ctx("yealink-t21p", (line(1),))) is None  # not this phone
    assert yealink.render("34.72.0.75.rom", ctx("yealink-t21p")) is None
    assert yealink.render(f"{MAC}.cfg", RenderContext(TENANT, CATALOG.get("polycom-ip331"), MAC, ())) is None
