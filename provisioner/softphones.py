"""Softphones: the homologated apps that have no MAC, and what each one is given (pure: no I/O).

    catalog row (kind softphone | mobile) --how_delivered--> JITSI | WAVE | BY_HAND
    sip_accounts.sip_account(TenantView, LineView) (what every desk phone's line and the
    PBX export read: SIP user, domain/realm, outbound proxy)
        --SoftphoneAccount.of--> jitsi_properties (Jitsi Desktop's provisioning answer)
                              wave_account_xml (the QR code Grandstream Wave scans)
                              account_settings (what a person types into WeKall)
    Jitsi's provisioning form --jitsi_report--> (model it is, version it runs) --judge--> findings

What each app supports (sources in the README's "Softphones" section):
  * Jitsi Desktop: its provisioning plugin (net.java.sip.communicator.plugin.provisioning)
    POSTs the query parameters of its configured URL as a form, after replacing ${uuid},
    ${osname}, ${build} ... and asking the user for ${username} / ${password}; a 401 makes it
    ask again. The answer is a Java properties file; keys ending in ".PASSWORD" go to its
    credentials store (ProvisioningServiceImpl.processProperty).
  * Grandstream Wave (Android, iOS): adds an account from a QR code holding an XML
    <AccountConfig> (what Grandstream's UCM shows its users); it reports nothing back to us.
  * WeKall APP Windows: no public provisioning protocol, config format or User-Agent; the
    account is typed in by hand from the settings shown once.
  * REGISTER User-Agents (app_user_agent): Jitsi sends its name, version and os.name run
    together, "Jitsi2.10.5550Windows 10", "Jitsi2.10.5550Mac OS X", "Jitsi2.11.20200408Linux"
    (SIP traces in public repositories and docs); Grandstream Wave "Grandstream Wave 1.2.14"
    (a public SIP client imitating it), no OS named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from firmware_catalog import Catalog, CatalogEntry
from provisioner import labels
from provisioner.findings import CONFIG_FETCH, Judgement, assess
from provisioner.rendering import xml_text
from provisioner.sip_accounts import HostPort, SipAccount
from provisioner.values import LineView, TenantView

SOFTPHONE_KINDS = frozenset({"softphone", "mobile"})  # catalog kinds that never fetch a config by MAC
DEVICE_PREFIX = "ext-"  # a softphone's name in incidents and the device list: "ext-101" (never a MAC: 'x', 't')
JITSI_ACCOUNT_PREFIX = "net.java.sip.communicator.impl.protocol.sip."


class Entry(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def vendor(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def kind(self) -> str: ...


class Delivery(StrEnum):
    JITSI = "jitsi"  # provisioning URL + username + provisioning secret
    WAVE = "wave"  # QR code with the account (AccountConfig XML)
    BY_HAND = "by_hand"  # the settings, to type in


def is_softphone(entry: Entry | None) -> bool:
    return entry is not None and entry.kind in SOFTPHONE_KINDS


def full_model(entry: Entry) -> str:
    """"Grandstream Wave Android", "Jitsi Windows": the model with its vendor once."""
    return entry.model if entry.model.lower().startswith(entry.vendor) else f"{entry.vendor.capitalize()} {entry.model}"


_KIND_WORDS = {"softphone": "de escritorio (softphone)", "mobile": "móvil"}  # mac_refusal's words for the catalog kinds


def mac_refusal(entry: Entry) -> str:
    """The one message for a MAC bound to a softphone model (`extension add` and import alike)."""
    return (f"{full_model(entry)} es una aplicación {_KIND_WORDS.get(entry.kind, entry.kind)}, no se aprovisiona por MAC: "
            "indique su modelo sin MAC y sin línea")


def how_delivered(entry: Entry) -> Delivery:
    if entry.vendor == "jitsi":
        return Delivery.JITSI
    if entry.vendor == "grandstream":
        return Delivery.WAVE
    return Delivery.BY_HAND


def device_name(extension: str) -> str:
    """What a softphone is called where a phone would be named by its MAC (incidents, devices)."""
    return f"{DEVICE_PREFIX}{extension}"


@dataclass(frozen=True)
class SoftphoneAccount:
    """One SIP account as an app needs it: line 1 of sip_accounts.sip_account, so a softphone
    registers exactly as a desk phone's line does (same user, realm, proxy, password)."""

    extension: str
    display_name: str
    user: str  # user part of the address of record
    auth_user: str  # digest username
    password: str
    domain: str  # SIP domain = digest realm (host part of the address of record)
    port: int
    transport: str  # "udp" | "tcp" | "tls"
    proxy: HostPort | None = None  # outbound proxy; None: requests go to the domain itself

    @classmethod
    def of(cls, account: SipAccount) -> SoftphoneAccount:
        return cls(account.extension, account.display_name, account.user, account.auth_user, account.password,
                   account.domain, account.port, account.transport, account.proxy)

    @property
    def domain_port(self) -> str:
        return self.domain if self.port == 5060 else f"{self.domain}:{self.port}"

    @property
    def next_hop(self) -> HostPort:
        """Where the app sends its REGISTER: the outbound proxy, else the domain."""
        return self.proxy or HostPort(self.domain, self.port)


