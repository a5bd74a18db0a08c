"""What the registrar knows, read into the product (adapter: the registrar's database, ours).

    KamailioLocation(url).read()     Kamailio's `location` table (usrloc db_mode 1, 2 or 3: the
                                     table holds the bindings) -> registrations.Registration
    registrations_for_tenant(...)    every account of a tenant: registered or not, contact,
                                     User-Agent, app and version (the readiness board calls this)
    check_registrations(...)         `never_registered` for desk phones that fetched their config
                                     and have no registration past the limit, and softphones'
                                     versions through the catalog; written as the usual incidents

Asterisk is the second adapter to write: AMI `PJSIPShowContacts` (or ARI GET /endpoints) lists
each contact with its AOR, URI, User-Agent and status; it only has to yield the same
Registration values as KamailioLocation.read.

Kamailio's db_sqlite stores `expires` as a Julian day number (REAL); MySQL and PostgreSQL as
a timestamp. Kamailio writes local time: run it in UTC (as containers do) or read the
registrations knowing the offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from firmware_catalog import Catalog
from provisioner import pbx_accounts
from provisioner.admin import tenant_by_slug
from provisioner.db.models import Device, Extension, PhoneState, Tenant
from provisioner.findings import PROVISIONING_KINDS, REGISTRATION_KINDS
from provisioner.registrations import (
    AccountRegistration, FetchedPhone, PlacedAccount, Registration, account_registrations, never_registered,
    phone_registered, softphone_device, softphone_findings,
)
from provisioner.settings import Settings
from provisioner.ticket_writer import IntakeRules, IntakeStats, Observation, TicketWriter
from provisioner.values import UNASSIGNED_DEPARTMENT

log = logging.getLogger("provisioner.registrar")
_JULIAN_UNIX_EPOCH = 2440587.5


class RegistrationSource(Protocol):
    def read(self) -> list[Registration]: ...


class KamailioLocation:
    """Kamailio's usrloc `location` table, read with SQLAlchemy (any database Kamailio uses)."""

    def __init__(self, url: str) -> None:
        self._engine = create_engine(url, pool_pre_ping=True)

    def read(self) -> list[Registration]:
        query = text("SELECT username, domain, contact, received, user_agent, expires FROM location")
        with self._engine.connect() as connection:
            return [
                Registration(row.username, row.domain or "", row.contact, row.user_agent or "",
                             kamailio_time(row.expires), row.received or "")
                for row in connection.execute(query)
            ]

    def close(self) -> None:
        self._engine.dispose()


def kamailio_time(value: object) -> datetime | None:
    """`expires` as Kamailio's databases hold it: a Julian day (db_sqlite), a datetime or text."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp((float(value) - _JULIAN_UNIX_EPOCH) * 86400, UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return kamailio_time(float(str(value)))
    except ValueError:
        parsed = datetime.fromisoformat(str(value))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def source_for(settings: Settings) -> KamailioLocation | None:
    return KamailioLocation(settings.registrar_db_url) if settings.registrar_db_url else None


# -- per tenant ------------------------------------------------------------------------------------
def placed_accounts(session: Session, tenant: Tenant, settings: Settings) -> list[PlacedAccount]:
    accounts = pbx_accounts.tenant_accounts(session, tenant, settings)
    places = dict(session.execute(
        select(Extension.number, Device.mac).join(Device, Extension.device_id == Device.id)
        .where(Extension.tenant_id == tenant.id)
    ).all())
    apps = dict(session.execute(
        select(Extension.number, Extension.softphone).where(Extension.tenant_id == tenant.id,
                                                            Extension.softphone.is_not(None))
    ).all())
    return [PlacedAccount(a, places.get(a.extension), a.line or None, apps.get(a.extension)) for a in accounts]


def registrations_for_tenant(
    session: Session, tenant_slug: str, settings: Settings, source: RegistrationSource, now: datetime,
    *, registrations: Sequence[Registration] | None = None,
) -> list[AccountRegistration]:
    """Every SIP account of the tenant and what the registrar says of it (for the readiness
    board, the devices page and `provisioner registrations list`). `registrations`: rows
    already read from `source` (one read for several tenants)."""
    tenant = tenant_by_slug(session, tenant_slug)
    rows = registrations if registrations is not None else source.read()
    return account_registrations(placed_accounts(session, tenant, settings), rows, now)


def fetched_phones(session: Session, tenant: Tenant) -> list[FetchedPhone]:
    """The tenant's assigned phones that fetched a config, with their first fetch."""
    departments = dict(session.execute(
        select(Device.mac, Extension.department).join(Extension, Extension.device_id == Device.id)
        .where(Device.tenant_id == tenant.id, Extension.department != "")
    ).all())
    query = (
        select(PhoneState.mac, Device.model_key, PhoneState.first_seen, PhoneState.last_ip, PhoneState.last_protocol)
        .join(Device, (Device.mac == PhoneState.mac) & (Device.tenant_id == PhoneState.tenant_id))
        .where(PhoneState.tenant_id == tenant.id)
    )
    return [
        FetchedPhone(tenant.slug, mac, model, departments.get(mac, UNASSIGNED_DEPARTMENT), _utc(first_seen), ip, protocol)
        for mac, model, first_seen, ip, protocol in session.execute(query)
    ]


