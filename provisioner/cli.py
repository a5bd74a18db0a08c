"""`provisioner` command line. Thin: parse options, open a session, call admin/service, print.

The environment is read once, here (PROVISIONER_DATABASE_URL and friends, see settings.py).
Every command that prints data takes --json and then prints exactly one JSON document.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from firmware_catalog import load_catalog
from provisioner import admin, log_setup, pbx_accounts
from provisioner.cli_database import check_location, database
from provisioner.cli_errors import database_problem, parse_month
from provisioner.accounts import ROLES
from provisioner.db.engine import make_engine, session_factory, upgrade_all
from provisioner.db.models import Device, Tenant
from provisioner.identification import identify
from provisioner.cli_onboarding import onboarding, readiness
from provisioner.labels import REGISTRATION
from provisioner.importing.cli import export_group, import_group
from provisioner.cli_softphones import softphone
from provisioner.cli_requesters import requester_group
from provisioner import requester_store
from provisioner.requesters import parse_domains
from provisioner.cli_reports import reports_group
from provisioner.errors import ProvisionerError
from provisioner.operator_catalog import install_operator_catalog, read_catalog, review, where
from provisioner.settings import Settings, settings_table, settings_text
from provisioner.ticket_queue import MAX_TICKET_ID

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


def _emit(as_json: bool, data: Any, text: str) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str) if as_json else text)


class _Commands(click.Group):
    """The one place the CLI answers the provisioner's errors: their message, exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProvisionerError as exc:
            raise click.ClickException(str(exc)) from None
        except SQLAlchemyError as exc:  # a database that cannot be used as configured: its one line
            settings = ctx.find_object(Settings)
            line = database_problem(exc, settings.database_url if settings else "")
            if line is None:
                raise  # a bug: its traceback
            raise click.ClickException(line) from None


class _ServeCommand(click.Command):
    """`serve --help` ends with the settings table (environment variables and current values)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        settings = ctx.find_object(Settings) or Settings.from_env()
        formatter.write("\nSettings (environment PROVISIONER_<NAME>; the options above override them):\n\n")
        formatter.write(settings_text(settings_table(settings)) + "\n")


@click.group(cls=_Commands)
@click.version_option(package_name="desk-provisioner", prog_name="provisioner")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Provisioning and support server for homologated desk phones."""
    ctx.obj = Settings.from_env()
    log_setup.configure(ctx.obj.log_level, ctx.obj.checked_log_format())
    if ctx.invoked_subcommand != "settings":  # the settings stay readable whatever the file holds
        # The operator's table (PROVISIONER_CATALOG) for every command; `catalog` reads one
        # that contradicts vendor facts, to list the problems.
        install_operator_catalog(ctx.obj, refuse_errors=ctx.invoked_subcommand != "catalog")


@contextmanager
def _session(ctx: click.Context, create: bool = False) -> Iterator[Session]:
    with database(ctx, create) as sessions, sessions.begin() as session:
        yield session


# -- serve -----------------------------------------------------------------------------------
@main.command(cls=_ServeCommand)
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--http-port", type=int, help="HTTP port (default 8080).")
@click.option("--tftp-port", type=int, help="TFTP port (default 6969; 69 needs root). -1 disables TFTP.")
@click.option("--public-url", help="Base URL phones use to reach this server (written into configs).")
@click.option("--firmware-dir", help="Folder of firmware images to serve (default ./firmware).")
@click.option("--cookie-secure/--no-cookie-secure", default=None,
              help="Session cookie over HTTPS only (on by itself when serving TLS; behind a TLS proxy, turn it on).")