# -- Jitsi Desktop -----------------------------------------------------------------------------
_PROPERTY_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]")


def property_value(value: object) -> str:
    """A Java properties value on one line: no line breaks or controls, backslash escaped,
    a leading space kept, anything beyond ASCII as \\uXXXX (Properties.load reads ISO-8859-1)."""
    text = _PROPERTY_UNSAFE.sub(" ", str(value)).replace("\\", "\\\\")
    if text.startswith(" "):
        text = "\\" + text
    return "".join(c if ord(c) < 0x80 else "".join(f"\\u{u:04x}" for u in _utf16(c)) for c in text)


def _utf16(character: str) -> tuple[int, ...]:
    data = character.encode("utf-16-be")
    return tuple(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))


def jitsi_properties(account: SoftphoneAccount) -> str:
    """Jitsi Desktop's provisioning answer: one SIP account (property names of Jitsi's SIP
    protocol provider, ProtocolProviderFactory's constants as sip-communicator.properties
    writes them).

    USER_ID "user@domain" is the address of record (its domain is the To domain, the realm).
    SERVER_ADDRESS is the registrar Jitsi sends REGISTER to and must resolve: Jitsi's
    ProtocolProviderServiceSipImpl.initRegistrarConnection refuses an account whose
    SERVER_ADDRESS does not resolve (IllegalArgumentException "appears to be an either invalid
    or inaccessible address"), and a tenant's SIP domain need not resolve when it has an
    outbound proxy. So with a proxy: SERVER_ADDRESS/SERVER_PORT and PROXY_ADDRESS/PROXY_PORT
    are the proxy, PROXY_AUTO_CONFIG false (no DNS discovery); without one: the domain, and
    PROXY_AUTO_CONFIG true (Jitsi then falls back to SERVER_ADDRESS, initOutboundProxy)."""
    prefix = f"{JITSI_ACCOUNT_PREFIX}acc{account.extension}"
    user_id = f"{account.user}@{account.domain}"
    hop = account.next_hop
    values: list[tuple[str, object]] = [
        ("", f"acc{account.extension}"),
        (".ACCOUNT_UID", f"SIP:{user_id}"),
        (".PROTOCOL_NAME", "SIP"),
        (".USER_ID", user_id),
        (".AUTHORIZATION_NAME", account.auth_user),
        (".PASSWORD", account.password),  # Jitsi moves it into its credentials store
        (".DISPLAY_NAME", account.display_name),
        (".SERVER_ADDRESS", hop.host),
        (".SERVER_PORT", hop.port),
        (".PREFERRED_TRANSPORT", account.transport.upper()),
    ]
    if account.proxy is not None:
        values += [(".PROXY_AUTO_CONFIG", "false"), (".PROXY_ADDRESS", account.proxy.host),
                   (".PROXY_PORT", account.proxy.port), (".PROXY_TRANSPORT", account.transport.upper())]
    else:
        values.append((".PROXY_AUTO_CONFIG", "true"))
    values.append((".IS_ACCOUNT_DISABLED", "false"))
    lines = ["# SIP account of this extension, from the provisioning server"]  # ASCII: Properties.load reads ISO-8859-1
    lines += [f"{prefix}{suffix}={property_value(value)}" for suffix, value in values]
    return "\n".join(lines) + "\n"


