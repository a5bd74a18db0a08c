"""Read side of the database for the request path: tenants, devices and their lines.

Lookups are cached in memory and replaced when the shared config_version counter moves
(any process, any command that changes a config bumps it), so a cache hit costs no
database round trip and a change is seen within `cache_check_seconds`.

A server watches the counter from a worker thread (`prepare_reload`) and installs the
reloaded tenants and devices on the event loop in one step (`install`): re-reading a large
tenant's devices took ~100 ms of the loop at 5,200 phones, inside the first fetch after
every change. Without a watcher (the CLI, tests) the first lookup after
`cache_check_seconds` checks the counter itself (`refresh_if_changed`).

`Directory` is what the request pipeline knows as a provisioner.lookups.PhoneDirectory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session, sessionmaker

from provisioner.db.changes import bump_config_version
from provisioner.db.models import ConfigVersion, Device, Extension, PhoneState, Tenant
from provisioner.settings import Settings
from provisioner.values import UNASSIGNED_DEPARTMENT, DeviceRecord, LineView, TenantRecord, TenantView


@dataclass(frozen=True)
class Snapshot:
    """What a directory has loaded, read afresh at `version` (built off the event loop)."""

    version: int | None
    tenants: dict[str, TenantRecord]
    devices: dict[tuple[int, str], DeviceRecord]
    loaded_tenants: frozenset[int]
    firmware: dict[tuple[int, str], str]


def tenant_view(tenant: Tenant, settings: Settings) -> TenantView:
    return TenantView(
        name=tenant.name,
        slug=tenant.slug,
        sip_server=tenant.sip_server,
        sip_port=tenant.sip_port,
        sip_transport=tenant.sip_transport,
        snmp_community=tenant.snmp_community,
        ntp_server=tenant.ntp_server,
        base_url=settings.tenant_base_url(tenant.provisioning_key),
        device_urls=tenant.device_urls,
    )


def tenant_record(tenant: Tenant, settings: Settings) -> TenantRecord:
    until = tenant.enroll_until
    if until is not None and until.tzinfo is None:  # SQLite returns naive values; we always store UTC
        until = until.replace(tzinfo=UTC)
    return TenantRecord(tenant.id, tenant.provisioning_key, tenant_view(tenant, settings), tenant.device_urls, until)


def device_base_url(settings: Settings, token: str) -> str:
    """A phone's own provisioning base URL (issue 20, per-device URLs): /prov/d/<token>/."""
    return f"{settings.base_url}/prov/d/{token}/"


def token_index(devices: dict[tuple[int, str], DeviceRecord]) -> dict[str, tuple[int, str] | None]:
    return {device.token: phone for phone, device in devices.items() if device.token}


