"""`provisioner softphone ...`: deliver and inspect softphone accounts (thin: admin work in
provisioner.softphone_store, mail through support_link's SMTP adapter)."""

from __future__ import annotations

import json
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from firmware_catalog import load_catalog
from provisioner import admin, labels
from provisioner.cli_database import check_location
from provisioner.db.engine import make_engine, session_factory, upgrade_all
from provisioner.errors import InputError
from provisioner.masking import mask_secrets
from provisioner.settings import Settings
from provisioner.softphone_store import (
    DEFAULT_LINK_HOURS, MAX_LINK_HOURS, account_for, create_link, jitsi_url, jitsi_username, link_url, softphone_extension,
)
from provisioner.softphones import Delivery, account_settings, full_model, how_delivered, jitsi_properties, wave_account_xml
from support_link.adapters.mail import SmtpConnection
from support_link.adapters.mail_settings import MailSettings
from support_link.calendar import as_bogota


@click.group()
def softphone() -> None:
    """Softphone extensions (Jitsi, Grandstream Wave, WeKall): one-time links, what each app gets."""


def _sessions(ctx: click.Context) -> tuple[Engine, sessionmaker[Session]]:
    settings: Settings = ctx.find_object(Settings)  # type: ignore[assignment]
    check_location(settings)  # the same refusal of a missing SQLite folder as every command
    engine = make_engine(settings.database_url)
    upgrade_all(engine)
    return engine, session_factory(engine)


@softphone.command("link")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--extension", "number", required=True)
@click.option("--hours", type=click.IntRange(1, MAX_LINK_HOURS), default=DEFAULT_LINK_HOURS, show_default=True,
              help="The link expires after this many hours.")
@click.option("--print-link", is_flag=True, help="Print the link instead of mailing it (hand it over yourself).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def softphone_link(ctx: click.Context, tenant_slug: str, number: str, hours: int, print_link: bool, as_json: bool) -> None:
    """Send the extension's owner a one-time, expiring link that shows the account once.

    Mailed to the extension's email through PROVISIONER_SMTP_HOST; without a mail server or an
    address, give --print-link and hand the link over yourself."""
    settings: Settings = ctx.obj
    engine, sessions = _sessions(ctx)
    now = datetime.now(UTC)
    try:
        with sessions.begin() as session:
            owner = admin.tenant_by_slug(session, tenant_slug)
            extension = softphone_extension(session, owner, number)
            if not print_link and not (extension.email and settings.smtp_host):
                raise InputError(f"extension {number} has no email" if not extension.email else
                                 "no mail server (PROVISIONER_SMTP_HOST): give --print-link and hand the link over yourself")
            token = create_link(session, extension, now, hours)
            url = link_url(settings, token)
            model = full_model(load_catalog().get(extension.softphone or ""))
            email, name = extension.email, extension.name
            expires = as_bogota(now + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")
            if not print_link:  # mailed inside the transaction: a failed send leaves no usable link behind
                _mail(settings, email, number, name, model, url, expires)
    finally:
        engine.dispose()
    data = {"tenant": tenant_slug, "extension": number, "expires": expires,
            "mailed_to": None if print_link else email, "link": url if print_link else None}
    text = (f"one-time link for extension {number} (expires {expires}, Colombia time): {url}" if print_link
            else f"one-time link for extension {number} mailed to {email} (expires {expires}, Colombia time)")
    click.echo(json.dumps(data, ensure_ascii=False) if as_json else text)


def _mail(settings: Settings, to: str, number: str, name: str, model: str, url: str, expires: str) -> None:
    mail = MailSettings(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender, recipient=to,
                        starttls=bool(settings.smtp_starttls), user=settings.smtp_user or None,
                        password=settings.smtp_password or None)
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = to
    message["Subject"] = labels.SOFTPHONE_MAIL_SUBJECT.format(extension=number)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=mail.domain)
    message.set_content(labels.SOFTPHONE_MAIL_BODY.format(name=name, model=model, url=url, expires=expires))
    connection = SmtpConnection(mail)
    try:
        connection.send(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise InputError(f"the mail server did not take the message ({type(exc).__name__}): no link was made") from None
    finally:
        connection.close()


@softphone.command("show")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--extension", "number", required=True)
@click.option("--show-secrets", is_flag=True, help="Print the SIP password instead of ********.")
@click.pass_context
def softphone_show(ctx: click.Context, tenant_slug: str, number: str, show_secrets: bool) -> None:
    """Print what the extension's app gets: Jitsi's properties file, Wave's QR-code XML, or
    the settings to type in (the SIP password masked unless --show-secrets)."""
    settings: Settings = ctx.obj
    engine, sessions = _sessions(ctx)
    try:
        with sessions() as session:
            owner = admin.tenant_by_slug(session, tenant_slug)
            extension = softphone_extension(session, owner, number)
            entry = load_catalog().get(extension.softphone or "")
            account = account_for(session, settings, extension)
            delivery = how_delivered(entry)
            header = f"# {full_model(entry)} - extension {number}"
            if delivery is Delivery.JITSI:
                body = (f"# provisioning URL: {jitsi_url(settings)}\n# username: {jitsi_username(owner, extension)}\n"
                        + jitsi_properties(account))
                secrets = [owner.provisioning_key, account.password]
            elif delivery is Delivery.WAVE:
                body, secrets = wave_account_xml(account) + "\n", [account.password]
            else:
                body = "".join(f"{label}: {value}\n" for label, value in account_settings(account))
                secrets = [account.password]
    finally:
        engine.dispose()
    text = f"{header}\n{body}"
    click.echo(text if show_secrets else mask_secrets(text, None, secrets), nl=False)