_VERSION = re.compile(r"[0-9][0-9A-Za-z.\-]{0,39}")
_JITSI_AGENT = re.compile(r"\b(?:Jitsi|sip-communicator)/([0-9][0-9A-Za-z.\-]{0,39})", re.IGNORECASE)


@dataclass(frozen=True)
class AppReport:
    model: str | None  # what the app says it is, as the catalog spells it ("Jitsi Windows"); None: not said
    version: str | None  # None: not said (or not a version)


def jitsi_report(osname: str | None, build: str | None, user_agent: str | None) -> AppReport:
    """What one Jitsi provisioning request says of the app: its OS (${osname}: Java's os.name,
    "Windows 10", "Mac OS X") and its version (${build}: sip-communicator.version, else a
    "Jitsi/<version>" User-Agent token)."""
    model = _jitsi_model(osname or "")
    version = (build or "").strip()
    if not _VERSION.fullmatch(version):
        agent = _JITSI_AGENT.search(user_agent or "")
        version = agent.group(1) if agent else ""
    return AppReport(model, version or None)


def _jitsi_model(os_name: str) -> str | None:
    """The catalog's spelling of a Jitsi from Java's os.name ("Windows 10", "Mac OS X")."""
    os_name = " ".join(os_name.split())[:40]
    if not os_name:
        return None
    if os_name.lower().startswith("windows"):
        return "Jitsi Windows"
    if os_name.lower().startswith("mac"):
        return "Jitsi MacOS"
    return f"Jitsi {os_name}"


# -- REGISTER User-Agents of the apps ------------------------------------------------------------
# Jitsi's SIP User-Agent runs its product tokens together: name, version, os.name
# ("Jitsi2.10.5550Windows 10", "Jitsi2.10.5550Mac OS X", "Jitsi2.11.20200408Linux",
# "Jitsi2.2.4603.9615Linux": REGISTER/INVITE traces published in public repositories).
_JITSI_SIP_AGENT = re.compile(r"Jitsi(?P<version>[0-9]{1,4}(?:\.[0-9]{1,10}){1,3})(?P<os>[A-Za-z][ -~]{0,40})?")
# Grandstream Wave: "Grandstream Wave 1.2.14" (a public SIP client copying Wave's header); the
# web client sends "Grandstream Wave/webrtc_chrome" (no version: not read). No OS is named,
# so which Wave row (Android, iOS) it is comes from the extension's assigned app.
_WAVE_SIP_AGENT = re.compile(r"Grandstream Wave(?: Lite)?[ /](?P<version>[0-9]{1,4}(?:\.[0-9]{1,10}){1,3})\b")


@dataclass(frozen=True)
class AppAgent:
    """What an app's REGISTER User-Agent says of it."""

    vendor: str  # as catalog rows spell it: "jitsi", "grandstream"
    model: str | None  # the catalog's spelling ("Jitsi Windows"); None: the agent does not say (Wave)
    version: str


