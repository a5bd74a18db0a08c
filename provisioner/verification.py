"""SNMP verification of phones after they fetch a config (adapter).

After a phone's contact, its (tenant, MAC) is scheduled on the poller at the IP it came
from, with the tenant's read community. Each poll result is judged like a config fetch
(provisioner.findings.judge_contact, within what SNMP can tell: SNMP_POLL) and becomes:

  * a sighting with protocol `snmp` (firmware as the agent reports it);
  * an observation for the ticket intake: `unreachable` after N timeouts in a row (and its
    recovery when the phone answers again), and firmware findings from what SNMP reports.

The poller bounds its own concurrency and timeouts and runs on its own tasks, so config
serving never waits for it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from firmware_catalog import Catalog, CatalogEntry
from provisioner.fanout import FindingSink, SightingSink
from provisioner.findings import NOT_JUDGED, SNMP_POLL, FindingKind, Judgement, judge_contact
from provisioner.incidents import DeviceFinding, device_findings
from provisioner.lookups import DeviceLookup, FirmwareMemory
from provisioner.settings import Settings
from provisioner.sightings import SightingRecord
from provisioner.snmp.parse import snmp_vendors
from provisioner.snmp.poller import PollResult, PollTarget, SnmpPoller
from provisioner.ticket_writer import Observation
from provisioner.values import UNASSIGNED_DEPARTMENT, DeviceRecord, Identification, Protocol, Role, TenantRecord

log = logging.getLogger("provisioner.verification")
UNREACHABLE = frozenset({FindingKind.UNREACHABLE})


class SnmpVerification:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        devices: DeviceLookup,
        firmware: FirmwareMemory,
        recorder: SightingSink | None = None,
        intake: FindingSink | None = None,
    ) -> None:
        self._settings = settings
        self._catalog = catalog
        self._devices = devices
        self._firmware = firmware
        self._recorder = recorder
        self._intake = intake
        self.poller = SnmpPoller(
            self.on_result,
            interval=settings.snmp_interval_seconds,
            timeout=settings.snmp_timeout_seconds,
            retries=settings.snmp_retries,
            unreachable_after=settings.snmp_unreachable_after,
            max_concurrency=settings.snmp_max_concurrency,
        )
        self._vendors = snmp_vendors()
        self._slugs: dict[int, str] = {}

    def after_contact(self, tenant: TenantRecord, mac: str, source_ip: str, vendor: str | None) -> None:
        """Called on every config fetch that names a phone: (re)schedule its SNMP check."""
        if vendor not in self._vendors or not source_ip:
            return
        self._slugs[tenant.id] = tenant.view.slug
        target = PollTarget(tenant.id, mac, source_ip, port=self._settings.snmp_port,
                            community=tenant.view.snmp_community, vendor=vendor)
        self.poller.schedule(target, self._settings.snmp_delay_seconds)

    def on_result(self, result: PollResult) -> None:
        target = result.target
        device = self._devices.device(target.tenant_id, target.mac)
        entry = self._catalog.get(device.model_key) if device else None
        judgement = judge_poll(result, entry, device)
        firmware = result.reading.firmware if result.reading else None
        if self._recorder is not None:
            self._recorder.record(poll_sighting(result, judgement))
        if firmware and entry is not None:
            self._firmware.note_firmware(target.tenant_id, target.mac, firmware)
        tenant = self._slugs.get(target.tenant_id)
        if self._intake is None or tenant is None or entry is None:
            return
        self._intake.observe(poll_observation(result, judgement, tenant, entry, device))

    async def context(self, _app: object) -> AsyncIterator[None]:
        await self.poller.start()
        yield
        await self.poller.stop()


def judge_poll(result: PollResult, entry: CatalogEntry | None, device: DeviceRecord | None) -> Judgement:
    """The poll's firmware judged against the phone's assigned model (no answer: nothing to judge)."""
    if result.reading is None:
        return NOT_JUDGED
    target = result.target
    # What the agent said, as an identification: the model is the assigned one, never the agent's.
    said = Identification(Role.OTHER, vendor=target.vendor, firmware=result.reading.firmware or None, mac=target.mac)
    return judge_contact(said, entry, device, None, SNMP_POLL)


def poll_sighting(result: PollResult, judgement: Judgement) -> SightingRecord:
    target, reading = result.target, result.reading
    unreachable = () if result.reachable else (FindingKind.UNREACHABLE,)
    return SightingRecord(
        tenant_id=target.tenant_id, seen_at=result.at, protocol=Protocol.SNMP.value, source_ip=target.ip,
        filename="snmp:get", user_agent=reading.sys_descr if reading else None, served=reading is not None,
        role="snmp", mac=target.mac, vendor=target.vendor, model=None, catalog_key=None,
        firmware=reading.firmware if reading else None, certainty=0, findings=judgement.kinds + unreachable,
        judged=judgement.judged,
    )


def poll_observation(
    result: PollResult, judgement: Judgement, tenant: str, entry: CatalogEntry, device: DeviceRecord | None
) -> Observation:
    target = result.target
    department = device.department if device else UNASSIGNED_DEPARTMENT
    evidence = reading.sys_descr if (reading := result.reading) else None
    findings = device_findings(judgement, tenant, target.mac, entry.model, department, result.at, target.ip,
                               Protocol.SNMP.value, evidence)
    if not result.reachable:
        findings += (DeviceFinding(tenant, FindingKind.UNREACHABLE, target.mac, entry.model, None, None, department,
                                   result.at, target.ip, Protocol.SNMP.value, evidence),)
    return Observation(target.tenant_id, target.mac, findings, judgement.covers | UNREACHABLE, result.at)
