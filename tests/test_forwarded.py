"""Who the client is behind a reverse proxy (provisioner.forwarded), as a table of real headers."""

from __future__ import annotations

import pytest

from provisioner.forwarded import client_address, parse_address, parse_networks

TRUSTED = parse_networks("10.0.0.5, 172.16.0.0/12, 2001:db8:ffff::/48")


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        # A client straight to us: its header is whatever it wrote, and is ignored.
        ("198.51.100.7", ["203.0.113.9"], "198.51.100.7"),
        ("198.51.100.7", ["10.0.0.5"], "198.51.100.7"),
        ("2001:db8:1::7", ["203.0.113.9"], "2001:db8:1::7"),
        # nginx ($proxy_add_x_forwarded_for) in front: the right-most address is the phone.
        ("10.0.0.5", ["190.24.8.16"], "190.24.8.16"),
        ("10.0.0.5", ["2800:e2:abcd::10"], "2800:e2:abcd::10"),
        # A client's forged entries stay on the left of the address nginx appended.
        ("10.0.0.5", ["1.2.3.4, 190.24.8.16"], "190.24.8.16"),
        ("10.0.0.5", ["10.0.0.9", "190.24.8.16"], "190.24.8.16"),  # two headers: one list
        ("10.0.0.5", ["garbage, 190.24.8.16"], "190.24.8.16"),
        # Chained proxies we trust are walked past; the first untrusted address is the client.
        ("10.0.0.5", ["190.24.8.16, 172.20.1.1"], "190.24.8.16"),
        ("10.0.0.5", ["6.6.6.6, 190.24.8.16, 172.20.1.1, 172.31.0.2"], "190.24.8.16"),
        ("10.0.0.5", ["190.24.8.16", "2001:db8:ffff::1"], "190.24.8.16"),
        # Ports and brackets as some proxies write them.
        ("10.0.0.5", ["190.24.8.16:51034"], "190.24.8.16"),
        ("10.0.0.5", ["[2800:e2:abcd::10]:51034"], "2800:e2:abcd::10"),
        ("10.0.0.5", ["[2800:e2:abcd::10]"], "2800:e2:abcd::10"),
        # A trusted proxy without a header, or with nothing believable: the proxy itself.
        ("10.0.0.5", [], "10.0.0.5"),
        ("10.0.0.5", [""], "10.0.0.5"),
        ("10.0.0.5", ["unknown"], "10.0.0.5"),
        ("10.0.0.5", ["190.24.8.16, 172.20.1.1, garbage"], "10.0.0.5"),
        ("10.0.0.5", ["190.24.8.16, garbage, 172.20.1.1"], "172.20.1.1"),
        # Every hop trusted: the left-most is the best we know.
        ("10.0.0.5", ["172.20.1.1, 172.20.1.2"], "172.20.1.1"),
        # A dual-stack socket shows an IPv4 proxy as IPv4-mapped IPv6.
        ("::ffff:10.0.0.5", ["190.24.8.16"], "190.24.8.16"),
        ("::ffff:198.51.100.7", ["190.24.8.16"], "::ffff:198.51.100.7"),
        # No peer address (a Unix socket): nothing to trust.
        ("", ["190.24.8.16"], ""),
    ],
)
def test_the_client_address_believes_only_trusted_proxies(peer: str, headers: list[str], client: str) -> None:
    assert client_address(peer, headers, TRUSTED) == client


def test_nothing_is_believed_without_trusted_proxies() -> None:
    assert client_address("10.0.0.5", ["190.24.8.16"], ()) == "10.0.0.5"


@pytest.mark.parametrize(
    ("text", "address"),
    [("192.0.2.1", "192.0.2.1"), (" 192.0.2.1:80 ", "192.0.2.1"), ("2001:db8::1", "2001:db8::1"),
     ("[2001:db8::1]:443", "2001:db8::1"), ("::ffff:192.0.2.1", "192.0.2.1"), ("192.0.2.256", None),
     ("unknown", None), ("_hidden", None), ("", None)],
)
def test_addresses_as_proxies_write_them(text: str, address: str | None) -> None:
    parsed = parse_address(text)
    assert (str(parsed) if parsed else None) == address


def test_trusted_networks_are_addresses_or_cidr() -> None:
    assert [str(n) for n in parse_networks("10.0.0.5,192.168.8.0/24, 2001:db8::/32,")] == [
        "10.0.0.5/32", "192.168.8.0/24", "2001:db8::/32"]
    assert parse_networks("") == ()
    with pytest.raises(ValueError, match="'nginx' is not an IP address or network"):
        parse_networks("10.0.0.5, nginx")