def line_view(extension: Extension | Row[Any]) -> LineView:
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
        self._devices: dict[tuple[int, str], DeviceRecord] = {}
        self._loaded_tenants: set[int] = set()
        self._firmware: dict[tuple[int, str], str | None] = {}
        # Per-device URLs (issue 20): token -> (tenant id, MAC) of the loaded devices (None:
        # no such token), and the key of each loaded tenant.
        self._tokens: dict[str, tuple[int, str] | None] = {}
        self._tenant_keys: dict[int, str] = {}
        # Phones this process enrolled, with the config_version that recorded it: a snapshot
        # read before that write must not make them look unenrolled again.
        self._enrolled_here: dict[tuple[int, str], int] = {}
        self.generation = 0  # bumps whenever the cache is dropped (render caches follow it)
        self.watched = False  # a server's watcher keeps the cache current: lookups never check

    # -- cache control -------------------------------------------------------------------
    def refresh_if_changed(self) -> None:
        if self.watched:
            return
        now = self._monotonic()
        if now - self._checked_at < self._settings.cache_check_seconds:
            return
        self._checked_at = now
        with self.sessions() as session:
            version = session.scalar(select(ConfigVersion.version).where(ConfigVersion.id == 1))
        if version != self._version:
            self._version = version
            self.invalidate()

    def prepare_reload(self) -> Snapshot | None:
        """Blocking, for a worker thread: when config_version has moved, the tenants and
        devices this directory has loaded, read afresh; None when nothing moved."""
        with self.sessions() as session:
            version = session.scalar(select(ConfigVersion.version).where(ConfigVersion.id == 1))
            if version == self._version:
                return None
            keys = [key for key, record in list(self._tenants.items()) if record is not None]
            tenants = {
                tenant.provisioning_key: tenant_record(tenant, self._settings)
                for tenant in session.scalars(select(Tenant).where(Tenant.provisioning_key.in_(keys)))
            } if keys else {}
            loaded = frozenset(self._loaded_tenants)
            devices: dict[tuple[int, str], DeviceRecord] = {}
            firmware: dict[tuple[int, str], str] = {}
            for tenant_id in loaded:
                self._read_devices(session, tenant_id, devices, firmware)
        return Snapshot(version, tenants, devices, loaded, firmware)

    def install(self, snapshot: Snapshot) -> None:
        """Serve from `snapshot` from now on (on the event loop: one step, no I/O)."""
        self._version = snapshot.version
        self._tenants = dict(snapshot.tenants)
        self._devices = dict(snapshot.devices)
        self._keep_enrolled(snapshot.version)
        self._loaded_tenants = set(snapshot.loaded_tenants)
        self._tokens = token_index(self._devices)
        self._tenant_keys = {record.id: key for key, record in snapshot.tenants.items()}
        for phone, firmware in snapshot.firmware.items():  # what this process heard since wins
            self._firmware.setdefault(phone, firmware)
        self.generation += 1

    def invalidate(self) -> None:
        self._tenants.clear()
        self._devices.clear()
        self._loaded_tenants.clear()
        self._tokens.clear()
        self._tenant_keys.clear()
        self.generation += 1

    # -- lookups ---------------------------------------------------------------------------
    def tenant_by_key(self, key: str) -> TenantRecord | None:
        cached = self._tenants.get(key, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        with self.sessions() as session:
            tenant = session.scalar(select(Tenant).where(Tenant.provisioning_key == key))
            record = tenant_record(tenant, self._settings) if tenant else None
        if record is not None:
            self._tenant_keys[record.id] = key
        if len(self._tenants) < 100_000:  # unknown keys are cached too, but never unboundedly
            self._tenants[key] = record
        return record

    def device(self, tenant_id: int, mac: str) -> DeviceRecord | None:
        if tenant_id not in self._loaded_tenants:
            self._load_devices(tenant_id)
        return self._devices.get((tenant_id, mac))

    def _load_devices(self, tenant_id: int) -> None:
        """Every device of the tenant with its lines, in one query.

        A boot storm asks for every phone of a site within seconds, each once per process:
        one round trip per tenant (per config change) instead of two per phone. A MAC that
        is not here is not assigned; any assignment bumps config_version, which reloads.
        """
        firmware: dict[tuple[int, str], str] = {}
        devices: dict[tuple[int, str], DeviceRecord] = {}
        with self.sessions() as session:
            self._read_devices(session, tenant_id, devices, firmware)
        self._devices.update(devices)
        self._tokens.update(token_index(devices))
        for phone, version in firmware.items():  # what this process heard since wins over the table
            self._firmware.setdefault(phone, version)
        self._loaded_tenants.add(tenant_id)

    def _read_devices(
        self, session: Session, tenant_id: int, devices: dict[tuple[int, str], DeviceRecord],
        firmware: dict[tuple[int, str], str],
    ) -> None:
        """The tenant's devices with their lines into `devices`, and its phones' last
        reported firmware into `firmware`: two queries."""
        query = (
            select(Device.id, Device.mac, Device.model_key, Device.url_token, Device.enrolled_at, Device.admin_password,
                   Extension.line, Extension.number, Extension.name,
                   Extension.sip_auth_user, Extension.sip_password, Extension.department)
            .outerjoin(Extension, (Extension.device_id == Device.id) & Extension.line.is_not(None))
            .where(Device.tenant_id == tenant_id)
            .order_by(Device.id, Extension.line)
        )
        grouped: dict[int, tuple[Row[Any], list[Row[Any]]]] = {}
        for row in session.execute(query):
            device, lines = grouped.setdefault(row.id, (row, []))
            if row.line is not None:
                lines.append(row)
        reported = session.execute(
            select(PhoneState.mac, PhoneState.firmware).where(
                PhoneState.tenant_id == tenant_id, PhoneState.firmware.is_not(None)
            )
        )
        for mac, version in reported:
            firmware[(tenant_id, mac)] = version
        for device, lines in grouped.values():
            department = next((line.department for line in lines if line.department), UNASSIGNED_DEPARTMENT)
            devices[(tenant_id, device.mac)] = DeviceRecord(
                device.id, device.mac, device.model_key, tuple(map(line_view, lines)), department,
                admin_password=device.admin_password, token=device.url_token,
                provisioning_url=device_base_url(self._settings, device.url_token),
                enrolled=device.enrolled_at is not None,
            )

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

    # -- per-device URLs (issue 20) ---------------------------------------------------------
    def device_by_token(self, token: str) -> tuple[TenantRecord, DeviceRecord] | None:
        """The tenant and phone of a device URL. A token not loaded yet costs one query, then
        its tenant's devices load (and index their tokens) as a tenant-key lookup would."""
        phone = self._tokens.get(token, _MISSING)
        if phone is _MISSING:
            with self.sessions() as session:
                row = session.execute(
                    select(Tenant.provisioning_key, Device.mac)
                    .join(Device, Device.tenant_id == Tenant.id)
                    .where(Device.url_token == token)
                ).first()
            tenant = self.tenant_by_key(row.provisioning_key) if row else None
            if tenant is not None:
                self.device(tenant.id, row.mac)  # loads the tenant's devices and their tokens
            phone = self._tokens.get(token)
            if phone is None and len(self._tokens) < 100_000:  # unknown tokens too, but never unboundedly
                self._tokens[token] = None
        if phone is None:
            return None
        tenant_id, mac = phone  # type: ignore[misc]
        key = self._tenant_keys.get(tenant_id)
        tenant = self.tenant_by_key(key) if key else None
        device = self._devices.get((tenant_id, mac))
        return (tenant, device) if tenant is not None and device is not None and device.token == token else None

    def note_enrolled(self, tenant_id: int, mac: str) -> None:
        """The phone fetched its MAC file under the tenant key: remember it here at once, and
        in the database for every process (config_version moves, so their caches reload).
        One short write per phone per enrolment, never on a repeat contact."""
        record = self._devices.get((tenant_id, mac))
        if record is None or record.enrolled:
            return
        self._devices[(tenant_id, mac)] = replace(record, enrolled=True)
        with self.sessions.begin() as session:
            session.execute(
                update(Device).where(Device.id == record.id, Device.enrolled_at.is_(None)).values(enrolled_at=datetime.now(UTC))
            )
            bump_config_version(session)
            version = session.scalar(select(ConfigVersion.version).where(ConfigVersion.id == 1))
        self._enrolled_here[(tenant_id, mac)] = version or 0

    def _keep_enrolled(self, version: int | None) -> None:
        for phone, recorded in list(self._enrolled_here.items()):
            if version is not None and version >= recorded:
                del self._enrolled_here[phone]  # the snapshot has read it from the table
            elif (record := self._devices.get(phone)) is not None:
                self._devices[phone] = replace(record, enrolled=True)
