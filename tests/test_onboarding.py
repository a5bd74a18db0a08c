"""The onboarding kit's pure parts (provisioner.onboarding), as tables: bandwidth, the
operator's firewall data file, the tenant's hosts in the rules, the DHCP option strings in
every server's syntax, SIP ALG commands, and the Markdown a customer receives."""

from __future__ import annotations

import ipaddress
from importlib import resources

import pytest

from provisioner.errors import InputError, SettingsError
from provisioner.onboarding import (
    ExpectedPhone, FirewallRule, Site, bandwidth_kbps, build_kit, dhcp_snippets, parse_firewall_rules, parse_subnet,
    resolve_rules, safe_url, sip_alg_steps, to_markdown,
)

URL = "https://prov.example.net/prov/Key_123-abc/"
SITE = Site("Acme S.A.S.", "acme", URL, "tftp://prov.example.net/Key_123-abc/", "pbx.acme.example", 5060, "udp",
            (ExpectedPhone("201", "Ana | Pérez", "Ventas", "001565000021", "Yealink T21P", 1),
             ExpectedPhone("202", "Bo", "", None, None, None)))
DEFAULT_RULES = parse_firewall_rules(resources.files("provisioner").joinpath("firewall_rules.toml").read_text())


@pytest.mark.parametrize(("calls", "kbps"), [(1, 100), (10, 1000), (25, 2500), (100_000, 10_000_000)])
def test_bandwidth_is_100_kbps_per_call(calls: int, kbps: int) -> None:
    assert bandwidth_kbps(calls) == kbps


@pytest.mark.parametrize("calls", [0, -1, 100_001])
def test_calls_out_of_range_are_refused(calls: int) -> None:
    with pytest.raises(InputError):
        bandwidth_kbps(calls)


def test_default_rules_are_the_rulebooks() -> None:
    """service-model.md §8: SIP 5060 TCP/UDP, SIP-TLS 5061 TCP/UDP, RTP UDP 10000-60000, HTTPS 443."""
    got = {(r.protocol, r.ports) for r in DEFAULT_RULES}
    assert got == {("UDP", "5060"), ("TCP", "5060"), ("TCP", "5061"), ("UDP", "5061"), ("UDP", "10000-60000"), ("TCP", "443")}


