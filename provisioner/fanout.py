"""After a config fetch (adapter): the Outcome handed to whoever keeps something of it.

    Outcome --> sighting recorder   every contact under a known tenant key (phone_state follows)
            --> ticket intake       a judged contact of a phone: its findings, and what they clear
            --> SNMP verifier       a phone it can read: (re)schedule a check at its address

Each of them only queues in memory: the request never waits for a database or a socket.

A miss (provisioner.bans.miss_reason: a MAC the tenant does not have, a name no vendor uses)
is kept only as a phone waiting for an extension: a MAC of a vendor's OUI asked for with that
vendor's User-Agent, at most `waiting_phones_per_hour` new ones per tenant and hour. Anyone with
a tenant key could otherwise fill the phone list, the ticket queue and this process's memory
with made-up MACs.
"""

from __future__ import annotations

from typing import Protocol

from firmware_catalog import Catalog
from provisioner.findings import FindingKind
from provisioner.identification import parse_user_agent
from provisioner.incidents import device_findings
from provisioner.service import Outcome
from provisioner.sightings import SightingRecord
from provisioner.ticket_writer import Observation
from provisioner.values import UNASSIGNED_DEPARTMENT, ConfigRequest, TenantRecord
from provisioner.vendors import vendor_from_oui

WAITING_PERIOD = 3600.0  # seconds: the waiting-phone budget is per tenant and hour


class SightingSink(Protocol):
    def record(self, sighting: SightingRecord) -> None: ...


class FindingSink(Protocol):
    def observe(self, observation: Observation) -> None: ...

    def settled_clear(self, tenant_id: int, mac: str, covers: frozenset[FindingKind]) -> bool: ...


class ContactChecker(Protocol):
    def after_contact(self, tenant: TenantRecord, mac: str, source_ip: str, vendor: str | None) -> None: ...


class Fanout:
    def __init__(
        self,
        catalog: Catalog,
        recorder: SightingSink | None = None,
        intake: FindingSink | None = None,
        verifier: ContactChecker | None = None,
        *,
        waiting_phones_per_hour: int = 200,
    ) -> None:
        self._catalog = catalog
        self._recorder = recorder
        self._intake = intake
        self._verifier = verifier
        self._waiting = WaitingBudget(waiting_phones_per_hour, WAITING_PERIOD)

    def config_fetched(self, request: ConfigRequest, outcome: Outcome, *, missed: bool = False) -> None:
        tenant, ident, judgement = outcome.tenant, outcome.identification, outcome.judgement
        if tenant is None:
            return  # an unknown key tells nothing about any phone of ours
        if missed and not self._waiting_phone(request, tenant, ident.mac):
            return
        if self._recorder is not None:
            self._recorder.record(sighting(request, tenant, outcome))
        if ident.mac is None:
            return
        if judgement.judged and self._intake is not None:
            # Most of a storm's contacts are clean phones the intake has just settled: it
            # would drop their observation, so it is not even built.
            if judgement.findings or not self._intake.settled_clear(tenant.id, ident.mac, judgement.covers):
                self._intake.observe(observation(request, tenant, outcome))
        device = outcome.device
        if self._verifier is not None and (device is not None or ident.vendor):
            vendor = self._catalog.get(device.model_key).vendor if device else ident.vendor
            self._verifier.after_contact(tenant, ident.mac, request.source_ip, vendor)

    def _waiting_phone(self, request: ConfigRequest, tenant: TenantRecord, mac: str | None) -> bool:
        """Whether a miss is kept, as a phone waiting for an extension (see the module's doc)."""
        vendor = vendor_from_oui(mac)
        if mac is None or vendor is None:
            return False
        agent = parse_user_agent(request.user_agent)
        if agent is None or agent.vendor != vendor:
            return False
        return self._waiting.admit(tenant.id, mac, request.received_at.timestamp())


class WaitingBudget:
    """At most `limit` phones per tenant within a period (pure: the time is passed in).

    A phone already admitted in the current period stays admitted (a booting phone asks for
    several files); the period starts at a tenant's first admission, and at most `limit`
    MACs are kept per tenant."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._by_tenant: dict[int, tuple[float, set[str]]] = {}

    def admit(self, tenant_id: int, mac: str, now: float) -> bool:
        started, macs = self._by_tenant.get(tenant_id, (float("-inf"), set()))
        if now - started >= self.period:
            started, macs = now, set()
            self._by_tenant[tenant_id] = (started, macs)
        if mac in macs:
            return True
        if len(macs) >= self.limit:
            return False
        macs.add(mac)
        return True


def sighting(request: ConfigRequest, tenant: TenantRecord, outcome: Outcome) -> SightingRecord:
    ident = outcome.identification
    # Protocol and Role are StrEnums, so each member is already its value as a string; their
    # `.value` is a Python-level descriptor call, one per fetch each in a storm.
    return SightingRecord(
        tenant_id=tenant.id,
        seen_at=request.received_at,
        protocol=request.protocol,
        source_ip=request.source_ip,
        filename=request.filename,
        user_agent=request.user_agent,
        served=outcome.file is not None,
        role=ident.role,
        mac=ident.mac,
        vendor=ident.vendor,
        model=ident.model,
        catalog_key=ident.catalog_key,
        firmware=ident.firmware,
        certainty=int(ident.certainty),
        findings=outcome.judgement.kinds,
        judged=outcome.judgement.judged,
    )


def observation(request: ConfigRequest, tenant: TenantRecord, outcome: Outcome) -> Observation:
    """What a judged contact showed of its phone, for the ticket intake."""
    ident, entry, device, judgement = outcome.identification, outcome.entry, outcome.device, outcome.judgement
    assert ident.mac is not None
    findings = device_findings(
        judgement, tenant.view.slug, ident.mac, entry.model if entry else ident.model,
        device.department if device else UNASSIGNED_DEPARTMENT, request.received_at, request.source_ip,
        request.protocol.value, request.user_agent, assigned=device is not None,
    ) if judgement.findings else ()  # a clean phone (most of a storm): nothing to describe
    return Observation(tenant.id, ident.mac, findings, judgement.covers, request.received_at)
