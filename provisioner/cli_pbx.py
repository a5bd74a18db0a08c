"""`provisioner pbx export`: a tenant's SIP accounts for its PBX (thin: options in, file out).

The text comes from provisioner.pbx_export (pure); the accounts from
provisioner.pbx_accounts.tenant_accounts, the same ones the phones get. The output carries
every SIP secret of the tenant: a FILE is created owner-only (0600) before anything is written.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.orm import Session

from firmware_catalog import load_catalog
from provisioner import pbx_accounts, pbx_export
from provisioner.admin import DeviceRow, tenant_by_slug
from provisioner.cli_database import database
from provisioner.errors import InputError
from provisioner.labels import REGISTRATION
from provisioner.registrar import (
    KamailioLocation, check_registrations, registration_by_mac, registrations_for_tenant, source_for,
)
from provisioner.settings import Settings


@click.group("pbx")
def pbx_group() -> None:
    """Connect the server to the PBX: export the accounts the phones register with."""


@pbx_group.command("export")
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug.")
@click.option("--format", "fmt", required=True, type=click.Choice(pbx_export.FORMATS),
              help="kamailio: subscriber SQL; asterisk-pjsip: pjsip.conf sections; freeswitch: directory XML.")
@click.option("--plaintext-passwords", is_flag=True,
              help="kamailio: also fill the password column (auth_db calculate_ha1 = 1). Default: hashes only.")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def pbx_export_command(ctx: click.Context, tenant_slug: str, fmt: str, plaintext_passwords: bool,
                       file: Path | None) -> None:
    """Write the tenant's SIP accounts for the PBX to FILE (mode 0600), or to standard output."""
    settings: Settings = ctx.find_object(Settings)  # type: ignore[assignment]
    with database(ctx) as sessions, sessions.begin() as session:
        tenant = tenant_by_slug(session, tenant_slug)
        accounts = pbx_accounts.tenant_accounts(session, tenant, settings)
        text = pbx_export.export(fmt, tenant.slug, accounts, plaintext=plaintext_passwords)
    if file is None:
        sys.stdout.write(text)
        return
    write_owner_only(file, text)
    click.echo(f"{len(accounts)} accounts of {tenant_slug} written to {file} ({fmt}, mode 0600)", err=True)


def write_owner_only(path: Path, text: str) -> None:
    """Create or replace `path` readable by its owner only, before a byte of it is written."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # an existing file keeps its old mode otherwise
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            descriptor = -1
            handle.write(text)
    finally:
        if descriptor != -1:
            os.close(descriptor)


# -- registrations (what the registrar knows) ----------------------------------------------------
@click.group("registrations")
def registrations_group() -> None:
    """What the registrar knows: who is registered, from where, with which app (PROVISIONER_REGISTRAR_DB_URL)."""


def _registrar(settings: Settings) -> KamailioLocation:
    source = source_for(settings)
    if source is None:
        raise InputError("no registrar connected: set PROVISIONER_REGISTRAR_DB_URL to the database holding "
                         "Kamailio's `location` table")
    return source


@registrations_group.command("list")
@click.option("--tenant", "tenant_slug", required=True, help="Tenant slug.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def registrations_list(ctx: click.Context, tenant_slug: str, as_json: bool) -> None:
    """Every SIP account of the tenant: registered or not, contact, User-Agent."""
    settings: Settings = ctx.find_object(Settings)  # type: ignore[assignment]
    source = _registrar(settings)
    try:
        with database(ctx) as sessions, sessions() as session:
            statuses = registrations_for_tenant(session, tenant_slug, settings, source, datetime.now(UTC))
    finally:
        source.close()
    if as_json:
        click.echo(json.dumps([status.as_json() for status in statuses], indent=2, ensure_ascii=False))
        return
    for status in statuses:
        where = f"{status.mac}/{status.line}" if status.mac else "softphone"
        seen = f" {status.contact} {status.user_agent or ''}" if status.registered else ""
        click.echo(f"{status.extension:<8} {status.user:<24} {where:<16} {REGISTRATION[status.registered]}{seen}")


@registrations_group.command("check")
@click.option("--tenant", "tenant_slug", default=None, help="Only this tenant.")
@click.pass_context
def registrations_check(ctx: click.Context, tenant_slug: str | None) -> None:
    """Read the registrar once and open or resolve `never_registered` (and softphone version) incidents."""
    settings: Settings = ctx.find_object(Settings)  # type: ignore[assignment]
    source = _registrar(settings)
    try:
        with database(ctx) as sessions:
            stats = check_registrations(sessions, settings, source, load_catalog(), datetime.now(UTC),
                                        tenant_slug=tenant_slug)
    finally:
        source.close()
    click.echo(f"{stats.processed} phones judged: {stats.opened} incidents opened, {stats.joined} joined, "
               f"{stats.recovered} recovered, {stats.resolved} resolved")


def registrations_of_devices(session: Session, settings: Settings, rows: list[DeviceRow]) -> dict[str, bool | None]:
    """MAC -> registered, for `provisioner devices` (None everywhere without a registrar)."""
    source = source_for(settings)
    try:
        phones = [(row.tenant, row.mac) for row in rows if row.assigned]
        return registration_by_mac(session, settings, source, phones, datetime.now(UTC))
    finally:
        if source is not None:
            source.close()
