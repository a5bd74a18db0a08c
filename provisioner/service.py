"""The request pipeline, in the order the data flows:

    ConfigRequest -> identify -> look up tenant and device -> judge_contact -> render -> Outcome

A request below a phone's own URL (/prov/d/<token>/) looks the phone up by its token instead
of the tenant key; provisioner.enrollment says which names each kind of URL serves.

Adapters (HTTP, TFTP, CLI `render`) call `ProvisioningService.fetch` with a ConfigRequest
and get an Outcome back; a None file means "not found" whatever the reason, so unknown
keys, unknown MACs and malformed names all look the same from outside. The server then
fans the Outcome out (provisioner.fanout: sightings, tickets, SNMP checks); nothing here
writes anywhere but to its own caches and the phones' firmware memory.

A phone's own file (MAC file, Polycom <mac>.cfg) points it at a firmware image only when a
campaign instructs that phone now, inside its maintenance window: `orders` gives the worker's
order from memory (provisioner.campaign_store.CampaignBoard) and the pure
provisioner.campaigns.firmware_instruction decides; the answer caches are keyed on the result.
Shared files never point at an image.

The lookups are injected (provisioner.lookups); every answer that can be is remembered:
identification by (file name, User-Agent), compliance by what decides it, rendered files
and whole answers until the directory or the firmware folder moves to a new generation.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import NamedTuple

from firmware_catalog import Catalog, CatalogEntry, line_allowed
from provisioner.campaigns import PhoneOrder, firmware_instruction
from provisioner.enrollment import device_url_serves, enrolls, tenant_key_serves
from provisioner.findings import NOT_JUDGED, FindingKind, Judgement, Scope, about_a_phone, assess, judge_contact
from provisioner.identification import identify, normalize_filename
from provisioner.lookups import FirmwareImages, PhoneDirectory
from provisioner.uploads import UploadName, upload_name
from provisioner.softphones import is_softphone
from provisioner.vendors.vendor import Vendor
from provisioner.values import (
    ConfigRequest,
    DeviceRecord,
    Identification,
    LineView,
    RenderContext,
    RenderedFile,
    Role,
    TenantRecord,
)

log = logging.getLogger("provisioner.service")
IDENTIFY_CACHE_SIZE = 65536  # (file name, User-Agent) pairs: a few per phone
CHECK_CACHE_SIZE = 4096
RESPONSE_CACHE_LIMIT = 200_000  # answers kept per process: a few per phone of a large site


class Outcome(NamedTuple):
    """What one request showed and what it gets: the answer, and what the fan-out needs."""

    file: RenderedFile | None  # None: answer 404 / TFTP "File not found"
    reason: str  # why, for the log line
    identification: Identification
    tenant: TenantRecord | None  # None: unknown key (then nothing else is known either)
    device: DeviceRecord | None  # the phone assigned to this MAC, if any
    entry: CatalogEntry | None  # the catalog row of what the phone is (None when not judged)
    judgement: Judgement

    @property
    def findings(self) -> tuple[FindingKind, ...]:
        return self.judgement.kinds


class UploadDecision(NamedTuple):
    """Whose file an upload (or the read-back of an override file) is.

    `name` is set only when the phone may write (and read) this name here; `outcome` (its
    file always None) says why not, with the tenant and device known so far, for the log
    line and the miss count."""

    outcome: Outcome
    name: UploadName | None


class ProvisioningService:
    def __init__(
        self,
        directory: PhoneDirectory,
        catalog: Catalog,
        firmware: FirmwareImages,
        vendors: Mapping[str, Vendor],
        orders: Callable[[int, str], PhoneOrder | None] | None = None,
    ) -> None:
        self.directory = directory
        # Firmware campaigns (provisioner.campaigns): the worker's order for a phone, from memory.
        self.orders = orders or (lambda tenant_id, mac: None)
        self.catalog = catalog
        self.firmware = firmware
        self.vendors = vendors
        # A phone asks for the same names with the same User-Agent at every boot and resync;
        # identify() is pure and its answer immutable, so repeat contacts skip the parsing.
        self.identify = functools.lru_cache(maxsize=IDENTIFY_CACHE_SIZE)(
            lambda filename, user_agent: identify(filename, user_agent, catalog)
        )
        # Compliance is pure too, and a storm's phones share a few (model, firmware, lines).
        # Keyed by the row's key: hashing a whole catalog row costs more than the lookup.
        self._assess_by_key = functools.lru_cache(maxsize=CHECK_CACHE_SIZE)(
            lambda key, firmware, lines, model_seen, scope: assess(
                catalog.get(key) if key else None, firmware, lines, model_seen, scope
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
        if request.device_token is not None:
            return self._fetch_at_device_url(request, request.device_token, ident)
        tenant = self.directory.tenant_by_key(request.tenant_key)
        if tenant is None:
            return Outcome(None, "unknown tenant key", ident, None, None, None, NOT_JUDGED)
        device = self.directory.device(tenant.id, ident.mac) if ident.mac else None
        outcome = self._answer(request, ident, tenant, device)
        if outcome.file is not None and ident.role is Role.DEVICE and enrolls(tenant, device):
            assert device is not None
            self.directory.note_enrolled(tenant.id, device.mac)
        return outcome

    def _fetch_at_device_url(self, request: ConfigRequest, token: str, ident: Identification) -> Outcome:
        """Below /prov/d/<token>/: the token's phone's own files and its vendor's shared ones."""
        found = self.directory.device_by_token(token)
        if found is None:
            return Outcome(None, "unknown device token", ident, None, None, None, NOT_JUDGED)
        tenant, owner = found
        owner_entry = self.catalog.get(owner.model_key)
        if owner_entry is None or not device_url_serves(ident, owner, owner_entry.vendor):
            return Outcome(None, "not a file of this device", ident, tenant, None, None, NOT_JUDGED)
        return self._answer(request, ident, tenant, owner if ident.mac == owner.mac else None)

    def _answer(
        self, request: ConfigRequest, ident: Identification, tenant: TenantRecord, device: DeviceRecord | None
    ) -> Outcome:
        """Judge the contact and answer it, once the tenant and the phone are known."""
        entry, judgement = self._judge(tenant, ident, device)
        if tenant.device_urls and request.device_token is None and ident.role is Role.DEVICE and device is not None:
            if not tenant_key_serves(tenant, device, request.received_at):
                return Outcome(None, "MAC file served at the phone's own URL only", ident, tenant, device, entry, judgement)
        file, reason = self._response(tenant, ident, device, request)
        if ident.firmware and ident.mac:
            self.directory.note_firmware(tenant.id, ident.mac, ident.firmware)
        return Outcome(file, reason, ident, tenant, device, entry, judgement)

    # -- uploads (provisioner.uploads) -------------------------------------------------------
    def upload_target(self, request: ConfigRequest) -> UploadDecision:
        """Whether the phone whose MAC the name carries may write it here: an assigned phone,
        below its tenant's key (while that key still serves its MAC file) or its own URL;
        never another tenant's MAC, never another phone's name below a device URL."""
        self.directory.refresh_if_changed()
        ident = self.identify(request.filename, request.user_agent)
        name = upload_name(request.filename, self.vendors.values())

        def refused(reason: str, tenant: TenantRecord | None = None, device: DeviceRecord | None = None) -> UploadDecision:
            return UploadDecision(Outcome(None, reason, ident, tenant, device, None, NOT_JUDGED), None)

        if request.device_token is not None:
            found = self.directory.device_by_token(request.device_token)
            if found is None:
                return refused("unknown device token")
            tenant, device = found
            if name is None or name.mac != device.mac:
                return refused("not an upload of this device", tenant)
        else:
            keyed = self.directory.tenant_by_key(request.tenant_key)
            if keyed is None:
                return refused("unknown tenant key")
            if name is None:  # a known phone's other names (its -web.cfg) are no miss, as for a GET
                return refused("not an upload name", keyed, self.directory.device(keyed.id, ident.mac) if ident.mac else None)
            assigned = self.directory.device(keyed.id, name.mac)
            if assigned is None:
                return refused("MAC not assigned to this tenant", keyed)
            if not tenant_key_serves(keyed, assigned, request.received_at):
                return refused("upload at the phone's own URL only", keyed, assigned)
            tenant, device = keyed, assigned
        entry = self.catalog.get(device.model_key) if device.model_key in self._catalog_keys else None
        if entry is None or entry.vendor != name.vendor:
            return refused("not an upload of this phone's vendor", tenant, device)
        return UploadDecision(Outcome(None, f"{name.kind.value} upload", ident, tenant, device, entry, NOT_JUDGED), name)

    @functools.cached_property
    def _catalog_keys(self) -> frozenset[str]:
        return frozenset(entry.key for entry in self.catalog.entries)

    # -- compliance ------------------------------------------------------------------------
    def _judge(
        self, tenant: TenantRecord, ident: Identification, device: DeviceRecord | None
    ) -> tuple[CatalogEntry | None, Judgement]:
        if not about_a_phone(ident, device):  # judge_contact would say so: skip its lookups
            return None, NOT_JUDGED
        assert ident.mac is not None
        known = self.directory.known_firmware(tenant.id, ident.mac) if ident.firmware is None else None
        entry = self.phone_entry(ident, device)
        return entry, judge_contact(ident, entry, device, known, assessor=self._assess)

    def _assess(
        self, entry: CatalogEntry | None, firmware: str | None, lines: int, model_seen: str | None, scope: Scope
    ) -> Judgement:
        return self._assess_by_key(entry.key if entry else None, firmware, lines, model_seen, scope)

    def phone_entry(self, ident: Identification, device: DeviceRecord | None) -> CatalogEntry | None:
        """The catalog row of what the phone *is*: its own report first, else its assignment."""
        if ident.model:
            return self.catalog.get(ident.catalog_key) if ident.catalog_key else None
        if device is not None:
            return self.catalog.get(device.model_key)
        return None

    # -- response --------------------------------------------------------------------------
    def _response(
        self, tenant: TenantRecord, ident: Identification, device: DeviceRecord | None, request: ConfigRequest
    ) -> tuple[RenderedFile | None, str]:
        """The answer to this file for this phone, from memory when nothing it depends on moved."""
        self.firmware.refresh()
        self._check_generation()
        if ident.role is Role.FIRMWARE:  # the store notices an image replaced under the same name
            return self._respond(tenant, ident, device, request, None)
        image = self.instruction(tenant, device, request.received_at)
        key = (tenant.id, request.filename, request.user_agent, device.id if device else None, image)
        answer = self._responses.get(key)
        if answer is None:
            if len(self._responses) >= RESPONSE_CACHE_LIMIT:  # made-up names must not grow it forever
                self._responses.clear()
            answer = self._responses[key] = self._respond(tenant, ident, device, request, image)
        return answer

    def instruction(self, tenant: TenantRecord, device: DeviceRecord | None, now: datetime) -> str | None:
        """The image this phone's config points at now (campaigns.firmware_instruction), or None."""
        if device is None:
            return None
        return firmware_instruction(self.orders(tenant.id, device.mac), now)

    def _check_generation(self) -> None:
        generation = (self.directory.generation, self.firmware.generation)
        if self._rendered_generation != generation:
            self._rendered.clear()
            self._responses.clear()
            self._rendered_generation = generation

    def _respond(
        self, tenant: TenantRecord, ident: Identification, device: DeviceRecord | None, request: ConfigRequest,
        image: str | None,
    ) -> tuple[RenderedFile | None, str]:
        """Work the answer out (only _response calls it: the caches' generation is checked)."""
        filename = request.filename
        if ident.role in (Role.UNKNOWN, Role.OTHER):
            return None, f"{ident.role.value} file"
        if ident.role is Role.FIRMWARE:
            return self._firmware_file(ident, filename)
        if ident.role is Role.DEVICE and device is None:
            return None, "MAC not assigned to this tenant"
        entry = self.catalog.get(device.model_key) if device else (
            self.catalog.get(ident.catalog_key) if ident.catalog_key else None
        )
        if is_softphone(entry):  # a MAC bound to an app before that was refused: never a desk file
            return None, "softphone model: not provisioned by MAC"
        vendor = entry.vendor if entry else ident.vendor
        if vendor is None or vendor not in self.vendors:
            return None, "no vendor serves this file"
        if ident.vendor and ident.vendor != vendor:
            log.warning("req=%d phone %s reports vendor %s but is assigned %s", request.request_id, ident.mac,
                        ident.vendor, vendor)
            return None, "phone's vendor differs from its assigned model"
        # Only a DEVICE file gets the lines (credentials); a COMMON file is the same for every phone.
        target = None if ident.role is Role.COMMON else device
        # Only a phone's own file may carry a firmware instruction (a shared file reaches every phone).
        own_image = image if target is not None else None
        return self._render(tenant, vendor, entry, target, ident.role is Role.DEVICE, normalize_filename(filename), own_image)

    def _render(
        self,
        tenant: TenantRecord,
        vendor: str,
        entry: CatalogEntry | None,
        device: DeviceRecord | None,
        with_lines: bool,
        name: str,
        image: str | None,
    ) -> tuple[RenderedFile | None, str]:
        key = (tenant.id, vendor, entry.key if entry else None, device.id if device else None, with_lines, name, image)
        if key not in self._rendered:
            if len(self._rendered) >= RESPONSE_CACHE_LIMIT:
                self._rendered.clear()
            context = self._context(tenant, entry, device, with_lines, image)
            self._rendered[key] = self.vendors[vendor].render(name, context)
        file = self._rendered[key]
        return file, "served" if file else "vendor does not serve this name"

    def _context(
        self, tenant: TenantRecord, entry: CatalogEntry | None, device: DeviceRecord | None, with_lines: bool,
        image: str | None,
    ) -> RenderContext:
        lines: tuple[LineView, ...] = ()
        if with_lines and device is not None and entry is not None:
            # Only the lines the model may hold (homologated AND on the device): a line beyond is
            # never sent, and compliance flags it as lines_exceeded.
            lines = tuple(line for line in device.lines if line_allowed(entry, line.number))
        own = device if with_lines else None  # only a DEVICE file carries what is the device's own
        return RenderContext(
            tenant=tenant.view,
            entry=entry,
            mac=device.mac if device else None,
            lines=lines,
            firmware_url=self.firmware_url(tenant, image),
            family_firmware=(),  # a shared file never points phones at an image: only a campaign's phones, in its window
            admin_password=own.admin_password if own else "",
            provisioning_url=own.provisioning_url if own and tenant.view.device_urls else None,
        )

    def firmware_url(self, tenant: TenantRecord, image: str | None) -> str | None:
        """Where the instructed image is, when it is in the firmware folder (never a missing file)."""
        if image is None or not self.firmware.has(image):
            return None
        return tenant.view.base_url + image

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

