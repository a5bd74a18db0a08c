"""Reads what the onboarding kit and the readiness board are made from (adapter: database and
the firewall data file). The caller opens the session; the pure work is in
provisioner.onboarding and provisioner.site_readiness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from firmware_catalog import Catalog
from provisioner import admin, labels, registrar
from provisioner.db.models import Device, Extension, Sighting, Tenant
from provisioner.errors import SettingsError
from provisioner.onboarding import ExpectedPhone, FirewallRule, Site, parse_firewall_rules
from provisioner.settings import Settings, environment_name
from provisioner.site_readiness import PhoneFacts
from provisioner.values import Protocol

FIRMWARE_FINDINGS = frozenset({"firmware_older", "firmware_newer", "firmware_unknown", "snmp_firmware_mismatch",
                               "model_not_homologated"})


def firewall_rules(settings: Settings) -> tuple[FirewallRule, ...]:
    """The operator's file when the setting names one, else the packaged default."""
    if settings.firewall_rules_file:
        path = Path(settings.firewall_rules_file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SettingsError(f"{environment_name('firewall_rules_file')}: no se puede leer {path} ({error.__class__.__name__})") from None
        return parse_firewall_rules(text, source=str(path))
    text = resources.files("provisioner").joinpath("firewall_rules.toml").read_text(encoding="utf-8")
    return parse_firewall_rules(text)


def site_for(session: Session, catalog: Catalog, settings: Settings, tenant: Tenant) -> Site:
    """The tenant's facts for its kit: option-66 strings, SIP server, extensions and phones expected."""
    rows = session.execute(
        select(Extension, Device).outerjoin(Device, Device.id == Extension.device_id)
        .where(Extension.tenant_id == tenant.id).order_by(Extension.number)
    ).all()
    phones = []
    for extension, device in rows:
        model = None
        if device is not None:
            entry = catalog.get(device.model_key)
            model = f"{labels.VENDORS.get(entry.vendor, entry.vendor)} {entry.model}"
        phones.append(ExpectedPhone(extension.number, extension.name, extension.department,
                                    device.mac if device else None, model, extension.line))
    return Site(tenant.name, tenant.slug, settings.option66_http(tenant.provisioning_key),
                settings.option66_tftp(tenant.provisioning_key), tenant.sip_server, tenant.sip_port,
                tenant.sip_transport, tuple(phones))


def snmp_window_start(settings: Settings, now: datetime) -> datetime:
    """Answers older than this do not count: two poll intervals, and at least a day.

    Also what keeps the read bounded: sightings are append-only, and the range on
    ix_sighting_tenant_seen reads only the recent ones of this tenant."""
    return now - timedelta(seconds=max(2 * settings.snmp_interval_seconds, 86400.0))


def registered_phones(session: Session, settings: Settings, tenant: Tenant, macs: list[str], now: datetime) -> dict[str, bool | None]:
    """MAC -> registered (any of its lines) as the PBX's registrar says; None for every phone
    when no registrar is configured or it cannot be read (the board then says "sin datos del PBX")."""
    source = registrar.source_for(settings)
    try:
        return registrar.registration_by_mac(session, settings, source, [(tenant.slug, mac) for mac in macs], now)
    finally:
        if source is not None:
            source.close()


def phone_facts(
    session: Session, catalog: Catalog, tenant: Tenant, snmp_since: datetime,
    settings: Settings | None = None, now: datetime | None = None,
) -> tuple[list[PhoneFacts], list[str]]:
    """Each phone of the tenant (assigned or waiting) as the board sees it, and the extensions with no phone.
    With `settings` (and `now`), `registered` comes from the registrar those settings name."""
    rows = admin.list_devices(session, catalog, tenant_slug=tenant.slug)
    registered: dict[str, bool | None] = {}
    if settings is not None:
        registered = registered_phones(session, settings, tenant, [row.mac for row in rows], now or datetime.now(UTC))
    numbers: dict[str, list[str]] = {}
    without: list[str] = []
    for number, mac in session.execute(
        select(Extension.number, Device.mac).outerjoin(Device, Device.id == Extension.device_id)
        .where(Extension.tenant_id == tenant.id)
    ):
        if mac is None:
            without.append(number)
        else:
            numbers.setdefault(mac, []).append(number)
    answered = set(session.scalars(
        select(Sighting.mac).where(Sighting.tenant_id == tenant.id, Sighting.protocol == Protocol.SNMP.value,
                                   Sighting.served.is_(True), Sighting.seen_at >= snmp_since).distinct()
    ))
    facts = []
    for row in rows:
        booted = row.last_seen is not None
        findings = set(row.findings)
        snmp = "unreachable" if "unreachable" in findings else "answered" if row.mac in answered else "unknown"
        facts.append(PhoneFacts(
            mac=row.mac, model=row.model, extensions=tuple(sorted(numbers.get(row.mac, ()))), assigned=row.assigned,
            booted=booted, firmware_ok=(not findings & FIRMWARE_FINDINGS) if booted else None,
            lines_ok=("lines_exceeded" not in findings) if booted else None, snmp=snmp,
            registered=registered.get(row.mac) if row.assigned else None,
        ))
    return facts, sorted(without)
