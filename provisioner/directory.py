"""Read side of the database for the request path: tenants, devices and their lines.

Lookups are cached in memory and replaced when the shared config_version counter moves
(any process, any command that changes a config bumps it), so a cache hit costs no
database round trip and a change is seen within `cache_check_seconds`.

A server watches the counter from a worker thread (`prepare_reload`) and installs the
reloaded tenants and devices on the event loop in one step (`install`): re-reading a large
tenant's devices took ~100 ms of the loop at 5,200 phones, inside the first fetch after
every change. Without a watcher (the CLI, tests) the first lookup after
`cache_check_seconds` checks the counter itself (`refresh_if_changed`).

A server serves from memory only (`serving`): no lookup ever reads the database on the
event loop. A tenant key not in memory is read by `load`, off the loop (a thread of its own)
and with a timeout; unknown keys are remembered for a while (provisioner.negative_cache), and
while the database is slow or gone every phone already known keeps its last-known-good answer.
Without a server (the CLI, tests) a lookup that misses reads the database itself.

Per-device URLs (issue 20, provisioner.enrollment): a phone's own URL names it by a device
token. Tokens are indexed as their tenant's devices load; a token not in memory is read in
the same rounds as tenant keys (its tenant and phones come with it). A phone's enrolment (its
first fetch of its MAC file under the tenant key) is remembered at once and written by the
watcher, off the loop.

`Directory` is what the request pipeline knows as a provisioner.lookups.PhoneDirectory.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Row, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from provisioner.db.changes import bump_config_version
from provisioner.db.models import ConfigVersion, Device, Extension, PhoneState, Tenant
from provisioner.negative_cache import NegativeCache
from provisioner.settings import Settings
from provisioner.values import UNASSIGNED_DEPARTMENT, ConfigRequest, DeviceRecord, LineView, TenantRecord, TenantView


log = logging.getLogger("provisioner.directory")
_T = TypeVar("_T")

NEGATIVE_CACHE_LIMIT = 50_000  # unknown keys remembered; a flood pushes out the oldest
FIRMWARE_MEMORY_LIMIT = 500_000  # phones whose reported firmware is remembered (a few sites' worth)
LOAD_BATCH = 256  # keys read in one round: one query for all of them
LOAD_WAITING_LIMIT = 1024  # keys waiting for a round; more in a flood are answered 404 at once
LOAD_ROUND_SECONDS = 0.05  # at least this between two rounds: misses cost at most 20 queries a second
Wanted = tuple[str, str]  # ("key", tenant key) or ("token", device token), waiting for a round


@dataclass(frozen=True)
class Snapshot:
    """What a directory has loaded, read afresh at `version` (built off the event loop)."""

    version: int | None
    tenants: dict[str, TenantRecord]
    devices: dict[tuple[int, str], DeviceRecord]
    loaded_tenants: frozenset[int]
    firmware: dict[tuple[int, str], str]


@dataclass(frozen=True)
class Loaded:
    """What one round read for the keys asked (built off the event loop)."""

    version: int | None
    tenants: dict[str, TenantRecord]  # the keys the database knows; the others are unknown
    devices: dict[tuple[int, str], DeviceRecord]
    firmware: dict[tuple[int, str], str]
    tokens: frozenset[str] = frozenset()  # the tokens asked that the database knows


async def off_loop(function: Callable[..., _T], *args: object) -> _T:
    """`function(*args)` in a daemon thread of its own, awaited on the loop.

    Not an executor: a read stuck on a database that never answers would hold a pool thread
    (starving everything else that uses the pool) and, at exit, the interpreter, which joins
    executor threads. Callers keep at most one read of each kind in flight, so the threads
    stuck in an outage are bounded."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[_T] = loop.create_future()

    def settle(result: _T | None, error: BaseException | None) -> None:
        if done.cancelled():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = function(*args), None
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
            result, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop is gone (shutdown): nobody waits any more
            pass

    threading.Thread(target=run, name=f"db-{getattr(function, '__name__', 'read')}", daemon=True).start()
    return await done


def why(error: BaseException) -> str:
    """An error's kind and the driver's first line, never SQLAlchemy's whole message: that
    quotes the statement's parameters, and a lookup's are tenant keys (secrets)."""
    orig = getattr(error, "orig", None)
    detail = str(orig).strip().splitlines()[0] if orig is not None and str(orig).strip() else ""
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


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
        sip_domain=tenant.sip_domain or "",
        outbound_proxy=tenant.outbound_proxy or "",
    )


