"""Review the catalog against vendor facts: rows the operator's table gets wrong (pure).

Error: the row contradicts a sourced vendor fact or cannot be used (firmware that does not
parse, a name two rows share). Warning: the row looks inconsistent but may still work.
The firmware facts are reviewed data below, each with its phones.md source key; the checks
never test for a particular model.

The image name each vendor's phones ask for is a fact of the vendor package that provisions
them (this package knows nothing of provisioner): the caller passes it in, as
`provisioner catalog check` does with provisioner.vendors.firmware_file_names().
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from firmware_catalog.catalog import DESK_KINDS, Catalog
from firmware_catalog.errors import VersionError
from firmware_catalog.versions import compare_versions, parse_version

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"


@dataclass(frozen=True)
class CatalogProblem:
    key: str  # catalog row
    field: str  # the CatalogEntry field that is wrong
    severity: Severity
    message: str


@dataclass(frozen=True)
class FirmwareFact:
    """What public sources show about the firmware a model can run: every build is older than `below`."""

    key: str
    below: str
    newest_public: str | None
    sources: str


# Reviewed vendor facts (phones.md §0 item 5): SoundPoint IP phones stop at UCS 4.x; every
# 5.x plugin lists VVX models only [WZ-PHIST]; newest public IP 550 build 4.0.15.1009 [PPT].
FIRMWARE_FACTS: tuple[FirmwareFact, ...] = (
    FirmwareFact("polycom-ip331", below="5", newest_public=None, sources="[WZ-PHIST]"),
    FirmwareFact("polycom-ip550", below="5", newest_public="4.0.15.1009", sources="[WZ-PHIST] [PPT]"),
)


def check_catalog(catalog: Catalog, firmware_file_names: Mapping[str, str] | None = None) -> list[CatalogProblem]:
    """Every problem of every row, in catalog order within each check.

    `firmware_file_names`: vendor -> the image name its phones ask for, written with the row's
    fields ("{part_number}.sip.ld", "{firmware}.rom"); without it image names are not checked.
    """
    problems = [problem for check in CHECKS for problem in check(catalog)]
    return problems + list(misnamed_firmware_files(catalog, firmware_file_names or {}))


def suspicious_keys(catalog: Catalog, firmware_file_names: Mapping[str, str] | None = None) -> frozenset[str]:
    """Rows with any problem: data to load with a warning, not to trust silently."""
    return frozenset(problem.key for problem in check_catalog(catalog, firmware_file_names))


# -- the checks ------------------------------------------------------------------------------
def unparseable_firmware(catalog: Catalog) -> Iterator[CatalogProblem]:
    for entry in catalog.entries:
        try:
            parse_version(entry.firmware)
        except VersionError as exc:
            yield CatalogProblem(entry.key, "firmware", ERROR, f"{exc}: phones cannot be compared with it")


def lines_beyond_device(catalog: Catalog) -> Iterator[CatalogProblem]:
    for entry in catalog.entries:
        if entry.device_max_lines is not None and entry.lines > entry.device_max_lines:
            # A warning, not an error: firmware_catalog.lines offers the smaller of the two, and
            # extension add and the import refuse the rest, so no phone is sent a dead account.
            yield CatalogProblem(
                entry.key, "lines", WARNING,
                f"homologated for {entry.lines} lines but the {entry.model} has "
                f"{_accounts(entry.device_max_lines)}: only {entry.device_max_lines} offered, the rest refused at entry",
            )


def firmware_beyond_public_builds(catalog: Catalog, facts: Iterable[FirmwareFact] = FIRMWARE_FACTS) -> Iterator[CatalogProblem]:
    by_key = {entry.key: entry for entry in catalog.entries}
    for fact in facts:
        entry = by_key.get(fact.key)
        if entry is None or not _parses(entry.firmware) or compare_versions(entry.firmware, fact.below) < 0:
            continue
        newest = f" (newest public build {fact.newest_public})" if fact.newest_public else ""
        yield CatalogProblem(
            entry.key, "firmware", ERROR,
            f"contradicts vendor facts: no public source corroborates firmware {entry.firmware} for the "
            f"{entry.model}, whose public builds are all older than {fact.below}{newest} {fact.sources}; "
            "probably a typo: confirm with a lab capture",
        )


def ambiguous_names(catalog: Catalog) -> Iterator[CatalogProblem]:
    for token, keys in sorted(catalog.ambiguous_tokens().items()):
        for key in keys:
            others = ", ".join(k for k in keys if k != key)
            yield CatalogProblem(key, "aliases", ERROR, f"name {token!r} also names {others}: lookups by it find nothing")


def misnamed_firmware_files(catalog: Catalog, firmware_file_names: Mapping[str, str]) -> Iterator[CatalogProblem]:
    for entry in catalog.entries:
        pattern = firmware_file_names.get(entry.vendor)
        if pattern is None or entry.kind not in DESK_KINDS:
            continue
        expected = pattern.format(part_number=entry.part_number, firmware=entry.firmware)
        if entry.firmware_file != expected:
            yield CatalogProblem(
                entry.key, "firmware_file", WARNING,
                f"{entry.firmware_file!r} is not the image name {entry.vendor} phones ask for here ({expected!r})",
            )


CHECKS: tuple[Callable[[Catalog], Iterable[CatalogProblem]], ...] = (
    unparseable_firmware,
    lines_beyond_device,
    firmware_beyond_public_builds,
    ambiguous_names,
)


def _parses(version: str) -> bool:
    try:
        parse_version(version)
    except VersionError:
        return False
    return True


def _accounts(count: int) -> str:
    return f"{count} SIP account" + ("s" if count != 1 else "")