@click.option("--demo", is_flag=True, help="Create a demo tenant with a few extensions if the database has none.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="HTTP worker processes sharing the port (SO_REUSEPORT); TFTP runs in the first.")
@click.option("--tls-cert", help="PEM certificate (with its chain): serve HTTPS instead of HTTP (with --tls-key).")
@click.option("--tls-key", help="PEM private key of --tls-cert.")
@click.option("--trusted-proxy", "trusted_proxies", metavar="CIDR[,CIDR]",
              help="Reverse proxies whose X-Forwarded-For names the client (exempt from the per-address cap).")
@click.pass_context
def serve(ctx: click.Context, demo: bool, workers: int, **overrides: Any) -> None:
    """Run the HTTP and TFTP provisioning servers."""
    from provisioner import metrics_files

    settings = ctx.obj.with_overrides(**overrides)
    ctx.obj = settings
    check_location(settings, create=demo)
    if demo:
        with _session(ctx, create=True) as session:
            tenant = _ensure_demo(session)
            click.echo(f"demo tenant {tenant.slug!r}: key {tenant.provisioning_key}", err=True)
            click.echo(f"  option 66 (HTTP): {settings.option66_http(tenant.provisioning_key)}", err=True)
            click.echo(f"  option 66 (TFTP): {settings.option66_tftp(tenant.provisioning_key)}", err=True)
            login = _ensure_demo_login(session)
            if login is not None:
                click.echo(f"  web app: {settings.base_url}/  user {login[0]}  password {login[1]} "
                           "(shown once; `provisioner user add` makes more)", err=True)
    ours = metrics_files.prepare()  # before prometheus_client is imported (provisioner.metrics)
    try:
        from provisioner.server import serve as run

        run(settings, workers)
    finally:
        metrics_files.remove(ours)


@main.command("settings")
@json_option
@click.pass_context
def settings_command(ctx: click.Context, as_json: bool) -> None:
    """Every setting: environment variable, default, current value, help (secrets as ***)."""
    rows = settings_table(ctx.obj)
    _emit(as_json, [dataclasses.asdict(row) for row in rows], settings_text(rows))


def _ensure_demo_login(session: Session) -> tuple[str, str] | None:
    """The demo's web login (an admin with a generated password), made once: None when it exists."""
    from provisioner.db.models import AppUser

    if session.scalar(select(AppUser).where(AppUser.username == "demo")) is not None:
        return None
    _created, _token, password = admin.create_user(session, "demo", "admin", None, "Administrador demo")
    return "demo", password


def _ensure_demo(session: Session) -> Tenant:
    existing = session.scalar(select(Tenant).where(Tenant.slug == "demo"))
    if existing is not None:
        return existing
    catalog = load_catalog()
    tenant = admin.create_tenant(
        session, "Demo S.A.S.", "pbx.demo.example.net", slug="demo",
        contact_name="Mesa de ayuda Demo", contact_email="soporte@demo.example.net",
    )
    people = [
        ("101", "Ana Gómez", "Gerencia", "000b82a1b201", "GXP1620", 1),
        ("102", "Luis Peña", "Ventas", "000b82a1b201", "GXP1620", 2),
        ("103", "María Rodríguez", "Ventas", "001565a1b203", "T21P", 1),
        ("104", "Carlos Muñoz", "Soporte", "0004f2a1b204", "VVX600", 1),
    ]
    for number, name, department, mac, model, line in people:
        admin.add_extension(
            session, catalog, tenant, number, name, department=department, permissions="internal,local,national,mobile",
            assignment=admin.Assignment(mac, model, line),
        )
    return tenant


# -- tenants ---------------------------------------------------------------------------------
@main.group()
def tenant() -> None:
    """Customer organisations."""


@tenant.command("create")
@click.argument("name")
@click.option("--sip-server", required=True, help="SIP registrar host for this customer's phones.")
@click.option("--slug", help="Short id (default: from NAME).")
@click.option("--sip-port", type=int, default=5060, show_default=True)
@click.option("--sip-transport", type=click.Choice(["udp", "tcp", "tls"]), default="udp", show_default=True)
@click.option("--ntp-server", default="pool.ntp.org", show_default=True)
@click.option("--contact-name", default="", help="Requester for tickets opened on this tenant's behalf.")
@click.option("--contact-email", default="")
@click.option("--public-url", metavar="URL",
              help="Base URL phones reach this server at, for the option-66 strings (default: PROVISIONER_PUBLIC_URL).")
@json_option
@click.pass_context
def tenant_create(ctx: click.Context, name: str, as_json: bool, public_url: str | None, **options: Any) -> None:
    """Create a tenant; prints its provisioning key and option-66 strings."""
    settings: Settings = ctx.obj
    if public_url is not None:
        if urlsplit(public_url).scheme not in ("http", "https") or not urlsplit(public_url).hostname:
            raise click.UsageError(f"--public-url {public_url!r} is not an http:// or https:// URL with a host")
        settings = settings.with_overrides(public_url=public_url)
    with _session(ctx) as session:
        created = admin.create_tenant(session, name, **options)
        data = {
            "slug": created.slug,
            "name": created.name,
            "key": created.provisioning_key,
            "option66_http": settings.option66_http(created.provisioning_key),
            "option66_tftp": settings.option66_tftp(created.provisioning_key),
            "snmp_community": created.snmp_community,
            "option66_local_only": settings.public_host_is_local,
        }
    if settings.public_host_is_local:
        # The tenant is made either way (the key is what matters); the strings are only right
        # for a phone on this very machine, which no installer wants to type into a DHCP server.
        click.echo(
            f"WARNING: local only: these option-66 strings point at {urlsplit(settings.base_url).hostname}, which "
            "no phone on the network can reach; set PROVISIONER_PUBLIC_URL=https://prov.example.net (or pass "
            "--public-url) and read them again with `provisioner tenant list`",
            err=True,
        )
    _emit(
        as_json, data,
        f"tenant {data['slug']} created\n  key: {data['key']}\n"
        f"  option 66 (HTTP): {data['option66_http']}\n  option 66 (TFTP): {data['option66_tftp']}",
    )


@tenant.command("list")
@json_option
@click.pass_context
def tenant_list(ctx: click.Context, as_json: bool) -> None:
    """List tenants (keys are shown: they are the provisioning URLs)."""
    settings: Settings = ctx.obj
    with _session(ctx) as session:
        data = [
            {"slug": t.slug, "name": t.name, "key": t.provisioning_key, "sip_server": t.sip_server,
             "option66_http": settings.option66_http(t.provisioning_key)}
            for t in session.scalars(select(Tenant).order_by(Tenant.slug))
        ]
    _emit(as_json, data, "\n".join(f"{t['slug']:<20} {t['name']:<30} {t['option66_http']}" for t in data))


@tenant.command("set")
@click.argument("slug")
@click.option("--networks", default=None,
              help="The customer's own public networks, CIDR[,CIDR] (\"\" for none): never banned for misses.")
@click.option("--device-urls", type=click.Choice(["on", "off"]), default=None,
              help="on: after its first fetch, each phone is provisioned from its own URL only.")
@click.option("--sip-user-format", default=None,
              help='SIP user of NEW extensions, from {tenant} and {extension} (default "{tenant}-{extension}"; '
                   'e.g. "{extension}" when the PBX names accounts by extension).')
@click.option("--rename-existing", is_flag=True,
              help="Also rename every existing extension's SIP user to the new format (the PBX must follow).")
@click.option("--sip-domain", default=None, help='SIP domain / realm of the accounts ("" = the SIP server).')
@click.option("--outbound-proxy", default=None, help='Outbound proxy host[:port] phones send through ("" = none).')
@click.option("--email-domains", default=None,
              help='The customer\'s mail domains, "a.co,b.co" ("" for none): addresses there may register on the portal.')
@json_option
@click.pass_context
def tenant_set(ctx: click.Context, slug: str, networks: str | None, device_urls: str | None, sip_user_format: str | None,
               rename_existing: bool, sip_domain: str | None, outbound_proxy: str | None, email_domains: str | None,
               as_json: bool) -> None:
    """Change a tenant's settings: declared networks, per-device URLs, SIP accounts, mail domains."""
    accounts = (sip_user_format, sip_domain, outbound_proxy)
    if (networks is None and device_urls is None and all(value is None for value in accounts) and not rename_existing
            and email_domains is None):
        raise click.UsageError("say what to change: --networks, --device-urls, --sip-user-format, --sip-domain, "
                               "--outbound-proxy, --email-domains")
    with _session(ctx) as session:
        owner = admin.tenant_by_slug(session, slug)
        data: dict[str, object] = {"slug": owner.slug}
        if email_domains is not None:
            data["email_domains"] = list(requester_store.set_email_domains(session, slug, parse_domains(email_domains)))
        if networks is not None:
            data["networks"] = [str(network) for network in admin.set_tenant_networks(session, slug, networks)]
        if device_urls is not None:
            admin.set_device_urls(session, owner, device_urls == "on")
            data["device_urls"] = owner.device_urls
        if any(value is not None for value in accounts) or rename_existing:
            change = pbx_accounts.set_tenant_accounts(
                session, owner, user_format=sip_user_format, sip_domain=sip_domain, outbound_proxy=outbound_proxy,
                rename_existing=rename_existing,
            )
            data["sip_accounts"] = dataclasses.asdict(change)
    lines = []
    if "networks" in data:
        lines.append(f"tenant {slug}: declared networks {', '.join(data['networks']) or '(none)'}")  # type: ignore[arg-type]
    if "device_urls" in data:
        lines.append(f"tenant {slug}: per-device URLs {device_urls}")
    if "email_domains" in data:
        lines.append(f"tenant {slug}: mail domains {', '.join(data['email_domains']) or '(none)'}")  # type: ignore[arg-type]
    if "sip_accounts" in data:
        lines.extend(pbx_accounts.describe_change(slug, change))
    _emit(as_json, data, "\n".join(lines))


@tenant.command("enroll")
@click.argument("slug")
@click.option("--minutes", type=int, required=True, help="How long the tenant key serves every MAC file again (0 closes).")
@json_option
@click.pass_context
def tenant_enroll(ctx: click.Context, slug: str, minutes: int, as_json: bool) -> None:
    """Open an enrolment window: phones fetch their MAC file under the tenant key again."""
    with _session(ctx) as session:
        owner = admin.tenant_by_slug(session, slug)
        until = admin.open_enrollment(session, owner, minutes, datetime.now(UTC))
        data = {"tenant": owner.slug, "enroll_until": until.isoformat()}
    _emit(as_json, data, f"{data['tenant']}: the tenant key serves MAC files until {data['enroll_until']}")


@main.group()
def device() -> None:
    """One phone."""


@device.command("reenroll")
@click.argument("mac")
@json_option
@click.pass_context
def device_reenroll(ctx: click.Context, mac: str, as_json: bool) -> None:
    """Let the tenant key serve this phone's MAC file once more (its next fetch enrolls it again)."""
    with _session(ctx) as session:
        found = admin.reenroll_device(session, mac)
        data = {"mac": found.mac, "enrolled": False}
    _emit(as_json, data, f"{data['mac']}: its next fetch under the tenant key enrolls it again")


# -- extensions ------------------------------------------------------------------------------
@main.group()
def extension() -> None:
    """Extensions (staff lines)."""


@extension.command("add")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--extension", "number", required=True, help="2-6 digits.")
@click.option("--name", required=True)
@click.option("--email", default="")
@click.option("--department", default="")
@click.option("--permissions", default="internal", show_default=True,
              help="internal, local, national, mobile, international (';' ',' or '|' separated; Spanish names too).")
@click.option("--mac", help="Phone MAC (any notation).")
@click.option("--model", help="Homologated model, e.g. T21P, GXP1620, VVX600.")
@click.option("--line", type=int, help="Line (account) of the phone (default 1; none for a softphone).")
@click.option("--sip-user", default=None, help="The PBX's SIP user of this extension (default: the tenant's format).")
@click.option("--sip-password", default=None,
              help="The PBX's SIP password (default: a new one). Prefer PROVISIONER_SIP_PASSWORD: argv is visible.",
              envvar="PROVISIONER_SIP_PASSWORD", show_envvar=True)
@json_option
@click.pass_context
def extension_add(
    ctx: click.Context, tenant_slug: str, number: str, name: str, mac: str | None, model: str | None,
    line: int | None, as_json: bool, **options: str,
) -> None:
    """Add an extension, optionally on a line of a phone or on a softphone (--model without --mac:
    WeKall APP Windows, Wave iOS, Wave Android, Jitsi Windows, Jitsi MacOS)."""
    if mac is not None and model is None:
        raise click.UsageError("--mac needs its --model")
    if mac is None and line is not None:
        raise click.UsageError("--line is a line of a phone: give its --mac and --model (a softphone has no line)")
    with _session(ctx) as session:
        owner = admin.tenant_by_slug(session, tenant_slug)
        assignment = admin.Assignment(mac, model, line or 1) if mac and model else None
        created, warnings = admin.add_extension(
            session, load_catalog(), owner, number, name, assignment=assignment,
            softphone=model if mac is None else None, **options
        )
        device = session.get(Device, created.device_id) if created.device_id else None
        data = {
            "tenant": owner.slug, "extension": created.number, "name": created.name,
            "sip_auth_user": created.sip_auth_user, "permissions": created.permissions,
            "mac": device.mac if device else None, "model": device.model_key if device else created.softphone,
            "line": created.line, "softphone": created.softphone, "warnings": warnings,
        }
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    _emit(as_json, data, f"extension {data['extension']} ({data['name']}) added to {data['tenant']}")


# -- render / identify -----------------------------------------------------------------------
@main.command()
@click.argument("mac")
@click.option("--file", "filename", help="File name as the phone asks for it (default: its device file).")
@click.option("--user-agent", help="Pretend the phone sent this User-Agent.")
@click.option("--show-secrets", is_flag=True,
              help="Print passwords, SNMP communities, keys and tokens instead of ********.")
@click.pass_context
def render(ctx: click.Context, mac: str, filename: str | None, user_agent: str | None, show_secrets: bool) -> None:
    """Print what the phone MAC would get (every secret masked unless --show-secrets)."""
    from provisioner.directory import Directory
    from provisioner.firmware_store import FirmwareStore
    from provisioner.masking import mask_secrets
    from provisioner.service import ProvisioningService
    from provisioner.values import ConfigRequest, Protocol
    from provisioner.vendors import VENDORS, device_filename

    settings: Settings = ctx.obj
    catalog = load_catalog()
    with _session(ctx) as session:
        device = admin.device_by_mac(session, mac)
        normalized, token, model_key = device.mac, device.url_token, device.model_key
        secrets = admin.device_secrets(session, device)
    engine = make_engine(settings.database_url)
    firmware = FirmwareStore(settings.firmware_path, (e.firmware_file for e in catalog.entries if e.firmware_file))
    service = ProvisioningService(Directory(session_factory(engine), settings), catalog, firmware, VENDORS)
    vendor = catalog.get(model_key).vendor
    if vendor not in VENDORS:  # a MAC bound to a softphone app before that was refused
        raise click.ClickException(f"{normalized} is registered as {model_key}, a softphone app: it gets no file by MAC "
                                   "(see `provisioner softphone show`)")
    name = filename or device_filename(vendor, normalized)
    # Asked at the phone's own URL: the same files, and a look never enrolls the phone.
    request = ConfigRequest(Protocol.HTTP, "", name, user_agent, "127.0.0.1", datetime.now(UTC), device_token=token)
    outcome = service.fetch(request)
    engine.dispose()
    if outcome.file is None:
        raise click.ClickException(f"{name}: not served ({outcome.reason})")
    text = outcome.file.body.decode("utf-8", errors="replace")
    if not show_secrets:
        text = mask_secrets(text, VENDORS[vendor].secret_parameters, secrets)
    click.echo(text, nl=not text.endswith("\n"))


@main.command("identify")
@click.argument("filename")
@click.option("--user-agent", default=None)
@json_option
def identify_command(filename: str, user_agent: str | None, as_json: bool) -> None:
    """Show what a request (file name + User-Agent) tells about the phone."""
    ident = identify(filename, user_agent, load_catalog())
    data = {
        "role": ident.role.value, "vendor": ident.vendor, "model": ident.model, "catalog_key": ident.catalog_key,
        "firmware": ident.firmware, "reported_firmware": ident.reported_firmware, "mac": ident.mac,
        "certainty": ident.certainty.name.lower(),
    }
    _emit(as_json, data, "\n".join(f"{k:<18} {v if v is not None else '-'}" for k, v in data.items()))


# -- catalog ---------------------------------------------------------------------------------
@main.group()
def catalog() -> None:
    """The operator's homologated phones."""


@catalog.command("list")
@click.option("--toml", "as_toml", is_flag=True,
              help="Print the table in use as a TOML file (comments and sources kept), to start an operator's catalog.")
@json_option
def catalog_list(as_json: bool, as_toml: bool) -> None:
    """List homologated models with supported firmware and lines."""
    if as_toml:
        click.echo(load_catalog().text or "", nl=False)
        return
    entries = load_catalog().entries
    data = [
        {"key": e.key, "vendor": e.vendor, "model": e.model, "kind": e.kind, "firmware": e.firmware,
         "lines": e.lines, "device_max_lines": e.device_max_lines, "aliases": list(e.aliases)}
        for e in entries
    ]
    _emit(
        as_json, data,
        "\n".join(f"{e['key']:<28} {e['model']:<22} {e['kind']:<10} fw {e['firmware']:<14} lines {e['lines']}" for e in data),
    )


@catalog.command("check")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path),
              help="Check this TOML file instead of the table in use (before setting PROVISIONER_CATALOG to it).")
