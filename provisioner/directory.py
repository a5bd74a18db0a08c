"""Read side of the database for the request path: tenants, devices and their lines.

Lookups are cached in memory and the whole cache is dropped when the shared
config_version counter moves (any process, any command that changes a config bumps it),
so a cache hit costs no database round trip and a change is seen within
`cache_check_seconds`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from provisioner.db.models import ConfigVersion, Device, Extension, PhoneState, Tenant
from provisioner.settings import Settings
from provisioner.values import LineView, TenantView


@dataclass(frozen=True)
class TenantRecord:
    id: int
    key: str
    view: TenantView


@dataclass(frozen=True)
class DeviceRecord:
    id: int
    mac: str
    model_key: str
    lines: tuple[LineView, ...]  # every assigned line, sorted; may exceed what the model supports
    department: str = "Sin asignar"  # the first line's department (blast radius of incidents)


def tenant_view(tenant: Tenant, settings: Settings) -> TenantView:
    return TenantView(
        name=tenant.name,
        slug=tenant.slug,
        sip_server=tenant.sip_server,
        sip_port=tenant.sip_port,
        sip_transport=tenant.sip_transport,
        admin_password=tenant.admin_password,
        snmp_community=tenant.snmp_community,
        ntp_server=tenant.ntp_server,
        base_url=settings.tenant_base_url(tenant.provisioning_key),
    )


def line_view(extension: Extension) -> LineView:
    assert extension.line is not None
    return LineView(
        number=extension.line,
        extension=extension.number,
        display_name=extension.name,
        label=f"{extension.number} {extension.name}".strip(),
        auth_user=extension.sip_auth_user,
        password=extension.sip_password,
    )


_MISSING = object()


class Directory:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions  # shared with the web app and workers of the same process
        self._settings = settings
        self._monotonic = monotonic
        self._version: int | None = None
        self._checked_at = float("-inf")
        self._tenants: dict[str, TenantRecord | None] = {}
        self._devices: dict[tuple[int, str], DeviceRecord | None] = {}
        self._firmware: dict[tuple[int, str], str | None] = {}
        self.generation = 0  # bumps whenever the cache is dropped (render caches follow it)

    # -- cache control -------------------------------------------------------------------
    def refresh_if_changed(self) -> None:
        now = self._monotonic()
        if now - self._checked_at < self._settings.cache_check_seconds:
            return
        self._checked_at = now
        with self.sessions() as session:
            version = session.scalar(select(ConfigVersion.version).where(ConfigVersion.id == 1))
        if version != self._version:
            self._version = version
            self.invalidate()

    def invalidate(self) -> None:
        self._tenants.clear()
        self._devices.clear()
        self.generation += 1

    # -- lookups ---------------------------------------------------------------------------
    def tenant_by_key(self, key: str) -> TenantRecord | None:
        cached = self._tenants.get(key, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        with self.sessions() as session:
            tenant = session.scalar(select(Tenant).where(Tenant.provisioning_key == key))
            record = (
                TenantRecord(tenant.id, tenant.provisioning_key, tenant_view(tenant, self._settings))
                if tenant
                else None
            )
        if len(self._tenants) < 100_000:  # unknown keys are cached too, but never unboundedly
            self._tenants[key] = record
        return record

    def device(self, tenant_id: int, mac: str) -> DeviceRecord | None:
        cache_key = (tenant_id, mac)
        cached = self._devices.get(cache_key, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        with self.sessions() as session:
            device = session.scalar(select(Device).where(Device.tenant_id == tenant_id, Device.mac == mac))
            record = None
            if device is not None:
                extensions = session.scalars(
                    select(Extension).where(Extension.device_id == device.id).order_by(Extension.line)
                ).all()
                department = next((e.department for e in extensions if e.department), "Sin asignar")
                record = DeviceRecord(device.id, device.mac, device.model_key, tuple(map(line_view, extensions)), department)
        if len(self._devices) < 1_000_000:
            self._devices[cache_key] = record
        return record

    def known_firmware(self, tenant_id: int, mac: str) -> str | None:
        """The last trusted firmware this MAC reported (from any process, seeded from phone_state)."""
        cache_key = (tenant_id, mac)
        if cache_key not in self._firmware:
            with self.sessions() as session:
                self._firmware[cache_key] = session.scalar(
                    select(PhoneState.firmware).where(PhoneState.tenant_id == tenant_id, PhoneState.mac == mac)
                )
        return self._firmware[cache_key]

    def note_firmware(self, tenant_id: int, mac: str, firmware: str) -> None:
        self._firmware[(tenant_id, mac)] = firmware
