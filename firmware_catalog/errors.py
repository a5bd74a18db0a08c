"""The firmware_catalog exception tree (the only exceptions this package raises):

    FirmwareCatalogError
     ├── CatalogError          a catalog file that cannot be used (names the row and field)
     ├── UnknownModelError     Catalog.get() of a key the catalog does not have (also a KeyError)
     └── VersionError          text that is not a dotted numeric version (also a ValueError)
"""

from __future__ import annotations


class FirmwareCatalogError(Exception):
    """Base of every error raised by firmware_catalog."""


class CatalogError(FirmwareCatalogError):
    """The catalog data is unusable; `row` (1-based), `field` and `line` (of the file) say
    where, when known."""

    def __init__(self, message: str, *, source: str = "", row: int | None = None, field: str | None = None,
                 line: int | None = None) -> None:
        self.source, self.row, self.field, self.line = source, row, field, line
        super().__init__(message)


class UnknownModelError(FirmwareCatalogError, KeyError):
    """No catalog row has this key."""

    def __str__(self) -> str:  # KeyError would print the repr of its argument
        return str(self.args[0]) if self.args else ""


class VersionError(FirmwareCatalogError, ValueError):
    """Text that is not a dotted numeric version such as 34.72.0.75."""
