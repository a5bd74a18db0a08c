"""Softphones (issue 15): the pure rules with real samples, and every catalog row through the
CLI (extension add, render / softphone show, devices, export and import back) on SQLite and
PostgreSQL, without a traceback."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select

from firmware_catalog import load_catalog
from provisioner.cli import main
from provisioner.db.engine import make_engine, session_factory
from provisioner.db.models import Device, Extension, Tenant
from provisioner.softphones import (
    AppReport, Delivery, SoftphoneAccount, account_qr_text, how_delivered, is_softphone, jitsi_properties,
    jitsi_report, judge_app, mac_refusal, property_value, wave_account_xml,
)

CATALOG = load_catalog()
SOFTPHONES = [e for e in CATALOG.entries if is_softphone(e)]
DESK = [e for e in CATALOG.entries if not is_softphone(e)]
# The names as the homologated table (and the issue) spells them, as an installer types them.
TYPED = {"wekall-app-windows": "WeKall APP Windows", "grandstream-wave-ios": "Wave iOS",
         "grandstream-wave-android": "Wave Android", "jitsi-windows": "Jitsi Windows", "jitsi-macos": "Jitsi MacOS"}
ACCOUNT = SoftphoneAccount("204", "Ana Gómez <jefa> & co", "acme-204", "acme-204", "s3cr3t\\x=y",
                           "pbx.acme.example.net", 5080, "tcp")


def read_properties(text: str) -> dict[str, str]:
    """A reader of Java's Properties.load format (the subset our answers use: key=value lines,
    # comments, backslash escapes and \\uXXXX), written from the java.util.Properties docs."""
    found = {}
    for line in text.splitlines():
        if not line or line.startswith(("#", "!")):
            continue
        key, _, value = line.partition("=")
        value = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), value)
        found[key] = re.sub(r"\\(.)", r"\1", value)
    return found


# -- pure rules --------------------------------------------------------------------------------
def test_the_catalog_has_the_five_software_rows() -> None:
    assert sorted(e.key for e in SOFTPHONES) == [
        "grandstream-wave-android", "grandstream-wave-ios", "jitsi-macos", "jitsi-windows", "wekall-app-windows",
    ]
    assert {e.key: how_delivered(e) for e in SOFTPHONES} == {
        "grandstream-wave-android": Delivery.WAVE, "grandstream-wave-ios": Delivery.WAVE,
        "jitsi-macos": Delivery.JITSI, "jitsi-windows": Delivery.JITSI, "wekall-app-windows": Delivery.BY_HAND,
    }


@pytest.mark.parametrize(("osname", "build", "agent", "expected"), [
    ("Windows 10", "2.11.5608", None, AppReport("Jitsi Windows", "2.11.5608")),  # Java's os.name on Windows 10
    ("Windows 7", "2.10.5550", "Apache-HttpClient/4.5.3 (Java/1.8.0_152)", AppReport("Jitsi Windows", "2.10.5550")),
    ("Mac OS X", "2.11.5608", None, AppReport("Jitsi MacOS", "2.11.5608")),
    ("Linux", "2.11.5608", None, AppReport("Jitsi Linux", "2.11.5608")),
    ("Windows 10", "", "Jitsi/2.11.5608", AppReport("Jitsi Windows", "2.11.5608")),
    ("Windows 10", "${build}", None, AppReport("Jitsi Windows", None)),  # a URL typed without the plugin's substitution
    ("", "", None, AppReport(None, None)),
    ("Windows 10", "<script>", None, AppReport("Jitsi Windows", None)),
])
def test_what_a_jitsi_request_reports(osname: str, build: str, agent: str | None, expected: AppReport) -> None:
    assert jitsi_report(osname, build, agent) == expected


@pytest.mark.parametrize(("report", "assigned", "kinds"), [
    (AppReport("Jitsi Windows", "2.11.5608"), "jitsi-windows", ()),
    (AppReport("Jitsi Windows", "2.10.5550"), "jitsi-windows", ("firmware_older",)),
    (AppReport("Jitsi Windows", "2.12.1"), "jitsi-windows", ("firmware_newer",)),
    (AppReport("Jitsi MacOS", "2.10.5550"), "jitsi-windows", ("firmware_older",)),  # judged as what it is
    (AppReport("Jitsi Linux", "2.11.5608"), "jitsi-windows", ("model_not_homologated",)),
    (AppReport("Jitsi Windows", None), "jitsi-windows", ()),  # no version: firmware neither raised nor cleared
])
def test_an_app_report_is_judged_like_a_phone(report: AppReport, assigned: str, kinds: tuple[str, ...]) -> None:
    judgement = judge_app(CATALOG.get(assigned), CATALOG.find(report.model) if report.model else None, report)
    assert tuple(judgement.kinds) == kinds
    assert judgement.judged
    if report.version is None:
        assert "firmware_older" not in judgement.covers


