"""The importing package's exceptions, part of the provisioner's one tree (provisioner/errors.py)."""

from __future__ import annotations

from provisioner.errors import InputError, NotFoundError


class ImportingError(InputError):
    """Something the installer must correct before an import can run; the message says how."""


class UnreadableFile(ImportingError):
    """The upload is not a CSV or XLSX file we can read (or has no header row)."""


class UnknownTenant(NotFoundError, ImportingError):
    """No tenant has the slug given."""
