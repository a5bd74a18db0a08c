"""The request pipeline, in the order the data flows:

    identify -> look up tenant and device -> compliance -> render -> record sighting

Adapters (HTTP, TFTP, CLI `render`) call `ProvisioningService.fetch` with a ConfigRequest
and get an Outcome back; a None file means "not found" whatever the reason, so unknown
keys, unknown MACs and malformed names all look the same from outside.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, NamedTuple

from firmware_catalog import Catalog, CatalogEntry, Finding, check_compliance
from provisioner.directory import DeviceRecord, Directory, TenantRecord
from provisioner.firmware_store import FirmwareStore
from provisioner.identification import identify, normalize_filename
from provisioner.incidents import DeviceFinding
from provisioner.intake import PROVISIONING_KINDS, Observation, TicketIntake

if TYPE_CHECKING:
    from provisioner.verification import SnmpVerification
from provisioner.sightings import SightingRecord, SightingRecorder
from provisioner.values import ConfigRequest, Identification, LineView, RenderContext, RenderedFile, Role

log = logging.getLogger("provisioner.service")
IDENTIFY_CACHE_SIZE = 65536  # (file name, User-Agent) pairs: a few per phone
CHECK_CACHE_SIZE = 4096
RESPONSE_CACHE_LIMIT = 200_000  # answers kept per process: a few per phone of a large site
FIRMWARE_FINDINGS = frozenset({"firmware_older", "firmware_newer", "firmware_unknown"})
security_log = logging.getLogger("provisioner.security")


class Outcome(NamedTuple):
    file: RenderedFile | None  # None: answer 404 / TFTP "File not found"
    identification: Identification
    findings: tuple[str, ...]
    reason: str  # why, for the log line


class ProvisioningService:
    def __init__(
        self,
        directory: Directory,
        catalog: Catalog,
        firmware: FirmwareStore,
        recorder: SightingRecorder | None,
        vendors: Mapping[str, ModuleType],
        intake: TicketIntake | None = None,
    ) -> None:
        self.directory = directory
        self.catalog = catalog
        self.firmware = firmware
        self.recorder = recorder
        self.vendors = vendors
        self.intake = intake
        self.verifier: SnmpVerification | None = None  # set by the server when SNMP checks are on
        # A phone asks for the same names with the same User-Agent at every boot and resync;
        # identify() is pure and its answer immutable, so repeat contacts skip the parsing.
        self.identify = functools.lru_cache(maxsize=IDENTIFY_CACHE_SIZE)(
            lambda filename, user_agent: identify(filename, user_agent, catalog)
        )
        # Compliance is pure too, and a storm's phones share a few (model, firmware, lines).
        self._check = functools.lru_cache(maxsize=CHECK_CACHE_SIZE)(
            lambda key, firmware, lines, model_seen: check_compliance(
                catalog.get(key) if key else None, firmware, lines, model_seen=model_seen
            )
        )
        # Rendered files, and whole answers by what decides them (tenant, file name, User-Agent,
        # device): both dropped when the directory or the firmware folder moves to a new generation.
        self._rendered: dict[tuple[object, ...], RenderedFile | None] = {}
        self._responses: dict[tuple[object, ...], tuple[RenderedFile | None, str]] = {}
        self._rendered_generation: tuple[int, int] = (-1, -1)

    def fetch(self, request: ConfigRequest) -> Outcome:
        self.directory.refresh_if_changed()
        ident = self.identify(request.filename, request.user_agent)
        tenant = self.directory.tenant_by_key(request.tenant_key)
        if tenant is None:
            return Outcome(None, ident, (), "unknown tenant key")
        device = self.directory.device(tenant.id, ident.mac) if ident.mac else None
        found, judged, covers = self._judge(tenant, ident, device)
        findings = tuple(f.kind.value for f in found) if found else ()
        file, reason = self._response(tenant, ident, device, request)
        if ident.firmware and ident.mac:
            self.directory.note_firmware(tenant.id, ident.mac, ident.firmware)
        if self.recorder is not None:
            self.recorder.record(_sighting(request, tenant, ident, file is not None, findings, judged))
        if judged and self.intake is not None and ident.mac:
            if found or not self.intake.settled_clear(tenant.id, ident.mac, covers):
                self.intake.observe(self._observation(request, tenant, ident, device, found, covers))
        if self.verifier is not None and ident.mac and (device is not None or ident.vendor):
            vendor = self.catalog.get(device.model_key).vendor if device else ident.vendor
            self.verifier.after_contact(tenant, ident.mac, request.source_ip, vendor)
        return Outcome(file, ident, findings, reason)

    def _observation(
        self, request: ConfigRequest, tenant: TenantRecord, ident: Identification, device: DeviceRecord | None,
        found: tuple[Finding, ...], covers: frozenset[str],
    ) -> Observation:
        assert ident.mac is not None
        entry = self.phone_entry(ident, device)
        model = entry.model if entry else ident.model
        department = device.department if device else "Sin asignar"
        return Observation(
            tenant_id=tenant.id,
            mac=ident.mac,
            findings=tuple(
                DeviceFinding(
                    tenant=tenant.view.slug, kind=f.kind.value, mac=ident.mac, model=model, observed=f.observed,
                    expected=f.expected, department=department, seen_at=request.received_at,
                    source_ip=request.source_ip, protocol=request.protocol.value, user_agent=request.user_agent,
                )
                for f in found
            ),
            covers=covers,
            seen_at=request.received_at,
        )

    # -- compliance ------------------------------------------------------------------------
    def phone_entry(self, ident: Identification, device: DeviceRecord | None) -> CatalogEntry | None:
        """The catalog row of what the phone *is*: its own report first, else its assignment."""
        if ident.model:
            return self.catalog.get(ident.catalog_key) if ident.catalog_key else None
        if device is not None:
            return self.catalog.get(device.model_key)
        return None

    def _judge(
        self, tenant: TenantRecord, ident: Identification, device: DeviceRecord | None
    ) -> tuple[tuple[Finding, ...], bool, frozenset[str]]:
        """(findings, whether the contact was judged, the finding kinds it can judge)."""
        if ident.mac is None or (not ident.model and device is None):
            return (), False, frozenset()  # no phone to attach it to, or nothing says what it is
        firmware = ident.firmware
        if firmware is None and ident.mac:
            firmware = self.directory.known_firmware(tenant.id, ident.mac)
        lines = len(device.lines) if device else 0
        entry = self.phone_entry(ident, device)
        found = self._check(entry.key if entry else None, firmware, lines, ident.model)
        if firmware is None:
            # Nothing reported a version yet (TFTP has no User-Agent; a Polycom's first requests
            # come from its Updater, whose version is not the application's): this contact
            # cannot judge the firmware, so it neither raises "not verifiable" nor clears a
            # firmware incident. Every boot storm opened, then resolved, such tickets.
            found = tuple(f for f in found if f.kind.value not in FIRMWARE_FINDINGS)
            return found, True, PROVISIONING_KINDS - FIRMWARE_FINDINGS
        return found, True, PROVISIONING_KINDS

    # -- response --------------------------------------------------------------------------
    def _response(
        self, tenant: TenantRecord, ident: Identification, device: DeviceRecord | None, request: ConfigRequest
    ) -> tuple[RenderedFile | None, str]:
        """The answer to this file for this phone, from memory when nothing it depends on moved."""
        self.firmware.refresh()
        self._check_generation()
        if ident.role is Role.FIRMWARE:  # the store notices an image replaced under the same name
            return self._respond(tenant, ident, device, request.filename)
        key = (tenant.id, request.filename, request.user_agent, device.id if device else None)
        answer = self._responses.get(key)
        if answer is None:
            if len(self._responses) >= RESPONSE_CACHE_LIMIT:  # made-up names must not grow it forever
                self._responses.clear()
            answer = self._responses[key] = self._respond(tenant, ident, device, request.filename)
        return answer

    def _check_generation(self) -> None:
        generation = (self.directory.generation, self.firmware.generation)
        if self._rendered_generation != generation:
            self._rendered.clear()
            self._responses.clear()
            self._rendered_generation = generation

    def _respond(
        self, tenant: TenantRecord, ident: Identification, device: DeviceRecord | None, filename: str
    ) -> tuple[RenderedFile | None, str]:
        """Work the answer out (only _response calls it: the caches' generation is checked)."""
        if ident.role in (Role.UNKNOWN, Role.OTHER):
            return None, f"{ident.role.value} file"
        if ident.role is Role.FIRMWARE:
            return self._firmware_file(ident, filename)
        if ident.role is Role.DEVICE and device is None:
            return None, "MAC not assigned to this tenant"
        entry = self.catalog.get(device.model_key) if device else (
            self.catalog.get(ident.catalog_key) if ident.catalog_key else None
        )
        vendor = entry.vendor if entry else ident.vendor
        if vendor is None or vendor not in self.vendors:
            return None, "no vendor serves this file"
        if ident.vendor and ident.vendor != vendor:
            log.warning("phone %s reports vendor %s but is assigned %s", ident.mac, ident.vendor, vendor)
            return None, "phone's vendor differs from its assigned model"
        # Only a DEVICE file gets the lines (credentials); a COMMON file is the same for every phone.
        target = None if ident.role is Role.COMMON else device
        return self._render(tenant, vendor, entry, target, ident.role is Role.DEVICE, normalize_filename(filename))

    def _render(
        self,
        tenant: TenantRecord,
        vendor: str,
        entry: CatalogEntry | None,
        device: DeviceRecord | None,
        with_lines: bool,
        name: str,
    ) -> tuple[RenderedFile | None, str]:
        key = (tenant.id, vendor, entry.key if entry else None, device.id if device else None, with_lines, name)
        if key not in self._rendered:
            if len(self._rendered) >= RESPONSE_CACHE_LIMIT:
                self._rendered.clear()
            context = self._context(tenant, entry, device, with_lines)
            self._rendered[key] = self.vendors[vendor].render(name, context)
        file = self._rendered[key]
        return file, "served" if file else "vendor does not serve this name"

    def _context(
        self, tenant: TenantRecord, entry: CatalogEntry | None, device: DeviceRecord | None, with_lines: bool
    ) -> RenderContext:
        lines: tuple[LineView, ...] = ()
        if with_lines and device is not None and entry is not None:
            lines = tuple(line for line in device.lines if line.number <= entry.lines)
        return RenderContext(
            tenant=tenant.view,
            entry=entry,
            mac=device.mac if device else None,
            lines=lines,
            firmware_url=self.firmware_url(tenant, entry),
            family_firmware=self._family_firmware(tenant, entry.vendor if entry else None),
        )

    def firmware_url(self, tenant: TenantRecord, entry: CatalogEntry | None) -> str | None:
        if entry is None or not self.firmware.has(entry.firmware_file):
            return None
        return tenant.view.base_url + str(entry.firmware_file)

    def _family_firmware(self, tenant: TenantRecord, vendor: str | None) -> tuple[tuple[CatalogEntry, str], ...]:
        return tuple(
            (e, url)
            for e in self.catalog.entries
            if (vendor is None or e.vendor == vendor) and (url := self.firmware_url(tenant, e))
        )

    def _firmware_file(self, ident: Identification, filename: str) -> tuple[RenderedFile | None, str]:
        """Serve exactly the catalog image asked for (Polycom may double its part-number prefix)."""
        name = normalize_filename(filename)
        if not self.catalog.by_firmware_file(name):
            entry = self.catalog.get(ident.catalog_key) if ident.catalog_key else None
            if entry is None or not entry.firmware_file or not name.endswith("." + entry.firmware_file):
                return None, "not a catalog firmware image"
            name = entry.firmware_file
        data = self.firmware.read(name)
        if data is None:
            return None, "firmware image not in the firmware folder"
        return RenderedFile(data, "application/octet-stream", sensitive=False), "served"


def _sighting(
    request: ConfigRequest,
    tenant: TenantRecord,
    ident: Identification,
    served: bool,
    findings: tuple[str, ...],
    judged: bool,
) -> SightingRecord:
    return SightingRecord(
        tenant_id=tenant.id,
        seen_at=request.received_at,
        protocol=request.protocol.value,
        source_ip=request.source_ip,
        filename=request.filename,
        user_agent=request.user_agent,
        served=served,
        role=ident.role.value,
        mac=ident.mac,
        vendor=ident.vendor,
        model=ident.model,
        catalog_key=ident.catalog_key,
        firmware=ident.firmware,
        certainty=int(ident.certainty),
        findings=findings,
        judged=judged,
    )