def test_jitsi_properties_carry_the_account_and_survive_hostile_text() -> None:
    props = read_properties(jitsi_properties(ACCOUNT))
    prefix = "net.java.sip.communicator.impl.protocol.sip.acc204"
    assert props[prefix] == "acc204"
    assert props[f"{prefix}.ACCOUNT_UID"] == "SIP:acme-204@pbx.acme.example.net"
    assert props[f"{prefix}.AUTHORIZATION_NAME"] == "acme-204"
    assert props[f"{prefix}.PASSWORD"] == "s3cr3t\\x=y"
    assert props[f"{prefix}.SERVER_PORT"] == "5080"
    assert props[f"{prefix}.PREFERRED_TRANSPORT"] == "TCP"
    assert props[f"{prefix}.DISPLAY_NAME"] == "Ana Gómez <jefa> & co"
    assert property_value("x\nnet.java.evil=1") == "x net.java.evil=1"  # a name cannot add a property
    assert property_value(" lead") == "\\ lead"
    assert property_value("ñ😀") == "\\u00f1\\ud83d\\ude00"
    assert jitsi_properties(ACCOUNT).isascii()


def test_wave_gets_an_account_config_xml_with_escaped_values() -> None:
    root = ET.fromstring(wave_account_xml(ACCOUNT))
    account = root.find("Account")
    assert root.tag == "AccountConfig" and account is not None
    assert {child.tag: child.text for child in account} == {
        "RegisterServer": "pbx.acme.example.net:5080", "OutboundServer": None, "UserID": "acme-204", "AuthID": "acme-204",
        "AuthPass": "s3cr3t\\x=y", "AccountName": "204", "DisplayName": "Ana Gómez <jefa> & co",
    }
    assert account_qr_text(ACCOUNT, Delivery.WAVE) == wave_account_xml(ACCOUNT)
    assert account_qr_text(ACCOUNT, Delivery.BY_HAND).startswith("sip:acme-204@pbx.acme.example.net:5080;transport=tcp")


def test_one_message_refuses_a_mac_on_any_app() -> None:
    assert mac_refusal(CATALOG.get("grandstream-wave-android")) == (
        "Grandstream Wave Android es una aplicación móvil, no se aprovisiona por MAC: indique su modelo sin MAC y sin línea")
    assert mac_refusal(CATALOG.get("jitsi-windows")).startswith("Jitsi Windows es una aplicación de escritorio (softphone)")


