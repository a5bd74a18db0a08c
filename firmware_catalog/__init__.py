"""The operator's homologated phones: catalog data, firmware versions, compliance.

Pure: no I/O except reading the packaged data file. Knows nothing of provisioner.

    homologated.toml  the reviewed table (service-model.md §9 + vendor facts)
    catalog.py        load_catalog() -> Catalog: get / find / by_part_number / ...;
                      use_catalog(): the operator's table instead of the built-in one
    versions.py       parse_version, compare_versions
    check.py          check_catalog: rows that contradict vendor facts
    compliance.py     check_compliance: catalog row + phone report -> findings
    lines.py          allowed_lines / line_refusal: the one rule of how many lines a phone holds

Exceptions (errors.py):

    FirmwareCatalogError
     ├── CatalogError          unusable catalog file (names the row and field)
     ├── UnknownModelError     Catalog.get() of an unknown key (also a KeyError)
     └── VersionError          not a dotted numeric version (also a ValueError)
"""

from firmware_catalog.catalog import Catalog, builtin_catalog, load_catalog, parse_catalog, use_catalog
from firmware_catalog.check import CatalogProblem, check_catalog, suspicious_keys
from firmware_catalog.compliance import Finding, FindingKind, check_compliance
from firmware_catalog.entry import CatalogEntry
from firmware_catalog.lines import allowed_lines, line_allowed, line_refusal, lines_beyond, lines_limit_text
from firmware_catalog.errors import CatalogError, FirmwareCatalogError, UnknownModelError, VersionError
from firmware_catalog.versions import compare_versions, parse_version

__all__ = [
    "Catalog",
    "builtin_catalog",
    "use_catalog",
    "CatalogEntry",
    "CatalogError",
    "CatalogProblem",
    "Finding",
    "FindingKind",
    "FirmwareCatalogError",
    "UnknownModelError",
    "VersionError",
    "allowed_lines",
    "check_catalog",
    "check_compliance",
    "compare_versions",
    "line_allowed",
    "line_refusal",
    "lines_beyond",
    "lines_limit_text",
    "load_catalog",
    "parse_catalog",
    "parse_version",
    "suspicious_keys",
]
