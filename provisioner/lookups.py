"""What the request pipeline asks of the world, as small interfaces (no I/O here).

provisioner.directory.Directory answers the phone lookups from its in-memory cache (the
database on a miss), provisioner.firmware_store.FirmwareStore the firmware images; tests
may pass plain fakes. The pipeline sees only these.
"""

from __future__ import annotations

from typing import Protocol

from provisioner.values import DeviceRecord, TenantRecord


class TenantLookup(Protocol):
    def tenant_by_key(self, key: str) -> TenantRecord | None: ...


class DeviceLookup(Protocol):
    def device(self, tenant_id: int, mac: str) -> DeviceRecord | None: ...


class DeviceTokenLookup(Protocol):
    """Per-device URLs (provisioner.enrollment): the phone a token names, and enrolment."""

    def device_by_token(self, token: str) -> tuple[TenantRecord, DeviceRecord] | None: ...

    def note_enrolled(self, tenant_id: int, mac: str) -> None:
        """The phone fetched its MAC file under the tenant key: from now on only its own URL
        serves that file (kept, and seen by every process)."""


class FirmwareMemory(Protocol):
    """The last firmware each phone reported trustworthily (a TFTP contact never says it)."""

    def known_firmware(self, tenant_id: int, mac: str) -> str | None: ...

    def note_firmware(self, tenant_id: int, mac: str, firmware: str) -> None: ...


class PhoneDirectory(TenantLookup, DeviceLookup, DeviceTokenLookup, FirmwareMemory, Protocol):
    """The lookups, kept current: `generation` moves whenever an answer may have changed."""

    @property
    def generation(self) -> int: ...

    def refresh_if_changed(self) -> None: ...


class FirmwareImages(Protocol):
    """Firmware images by catalog file name; `generation` moves when one appears or goes."""

    @property
    def generation(self) -> int: ...

    def refresh(self) -> None: ...

    def has(self, name: str | None) -> bool: ...

    def read(self, name: str) -> bytes | None: ...