BAD_FILES = [
    ("not toml", "rule = [", "no es TOML"),
    ("no rules", "title = 'x'", "[[rule]]"),
    ("bad protocol", '[[rule]]\nservice="SIP"\nprotocol="SCTP"\nports="5060"\ndestinations=["@sip"]', "regla 1: 'protocol'"),
    ("port too big", '[[rule]]\nservice="SIP"\nprotocol="UDP"\nports="70000"\ndestinations=["@sip"]', "'ports'"),
    ("range backwards", '[[rule]]\nservice="RTP"\nprotocol="UDP"\nports="60000-10000"\ndestinations=["@sip"]', "'ports'"),
    ("no destinations", '[[rule]]\nservice="SIP"\nprotocol="UDP"\nports="5060"\ndestinations=[]', "'destinations'"),
    ("unknown token", '[[rule]]\nservice="SIP"\nprotocol="UDP"\nports="5060"\ndestinations=["@pbx"]', "'destinations'"),
    ("a host with a space", '[[rule]]\nservice="SIP"\nprotocol="UDP"\nports="5060"\ndestinations=["a b"]', "'destinations'"),
    ("bad direction", '[[rule]]\nservice="SIP"\nprotocol="UDP"\nports="5060"\ndestinations=["@sip"]\ndirection="both"', "'direction'"),
    ("no service", '[[rule]]\nprotocol="UDP"\nports="5060"\ndestinations=["@sip"]', "'service'"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_rules_file_names_what_to_fix(name: str, text: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_firewall_rules(text, source="reglas.toml")
    assert message in str(caught.value) and "reglas.toml" in str(caught.value)


def test_rules_name_the_tenants_hosts_and_add_the_ports_in_use() -> None:
    rules = resolve_rules(DEFAULT_RULES, SITE)
    assert FirewallRule("RTP (voz)", "UDP", "10000-60000", ("pbx.acme.example",)) in rules
    assert any(r.ports == "443" and r.destinations == ("prov.example.net",) for r in rules)
    assert not any(d.startswith("@") for r in rules for d in r.destinations)
    # HTTPS 443 to the server is in the file already; TFTP 69 is added, SIP 5060/UDP is not repeated.
    assert [r.ports for r in rules if r.service.startswith("Aprovisionamiento")] == ["69"]
    assert len([r for r in rules if r.protocol == "UDP" and r.ports == "5060"]) == 1
    odd = Site("X", "x", "http://10.0.0.5:8080/prov/k/", "tftp://10.0.0.5:6969/k/", "pbx.x", 5070, "tls")
    added = {(r.protocol, r.ports, r.destinations) for r in resolve_rules(DEFAULT_RULES, odd)}
    assert {("TCP", "8080", ("10.0.0.5",)), ("UDP", "6969", ("10.0.0.5",)), ("TCP", "5070", ("pbx.x",))} <= added


@pytest.mark.parametrize("url", [
    'https://x/"; rm -rf /',
    "https://x/a b/",
    "https://x/\nhost-record=evil",
    "https://x/$(VAR)/",
    "https://x/#comment",
    "ftp//no-scheme",
    "https://x/" + "a" * 300,
])
def test_a_url_that_could_break_out_of_the_quotes_is_refused(url: str) -> None:
    with pytest.raises(SettingsError):
        safe_url(url)
    with pytest.raises(SettingsError):
        dhcp_snippets(url, ipaddress.IPv4Network("192.0.2.0/24"))


@pytest.mark.parametrize(("text", "ok"), [
    ("192.0.2.0/24", True), ("10.0.0.0/8", True), ("172.16.5.0/29", True),
    ("10.0.0.1/24", False), ("192.0.2.0/30", False), ("10.0.0.0/7", False), ("fe80::/64", False), ("nada", False),
])
def test_voice_subnet(text: str, ok: bool) -> None:
    if ok:
        assert str(parse_subnet(text)) == text
    else:
        with pytest.raises(InputError):
            parse_subnet(text)


# snippet key -> lines it must carry for the tenant URL on 192.0.2.0/24 (network.md §3's syntax)
EXPECTED_LINES = {
    "dnsmasq": [f'dhcp-option=66,"{URL}"', f'dhcp-option-force=160,"{URL}"', "dhcp-range=192.0.2.100,192.0.2.254,255.255.255.0,12h"],
    "dhcpd": ["option polycom-prov code 160 = text;", f'  option tftp-server-name "{URL}";', f'  option polycom-prov "{URL}";',
              "subnet 192.0.2.0 netmask 255.255.255.0 {"],
    "kea": ['"name": "tftp-server-name"', f'"data": "{URL}"', '"code": 160', '"always-send": true'],
    "mikrotik": [f"/ip dhcp-server option add name=prov66 code=66 value=\"'{URL}'\"",
                 f"/ip dhcp-server option add name=prov160 code=160 value=\"'{URL}'\"",
                 '/ip dhcp-server network set [find address="192.0.2.0/24"] dhcp-option=prov66,prov160'],
    "windows": [f'Set-DhcpServerv4OptionValue -ScopeId 192.0.2.0 -OptionId 66 -Value "{URL}"',
                'Add-DhcpServerv4OptionDefinition -OptionId 160 -Name "Provisioning URL" -Type String',
                f'Set-DhcpServerv4OptionValue -ScopeId 192.0.2.0 -OptionId 160 -Value "{URL}"'],
    "fortigate": ["config system dhcp server", "        set code 66", "        set code 160", f'        set value "{URL}"'],
    "sophos": ["Código 66", "Código 160", URL],
}


@pytest.mark.parametrize("key", sorted(EXPECTED_LINES))
def test_each_dhcp_server_gets_the_tenant_url(key: str) -> None:
    snippet = next(s for s in dhcp_snippets(URL, ipaddress.IPv4Network("192.0.2.0/24")) if s.key == key)
    for line in EXPECTED_LINES[key]:
        assert line in snippet.text, (key, line)


def test_sip_alg_commands() -> None:
    steps = {s.key: s.text for s in sip_alg_steps()}
    assert set(steps) == {"fortigate", "sophos", "mikrotik"}
    assert "set default-voip-alg-mode kernel-helper-based" in steps["fortigate"]
    assert "config system session-helper" in steps["fortigate"] and "delete <id>" in steps["fortigate"]
    assert "system system_modules sip unload" in steps["sophos"]
    assert "/ip firewall service-port set sip disabled=yes" in steps["mikrotik"]


def test_the_markdown_kit() -> None:
    kit = build_kit(SITE, DEFAULT_RULES, calls=12)
    text = to_markdown(kit)
    for heading in ("opción 66", "servidor DHCP", "SIP ALG", "firewall", "Ancho de banda", "VLAN de voz", "Extensiones"):
        assert heading in text
    assert f"`{URL}`" in text and "`tftp://prov.example.net/Key_123-abc/`" in text
    assert "12 llamadas simultáneas × 100 kbps = **1200 kbps (1,2 Mbps)" in text
    assert "| 201 | Ana \\| Pérez | Ventas | 001565000021 | Yealink T21P | 1 |" in text  # a | cannot break the table
    assert "| 202 | Bo | — | sin asignar | — | — |" in text
    assert "DSCP EF (46)" in text
    assert "/etc/dnsmasq.d/telefonos.conf" in text and "066 Boot Server Host Name" in text  # what to adapt, per server
    assert build_kit(SITE, DEFAULT_RULES).calls == 2  # default: every extension at once
    assert build_kit(Site("E", "e", URL, URL, "pbx", 5060, "udp"), DEFAULT_RULES).calls == 1


@pytest.mark.parametrize(("url", "warned"), [
    ("http://127.0.0.1:8080/prov/k/", True), ("http://localhost/prov/k/", True), ("http://[::1]:8080/prov/k/", True),
    ("https://prov.example.net/prov/k/", False), ("http://10.0.0.5/prov/k/", False),
])
def test_a_kit_pointing_at_loopback_says_so(url: str, warned: bool) -> None:
    kit = build_kit(Site("A", "a", url, "tftp://x/k/", "pbx", 5060, "udp"), DEFAULT_RULES)
    assert bool(kit.warnings) == warned
    assert ("PROVISIONER_PUBLIC_URL" in to_markdown(kit)) == warned
