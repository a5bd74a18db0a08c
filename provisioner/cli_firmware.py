"""`provisioner firmware ...`: the image store and firmware campaigns (thin: parse, open a
session, call provisioner.campaign_store, print).

    firmware add FILE --model T21P [--version V]       copy into the firmware folder, record SHA-256 and size
    firmware list [--json]                             the images recorded
    firmware campaign create --tenant SLUG --model T21P [--to V] --date YYYY-MM-DD [--critical]
    firmware campaign list [--tenant SLUG] [--json]
    firmware campaign show ID [--json]
    firmware campaign cancel ID
    firmware campaign tick [--now ISO] [--json]        advance every campaign once (the server does it
                                                       every campaign_tick_seconds)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from firmware_catalog import load_catalog
from provisioner import campaign_store
from provisioner.campaigns import DEFAULT_MAX_FAILURE_SHARE, DEFAULT_PHONE_TIMEOUT
from provisioner.cli_database import database
from provisioner.errors import InputError
from provisioner.labels import CAMPAIGN_PHONE_STATES, CAMPAIGN_WAVES
from provisioner.settings import Settings

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


def _emit(as_json: bool, data: Any, text: str) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str) if as_json else text)


_sessions = database  # every command opens the database the CLI's one way


def _settings(ctx: click.Context) -> Settings:
    return ctx.find_object(Settings)  # type: ignore[return-value]


def _now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--now {text!r} no es una fecha y hora ISO (p. ej. 2027-01-15T19:30:00-05:00)") from None
    if moment.tzinfo is None:
        raise InputError("--now necesita la zona horaria (p. ej. -05:00)")
    return moment


@click.group("firmware")
def firmware_group() -> None:
    """Firmware images and maintenance-window campaigns."""


@firmware_group.command("add")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--model", required=True, help="Homologated model the image is for, e.g. T21P.")
@click.option("--version", "version", default=None, help="Its firmware version (read from a Yealink <version>.rom name).")
@json_option
@click.pass_context
def add_image(ctx: click.Context, file: Path, model: str, version: str | None, as_json: bool) -> None:
    """Copy FILE into the firmware folder under the name the model's phones ask for."""
    settings = _settings(ctx)
    with _sessions(ctx) as sessions, sessions.begin() as session:
        image = campaign_store.add_image(session, load_catalog(), settings.firmware_path, file, model, version,
                                         datetime.now(UTC))
        data = {"name": image.name, "model": image.model_key, "version": image.version, "sha256": image.sha256,
                "size": image.size}
    _emit(as_json, data, f"{data['name']}  {data['model']} {data['version']}  {data['size']} bytes  sha256 {data['sha256']}")


@firmware_group.command("list")
@json_option
@click.pass_context
def list_images(ctx: click.Context, as_json: bool) -> None:
    """The images recorded, with their SHA-256 and whether the file still matches it."""
    folder = _settings(ctx).firmware_path
    with _sessions(ctx) as sessions, sessions() as session:
        rows = [{"name": i.name, "model": i.model_key, "version": i.version, "sha256": i.sha256, "size": i.size,
                 "intact": campaign_store.image_intact(folder, i.name, i.sha256, i.size)}
                for i in campaign_store.list_images(session)]
    _emit(as_json, rows, "\n".join(
        f"{r['name']}  {r['model']} {r['version']}  {r['size']} bytes  {'ok' if r['intact'] else 'CAMBIÓ O FALTA'}"
        for r in rows) or "(sin imágenes)")


@firmware_group.group("campaign")
def campaign_group() -> None:
    """Upgrade (or downgrade) one model of one tenant inside the 19:00-05:00 window."""


@campaign_group.command("create")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--model", required=True, help="e.g. T21P")
@click.option("--to", "to", default=None, help="Target version (default: the homologated one).")
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD: the window opens 19:00 that day.")
@click.option("--critical", is_flag=True, help="Fixes a critical fault: may be announced and done the same day.")
@click.option("--max-failures", type=float, default=DEFAULT_MAX_FAILURE_SHARE, show_default=True,
              help="Share of a wave's phones failing that halts the campaign.")
