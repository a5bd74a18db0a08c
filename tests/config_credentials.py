"""SIP credentials read out of served configs, one parser per config format.

Written from the vendors' parameter references, NOT from our templates or renderers: if a
renderer writes a wrong parameter name, these parsers do not find the account (or find the
wrong value) and the registration test fails.

    Yealink V72/V73 key = value   account.N.enable/user_name/auth_name/password,
                                  account.N.sip_server.1.address/.port (V73 also sip_server_host/_port),
                                  account.N.outbound_proxy_enable/outbound_host/outbound_port
    Polycom UCS XML               reg.N.address (user, or user@domain), reg.N.auth.userId/.password,
                                  reg.N.server.1.address/.port, reg.N.outboundProxy.address/.port
    Grandstream P-values          per account: active, SIP server "host[:port]", outbound proxy,
                                  user id, auth id, password (GXP16xx/GXV accounts 1-6; DP750 profile 1
                                  server P47 / proxy P48 and account arrays from P4060/P4090/P4120/P4595)

Each parser returns every account the config enables, as tests.sip_register.Credentials.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from tests.sip_register import Credentials

Parser = Callable[[bytes], list[Credentials]]


def _host_port(text: str, default: int = 5060) -> tuple[str, int]:
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default
    host, _, port = text.partition(":")
    return host, int(port) if port else default


# -- Yealink ---------------------------------------------------------------------------------
def yealink(body: bytes) -> list[Credentials]:
    values: dict[str, str] = {}
    for raw in body.decode().splitlines():
        if raw.startswith("#") or "=" not in raw:
            continue
        key, _, value = raw.partition("=")
        values[key.strip()] = value.strip()
    found = []
    for n in range(1, 17):
        key = f"account.{n}."
        if values.get(key + "enable") != "1":
            continue
        domain, port = values[key + "sip_server.1.address"], int(values[key + "sip_server.1.port"])
        if key + "sip_server_host" in values:  # V73 legacy names: must say the same
            assert (values[key + "sip_server_host"], int(values[key + "sip_server_port"])) == (domain, port)
        proxy = None
        if values.get(key + "outbound_proxy_enable") == "1":
            proxy = (values[key + "outbound_host"], int(values[key + "outbound_port"]))
        found.append(Credentials(n, values[key + "user_name"], values[key + "auth_name"], values[key + "password"],
                                 domain, port, proxy))
    return found


# -- Polycom ---------------------------------------------------------------------------------
def polycom(body: bytes) -> list[Credentials]:
    values: dict[str, str] = {}
    for element in ET.fromstring(body).iter():
        for name, value in element.attrib.items():
            values.setdefault(name, value)  # UCS: the first occurrence of a parameter wins
    found = []
    for n in range(1, 35):
        key = f"reg.{n}."
        if key + "address" not in values or not values[key + "address"]:
            continue
        user, _, domain = values[key + "address"].partition("@")
        server = values[key + "server.1.address"]
        port = int(values.get(key + "server.1.port") or 5060)
        proxy = None
        if values.get(key + "outboundProxy.address"):
            proxy = (values[key + "outboundProxy.address"], int(values.get(key + "outboundProxy.port") or 5060))
        found.append(Credentials(n, user, values[key + "auth.userId"], values[key + "auth.password"],
                                 domain or server, port, proxy))
    return found


# -- Grandstream -----------------------------------------------------------------------------
# (active, server, outbound proxy, user id, auth id, password) per account, GXP16xx/GXV layout.
GRANDSTREAM_ACCOUNTS = [
    ("P271", "P47", "P48", "P35", "P36", "P34"),
    ("P401", "P402", "P403", "P404", "P405", "P406"),
    ("P501", "P502", "P503", "P504", "P505", "P506"),
    ("P601", "P602", "P603", "P604", "P605", "P606"),
    ("P1701", "P1702", "P1703", "P1704", "P1705", "P1706"),
    ("P1801", "P1802", "P1803", "P1804", "P1805", "P1806"),
]


def _p_values(body: bytes) -> dict[str, str]:
    config = ET.fromstring(body).find("config")
    assert config is not None
    return {element.tag: element.text or "" for element in config}


def _grandstream_credentials(n: int, server: str, proxy: str, user: str, auth: str, password: str) -> Credentials:
    domain, port = _host_port(server)
    return Credentials(n, user, auth, password, domain, port, _host_port(proxy) if proxy else None)


def grandstream(body: bytes) -> list[Credentials]:
    values = _p_values(body)
    found = []
    for n, (active, server, proxy, user, auth, password) in enumerate(GRANDSTREAM_ACCOUNTS, start=1):
        if values.get(active) == "1":
            found.append(_grandstream_credentials(n, values[server], values.get(proxy, ""), values[user],
                                                  values[auth], values[password]))
    return found


def grandstream_dp750(body: bytes) -> list[Credentials]:
    """DP750: accounts use SIP profile 1 (P47 server, P48 proxy) when their P4150+i is 0."""
    values = _p_values(body)
    assert values.get("P271") == "1", "profile 1 is not active"
    found = []
    for i in range(10):
        if values.get(f"P{4595 + i}") == "1":
            assert values[f"P{4150 + i}"] == "0"
            found.append(_grandstream_credentials(i + 1, values["P47"], values.get("P48", ""), values[f"P{4060 + i}"],
                                                  values[f"P{4090 + i}"], values[f"P{4120 + i}"]))
    return found