def tenant_record(tenant: Tenant, settings: Settings) -> TenantRecord:
    until = tenant.enroll_until
    if until is not None and until.tzinfo is None:  # SQLite returns naive values; we always store UTC
        until = until.replace(tzinfo=UTC)
    return TenantRecord(tenant.id, tenant.provisioning_key, tenant_view(tenant, settings), tenant.device_urls, until)


def device_base_url(settings: Settings, token: str) -> str:
    """A phone's own provisioning base URL (issue 20, per-device URLs): /prov/d/<token>/."""
    return f"{settings.base_url}/prov/d/{token}/"


def token_index(devices: dict[tuple[int, str], DeviceRecord]) -> dict[str, tuple[int, str]]:
    return {device.token: phone for phone, device in devices.items() if device.token}


def line_view(extension: Extension | Row[Any], number: int | None = None) -> LineView:
    """One extension's SIP account, as every renderer gets it (`number`: the account index,
    given for a softphone, which sits on no phone line)."""
    number = extension.line if number is None else number
    assert number is not None
    return LineView(
        number=number,
        extension=extension.number,
        display_name=extension.name,
        label=f"{extension.number} {extension.name}".strip(),
        auth_user=extension.sip_auth_user,
        password=extension.sip_password,
    )


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
        self._tenants: dict[str, TenantRecord] = {}
        self._devices: dict[tuple[int, str], DeviceRecord] = {}
        self._loaded_tenants: set[int] = set()
        self._firmware: dict[tuple[int, str], str | None] = {}
        self.unknown = NegativeCache(settings.negative_cache_seconds, NEGATIVE_CACHE_LIMIT)
        # Per-device URLs (issue 20): token -> (tenant id, MAC) of the loaded devices, tokens
        # the database did not know a moment ago, and the key of each loaded tenant.
        self._tokens: dict[str, tuple[int, str]] = {}
        self.unknown_tokens = NegativeCache(settings.negative_cache_seconds, NEGATIVE_CACHE_LIMIT)
        self._tenant_keys: dict[int, str] = {}
        # Phones enrolled here: waiting for the watcher to write it (phone -> device id), and
        # written, with the config_version of that write (a snapshot read before it must not
        # make them look unenrolled again).
        self._to_enroll: dict[tuple[int, str], int] = {}
        self._enrolled_here: dict[tuple[int, str], int] = {}
        self.generation = 0  # bumps whenever the cache is dropped (render caches follow it)
        self.serving = False  # a server's loop owns it: lookups answer from memory only (see `load`)
        self._wanted: dict[Wanted, asyncio.Future[None]] = {}  # keys and tokens waiting for the next round
        self._wake: asyncio.Event | None = None
        self._round_started: float | None = None  # a round reading now, since then
        self.database_error: str | None = None  # the last read's failure, None once one succeeds

    # -- cache control -------------------------------------------------------------------
    def refresh_if_changed(self) -> None:
        if self.serving:
            return  # the server's watcher keeps it current, off the loop
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
            keys = list(self._tenants)
            tenants = self._read_tenants(session, keys) if keys else {}
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
        self.unknown.clear()  # config moved: a key unknown before may be a tenant's now
        self.unknown_tokens.clear()
        self.generation += 1

    def invalidate(self) -> None:
        self._tenants.clear()
        self._devices.clear()
        self._loaded_tenants.clear()
        self.unknown.clear()
        self._tokens.clear()
        self.unknown_tokens.clear()
        self._tenant_keys.clear()
        self.generation += 1

    # -- lookups (the request path) ---------------------------------------------------------
    def tenant_by_key(self, key: str) -> TenantRecord | None:
        record = self._tenants.get(key)
        if record is not None or self.serving:
            return record
        if self.unknown.holds(key, self._monotonic()):
            return None
        with self.sessions() as session:
            record = self._read_tenants(session, [key]).get(key)
        self._remember(key, record)
        return record

    def device(self, tenant_id: int, mac: str) -> DeviceRecord | None:
        if tenant_id not in self._loaded_tenants and not self.serving:
            self._load_devices(tenant_id)
        return self._devices.get((tenant_id, mac))

    def known_firmware(self, tenant_id: int, mac: str) -> str | None:
        """The last trusted firmware this MAC reported (from any process, seeded from phone_state).

        Serving, from memory only: a tenant's load read every firmware its phones reported,
        the watcher re-reads them on each change and this process notes what it hears. A
        phone that reported to another process only since then is judged, on a contact that
        does not say its firmware, as one whose firmware is not known yet: not judged on it,
        neither raising nor clearing a firmware finding (provisioner.findings.assess)."""
        cache_key = (tenant_id, mac)
        if cache_key not in self._firmware:
            if self.serving:
                return None
            with self.sessions() as session:
                self._firmware[cache_key] = session.scalar(
                    select(PhoneState.firmware).where(PhoneState.tenant_id == tenant_id, PhoneState.mac == mac)
                )
        return self._firmware[cache_key]

    def note_firmware(self, tenant_id: int, mac: str, firmware: str) -> None:
        """Remember the firmware a phone reported. Bounded: made-up MACs from anyone holding a
        key must not grow it forever; past the bound only phones already known are updated."""
        phone = (tenant_id, mac)
        if phone in self._firmware or len(self._firmware) < FIRMWARE_MEMORY_LIMIT:
            self._firmware[phone] = firmware

    # -- serving: misses are read off the event loop -----------------------------------------
    def knows(self, key: str) -> bool:
        """Whether `key` is answered from memory now: a known tenant (one dict lookup, the
        hot path) or a key the database did not know a moment ago."""
        return key in self._tenants or self.unknown.holds(key, self._monotonic())

    def knows_token(self, token: str) -> bool:
        """`knows` for a device URL's token."""
        return token in self._tokens or self.unknown_tokens.holds(token, self._monotonic())

    def said_unknown(self, key: str) -> bool:
        """Whether the database itself said, within negative_cache_seconds, that no tenant has
        `key`. A key that could not be read in time (an outage) is a 404 too, but not this:
        whoever counts a source's unknown keys should count only these."""
        return self.unknown.holds(key, self._monotonic())

    def said_unknown_request(self, request: ConfigRequest) -> bool:
        """`said_unknown` for a request's tenant key, or its device token."""
        if request.device_token is None:
            return self.said_unknown(request.tenant_key)
        return self.unknown_tokens.holds(request.device_token, self._monotonic())

    async def load(self, key: str) -> None:
        """`_load` a tenant key (below)."""
        await self._load(("key", key))

    async def load_token(self, token: str) -> None:
        """`_load` a device token: its tenant and phones come with it."""
        await self._load(("token", token))

    async def _load(self, wanted: Wanted) -> None:
        """Bring `key`'s tenant and its phones into memory, waiting for the database at most
        `db_timeout_seconds`; then the lookups answer (None: unknown, or not read in time).

        A miss waits for the read rather than being answered 404 at once while the read goes
        on behind: after a restart every process starts empty, so that would answer 404 to the
        first request of every phone of a boot storm, and to every new tenant's first phone,
        and several phones do not ask again for a missing config until their next scheduled
        check, hours later, booting meanwhile with what they had. The wait costs the loop
        nothing (the read runs in a thread) and is shared: every request for a key waits for
        one read, and all keys waiting are read together in one query per round, a round
        at most every LOAD_ROUND_SECONDS, so a flood of random keys costs at most 20 queries
        a second and LOAD_WAITING_LIMIT keys of memory; the flood's keys beyond that, and
        every miss while a round is already overdue (the database does not answer), are
        answered at once.
        """
        waiting = self._wanted.get(wanted)
        if waiting is None:
            if len(self._wanted) >= LOAD_WAITING_LIMIT or self._wake is None:
                return  # a flood of new keys (or not serving): this one is a 404 now; phones retry
            waiting = self._wanted[wanted] = asyncio.get_running_loop().create_future()
            self._wake.set()
        if self._stalled():
            return  # known unresponsive: answer now; the key stays queued for the next round
        await asyncio.wait((waiting,), timeout=self._settings.db_timeout_seconds)

    @property
    def waiting(self) -> int:
        """Keys waiting for a round (at most LOAD_WAITING_LIMIT)."""
        return len(self._wanted)

    def _stalled(self) -> bool:
        started = self._round_started
        return started is not None and self._monotonic() - started > self._settings.db_timeout_seconds

    async def read_wanted(self) -> None:
        """Forever, on the server's loop: read the keys waiting, LOAD_BATCH a round.

        One round in flight at a time and no timeout on it: a database that hangs holds one
        thread, not one per miss; the requests waiting on the round time out on their own."""
        self._wake = wake = asyncio.Event()
        while True:
            await wake.wait()
            wake.clear()
            keys = list(itertools.islice(self._wanted, LOAD_BATCH))
            if len(self._wanted) > len(keys):
                wake.set()  # the rest next round
            self._round_started = self._monotonic()
            try:
                loaded: Loaded | None = await off_loop(self._read_wanted, keys)
                self.database_ok()
            except Exception as error:  # noqa: BLE001 - answered as not known; logged once per outage
                self.database_failed("reading tenant keys", error)
                loaded = None
            finally:
                self._round_started = None
            self._take(keys, loaded)
            await asyncio.sleep(LOAD_ROUND_SECONDS)

    def _read_wanted(self, wanted: list[Wanted]) -> Loaded:
        """Blocking, for a thread: the tenants of the keys and of the tokens' phones, with
        their devices and firmware."""
        keys = [value for kind, value in wanted if kind == "key"]
        tokens = [value for kind, value in wanted if kind == "token"]
        devices: dict[tuple[int, str], DeviceRecord] = {}
        firmware: dict[tuple[int, str], str] = {}
        with self.sessions() as session:
            version = session.scalar(select(ConfigVersion.version).where(ConfigVersion.id == 1))
            if tokens:
                keys += session.scalars(
                    select(Tenant.provisioning_key).join(Device, Device.tenant_id == Tenant.id)
                    .where(Device.url_token.in_(tokens))
                ).all()
            tenants = self._read_tenants(session, keys) if keys else {}
            for record in tenants.values():
                self._read_devices(session, record.id, devices, firmware)
        found = frozenset(device.token for device in devices.values() if device.token in tokens)
        return Loaded(version, tenants, devices, firmware, found)

    def _take(self, keys: list[Wanted], loaded: Loaded | None) -> None:
        """Install a round's result (on the loop, one step) and wake its requests. A failed
        round remembers nothing: a key it could not read may well be a tenant's."""
        if loaded is not None:
            for kind, value in keys:
                if kind == "key":
                    self._remember(value, loaded.tenants.get(value))
                elif value not in loaded.tokens:
                    self.unknown_tokens.add(value, self._monotonic())
            for key, record in loaded.tenants.items():  # the tokens' tenants
                self._remember(key, record)
            self._loaded_tenants.update(record.id for record in loaded.tenants.values())
            self._devices.update(loaded.devices)
            self._tokens.update(token_index(loaded.devices))
            self._keep_enrolled(None)
            for phone, version in loaded.firmware.items():  # what this process heard since wins
                self._firmware.setdefault(phone, version)
            if loaded.tenants and loaded.version != self._version:
                self._version = None  # read at another version: the watcher's next pass re-reads all
        for key in keys:
            waiting = self._wanted.pop(key, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(None)

    def _remember(self, key: str, record: TenantRecord | None) -> None:
        if record is None:
            self.unknown.add(key, self._monotonic())
        else:
            self._tenants[key] = record
            self._tenant_keys[record.id] = key
            self.unknown.forget(key)

    async def watch(self, interval: float) -> None:
        """Forever, on the server's loop: install config changes read by a thread, so that
        no fetch reads the database to find a change or to reload a tenant after one."""
        while True:
            await self.reload()
            await asyncio.sleep(interval)

    async def reload(self) -> None:
        try:
            await self._write_enrolments()
            snapshot = await off_loop(self.prepare_reload)
        except Exception as error:  # noqa: BLE001 - the last-known-good answers stay; logged once
            self.database_failed("checking for config changes", error)
            return
        self.database_ok()
        if snapshot is not None:
            self.install(snapshot)

    async def ping(self) -> None:
        """Raise unless the database answers a trivial query (in a thread; the caller times it)."""
        await off_loop(self._ping)

    def _ping(self) -> None:
        with self.sessions() as session:
            session.execute(text("SELECT 1"))

    def database_failed(self, doing: str, error: Exception) -> None:
        """Log an outage once, when it starts (not once per round or watcher pass); count every failure."""
        # Imported here, not at the top: the CLI imports this module (through pbx_accounts), and
        # prometheus_client must not be imported before `serve` sets PROMETHEUS_MULTIPROC_DIR.
        from provisioner import metrics

        metrics.database_error("directory")
        if self.database_error is None:
            log.error("database unavailable while %s (%s): serving what is in memory", doing, why(error))
        self.database_error = type(error).__name__

    def database_ok(self) -> None:
        if self.database_error is not None:
            log.warning("database answers again (after %s)", self.database_error)
        self.database_error = None

    # -- reading (blocking: a thread's, or the CLI's) ----------------------------------------
    def _read_tenants(self, session: Session, keys: list[str]) -> dict[str, TenantRecord]:
        return {
            tenant.provisioning_key: tenant_record(tenant, self._settings)
            for tenant in session.scalars(select(Tenant).where(Tenant.provisioning_key.in_(keys)))
        }

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

    # -- per-device URLs (issue 20) ---------------------------------------------------------
    def device_by_token(self, token: str) -> tuple[TenantRecord, DeviceRecord] | None:
        """The tenant and phone of a device URL. Serving, from memory only (a token not in
        memory is read by `load_token`); otherwise a token not loaded yet costs one query,
        then its tenant's devices load (and index their tokens) as a tenant-key lookup would."""
        phone = self._tokens.get(token)
        if phone is None and not self.serving and not self.unknown_tokens.holds(token, self._monotonic()):
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
            if phone is None:
                self.unknown_tokens.add(token, self._monotonic())
        if phone is None:
            return None
        tenant_id, mac = phone
        key = self._tenant_keys.get(tenant_id)
        tenant = self.tenant_by_key(key) if key else None
        device = self._devices.get((tenant_id, mac))
        return (tenant, device) if tenant is not None and device is not None and device.token == token else None

    def note_enrolled(self, tenant_id: int, mac: str) -> None:
        """The phone fetched its MAC file under the tenant key: remember it here at once, and
        in the database for every process (config_version moves, so their caches reload):
        serving, the watcher writes it off the loop; otherwise now. One short write per phone
        per enrolment, never on a repeat contact."""
        record = self._devices.get((tenant_id, mac))
        if record is None or record.enrolled:
            return
        self._devices[(tenant_id, mac)] = replace(record, enrolled=True)
        if self.serving:
            self._to_enroll[(tenant_id, mac)] = record.id
        else:
            self._enrolled_here[(tenant_id, mac)] = self._record_enrolled([record.id])

    async def _write_enrolments(self) -> None:
        """The enrolments noted since the last pass, in one transaction off the loop (kept for
        the next pass if the database does not take them)."""
        if not self._to_enroll:
            return
        pending, self._to_enroll = self._to_enroll, {}
        try:
            version = await off_loop(self._record_enrolled, list(pending.values()))
        except BaseException:
            for phone, device_id in pending.items():
                self._to_enroll.setdefault(phone, device_id)
            raise
        for phone in pending:
            self._enrolled_here[phone] = version

    def _record_enrolled(self, device_ids: list[int]) -> int:
        """Blocking: mark the devices enrolled and bump config_version; returns its new value."""
        with self.sessions.begin() as session:
            session.execute(
                update(Device).where(Device.id.in_(device_ids), Device.enrolled_at.is_(None))
                .values(enrolled_at=datetime.now(UTC))
            )
            bump_config_version(session)
            return session.scalar(select(ConfigVersion.version).where(ConfigVersion.id == 1)) or 0

    def _keep_enrolled(self, version: int | None) -> None:
        """After devices were (re)read: phones enrolled here stay enrolled until a read at or
        after the version that recorded it (`version` None: a round's read, of unknown order)."""
        for phone in self._to_enroll:
            if (record := self._devices.get(phone)) is not None and not record.enrolled:
                self._devices[phone] = replace(record, enrolled=True)
        for phone, recorded in list(self._enrolled_here.items()):
            if version is not None and version >= recorded:
                del self._enrolled_here[phone]  # the snapshot has read it from the table
            elif (record := self._devices.get(phone)) is not None and not record.enrolled:
                self._devices[phone] = replace(record, enrolled=True)