def registration_observations(
    tenant: Tenant, statuses: Sequence[AccountRegistration], phones: Iterable[FetchedPhone], catalog: Catalog,
    now: datetime, limit: timedelta,
) -> list[Observation]:
    observations = []
    for phone in phones:
        findings = never_registered(phone, phone_registered(statuses, phone.mac), now, limit)
        if findings is not None:
            observations.append(Observation(tenant.id, phone.mac, findings, REGISTRATION_KINDS, now))
    for status in statuses:
        findings = softphone_findings(status, tenant.slug, UNASSIGNED_DEPARTMENT, catalog, now)
        if findings is not None:
            observations.append(Observation(tenant.id, softphone_device(status), findings, PROVISIONING_KINDS, now))
    return observations


def check_registrations(
    sessions: sessionmaker[Session], settings: Settings, source: RegistrationSource, catalog: Catalog,
    now: datetime, *, tenant_slug: str | None = None,
) -> IntakeStats:
    """One pass: read the registrar once, judge every tenant's phones, write the incidents."""
    rows = source.read()
    limit = timedelta(minutes=settings.never_registered_minutes)
    observations: list[Observation] = []
    with sessions() as session:
        tenants = session.scalars(select(Tenant).where(Tenant.slug == tenant_slug) if tenant_slug
                                  else select(Tenant)).all()
        for tenant in tenants:
            statuses = account_registrations(placed_accounts(session, tenant, settings), rows, now)
            observations += registration_observations(tenant, statuses, fetched_phones(session, tenant), catalog,
                                                      now, limit)
    rules = IntakeRules(settings.urgency_table(), settings.organization_share)
    return TicketWriter(sessions, rules).process(observations, now)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def registration_by_mac(
    session: Session, settings: Settings, source: RegistrationSource | None, phones: Iterable[tuple[str, str]],
    now: datetime,
) -> dict[str, bool | None]:
    """(tenant slug, MAC) -> registered (any line), for the devices list; None: no registrar
    connected, or the registrar could not be read (the list must still show)."""
    wanted = list(phones)
    if source is None:
        return {mac: None for _, mac in wanted}
    try:
        rows = source.read()
    except Exception as error:  # noqa: BLE001 - an unreachable registrar leaves the column unknown, never the page broken
        # one line, no traceback (a CLI run prints its log) and no message text (it may quote the URL)
        log.warning("registrar not readable (%s): registrations unknown", error.__class__.__name__)
        return {mac: None for _, mac in wanted}
    shown: dict[str, bool | None] = {}
    for slug in {slug for slug, _ in wanted}:
        statuses = registrations_for_tenant(session, slug, settings, source, now, registrations=rows)
        for tenant_slug, mac in wanted:
            if tenant_slug == slug:
                shown[mac] = phone_registered(statuses, mac)
    return shown


class RegistrationJob:
    """Every `registration_check_seconds`, check_registrations in a worker thread (started by
    the server's app when a registrar is connected)."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, catalog: Catalog) -> None:
        self._sessions, self._settings, self._catalog = sessions, settings, catalog

    async def context(self, _app: object) -> AsyncIterator[None]:
        source = source_for(self._settings)
        task = None
        if source is not None and self._settings.registration_check_seconds > 0:
            task = asyncio.create_task(self._run(source))
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if source is not None:
            source.close()

    async def _run(self, source: KamailioLocation) -> None:
        while True:
            await asyncio.sleep(self._settings.registration_check_seconds)
            try:
                await asyncio.to_thread(check_registrations, self._sessions, self._settings, source, self._catalog,
                                        datetime.now(UTC))
            except Exception:  # noqa: BLE001 - the next pass tries again; serving phones goes on
                log.warning("registration check failed", exc_info=True)
