"""The operator's homologated table (PROVISIONER_CATALOG), read once per process (an adapter).

The homologated table is the operator's: a TOML file with the built-in table's schema
replaces it for every command and server process, after the same validation the built-in one
gets (firmware_catalog.parse_catalog: every field of every row) and the same review as
`provisioner catalog check` (errors refuse the file; warnings do not). Every problem names the
file's line. Without the setting, the built-in table is used.
"""

from __future__ import annotations

from pathlib import Path

from firmware_catalog import Catalog, CatalogError, check_catalog, parse_catalog, use_catalog
from firmware_catalog.check import ERROR, CatalogProblem
from provisioner.errors import SettingsError
from provisioner.settings import Settings, environment_name
from provisioner.vendors import firmware_file_names

SETTING = environment_name("catalog")


def read_catalog(path: Path) -> Catalog:
    """The catalog in the TOML file at path, validated; SettingsError (one line) otherwise."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SettingsError(f"{SETTING}: cannot read {path}: {error.strerror or error}") from None
    try:
        return parse_catalog(data, source=str(path))
    except CatalogError as error:
        raise SettingsError(f"{SETTING}: {error}") from None


def review(catalog: Catalog) -> list[CatalogProblem]:
    """`provisioner catalog check`'s review, with the vendor packages' image names."""
    return check_catalog(catalog, firmware_file_names())


def where(catalog: Catalog, problem: CatalogProblem) -> str:
    line = catalog.line_of(problem.key, problem.field)
    return f"line {line}: " if line else ""


def install_operator_catalog(settings: Settings, *, refuse_errors: bool = True) -> Catalog | None:
    """Use the operator's table in this process (None: the built-in one is used).

    `refuse_errors`: a row that contradicts vendor facts refuses the file (every command but
    `catalog`, which is where the operator reads the problems)."""
    if not settings.catalog:
        use_catalog(None)
        return None
    path = Path(settings.catalog)
    catalog = read_catalog(path)
    if refuse_errors:
        errors = [p for p in review(catalog) if p.severity == ERROR]
        if errors:
            listed = "; ".join(f"{where(catalog, p)}row {p.key}, field {p.field}: {p.message}" for p in errors)
            raise SettingsError(f"{SETTING}: {path} contradicts vendor facts ({listed}); "
                                "`provisioner catalog check` lists every problem")
    use_catalog(catalog)
    return catalog
