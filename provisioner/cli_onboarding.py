"""`provisioner onboarding SLUG` (the site kit) and `provisioner readiness SLUG` (the board).

Thin: open a session, read the tenant's facts (provisioner.site_facts), build the kit or the
board with the pure functions, print. Registered on the main group in provisioner.cli.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import jinja2
from sqlalchemy.orm import Session

from firmware_catalog import load_catalog
from provisioner import admin, site_facts
from provisioner.cli_database import database
from provisioner.onboarding import DEFAULT_SUBNET, Kit, build_kit, to_markdown
from provisioner.settings import Settings
from provisioner.site_readiness import board_json, board_text, build_board

SNIPPET_KEYS = ("dnsmasq", "dhcpd", "kea", "mikrotik", "windows", "fortigate", "sophos")
TEMPLATES = Path(__file__).parent / "web" / "templates"


@contextmanager
def _session(ctx: click.Context) -> Iterator[Session]:
    with database(ctx) as sessions, sessions.begin() as session:
        yield session


def kit_html(kit: Kit) -> str:
    """The kit as one stand-alone HTML page (the same body the web page shows)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined)
    return env.get_template("onboarding_document.html").render(kit=kit)


@click.command("onboarding")
@click.argument("slug")
@click.option("--format", "output", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--calls", type=click.IntRange(1, 100_000), help="Simultaneous calls to size the internet link for (default: one per extension).")
@click.option("--subnet", default=DEFAULT_SUBNET, show_default=True, help="The voice VLAN's IPv4 network the DHCP snippets are written for.")
@click.option("--dhcp", "only", type=click.Choice(SNIPPET_KEYS),
              help="Print only this DHCP server's snippet, as is (e.g. into /etc/dnsmasq.d/telefonos.conf).")
@click.pass_context
def onboarding(ctx: click.Context, slug: str, output: str, calls: int | None, subnet: str, only: str | None) -> None:
    """The site onboarding kit of a tenant (Spanish): option 66, DHCP, SIP ALG, firewall, bandwidth."""
    settings = ctx.find_object(Settings) or Settings.from_env()
    rules = site_facts.firewall_rules(settings)
    with _session(ctx) as session:
        tenant = admin.tenant_by_slug(session, slug)
        site = site_facts.site_for(session, load_catalog(), settings, tenant)
    kit = build_kit(site, rules, calls, subnet)
    if only:
        click.echo(next(s.text for s in kit.snippets if s.key == only), nl=False)
    else:
        click.echo(kit_html(kit) if output == "html" else to_markdown(kit), nl=False)


@click.command("readiness")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def readiness(ctx: click.Context, slug: str, as_json: bool) -> None:
    """The readiness board of a tenant's site: which phones are ready and what to do next."""
    settings = ctx.find_object(Settings) or Settings.from_env()
    with _session(ctx) as session:
        tenant = admin.tenant_by_slug(session, slug)
        now = datetime.now(UTC)
        phones, without = site_facts.phone_facts(session, load_catalog(), tenant, site_facts.snmp_window_start(settings, now),
                                                  settings, now)
    board = build_board(phones, without, snmp_enabled=bool(settings.snmp_enabled))
    if as_json:
        click.echo(json.dumps({"tenant": slug, **board_json(board)}, indent=2, ensure_ascii=False))
    else:
        click.echo(board_text(board, slug))
