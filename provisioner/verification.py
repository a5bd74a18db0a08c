"""SNMP verification of phones after they fetch a config (adapter).

After a phone's contact, its (tenant, MAC) is scheduled on the poller at the IP it came
from, with the tenant's read community. Each poll result becomes:

  * a sighting with protocol `snmp` (firmware and model as the agent reports them), judged
    by the same compliance check as config fetches;
  * an observation for the ticket intake: `unreachable` after N timeouts in a row (and its
    recovery when the phone answers again), and firmware findings from what SNMP reports.

The poller bounds its own concurrency and timeouts and runs on its own tasks, so config
serving never waits for it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from firmware_catalog import check_compliance
from provisioner.incidents import DeviceFinding
from provisioner.directory import TenantRecord
from provisioner.intake import Observation
from provisioner.settings import Settings
from provisioner.sightings import SightingRecord
from provisioner.snmp.parse import snmp_vendors
from provisioner.snmp.poller import PollResult, PollTarget, SnmpPoller
from provisioner.values import Protocol

if TYPE_CHECKING:
    from provisioner.service import ProvisioningService

log = logging.getLogger("provisioner.verification")
FIRMWARE_KINDS = frozenset({"firmware_older", "firmware_newer"})


class SnmpVerification:
    def __init__(self, service: "ProvisioningService", settings: Settings) -> None:
        self._service = service
        self._settings = settings
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
        device = self._service.directory.device(target.tenant_id, target.mac)
        entry = self._service.catalog.get(device.model_key) if device else None
        reading = result.reading
        firmware = reading.firmware if reading else None
        found = check_compliance(entry, firmware, len(device.lines) if device else 0) if reading and entry else ()
        kinds = [f.kind.value for f in found if f.kind.value in FIRMWARE_KINDS]
        if self._service.recorder is not None:
            self._service.recorder.record(SightingRecord(
                tenant_id=target.tenant_id, seen_at=result.at, protocol=Protocol.SNMP.value, source_ip=target.ip,
                filename="snmp:get", user_agent=reading.sys_descr if reading else None, served=reading is not None,
                role="snmp", mac=target.mac, vendor=target.vendor, model=None, catalog_key=None,
                firmware=firmware, certainty=0, findings=tuple(kinds) + (() if result.reachable else ("unreachable",)),
                judged=reading is not None and entry is not None,
            ))
        if firmware and entry is not None:
            self._service.directory.note_firmware(target.tenant_id, target.mac, firmware)
        intake = self._service.intake
        tenant = self._slugs.get(target.tenant_id)
        if intake is None or tenant is None or entry is None:
            return
        department = device.department if device else "Sin asignar"

        def finding(kind: str, observed: str | None, expected: str | None) -> DeviceFinding:
            evidence_ua = reading.sys_descr if reading else None
            return DeviceFinding(tenant, kind, target.mac, entry.model, observed, expected, department, result.at,
                                 target.ip, "snmp", evidence_ua)

        findings = [finding(f.kind.value, f.observed, f.expected) for f in found if f.kind.value in FIRMWARE_KINDS]
        if not result.reachable:
            findings.append(finding("unreachable", None, None))
        # A firmware read over SNMP settles "firmware unknown" too (TFTP phones never say theirs).
        covers = {"unreachable"} | (FIRMWARE_KINDS | {"firmware_unknown"} if firmware else set())
        intake.observe(Observation(target.tenant_id, target.mac, tuple(findings), frozenset(covers), result.at))

    async def context(self, _app: object) -> AsyncIterator[None]:
        await self.poller.start()
        yield
        await self.poller.stop()