def app_user_agent(user_agent: str | None) -> AppAgent | None:
    """The softphone app a REGISTER User-Agent names (Jitsi, Grandstream Wave), else None."""
    text = (user_agent or "").strip()[:256]
    jitsi = _JITSI_SIP_AGENT.fullmatch(text)
    if jitsi:
        return AppAgent("jitsi", _jitsi_model(jitsi["os"] or ""), jitsi["version"])
    wave = _WAVE_SIP_AGENT.match(text)
    if wave:
        return AppAgent("grandstream", None, wave["version"])
    return None


def app_entry(catalog: Catalog, agent: AppAgent, assigned: CatalogEntry | None) -> tuple[CatalogEntry | None, str | None]:
    """(catalog row, model seen) of an app User-Agent: the row its model names; for an agent
    that names no model (Wave), the extension's assigned app when it is that vendor's
    softphone (None, None: nothing to judge it against)."""
    if agent.model is not None:
        return catalog.find(agent.model, vendor=agent.vendor), agent.model
    if assigned is not None and assigned.vendor == agent.vendor and is_softphone(assigned):
        return assigned, full_model(assigned)
    return None, None


# -- Grandstream Wave --------------------------------------------------------------------------
def wave_account_xml(account: SoftphoneAccount) -> str:
    """The account as Wave's "scan QR code" takes it: the <AccountConfig> a Grandstream UCM
    shows its users (field names as the PBXs that generate it write them: RegisterServer is
    the SIP domain (with its port when not 5060), OutboundServer "host:port" the outbound
    proxy or empty, UserID the SIP user, AuthID/AuthPass the digest credentials)."""
    fields = [
        ("RegisterServer", account.domain_port),
        ("OutboundServer", str(account.proxy) if account.proxy else ""),
        ("UserID", account.user),
        ("AuthID", account.auth_user),
        ("AuthPass", account.password),
        ("AccountName", account.extension),
        ("DisplayName", account.display_name),
    ]
    body = "".join(f"<{name}>{xml_text(value)}</{name}>" for name, value in fields)
    return f'<?xml version="1.0" encoding="utf-8"?><AccountConfig version="1"><Account>{body}</Account></AccountConfig>'


# -- every app: the settings a person reads ------------------------------------------------------
SETTING_LABELS = labels.SOFTPHONE_SETTINGS  # field -> Spanish label (tests read the page back by these)


def account_settings(account: SoftphoneAccount) -> list[tuple[str, str]]:
    """(Spanish label, value) for the page that shows the account once: the fields every SIP
    app's manual account form has (domain, outbound proxy, user, authentication user)."""
    values = {
        "domain": account.domain, "port": str(account.port), "transport": account.transport.upper(),
        "proxy": str(account.proxy) if account.proxy else labels.SOFTPHONE_NO_PROXY, "user": account.user,
        "auth_user": account.auth_user, "password": account.password, "extension": account.extension,
        "display_name": account.display_name,
    }
    return [(SETTING_LABELS[name], value) for name, value in values.items()]


def account_qr_text(account: SoftphoneAccount, delivery: Delivery) -> str:
    """What the page's QR code holds: Wave's AccountConfig, else the account as a SIP URI
    with the settings (apps without a QR import still show a readable text)."""
    if delivery is Delivery.WAVE:
        return wave_account_xml(account)
    proxy = f"\nproxy={account.proxy}" if account.proxy else ""
    return (f"sip:{account.user}@{account.domain_port};transport={account.transport}\n"
            f"usuario={account.auth_user}\ncontraseña={account.password}{proxy}")


# -- compliance ----------------------------------------------------------------------------------
def judge_app(assigned: CatalogEntry, found: CatalogEntry | None, report: AppReport) -> Judgement:
    """Findings of one app contact, as a desk phone's: what the app says it is (`found`, the
    catalog row of report.model; None: not homologated), else what it is assigned as; one line.
    No version reported: firmware findings are neither raised nor cleared (findings.assess)."""
    entry = found if report.model else assigned
    return assess(entry, report.version, 1, report.model, CONFIG_FETCH)

