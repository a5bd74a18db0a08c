"""`provisioner import extensions` and `provisioner export extensions` (thin: options in, report out).

The database URL comes from the Settings object of the main `provisioner` group when these
groups are registered there, else from PROVISIONER_DATABASE_URL (read here, once).
Exit status: 0 when the file is clean (and written, unless --dry-run); 1 when it has
problems (nothing written) or cannot be read; 2 for wrong options.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from provisioner.db.engine import make_engine, session_factory, upgrade
from provisioner.importing.errors import ImportingError
from provisioner.importing.export import export_extensions
from provisioner.importing.pipeline import Report, import_extensions
from provisioner.importing.reader import open_table
from provisioner.settings import Settings

tenant_option = click.option("--tenant", "tenant_slug", required=True, metavar="SLUG", help="The customer (see `provisioner tenant list`).")


def _database_url(ctx: click.Context) -> str:
    settings = ctx.find_object(Settings)
    return settings.database_url if settings is not None else Settings.from_env(os.environ).database_url


@contextmanager
def _engine(ctx: click.Context) -> Iterator[Engine]:
    engine = make_engine(_database_url(ctx))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


def _catalog() -> tuple[Any, frozenset[str]]:
    from firmware_catalog import load_catalog
    from firmware_catalog.check import suspicious_keys

    catalog = load_catalog()
    return catalog, frozenset(suspicious_keys(catalog))


# -- import ---------------------------------------------------------------------------------
@click.group("import")
def import_group() -> None:
    """Load data from spreadsheets (CSV or XLSX)."""


@import_group.command("extensions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@tenant_option
@click.option("--sheet", help="XLSX: the sheet to read (default: the first).")
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change; write nothing.")
@click.option("--replace", is_flag=True, help="Also remove the tenant's extensions that are not in the file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (no progress bar).")
@click.pass_context
def import_extensions_command(
    ctx: click.Context, file: Path, tenant_slug: str, sheet: str | None, dry_run: bool, replace: bool, as_json: bool
) -> None:
    """Load a customer's extension list from FILE, all or nothing.

    Columns (any order, English or Spanish): extension|extensión, name|nombre (or
    first_name|nombres + last_name|apellidos), email|correo, department|departamento|área,
    permissions|permisos, mac, model|modelo, line|línea, sip_password and sip_user|usuario SIP
    (optional: the PBX's own account). Every problem is listed with its row and column; if
    there is any, nothing is written. Existing extensions are updated in place (matched by
    number); SIP passwords are kept when the file has none, generated for new extensions, and
    never printed. A new extension without sip_user gets the tenant's user format; an existing
    one keeps its SIP user (a different one in the file is refused, never renamed).
    """
    catalog, suspicious = _catalog()
    try:
        with _engine(ctx) as engine, open_table(file, sheet=sheet) as table, _Bars(enabled=not as_json) as bars:
            report = _run(session_factory(engine), table, tenant_slug, catalog, suspicious, file.name, dry_run, replace, bars)
    except ImportingError as exc:
        if as_json:  # still exactly one JSON document, for scripts
            click.echo(json.dumps({"ok": False, "applied": False, "error": str(exc)}, indent=2, ensure_ascii=False))
            ctx.exit(1)
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(_text(report, table.detail))
    if not report.ok:
        ctx.exit(1)


def _run(sessions: Any, table: Any, slug: str, catalog: Any, suspicious: frozenset[str], label: str,
         dry_run: bool, replace: bool, bars: _Bars) -> Report:
    session: Session
    with sessions() as session:
        report = import_extensions(
            session, table, slug, catalog, suspicious, file_label=label, dry_run=dry_run, replace=replace,
            progress=bars.update,
        )
        if report.applied:
            session.commit()
        else:
            session.rollback()
    return report


class _Bars:
    """click progress bars, one per phase, only when stdout is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stdout.isatty()
        self._phase: str | None = None
        self._bar: Any = None

    def __enter__(self) -> _Bars:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()

    def update(self, phase: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if phase != self._phase:
            self._close()
            label = {"validate": "checking rows", "write": "writing"}.get(phase, phase)
            self._bar = click.progressbar(length=total or None, label=label, show_pos=True)
            self._bar.__enter__()
            self._phase = phase
        self._bar.update(done)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _text(report: Report, detail: str) -> str:
    lines = [f"{report.file} ({detail}) -> tenant {report.tenant}"]
    if report.problems:
        count = len(report.problems)
        lines.append(f"{count} problem{'s' if count != 1 else ''}: nothing was written. Fix the file and import it again.")
        lines.extend(f"  {p}" for p in report.problems)
    if report.warnings:
        lines.append("warnings:")
        lines.extend(f"  {w}" for w in report.warnings)
    if report.ok:
        lines.append("dry run, nothing written; the import would give:" if report.dry_run else "imported:")
    lines.append(report.summary.text())
    return "\n".join(lines)


# -- export ---------------------------------------------------------------------------------
@click.group("export")
def export_group() -> None:
    """Write data out as spreadsheets."""


@export_group.command("extensions")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@tenant_option
@click.option("--with-passwords", is_flag=True,
              help="Include the sip_password column. Left out by default: with it, the file gives access to every line.")
@click.option("--separator", type=click.Choice([",", ";"]), default=",", show_default=True,
              help="';' suits Excel in a Spanish locale.")
@click.pass_context
def export_extensions_command(ctx: click.Context, file: Path | None, tenant_slug: str, with_passwords: bool, separator: str) -> None:
    """Write the tenant's extensions as CSV to FILE (default: standard output).

    The file imports back to the same state. Cells starting with = + - @ get a leading
    apostrophe so a spreadsheet never runs them as formulas (the importer removes it).
    SIP passwords are not included unless --with-passwords is given.
    """
    catalog, _ = _catalog()
    try:
        with _engine(ctx) as engine, session_factory(engine)() as session:
            if file is None:
                count = export_extensions(session, tenant_slug, sys.stdout, catalog, with_passwords=with_passwords, separator=separator)
            else:
                count = _export_to_file(session, tenant_slug, file, catalog, with_passwords, separator)
    except ImportingError as exc:
        raise click.ClickException(str(exc)) from None
    if file is not None:
        click.echo(f"{count} extension{'s' if count != 1 else ''} of {tenant_slug} written to {file}", err=True)


def _export_to_file(session: Session, slug: str, file: Path, catalog: Any, with_passwords: bool, separator: str) -> int:
    """UTF-8 with BOM (Excel then shows accents right), written to a temporary name and renamed."""
    with tempfile.NamedTemporaryFile("w", encoding="utf-8-sig", newline="", dir=file.parent or ".", prefix=f".{file.name}.",
                                     delete=False) as handle:
        try:
            count = export_extensions(session, slug, handle, catalog, with_passwords=with_passwords, separator=separator)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
    os.chmod(handle.name, 0o600 if with_passwords else 0o644)
    os.replace(handle.name, file)
    return count
