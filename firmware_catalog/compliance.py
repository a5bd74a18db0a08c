"""Is a phone what the operator supports? Catalog row + what the phone reported -> findings (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from firmware_catalog.entry import CatalogEntry
from firmware_catalog.errors import VersionError
from firmware_catalog.lines import allowed_lines, lines_limit_text
from firmware_catalog.versions import compare_versions


class FindingKind(StrEnum):
    FIRMWARE_OLDER = "firmware_older"
    FIRMWARE_NEWER = "firmware_newer"
    FIRMWARE_UNKNOWN = "firmware_unknown"
    MODEL_NOT_HOMOLOGATED = "model_not_homologated"
    LINES_EXCEEDED = "lines_exceeded"


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    message: str  # plain English, for a support agent
    expected: str | None = None
    observed: str | None = None


def check_compliance(
    entry: CatalogEntry | None,
    firmware: str | None,
    highest_line: int,
    *,
    model_seen: str | None = None,
) -> tuple[Finding, ...]:
    """Findings for one phone; an empty tuple means compliant. Never raises on bad input text.

    entry is the catalog row of the phone's model (None: not homologated); firmware is the
    application version the phone reported (None: not known); highest_line is the highest line
    number assigned to it (0: none), judged by firmware_catalog.lines (homologated lines and
    the device's own accounts, the smaller wins).
    """
    if entry is None:
        return (_not_homologated(model_seen),)
    found = [_firmware_finding(entry, firmware), _lines_finding(entry, highest_line)]
    return tuple(f for f in found if f is not None)


def _not_homologated(model_seen: str | None) -> Finding:
    what = f"model {model_seen}" if model_seen else "the phone's model"
    return Finding(FindingKind.MODEL_NOT_HOMOLOGATED, f"{what} is not homologated", None, model_seen)


def _firmware_finding(entry: CatalogEntry, firmware: str | None) -> Finding | None:
    supported = entry.firmware
    if firmware is None or not firmware.strip():
        return Finding(FindingKind.FIRMWARE_UNKNOWN, f"firmware not reported (supported: {supported})", supported, None)
    try:
        order = compare_versions(firmware, supported)
    except VersionError:
        return Finding(
            FindingKind.FIRMWARE_UNKNOWN, f"firmware {firmware!r} is not a version number (supported: {supported})",
            supported, firmware,
        )
    if order < 0:
        return Finding(FindingKind.FIRMWARE_OLDER, f"firmware {firmware} is older than the supported {supported}", supported, firmware)
    if order > 0:
        return Finding(FindingKind.FIRMWARE_NEWER, f"firmware {firmware} is newer than the supported {supported}", supported, firmware)
    return None


def _lines_finding(entry: CatalogEntry, highest_line: int) -> Finding | None:
    allowed = allowed_lines(entry)
    if highest_line <= allowed:
        return None
    return Finding(
        FindingKind.LINES_EXCEEDED,
        f"línea {highest_line} asignada, pero {lines_limit_text(entry)}",
        str(allowed), str(highest_line),
    )
