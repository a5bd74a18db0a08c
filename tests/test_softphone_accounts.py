"""Softphone accounts follow the tenant's PBX accounts (issues 15 + 19), pure rules with tables:

  * SoftphoneAccount comes from sip_accounts.sip_account, so the Jitsi properties, the Wave QR
    XML and the settings page say the same user, realm and proxy as a desk phone's line;
  * the apps' REGISTER User-Agents (real shapes: "Jitsi2.10.5550Windows 10",
    "Grandstream Wave 1.2.14") are read and judged against the catalog like a desk phone's.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from firmware_catalog import load_catalog
from provisioner.findings import FindingKind
from provisioner.registrations import AccountRegistration, softphone_findings
from provisioner.sip_accounts import HostPort, sip_account
from provisioner.softphones import (
    AppAgent, SoftphoneAccount, account_settings, app_user_agent, jitsi_properties, wave_account_xml,
)
from provisioner.values import LineView, TenantView
from tests.config_credentials import jitsi, settings_page, wave
from tests.sip_register import Credentials

CATALOG = load_catalog()
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
LINE = LineView(1, "204", "Ana Gómez", "204 Ana Gómez", "204", "Pbx'Cl;ve&<1>")


def tenant(**changes: object) -> TenantView:
    values: dict[str, object] = dict(name="Acme", slug="acme", sip_server="pbx.acme.co", sip_port=5070,
                                     sip_transport="udp", snmp_community="c", ntp_server="ntp", base_url="http://p/")
    values.update(changes)
    return TenantView(**values)  # type: ignore[arg-type]


def _page(account: SoftphoneAccount) -> bytes:
    """The settings table as the link page's template writes it (escaped by Jinja's autoescape)."""
    from markupsafe import escape

    return "".join(f'<tr><th>{escape(label)}</th><td><code class="setting">{escape(value)}</code></td></tr>'
                   for label, value in account_settings(account)).encode()


# (tenant settings, what every app must end up registering with: user, auth, domain, port, next hop)
CASES = [
    ({}, Credentials(1, "204", "204", LINE.password, "pbx.acme.co", 5070, None)),
    ({"sip_domain": "acme.sip.co"},  # a domain that is another name: the SIP server is the proxy
     Credentials(1, "204", "204", LINE.password, "acme.sip.co", 5070, ("pbx.acme.co", 5070))),
    ({"sip_domain": "acme.sip.co", "outbound_proxy": "sbc.op.co:5080"},
     Credentials(1, "204", "204", LINE.password, "acme.sip.co", 5070, ("sbc.op.co", 5080))),
]


@pytest.mark.parametrize(("changes", "expected"), CASES, ids=["domain only", "domain + server", "explicit proxy"])
def test_every_app_format_carries_the_pbx_account(changes: dict[str, object], expected: Credentials) -> None:
    account = SoftphoneAccount.of(sip_account(tenant(**changes), LINE))
    hop = expected.proxy or (expected.domain, expected.port)
    [from_jitsi] = jitsi(jitsi_properties(account).encode("latin-1"))
    # Jitsi always sends to its SERVER_ADDRESS or PROXY_ADDRESS: the next hop is explicit.
    assert from_jitsi == Credentials(1, "204", "204", LINE.password, expected.domain, hop[1], hop)
    [from_wave] = wave(wave_account_xml(account).encode())
    assert from_wave == expected
    [by_hand] = settings_page(_page(account))
    assert by_hand == expected


def test_jitsi_names_its_proxy_only_when_there_is_one() -> None:
    plain = jitsi_properties(SoftphoneAccount.of(sip_account(tenant(), LINE)))
    assert ".PROXY_AUTO_CONFIG=true" in plain and ".PROXY_ADDRESS=" not in plain
    proxied = jitsi_properties(SoftphoneAccount.of(sip_account(tenant(sip_domain="acme.sip.co",
                                                                      outbound_proxy="sbc.op.co:5080"), LINE)))
    prefix = "net.java.sip.communicator.impl.protocol.sip.acc204"
    for line in (f"{prefix}.USER_ID=204@acme.sip.co", f"{prefix}.ACCOUNT_UID=SIP:204@acme.sip.co",
                 f"{prefix}.SERVER_ADDRESS=sbc.op.co", f"{prefix}.PROXY_AUTO_CONFIG=false",
                 f"{prefix}.PROXY_ADDRESS=sbc.op.co", f"{prefix}.PROXY_PORT=5080", f"{prefix}.AUTHORIZATION_NAME=204"):
        assert line in proxied.splitlines()


def test_wave_register_server_is_the_domain_and_outbound_the_proxy() -> None:
    account = SoftphoneAccount(
        "204", "Ana", "204", "204", "x", "acme.sip.co", 5060, "udp", HostPort("sbc.op.co", 5080))
    fields = {child.tag: child.text for child in ET.fromstring(wave_account_xml(account)).find("Account") or []}
    assert (fields["RegisterServer"], fields["OutboundServer"]) == ("acme.sip.co", "sbc.op.co:5080")


# -- User-Agents ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("agent", "expected"), [
    ("Jitsi2.11.5608Windows 10", AppAgent("jitsi", "Jitsi Windows", "2.11.5608")),
    ("Jitsi2.10.5550Windows 10", AppAgent("jitsi", "Jitsi Windows", "2.10.5550")),  # public trace
    ("Jitsi2.10.5550Mac OS X", AppAgent("jitsi", "Jitsi MacOS", "2.10.5550")),  # public trace
    ("Jitsi2.11.20200408Linux", AppAgent("jitsi", "Jitsi Linux", "2.11.20200408")),  # public trace
    ("Jitsi2.2.4603.9615Linux", AppAgent("jitsi", "Jitsi Linux", "2.2.4603.9615")),  # public trace
    ("Jitsi2.11.5608", AppAgent("jitsi", None, "2.11.5608")),
    ("Grandstream Wave 1.0.3.26", AppAgent("grandstream", None, "1.0.3.26")),
    ("Grandstream Wave 1.2.14", AppAgent("grandstream", None, "1.2.14")),  # public imitation of Wave
    ("Grandstream Wave/webrtc_chrome", None),  # Wave's web client: no version
    ("Grandstream Model HW GXP1628 SW 1.0.4.138 DevId c074ad2bd859", None),  # a desk phone: its vendor rule
    ("Yealink SIP-T21P 34.72.0.75", None),
    ("Jitsi Meet", None),
    ("", None),
])
def test_app_user_agents(agent: str, expected: AppAgent | None) -> None:
    assert app_user_agent(agent) == expected


def status(agent: str, softphone: str | None) -> AccountRegistration:
    return AccountRegistration("204", "204", "acme.sip.co", None, None, True, "sip:204@10.0.0.9:5060", agent,
                               None, None, None, softphone)


@pytest.mark.parametrize(("agent", "softphone", "kinds"), [
    ("Jitsi2.10.5550Windows 10", "jitsi-windows", {FindingKind.FIRMWARE_OLDER}),
    ("Jitsi2.11.5608Windows 10", "jitsi-windows", set()),
    ("Jitsi2.11.5608Mac OS X", "jitsi-windows", set()),  # it is the MacOS row, homologated too
    ("Jitsi2.11.5608Linux", "jitsi-windows", {FindingKind.MODEL_NOT_HOMOLOGATED}),
    ("Grandstream Wave 1.0.3.10", "grandstream-wave-android", {FindingKind.FIRMWARE_OLDER}),
    ("Grandstream Wave 1.0.3.26", "grandstream-wave-android", set()),
    ("Grandstream Wave 1.2.9.3", "grandstream-wave-ios", set()),
])
def test_an_app_registration_is_judged_by_the_catalog(agent: str, softphone: str, kinds: set[FindingKind]) -> None:
    findings = softphone_findings(status(agent, softphone), "acme", "", CATALOG, NOW)
    assert findings is not None
    assert {finding.kind for finding in findings} == kinds


@pytest.mark.parametrize(("agent", "softphone"), [
    ("Grandstream Wave 1.0.3.26", None),  # Wave names no OS: which row it is needs the assigned app
    ("Grandstream Wave 1.0.3.26", "jitsi-windows"),
    ("SomePhone/1.0", "jitsi-windows"),
])
def test_an_agent_that_cannot_be_placed_is_not_judged(agent: str, softphone: str | None) -> None:
    assert softphone_findings(status(agent, softphone), "acme", "", CATALOG, NOW) is None
