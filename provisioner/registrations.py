"""What the registrar knows, judged (pure: values in, values out; no I/O, no clock).

    registrar rows (provisioner.registrar: Kamailio `location`)  -> Registration
    tenant accounts (provisioner.sip_accounts) + registrations   -> AccountRegistration
        (registered or not, contact, User-Agent, the app and version the User-Agent names)
    a phone that fetched its config + its accounts' registrations -> never_registered finding
    an account on no desk phone (a softphone) + its User-Agent   -> the catalog's findings,
        judged exactly like a desk phone's config fetch (provisioner.findings.assess)

The findings go the usual way (DeviceFinding -> Observation -> TicketWriter): one
deduplicated incident per kind; a phone that registers recovers from `never_registered`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from firmware_catalog import Catalog, CatalogEntry
from provisioner.findings import CONFIG_FETCH, REGISTRATION_KINDS, FindingKind, assess
from provisioner.identification import parse_user_agent
from provisioner.incidents import DeviceFinding, device_findings
from provisioner.sip_accounts import SipAccount
from provisioner.softphones import app_entry, app_user_agent

SOFTPHONE_PREFIX = "sip:"  # a softphone has no MAC: its incidents name its account instead


@dataclass(frozen=True)
class Registration:
    """One contact binding the registrar holds for an address of record."""

    user: str
    domain: str
    contact: str
    user_agent: str
    expires: datetime | None  # None: the registrar does not say (then it is current)
    received: str = ""  # the source the REGISTER came from, when the registrar saw NAT


@dataclass(frozen=True)
class AccountRegistration:
    """One account of a tenant and what the registrar says of it."""

    extension: str
    user: str
    domain: str
    mac: str | None  # the desk phone carrying it, None: a softphone (or not placed yet)
    line: int | None
    registered: bool
    contact: str | None = None
    user_agent: str | None = None
    expires: datetime | None = None
    app: str | None = None  # vendor and model the User-Agent names, e.g. "yealink T21P", "jitsi Jitsi Windows"
    version: str | None = None  # the version the User-Agent names
    softphone: str | None = None  # the catalog key of the extension's assigned app (None: a desk phone's)

    def as_json(self) -> dict[str, object]:
        return {
            "extension": self.extension, "user": self.user, "domain": self.domain, "mac": self.mac,
            "line": self.line, "registered": self.registered, "contact": self.contact,
            "user_agent": self.user_agent, "expires": self.expires.isoformat() if self.expires else None,
            "app": self.app, "version": self.version,
        }


@dataclass(frozen=True)
class PlacedAccount:
    """A tenant account and where it is placed (mac/line None: on no desk phone)."""

    account: SipAccount
    mac: str | None
    line: int | None
    softphone: str | None = None  # the extension's assigned app (catalog key), if a softphone


def current(registrations: Iterable[Registration], now: datetime) -> dict[tuple[str, str], Registration]:
    """The latest unexpired binding per (user, domain); domains compare case-insensitively."""
    latest: dict[tuple[str, str], Registration] = {}
    for registration in registrations:
        if registration.expires is not None and registration.expires <= now:
            continue
        key = (registration.user, registration.domain.lower())
        kept = latest.get(key)
        if kept is None or _later(registration, kept):
            latest[key] = registration
    return latest


def account_registrations(
    placed: Sequence[PlacedAccount], registrations: Iterable[Registration], now: datetime
) -> list[AccountRegistration]:
    bindings = current(registrations, now)
    out = []
    for item in placed:
        account = item.account
        binding = bindings.get((account.user, account.domain.lower()))
        if binding is None:
            out.append(AccountRegistration(account.extension, account.user, account.domain, item.mac, item.line, False,
                                           softphone=item.softphone))
            continue
        app, version = _agent_app(binding.user_agent)
        out.append(AccountRegistration(
            account.extension, account.user, account.domain, item.mac, item.line, True, binding.contact,
            binding.user_agent or None, binding.expires, app, version, item.softphone,
        ))
    return out


def _agent_app(user_agent: str) -> tuple[str | None, str | None]:
    """("vendor model", version) a User-Agent names: a desk phone's vendor rule, else a softphone app's."""
    agent = parse_user_agent(user_agent)
    if agent is not None:
        return f"{agent.vendor} {agent.model}", agent.firmware
    app = app_user_agent(user_agent)
    if app is not None:
        return f"{app.vendor} {app.model or 'Wave'}", app.version
    return None, None


def phone_registered(statuses: Iterable[AccountRegistration], mac: str) -> bool:
    """A desk phone is registered when any of its lines is (one line down is the PBX's matter)."""
    return any(status.registered for status in statuses if status.mac == mac)


@dataclass(frozen=True)
class FetchedPhone:
    """A desk phone that fetched its config: since when, from where."""

    tenant: str
    mac: str
    model: str | None
    department: str
    fetched_at: datetime  # its first config fetch we know of
    source_ip: str
    protocol: str


def never_registered(
    phone: FetchedPhone, registered: bool, now: datetime, limit: timedelta
) -> tuple[DeviceFinding, ...] | None:
    """The phone's registration finding: (finding,) past the limit with no registration,
    () when registered (recovers an open incident), None when it cannot be judged yet."""
    if registered:
        return ()
    if now - phone.fetched_at < limit:
        return None
    # `observed` stays None: it is part of the dedup key, and every phone of a model that never
    # registered belongs to one incident whatever its waiting time.
    return (DeviceFinding(
        phone.tenant, FindingKind.NEVER_REGISTERED, phone.mac, phone.model, None,
        f"registro en la central antes de {int(limit.total_seconds() // 60)} min", phone.department, now,
        phone.source_ip, phone.protocol,
    ),)


REGISTRATION_COVERS = REGISTRATION_KINDS


def softphone_findings(
    status: AccountRegistration, tenant: str, department: str, catalog: Catalog, now: datetime
) -> tuple[DeviceFinding, ...] | None:
    """A softphone's app and version (from its REGISTER's User-Agent) through the catalog
    check a desk phone's config fetch gets. None: nothing to judge (not registered, or a
    User-Agent no vendor rule reads)."""
    if not status.registered or status.mac is not None:
        return None
    entry: CatalogEntry | None
    model: str | None
    version: str | None
    agent = parse_user_agent(status.user_agent)
    if agent is not None:  # a desk phone's User-Agent on an account placed on no desk phone
        entry, model, version = catalog.find(agent.model, vendor=agent.vendor), agent.model, agent.firmware
    else:
        app = app_user_agent(status.user_agent)
        if app is None:
            return None
        assigned = _assigned(catalog, status.softphone)
        entry, model = app_entry(catalog, app, assigned)
        if model is None:
            return None  # a Wave on an account assigned no Wave row: which row it is cannot be told
        version = app.version
    judgement = assess(entry, version, 1, model, CONFIG_FETCH)
    device = softphone_device(status)
    return device_findings(judgement, tenant, device, model, department, now, _host(status.contact),
                           "sip", status.user_agent)


def _assigned(catalog: Catalog, key: str | None) -> CatalogEntry | None:
    return next((entry for entry in catalog.entries if entry.key == key), None) if key else None


def softphone_device(status: AccountRegistration) -> str:
    """The affected-device name of a softphone account (sl_affected_device.device: 64 characters)."""
    return f"{SOFTPHONE_PREFIX}{status.user}@{status.domain}"[:64]


def _host(contact: str | None) -> str:
    if not contact:
        return ""
    rest = contact.split(":", 1)[-1].split(";", 1)[0].split(">", 1)[0]
    return rest.rsplit("@", 1)[-1].rsplit(":", 1)[0]


def _later(a: Registration, b: Registration) -> bool:
    if a.expires is None:
        return True
    return b.expires is not None and a.expires > b.expires