@click.option("--strict", is_flag=True, help="Exit with status 1 on warnings too.")
@json_option
def catalog_check(as_json: bool, strict: bool, path: Path | None) -> None:
    """Report catalog rows that contradict vendor facts; exit status 1 when any is an error."""
    table = read_catalog(path) if path is not None else load_catalog()
    problems = review(table)
    data = [{"key": p.key, "field": p.field, "severity": p.severity, "line": table.line_of(p.key, p.field),
             "message": p.message} for p in problems]
    _emit(as_json, data, "\n".join(
        f"{p.severity:<8} {p.key:<24} {p.field:<16} {where(table, p)}{p.message}" for p in problems) or "catalog OK")
    if any(p.severity == "error" or strict for p in problems):
        sys.exit(1)


# -- devices ---------------------------------------------------------------------------------
@main.command()
@click.option("--tenant", "tenant_slug", help="Only this tenant.")
@click.option("--noncompliant", is_flag=True, help="Only phones with findings.")
@click.option("--waiting", is_flag=True, help="Only phones seen but not assigned to an extension yet.")
@json_option
@click.pass_context
def devices(ctx: click.Context, tenant_slug: str | None, noncompliant: bool, waiting: bool, as_json: bool) -> None:
    """Assigned devices and phones waiting for an extension, with their compliance."""
    with _session(ctx) as session:
        if tenant_slug is not None:
            admin.tenant_by_slug(session, tenant_slug)  # an unknown tenant is an error, not an empty list
        rows = admin.list_devices(session, load_catalog(), tenant_slug=tenant_slug)
        if noncompliant:
            rows = [r for r in rows if r.findings]
        if waiting:
            rows = [r for r in rows if not r.assigned]
        registered = registrations_of_devices(session, ctx.obj, rows)  # issue 19: "registrado"
    data = [{**r.as_json(), "registered": registered.get(r.mac) if r.assigned else None} for r in rows]
    _emit(as_json, data, "\n".join(_device_line(r, registered.get(r.mac)) for r in rows) or "no devices")


