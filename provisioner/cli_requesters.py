"""`provisioner requester ...`: the customer's staff on the portal (thin: provisioner.requester_store).

invite prints the one-time link (and mails it when SMTP is configured); list never shows a
hash or a token; disable ends the requester's sessions and logins.
"""

from __future__ import annotations

import json
import smtplib
from datetime import UTC, datetime

import click

from provisioner import requester_store
from provisioner.cli_database import database
from provisioner.requester_mail import compose_link_mail, link_url, send_link_mail
from provisioner.settings import Settings

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


@click.group("requester")
def requester_group() -> None:
    """Requesters: the customer's staff who open and follow requests on the portal (/portal/)."""


@requester_group.command("invite")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--by", "invited_by", default="cli", show_default=True, help="Who invites (a staff username).")
@json_option
@click.pass_context
def requester_invite(ctx: click.Context, tenant_slug: str, email: str, name: str, invited_by: str, as_json: bool) -> None:
    """Invite a requester: a one-time link (7 days) to choose a password."""
    settings: Settings = ctx.obj
    now = datetime.now(UTC)
    with database(ctx) as sessions, sessions.begin() as session:
        link = requester_store.invite(session, tenant_slug, email, name, invited_by, now)
    url = link_url(settings.portal_base(), link.token)
    mailed, problem = False, None
    mail = settings.mail()
    if mail is not None:
        try:
            send_link_mail(mail, compose_link_mail(link, url, settings.smtp_sender, now), link.email)
            mailed = True
        except (OSError, smtplib.SMTPException) as exc:
            problem = f"could not mail the link ({type(exc).__name__}); hand it over yourself"
    data = {"email": link.email, "tenant": link.tenant_slug, "link": url, "expires_at": link.expires_at.isoformat(),
            "mailed": mailed}
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(f"invited {link.email} to {link.tenant_slug}'s portal; one-time link (until {link.expires_at:%Y-%m-%d %H:%M} UTC):")
        click.echo(url)
        click.echo("mailed to the requester" if mailed else "not mailed: hand the link over yourself")
    if problem:
        click.echo(problem, err=True)


@requester_group.command("list")
@click.option("--tenant", "tenant_slug", default=None)
@json_option
@click.pass_context
def requester_list(ctx: click.Context, tenant_slug: str | None, as_json: bool) -> None:
    """Requesters, by tenant (never a password hash or a token)."""
    with database(ctx) as sessions, sessions() as session:
        rows = requester_store.listed(session, tenant_slug)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        state = "active" if row["active"] and row["password_set"] else "invited" if row["active"] else "disabled"
        click.echo(f"{row['tenant']:<16} {row['email']:<40} {state:<9} {row['name']}")


@requester_group.command("disable")
@click.argument("email")
@json_option
@click.pass_context
def requester_disable(ctx: click.Context, email: str, as_json: bool) -> None:
    """Refuse a requester's logins from now on and end its sessions."""
    with database(ctx) as sessions, sessions.begin() as session:
        user = requester_store.disable(session, email)
    if as_json:
        click.echo(json.dumps({"email": user.email, "tenant": user.tenant_slug, "active": False}))
    else:
        click.echo(f"disabled {user.email} ({user.tenant_slug})")
