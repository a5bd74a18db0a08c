"""`provisioner reports ...`: the figures people read in the web app, for scripts and mail.

`reports dashboard` prints the dashboard's figures (the same as /dashboard and
/api/v1/reports/dashboard); other reports join this group.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from firmware_catalog import load_catalog
from provisioner import report_facts
from provisioner.cli_database import database


@click.group("reports")
def reports_group() -> None:
    """Figures: the support desk's dashboard."""


@reports_group.command("dashboard")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
def dashboard(ctx: click.Context, as_json: bool) -> None:
    """Open tickets by priority and SLA, first-response compliance, incidents, phones, boots."""
    with database(ctx) as sessions, sessions() as session:
        figures = report_facts.dashboard(session, load_catalog(), datetime.now(UTC))
    if as_json:
        click.echo(json.dumps(figures, indent=2, ensure_ascii=False))
        return
    click.echo(_text(figures))


def _text(figures: dict[str, object]) -> str:
    lines = [f"at {figures['at']}: {figures['open_tickets']} open tickets"]
    for title, key in (("open by priority (SLA state)", "open_by_priority"), ("first response by month", "first_response_by_month"),
                       ("first response by customer", "first_response_by_customer"), ("incidents by finding", "incidents_by_finding"),
                       ("phones by model", "phones_by_model"), ("boots per hour", "boots_per_hour")):
        lines.append(f"{title}:")
        table = figures[key]
        assert isinstance(table, dict)
        for name, value in table.items():
            shown = ", ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
            lines.append(f"  {name}: {shown}")
    return "\n".join(lines)
