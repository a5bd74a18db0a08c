"""Softphones: the homologated apps that have no MAC, and what each one is given (pure: no I/O).

    catalog row (kind softphone | mobile) --how_delivered--> JITSI | WAVE | BY_HAND
    TenantView + LineView (the same account context as the desk phones' renderers)
        --SoftphoneAccount--> jitsi_properties (Jitsi Desktop's provisioning answer)
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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from firmware_catalog import CatalogEntry
from provisioner.findings import CONFIG_FETCH, Judgement, assess
from provisioner.rendering import xml_text
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
    """One SIP account as an app needs it, built from the desk phones' own account context."""

    extension: str
    display_name: str
    auth_user: str
    password: str
    sip_server: str
    sip_port: int
    transport: str  # "udp" | "tcp" | "tls"

    @classmethod
    def of(cls, tenant: TenantView, line: LineView) -> SoftphoneAccount:
        return cls(line.extension, line.display_name, line.auth_user, line.password, tenant.sip_server,
                   tenant.sip_port, tenant.sip_transport)

    @property
    def registrar(self) -> str:
        return self.sip_server if self.sip_port == 5060 else f"{self.sip_server}:{self.sip_port}"


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
    protocol provider, as its own sip-communicator.properties writes them)."""
    prefix = f"{JITSI_ACCOUNT_PREFIX}acc{account.extension}"
    user_id = f"{account.auth_user}@{account.sip_server}"
    values = [
        ("", f"acc{account.extension}"),
        (".ACCOUNT_UID", f"SIP:{user_id}"),
        (".PROTOCOL_NAME", "SIP"),
        (".USER_ID", user_id),
        (".AUTHORIZATION_NAME", account.auth_user),
        (".PASSWORD", account.password),  # Jitsi moves it into its credentials store
        (".DISPLAY_NAME", account.display_name),
        (".SERVER_ADDRESS", account.sip_server),
        (".SERVER_PORT", account.sip_port),
        (".PREFERRED_TRANSPORT", account.transport.upper()),
        (".PROXY_AUTO_CONFIG", "true"),
        (".IS_ACCOUNT_DISABLED", "false"),
    ]
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
    os_name = " ".join((osname or "").split())[:40]
    if not os_name:
        model = None
    elif os_name.lower().startswith("windows"):
        model = "Jitsi Windows"
    elif os_name.lower().startswith("mac"):
        model = "Jitsi MacOS"
    else:
        model = f"Jitsi {os_name}"
    version = (build or "").strip()
    if not _VERSION.fullmatch(version):
        agent = _JITSI_AGENT.search(user_agent or "")
        version = agent.group(1) if agent else ""
    return AppReport(model, version or None)


# -- Grandstream Wave --------------------------------------------------------------------------
def wave_account_xml(account: SoftphoneAccount) -> str:
    """The account as Wave's "scan QR code" takes it (the <AccountConfig> a UCM shows its users)."""
    fields = [
        ("RegisterServer", account.registrar),
        ("UserID", account.auth_user),
        ("AuthID", account.auth_user),
        ("AuthPass", account.password),
        ("AccountName", account.extension),
        ("DisplayName", account.display_name),
    ]
    body = "".join(f"<{name}>{xml_text(value)}</{name}>" for name, value in fields)
    return f'<?xml version="1.0" encoding="utf-8"?><AccountConfig version="1"><Account>{body}</Account></AccountConfig>'


# -- every app: the settings a person reads ------------------------------------------------------
def account_settings(account: SoftphoneAccount) -> list[tuple[str, str]]:
    """(Spanish label, value) for the page that shows the account once."""
    return [
        ("Servidor SIP (dominio)", account.sip_server),
        ("Puerto", str(account.sip_port)),
        ("Transporte", account.transport.upper()),
        ("Usuario SIP", account.auth_user),
        ("Usuario de autenticación", account.auth_user),
        ("Contraseña SIP", account.password),
        ("Extensión", account.extension),
        ("Nombre a mostrar", account.display_name),
    ]


def account_qr_text(account: SoftphoneAccount, delivery: Delivery) -> str:
    """What the page's QR code holds: Wave's AccountConfig, else the account as a SIP URI
    with the settings (apps without a QR import still show a readable text)."""
    if delivery is Delivery.WAVE:
        return wave_account_xml(account)
    return (f"sip:{account.auth_user}@{account.registrar};transport={account.transport}\n"
            f"usuario={account.auth_user}\ncontraseña={account.password}")


# -- compliance ----------------------------------------------------------------------------------
def judge_app(assigned: CatalogEntry, found: CatalogEntry | None, report: AppReport) -> Judgement:
    """Findings of one app contact, as a desk phone's: what the app says it is (`found`, the
    catalog row of report.model; None: not homologated), else what it is assigned as; one line.
    No version reported: firmware findings are neither raised nor cleared (findings.assess)."""
    entry = found if report.model else assigned
    return assess(entry, report.version, 1, report.model, CONFIG_FETCH)