def _device_line(row: admin.DeviceRow, registered: bool | None = None) -> str:
    state = row.status or ("ok" if row.compliant else ",".join(row.findings) or "never seen")
    return (
        f"{row.mac} {row.tenant:<14} {row.vendor or '-':<12} {row.model or '-':<18} fw {row.firmware or '-':<14} {state}"
        + (f"  {REGISTRATION[registered]}" if row.assigned and registered is not None else "")
        + ("" if row.assigned else "  (waiting for an extension)")
        + (f"  ticket {', '.join(f'#{t}' for t in row.open_tickets)}" if row.open_tickets else "")
    )


@main.group()
def user() -> None:
    """People using the web app and the API."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES),
              help="agent (tier 1), specialist (tier 2), installer, admin.")
@click.option("--name", "display_name", default="", help="Full name shown in the web app.")
@click.option("--password", help="Login password (default: a generated one, printed once).")
@json_option
@click.pass_context
def user_add(ctx: click.Context, username: str, role: str, display_name: str, password: str | None, as_json: bool) -> None:
    """Create a user; prints its API token (shown only once)."""
    with _session(ctx) as session:
        created, token, chosen = admin.create_user(session, username, role, password, display_name)
        data = {"username": created.username, "role": created.role, "api_token": token}
        if password is None:
            data["password"] = chosen
    _emit(as_json, data, "\n".join(f"{k}: {v}" for k, v in data.items()))


@main.group()
def tickets() -> None:
    """Support tickets (the agents' queue)."""


@tickets.command("list")
@click.option("--account", help="Only this customer (tenant slug).")
@click.option("--type", "ticket_type", type=click.Choice(["incident", "requirement", "problem"]))
@click.option("--priority", type=click.Choice(["urgent", "high", "normal", "low"]))
@click.option("--status", help="new, in_progress, escalated, resolved, closed, or 'all' (default: open ones).")
@click.option("--sla-state", type=click.Choice(["on_time", "at_risk", "breached"]))
@json_option
@click.pass_context
def tickets_list(ctx: click.Context, account: str | None, ticket_type: str | None, priority: str | None,
                 status: str | None, sla_state: str | None, as_json: bool) -> None:
    """The queue, by first-response due time."""
    from provisioner import ticket_json
    from provisioner.ticket_queue import queue_filters
    from support_link.store import tickets as ticket_store  # `tickets` is this CLI's command group

    filters = queue_filters({"account": account, "type": ticket_type, "priority": priority, "status": status, "sla_state": sla_state})
    with _session(ctx) as session:
        if account is not None:
            admin.tenant_by_slug(session, account)  # an unknown customer is an error, not an empty queue
        rows = [ticket_json.row_to_json(row) for row in ticket_store.list_tickets(session, datetime.now(UTC), **filters)]
    _emit(as_json, rows, "\n".join(
        f"#{r['id']:<5} {r['priority']:<7} {r['type']:<12} {r['status']:<12} due {r['first_response_due'] or '-':<26} "
        f"{r['sla_state'] or '-':<9} {r['subject']}" for r in rows) or "no tickets")


@tickets.command("show")
@click.argument("ticket_id", type=click.IntRange(1, MAX_TICKET_ID))
@json_option
@click.pass_context
def tickets_show(ctx: click.Context, ticket_id: int, as_json: bool) -> None:
    """One ticket with its timeline and affected devices."""
    from provisioner import ticket_json
    from support_link.errors import TicketNotFoundError
    from support_link.store import tickets as ticket_store  # `tickets` is this CLI's command group

    with _session(ctx) as session:
        try:
            data = ticket_json.to_json(ticket_store.get(session, ticket_id, datetime.now(UTC)))
        except TicketNotFoundError:
            raise click.ClickException(f"no ticket #{ticket_id}") from None
    text = [f"#{data['id']} {data['subject']}", f"  {data['type']} {data['status']} priority {data['priority']} "
            f"(urgency {data['urgency']}, impact {data['impact']}) SLA {data['sla_state']}",
            f"  first response due {data['first_response_due']}", f"  devices: {', '.join(data['devices']) or '-'}"]
    text += [f"  {e['at']} {e['kind']} by {e['actor']}" + (f": {e['note']}" if e["note"] else "") for e in data["events"]]
    _emit(as_json, data, "\n".join(text))


@main.group()
def billing() -> None:
    """Billable support work."""


@billing.command("report")
@click.option("--tenant", "account", required=True, help="Tenant slug (the tickets' customer).")
@click.option("--month", required=True, help="YYYY-MM (Colombia time).")
@click.option("--increment", type=int, default=15, show_default=True, help="Rounding increment in minutes.")
@json_option
@click.pass_context
def billing_report(ctx: click.Context, account: str, month: str, increment: int, as_json: bool) -> None:
    """Urgent work done outside business hours: USD 250/h, one hour minimum per call-out."""
    from datetime import timedelta

    from support_link.store import work_logs

    year, number = parse_month(month)
    if increment < 1:
        raise click.ClickException(f"--increment {increment}: must be at least 1 minute")
    with _session(ctx) as session:
        admin.tenant_by_slug(session, account)  # an unknown customer is an error, not an empty report
        report = work_logs.billing_report(session, account, year, number, increment=timedelta(minutes=increment))
    lines = [
        {"ticket": line.ticket_id, "start": line.start.isoformat(), "end": line.end.isoformat(),
         "out_of_hours_minutes": line.out_of_hours.total_seconds() / 60, "billed_minutes": line.billed.total_seconds() / 60,
         "amount_usd": str(line.amount)}
        for line in report.lines
    ]
    data = {"tenant": account, "month": f"{year:04d}-{number:02d}", "lines": lines, "total_usd": str(report.total)}
    text = [f"{account} {data['month']}: {len(lines)} call-out(s), total USD {report.total}"]
    text += [f"  #{l['ticket']} {l['start']} .. {l['end']} billed {l['billed_minutes']:.0f} min USD {l['amount_usd']}" for l in lines]
    _emit(as_json, data, "\n".join(text))


# -- security (issue 20: miss budget and bans) --------------------------------------------------
@main.group()
def security() -> None:
    """Addresses banned for guessing keys, MACs or file names."""


@security.command("bans")
@json_option
@click.pass_context
def security_bans(ctx: click.Context, as_json: bool) -> None:
    """The bans in force, made by any server process."""
    from provisioner import ban_store

    with _session(ctx) as session:
        bans = ban_store.active(session, datetime.now(UTC).timestamp())
    data = [
        {"ip": ban.ip, "tenant": ban.tenant, "misses": ban.misses,
         "banned_at": datetime.fromtimestamp(ban.since, UTC).isoformat(),
         "until": datetime.fromtimestamp(ban.until, UTC).isoformat()}
        for ban in bans
    ]
    _emit(as_json, data, "\n".join(
        f"{b['ip']:<40} tenant {b['tenant'] or '-':<20} misses {b['misses']:<5} until {b['until']}" for b in data
    ) or "no bans")


@security.command("unban")
@click.argument("ip")
@click.pass_context
def security_unban(ctx: click.Context, ip: str) -> None:
    """Lift the ban on IP (every server process drops it within a few seconds)."""
    with _session(ctx) as session:
        admin.lift_ban(session, ip)
    click.echo(f"ban on {ip.strip()} lifted")


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply pending migrations (every command also does this on start)."""
    check_location(ctx.obj, create=True)  # creating the database is this command's job
    engine = make_engine(ctx.obj.database_url)
    upgrade_all(engine)
    click.echo("database is up to date")


main.add_command(import_group)
main.add_command(export_group)
main.add_command(softphone)
main.add_command(requester_group)
main.add_command(reports_group)

main.add_command(onboarding)
main.add_command(readiness)

from provisioner.cli_firmware import firmware_group  # noqa: E402 - issue 18: images and maintenance-window campaigns

main.add_command(firmware_group)

from provisioner.cli_pbx import pbx_group, registrations_group, registrations_of_devices  # noqa: E402 - issue 19
main.add_command(pbx_group)
main.add_command(registrations_group)

from provisioner.cli_mail import mail_group  # noqa: E402 - issue 16: the helpdesk mailbox, mail in
main.add_command(mail_group)
