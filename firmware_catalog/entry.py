"""One row of the operator's homologated-equipment table (service-model.md section 9)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogEntry:
    key: str  # stable id, e.g. "yealink-t21p", "polycom-ip331", "grandstream-gxp1620"
    vendor: str  # "polycom" | "grandstream" | "yealink" | "jitsi" | "wekall"
    model: str  # the operator's name, e.g. "SoundPoint IP 331", "GXP1620", "T21P"
    kind: str  # "desk" | "dect" | "video" | "softphone" | "mobile"
    firmware: str  # the supported firmware version, e.g. "34.72.0.75"
    lines: int  # SIP accounts the operator supports on this device
    device_max_lines: int | None  # the device's own maximum from vendor facts (None: unknown)
    aliases: tuple[str, ...] = ()  # tokens seen on the wire: "SPIP_331", "SIP-T21P", "GXP1620", ...
    part_number: str | None = None  # Polycom part number, prefix of its .sip.ld request
    common_file_code: str | None = None  # Yealink common-file code, "034" in y000000000034.cfg
    firmware_file: str | None = None  # image file name the phone asks for, e.g. "34.72.0.75.rom"
    template: str | None = None  # template name under templates/phones, e.g. "yealink/t21p.j2"
    notes: str = ""
