"""`provisioner mail poll`: take in the helpdesk mailbox's unseen mail now (thin CLI over
support_link.adapters.imap_intake). Prints what each mail became; never a body."""

from __future__ import annotations

import imaplib
import json
import time
from datetime import UTC, datetime

import click

from provisioner.cli_database import database
from provisioner.mail_in import intake_config, sender_lookup
from provisioner.settings import Settings
from support_link.adapters.imap_intake import Taken, poll_once

OUTCOMES = {
    "ticket": "caso abierto", "reply": "respuesta en el caso", "draft": "faltan datos (borrador)",
    "unknown_sender": "remitente no registrado", "duplicate": "ya recibido", "failed": "falló (se reintenta)",
}


def _line(taken: Taken) -> str:
    outcome = OUTCOMES.get(taken.outcome, taken.outcome.replace("ignored:", "ignorado: "))
    where = f" #{taken.ticket_id}" if taken.ticket_id else (f" borrador {taken.draft_id}" if taken.draft_id else "")
    reply = " · respuesta automática" if taken.auto_reply is not None else ""
    return f"{taken.sender or '-'} · {taken.subject!r} → {outcome}{where}{reply}"


@click.group("mail")
def mail_group() -> None:
    """The helpdesk mailbox (soporte@): mail in over IMAP."""


@mail_group.command("poll")
@click.option("--once", is_flag=True, help="Poll once and exit (otherwise poll every imap_interval_seconds until stopped).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per mail taken in.")
@click.pass_context
def poll(ctx: click.Context, once: bool, as_json: bool) -> None:
    """Take in the unseen mail of the helpdesk mailbox now: tickets, replies, drafts."""
    settings = ctx.find_object(Settings) or Settings.from_env()
    imap = settings.imap()
    if imap is None:
        raise click.ClickException("mail in is off: set PROVISIONER_IMAP_HOST (and _USER, _PASSWORD)")
    with database(ctx) as sessions:
        while True:
            try:
                results = poll_once(imap, sessions, sender_lookup(sessions), intake_config(settings),
                                    lambda: datetime.now(UTC), settings.campaign_mail())
            except (OSError, imaplib.IMAP4.error) as error:  # server down, refused login, unknown folder
                raise click.ClickException(f"IMAP {imap.host}:{imap.port} as {imap.user}: {type(error).__name__}: {error}") from None
            _report(results, as_json)
            if once:
                return
            time.sleep(imap.interval)


def _report(results: list[Taken], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([taken.as_json() for taken in results], ensure_ascii=False))
        return
    for taken in results:
        click.echo(_line(taken))
    click.echo(f"{len(results)} correo(s) procesado(s)")