@click.option("--phone-timeout", type=click.IntRange(1, 600), default=int(DEFAULT_PHONE_TIMEOUT.total_seconds() // 60),
              show_default=True, help="Minutes an instructed phone has to come back on the target.")
@json_option
@click.pass_context
def create(ctx: click.Context, tenant_slug: str, model: str, to: str | None, day: datetime, critical: bool,
           max_failures: float, phone_timeout: int, as_json: bool) -> None:
    """Plan a campaign: checks the rules, queues the announcement, opens a requirement ticket."""
    settings = _settings(ctx)
    limits = campaign_store.Limits(max_failures, timedelta(minutes=phone_timeout))
    now = datetime.now(UTC)
    with _sessions(ctx) as sessions:
        with sessions.begin() as session:
            campaign = campaign_store.create_campaign(session, load_catalog(), settings.firmware_path, tenant_slug, model,
                                                      to, day.date(), critical, now, limits)
            campaign_id = campaign.id
        sent = campaign_store.send_notices(sessions, now, settings.campaign_mail())
        with sessions() as session:
            view = campaign_store.campaign_view(session, campaign_id, now)
    note = "" if sent else "  (anuncio en espera: configure PROVISIONER_SMTP_HOST; el servidor lo enviará)"
    _emit(as_json, view, f"campaña #{campaign_id}: {view['model']} a {view['target']} el {view['day']}, "
                         f"{sum(1 for p in view['phones'] if p['wave'])} teléfonos{note}")


@campaign_group.command("list")
@click.option("--tenant", "tenant_slug", default=None)
@json_option
@click.pass_context
def list_campaigns(ctx: click.Context, tenant_slug: str | None, as_json: bool) -> None:
    with _sessions(ctx) as sessions, sessions() as session:
        rows = campaign_store.list_campaigns(session, tenant_slug)
    _emit(as_json, rows, "\n".join(
        f"#{r['id']}  {r['tenant']}  {r['model']} -> {r['target']}  {r['day']}  {r['state_label']}"
        + ("  (crítica)" if r["critical"] else "") for r in rows) or "(sin campañas)")


@campaign_group.command("show")
@click.argument("campaign_id", type=click.IntRange(1, 2**31 - 1))
@json_option
@click.pass_context
def show(ctx: click.Context, campaign_id: int, as_json: bool) -> None:
    """Progress: state, window, notices, and each phone's wave and state."""
    with _sessions(ctx) as sessions, sessions() as session:
        view = campaign_store.campaign_view(session, campaign_id, datetime.now(UTC))
    _emit(as_json, view, show_text(view))


def show_text(view: dict[str, Any]) -> str:
    lines = [
        f"Campaña #{view['id']} - {view['tenant']} - {view['model']} a {view['target']} ({view['direction']})",
        f"Estado: {view['state_label']}" + (f" - {view['halted_because']}" if view["halted_because"] else ""),
        f"Ventana: {view['window']['opens']} -> {view['window']['closes']}" + ("  (abierta ahora)" if view["window"]["open_now"] else ""),
        f"Imagen: {view['image']['name']} sha256 {view['image']['sha256']} ({view['image']['size']} bytes)",
        "Teléfonos: " + ", ".join(f"{CAMPAIGN_PHONE_STATES[k]} {v}" for k, v in view["counts"].items() if v),
        f"Ticket: #{view['ticket']}" + (f"  Incidente: #{view['incident']}" if view["incident"] else ""),
    ]
    for notice in view["notices"]:
        lines.append(f"Aviso {notice['kind']} a {notice['to']}: {notice['sent_at'] or 'pendiente'}")
    for phone in view["phones"]:
        wave = CAMPAIGN_WAVES.get(phone["wave"], "-")
        lines.append(f"  {phone['mac']}  {wave:<14} {CAMPAIGN_PHONE_STATES[phone['state']]:<20} "
                     f"{phone['from'] or '?'} -> {phone['reported'] or ''}")
    return "\n".join(lines)


@campaign_group.command("cancel")
@click.argument("campaign_id", type=click.IntRange(1, 2**31 - 1))
@click.pass_context
def cancel(ctx: click.Context, campaign_id: int) -> None:
    """Stop a campaign: its phones get no instruction from now on."""
    with _sessions(ctx) as sessions, sessions.begin() as session:
        campaign_store.cancel_campaign(session, campaign_id, datetime.now(UTC))
    click.echo(f"campaña #{campaign_id} cancelada")


@campaign_group.command("tick")
@click.option("--now", "now_text", default=None, help="ISO time with zone (default: now).")
@json_option
@click.pass_context
def tick(ctx: click.Context, now_text: str | None, as_json: bool) -> None:
    """Advance every campaign once (what the server does every campaign_tick_seconds)."""
    settings = _settings(ctx)
    with _sessions(ctx) as sessions:
        report = campaign_store.tick(sessions, settings.firmware_path, _now(now_text), settings.campaign_mail())
    data = vars(report)
    _emit(as_json, data, ", ".join(f"{k} {v}" for k, v in data.items()))


__all__ = ["firmware_group"]
