"""The import as the installers' web page uses it: upload -> preview -> confirm.

Framework-free: the web layer hands over the uploaded bytes and gets a JSON-able dict back;
routes, multipart parsing, size limits and authentication stay in the web layer.

    preview = preview_import(sessions, "acme", data, "lista.xlsx", replace=False)
        -> {"ok": ..., "problems": [...], "warnings": [...], "summary": {...}, "changes": [...],
            "file_sha256": "..."}                      (validated, nothing written)
    result = confirm_import(sessions, "acme", data, "lista.xlsx", replace=False,
                            expect_sha256=preview["file_sha256"])
        -> the same shape with "applied": true         (or problems and "applied": false)

Exceptions are the package's (errors.py) and FileChanged; provisioner.web.errors maps them to
answers, with the rest of the provisioner's tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from provisioner.errors import ConflictError
from provisioner.importing.errors import ImportingError
from provisioner.importing.pipeline import import_extensions
from provisioner.importing.reader import open_table
from provisioner.importing.validate import CatalogLike
from provisioner.importing.words import say


class FileChanged(ConflictError, ImportingError):
    """The file confirmed is not the file that was previewed."""


def preview_import(
    sessions: sessionmaker[Session], tenant_slug: str, data: bytes, filename: str, *, replace: bool = False,
    sheet: str | None = None, catalog: CatalogLike | None = None, suspicious_keys: Collection[str] | None = None,
) -> dict[str, Any]:
    """Validate the upload and say what it would change; writes nothing."""
    return _run(sessions, tenant_slug, data, filename, True, replace, sheet, catalog, suspicious_keys)


def confirm_import(
    sessions: sessionmaker[Session], tenant_slug: str, data: bytes, filename: str, *, replace: bool = False,
    sheet: str | None = None, expect_sha256: str | None = None, catalog: CatalogLike | None = None,
    suspicious_keys: Collection[str] | None = None,
) -> dict[str, Any]:
    """Validate again and, when clean, write it all in one transaction (nothing on any problem)."""
    if expect_sha256 is not None and expect_sha256 != _digest(data):
        raise FileChanged(say("file_changed"))
    return _run(sessions, tenant_slug, data, filename, False, replace, sheet, catalog, suspicious_keys)


def import_upload(
    sessions: sessionmaker[Session], tenant_slug: str, data: bytes, filename: str, *, dry_run: bool, replace: bool = False,
    sheet: str | None = None, catalog: CatalogLike | None = None, suspicious_keys: Collection[str] | None = None,
) -> dict[str, Any]:
    """preview_import when dry_run, else confirm_import (for a single route with a flag)."""
    return _run(sessions, tenant_slug, data, filename, dry_run, replace, sheet, catalog, suspicious_keys)


def _run(
    sessions: sessionmaker[Session], slug: str, data: bytes, filename: str, dry_run: bool, replace: bool,
    sheet: str | None, catalog: CatalogLike | None, suspicious: Collection[str] | None,
) -> dict[str, Any]:
    if catalog is None or suspicious is None:
        catalog, suspicious = _default_catalog(catalog)
    with open_table(data, filename, sheet=sheet) as table, sessions() as session:
        report = import_extensions(session, table, slug, catalog, suspicious, file_label=filename,
                                   dry_run=dry_run, replace=replace)
        if report.applied:
            session.commit()
        else:
            session.rollback()
        detail = table.detail
    return {**report.as_dict(), "format": detail, "file_sha256": _digest(data)}


def _default_catalog(catalog: CatalogLike | None) -> tuple[CatalogLike, frozenset[str]]:
    from firmware_catalog import load_catalog
    from firmware_catalog.check import suspicious_keys

    chosen = catalog if catalog is not None else load_catalog()
    return chosen, frozenset(suspicious_keys(chosen))  # type: ignore[arg-type]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
