"""The importing package's exception tree (drawn in the package docstring)."""

from __future__ import annotations


class ImportingError(Exception):
    """Something the installer must correct before an import can run; the message says how."""


class UnreadableFile(ImportingError):
    """The upload is not a CSV or XLSX file we can read (or has no header row)."""


class UnknownTenant(ImportingError):
    """No tenant has the slug given."""
