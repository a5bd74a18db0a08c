"""Who the client is behind a reverse proxy (pure: no I/O).

    parse_networks(text)                        "10.0.0.5, 192.168.8.0/24" -> the trusted networks
    client_address(peer, forwarded_for, trusted) the address a request came from

`X-Forwarded-For` is whatever the client wrote, with each proxy appending the address it got
the request from. Only a trusted proxy's word counts: the header is read only when the peer
is in a trusted network, and only from the right, past addresses that are trusted proxies
themselves. The first address that is not one is the client (nginx's real_ip_recursive);
anything left of it may be forged. A malformed entry ends the walk: the last address believed
stands.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR networks; ValueError names the one that is neither."""
    networks = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network (CIDR)") from None
    return tuple(networks)


def client_address(peer: str, forwarded_for: Iterable[str], trusted: tuple[Network, ...]) -> str:
    """The client's address: `peer`, or what trusted proxies say in `forwarded_for` (the
    header's values, in order; one header may list several addresses)."""
    believed = parse_address(peer)
    if believed is None or not is_trusted(believed, trusted):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        believed = address
        if not is_trusted(address, trusted):
            break
    return str(believed)


def is_trusted(address: Address, trusted: tuple[Network, ...]) -> bool:
    return any(address in network for network in trusted)


def parse_address(text: str) -> Address | None:
    """An address as peers and proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
    `[2001:db8::1]:4711`; an IPv4-mapped IPv6 address (dual-stack socket) is its IPv4."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