# -- every catalog row through the CLI ------------------------------------------------------------
def cli(database_url: str, *args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(main, list(args), env={"PROVISIONER_DATABASE_URL": database_url}, catch_exceptions=False)
    assert "Traceback" not in result.output
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code != 0, result.output
    return result.output


def mac_for(index: int) -> str:
    return f"0200000000{index:02x}"


def test_every_catalog_row_goes_through_every_command(database_url: str, tmp_path: Path) -> None:
    cli(database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example.net", "--slug", "acme")
    cli(database_url, "tenant", "create", "Beta", "--sip-server", "pbx.beta.example.net", "--slug", "beta")
    for index, entry in enumerate(CATALOG.entries):
        number = str(200 + index)
        if is_softphone(entry):
            added = json.loads(cli(database_url, "extension", "add", "--tenant", "acme", "--extension", number,
                                   "--name", f"Persona {number}", "--model", TYPED[entry.key], "--json"))
            assert (added["mac"], added["line"], added["softphone"]) == (None, None, entry.key)
            refused = cli(database_url, "extension", "add", "--tenant", "acme", "--extension", str(500 + index),
                          "--name", "X", "--model", entry.key, "--mac", mac_for(100 + index), ok=False)
            assert mac_refusal(entry) in refused
            shown = cli(database_url, "softphone", "show", "--tenant", "acme", "--extension", number)
            password = _password(database_url, number)
            assert password not in shown and "acme-" + number in shown
            assert password in cli(database_url, "softphone", "show", "--tenant", "acme", "--extension", number, "--show-secrets")
        else:
            cli(database_url, "extension", "add", "--tenant", "acme", "--extension", number, "--name", f"Persona {number}",
                "--model", entry.key, "--mac", mac_for(index), "--line", "1")
            rendered = cli(database_url, "render", mac_for(index))
            assert "acme-" + number in rendered and _password(database_url, number) not in rendered
    devices = json.loads(cli(database_url, "devices", "--tenant", "acme", "--json"))
    assert len(devices) == len(CATALOG.entries)
    apps = {row["model_key"]: row for row in devices if row["softphone"]}
    assert set(apps) == {e.key for e in SOFTPHONES}
    assert all(row["status"] == "no reportado" and not row["compliant"] and row["firmware"] is None for row in apps.values())
    text = cli(database_url, "devices", "--tenant", "acme")
    assert text.count("no reportado") == len(SOFTPHONES)

    exported = tmp_path / "acme.csv"
    cli(database_url, "export", "extensions", "--tenant", "acme", str(exported))
    again = cli(database_url, "import", "extensions", str(exported), "--tenant", "acme")
    assert f"{len(CATALOG.entries)} unchanged" in again
    moved = tmp_path / "beta.csv"  # the same list for another customer: other phones, the same apps
    moved.write_text(exported.read_text(encoding="utf-8-sig").replace("02:00:00:00:00:", "02:00:00:00:01:"), encoding="utf-8")
    cli(database_url, "import", "extensions", str(moved), "--tenant", "beta")
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    beta = tmp_path / "beta-out.csv"
    cli(database_url, "export", "extensions", "--tenant", "beta", str(beta))
    rows_beta = list(csv.DictReader(io.StringIO(beta.read_text(encoding="utf-8-sig"))))
    assert [(r["extension"], r["model"], r["line"]) for r in rows] == [(r["extension"], r["model"], r["line"]) for r in rows_beta]
    assert {r["model"] for r in rows if not r["mac"]} == {
        "WeKall APP Windows", "Grandstream Wave iOS", "Grandstream Wave Android", "Jitsi Windows", "Jitsi MacOS"}


def test_an_import_binding_a_mac_to_an_app_is_refused_with_the_same_words(database_url: str, tmp_path: Path) -> None:
    cli(database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example.net", "--slug", "acme")
    listing = tmp_path / "list.csv"
    listing.write_text("extension,name,mac,model,line\n301,Ana,00:0b:82:c0:00:01,Wave Android,1\n302,Luis,,Jitsi MacOS,\n")
    refused = cli(database_url, "import", "extensions", str(listing), "--tenant", "acme", ok=False)
    assert mac_refusal(CATALOG.get("grandstream-wave-android")) in refused
    listing.write_text("extension,name,mac,model,line\n301,Ana,,Wave Android,\n302,Luis,,Jitsi MacOS,\n")
    cli(database_url, "import", "extensions", str(listing), "--tenant", "acme")
    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        stored = dict(session.execute(select(Extension.number, Extension.softphone)).all())
    engine.dispose()
    assert stored == {"301": "grandstream-wave-android", "302": "jitsi-macos"}


def test_a_mac_bound_to_an_app_before_the_rule_gets_no_desk_file(database_url: str) -> None:
    """A database written before issue 15 may hold a "Wave Android" device: no file, no traceback."""
    cli(database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example.net", "--slug", "acme")
    engine = make_engine(database_url)
    from datetime import UTC, datetime

    with session_factory(engine).begin() as session:
        tenant_id = session.scalar(select(Tenant.id))
        for mac, key in (("000b82c00001", "grandstream-wave-android"), ("000b82c00002", "jitsi-windows"),
                         ("000b82c00003", "wekall-app-windows")):
            session.execute(insert(Device).values(tenant_id=tenant_id, mac=mac, model_key=key, url_token=f"t{mac}",
                                                  admin_password="x", created_at=datetime.now(UTC)))
    engine.dispose()
    for mac in ("000b82c00001", "000b82c00002", "000b82c00003"):
        answer = cli(database_url, "render", mac, ok=False)
        assert "softphone" in answer or "not served" in answer
    assert "ok" not in cli(database_url, "devices")


def _password(database_url: str, number: str) -> str:
    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        password = session.scalar(select(Extension.sip_password).where(Extension.number == number))
    engine.dispose()
    assert password
    return password


async def test_jitsi_logins_are_throttled_like_the_web_login(database_url: str) -> None:
    """Ten failed logins lock the login (and the address) for ten minutes, the right password included."""
    from datetime import UTC, datetime

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from provisioner import admin
    from provisioner.settings import Settings
    from provisioner.softphone_store import create_link, open_link
    from provisioner.web.softphones import setup_softphones

    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        tenant = admin.create_tenant(session, "Acme", "pbx.acme.example.net", slug="acme")
        extension, _ = admin.add_extension(session, CATALOG, tenant, "301", "Ana", softphone="Jitsi Windows")
        token = create_link(session, extension, datetime.now(UTC))
    with sessions.begin() as session:
        revealed = open_link(session, CATALOG, Settings(), token, datetime.now(UTC))
        assert revealed is not None and open_link(session, CATALOG, Settings(), token, datetime.now(UTC)) is None
    app = web.Application()
    setup_softphones(app, sessions, CATALOG, Settings(), None)
    form = {"uuid": "u", "osname": "Windows 10", "build": "2.11.5608", "username": "301@acme"}
    async with TestClient(TestServer(app)) as client:
        right = {**form, "password": revealed.jitsi_password}
        assert (await client.post("/prov/app/", data=right)).status == 200
        for _ in range(10):
            assert (await client.post("/prov/app/", data={**form, "password": "guess"})).status == 401
        assert (await client.post("/prov/app/", data=right)).status == 429
    engine.dispose()
