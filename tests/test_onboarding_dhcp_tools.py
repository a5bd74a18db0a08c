"""The kit's DHCP snippets pass their own servers' checks (issue 18): dnsmasq --test,
dhcpd -t, kea-dhcp4 -t, for several networks and a tenant URL of each shape we hand out.
The snippets are built by the pure provisioner.onboarding.dhcp_snippets, exactly as the CLI
and the page print them."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from pathlib import Path

import pytest

from provisioner.onboarding import dhcp_snippets

URLS = [
    "https://prov.example.net/prov/nz_BD8diCKBCxt6H79T46MNSyeB2tjFb/",
    "http://192.0.2.10:8080/prov/Ab-_0123456789abcdefghijklmnopqrstu/",
]
SUBNETS = ["192.0.2.0/24", "10.20.0.0/16", "172.16.5.0/28"]
TOOLS = {
    "dnsmasq": (("dnsmasq", "--test", "-C"), "dnsmasq.conf"),
    "dhcpd": (("dhcpd", "-t", "-cf"), "dhcpd.conf"),
    "kea": (("kea-dhcp4", "-t"), "kea-dhcp4.conf"),
}


def _snippet(key: str, url: str, subnet: str) -> str:
    return next(s.text for s in dhcp_snippets(url, ipaddress.IPv4Network(subnet)) if s.key == key)


@pytest.mark.parametrize("subnet", SUBNETS)
@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("key", sorted(TOOLS))
def test_snippet_passes_its_servers_check(key: str, url: str, subnet: str, tmp_path: Path) -> None:
    command, name = TOOLS[key]
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed (scripts/test installs it)")
    path = tmp_path / name
    path.write_text(_snippet(key, url, subnet))
    result = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("key", sorted(TOOLS))
def test_a_broken_snippet_fails_the_same_check(key: str, tmp_path: Path) -> None:
    """The check can fail: the same snippet with its option line mangled is refused."""
    command, name = TOOLS[key]
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed")
    text = _snippet(key, URLS[0], SUBNETS[0])
    broken = {"dnsmasq": text.replace("dhcp-option=66,", "dhcp-option=66;"),
              "dhcpd": text.replace("option tftp-server-name", "option tftp-server-nam"),
              "kea": text.replace('"subnet": "192.0.2.0/24"', '"subnet": "192.0.2.0/33"')}[key]
    assert broken != text
    path = tmp_path / name
    path.write_text(broken)
    result = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode != 0
