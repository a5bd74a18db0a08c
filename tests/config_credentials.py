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

Softphones (the accounts the server hands the apps):

    Jitsi properties              net.java.sip.communicator.impl.protocol.sip.<acc>.USER_ID (user@domain),
                                  .AUTHORIZATION_NAME, .PASSWORD, .SERVER_ADDRESS/.SERVER_PORT (the
                                  registrar REGISTER is sent to), .PROXY_AUTO_CONFIG false +
                                  .PROXY_ADDRESS/.PROXY_PORT (outbound proxy): ProtocolProviderFactory's
                                  constants; Jitsi sends to the proxy, else to SERVER_ADDRESS
                                  (ProtocolProviderServiceSipImpl.initOutboundProxy)
    Grandstream Wave AccountConfig <RegisterServer> (domain[:port]), <OutboundServer> (host:port or empty),
                                  <UserID>, <AuthID>, <AuthPass>: the QR XML PBXs generate for Wave
    WeKall (by hand)              the settings table of the one-time page, by the Spanish labels a person
                                  reads there (WeKall publishes no parameter names: phones.md §6)

Each parser returns every account the config enables, as tests.sip_register.Credentials.
"""

from __future__ import annotations

import html
import re
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


# -- Jitsi Desktop (provisioning answer: a Java properties file) ------------------------------
JITSI_SIP = "net.java.sip.communicator.impl.protocol.sip."


def java_properties(text: str) -> dict[str, str]:
    """Java's Properties.load, the subset a provisioning answer uses (key=value lines, # and !
    comments, backslash escapes, \\uXXXX), from the java.util.Properties documentation."""
    found = {}
    for line in text.splitlines():
        line = line.lstrip()
        if not line or line.startswith(("#", "!")):
            continue
        key, _, value = line.partition("=")
        value = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), value)
        value = value.encode("utf-16", "surrogatepass").decode("utf-16")  # \\ud83d\\ude00 pairs
        found[key.strip()] = re.sub(r"\\(.)", r"\1", value)
    return found


def jitsi(body: bytes) -> list[Credentials]:
    values = java_properties(body.decode("latin-1"))
    accounts = sorted({key[len(JITSI_SIP):].split(".", 1)[0] for key in values
                       if key.startswith(JITSI_SIP) and key.endswith(".USER_ID")})
    found = []
    for n, account in enumerate(accounts, start=1):
        key = f"{JITSI_SIP}{account}."
        if values.get(key + "IS_ACCOUNT_DISABLED") == "true":
            continue
        user, _, domain = values[key + "USER_ID"].partition("@")
        server = values.get(key + "SERVER_ADDRESS") or domain  # no SERVER_ADDRESS: Jitsi uses USER_ID's domain
        server_port = int(values.get(key + "SERVER_PORT") or 5060)
        hop = (server, server_port)
        if values.get(key + "PROXY_AUTO_CONFIG") == "false" and values.get(key + "PROXY_ADDRESS"):
            hop = (values[key + "PROXY_ADDRESS"], int(values.get(key + "PROXY_PORT") or 5060))
        found.append(Credentials(n, user, values.get(key + "AUTHORIZATION_NAME") or user, values[key + "PASSWORD"],
                                 domain or server, server_port, hop))
    return found


# -- Grandstream Wave (the QR code's AccountConfig XML) --------------------------------------
def wave(body: bytes) -> list[Credentials]:
    root = ET.fromstring(body)
    assert root.tag == "AccountConfig", root.tag
    found = []
    for n, account in enumerate(root.findall("Account"), start=1):
        fields = {child.tag: (child.text or "").strip() for child in account}
        domain, port = _host_port(fields["RegisterServer"])
        outbound = fields.get("OutboundServer", "")
        found.append(Credentials(n, fields["UserID"], fields.get("AuthID") or fields["UserID"], fields["AuthPass"],
                                 domain, port, _host_port(outbound) if outbound else None))
    return found


# -- WeKall (typed in by hand from the one-time page) ----------------------------------------
WEKALL_LABELS = {"domain": "Dominio SIP (realm)", "port": "Puerto", "proxy": "Proxy de salida",
                 "user": "Usuario SIP", "auth_user": "Usuario de autenticación", "password": "Contraseña SIP"}


def settings_page(body: bytes) -> list[Credentials]:
    """What a person copies from the page's settings table into the app's account form."""
    rows = {html.unescape(label): html.unescape(value) for label, value in re.findall(
        r"<tr><th>([^<]*)</th><td><code class=\"setting\">([^<]*)</code></td></tr>", body.decode())}
    field = {name: rows[label] for name, label in WEKALL_LABELS.items()}
    proxy = _host_port(field["proxy"]) if ":" in field["proxy"] else None  # "(ninguno)": none
    return [Credentials(1, field["user"], field["auth_user"], field["password"], field["domain"], int(field["port"]),
                        proxy)]
