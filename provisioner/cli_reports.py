"""`provisioner reports ...`: the figures people read in the web app, for scripts and mail.

`reports dashboard` prints the dashboard's figures (the same as /dashboard and
/api/v1/reports/dashboard); `reports survey` the satisfaction survey's results (the same as
/reports/encuesta and /api/v1/reports/survey).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from firmware_catalog import load_catalog
from provisioner import report_facts, survey_report
from provisioner.cli_database import database


@click.group("reports")
def reports_group() -> None:
    """Figures: the support desk's dashboard and the satisfaction survey."""


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


def _month(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not survey_report.valid_month(value):
        raise click.BadParameter("give a month as YYYY-MM, e.g. 2026-11")
    return value


@reports_group.command("survey")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--month", callback=_month, metavar="YYYY-MM", help="Only resolutions of this month (Bogota).")
@click.pass_context
def survey(ctx: click.Context, as_json: bool, month: str | None) -> None:
    """Survey answers per customer, agent and month: average rating, 1-5 counts, not solved, response rate."""
    with database(ctx) as sessions, sessions() as session:
        figures = report_facts.survey(session, datetime.now(UTC), month)
        names = {**report_facts.customer_names(session), **report_facts.people_names(session)}
    if as_json:
        click.echo(json.dumps(figures, indent=2, ensure_ascii=False))
        return
    click.echo(_survey_text(figures, names))


def _survey_text(figures: dict[str, object], names: dict[str, str]) -> str:
    lines = [f"at {figures['at']}" + (f", resolutions of {figures['month']}" if figures["month"] else "")]
    total = figures["total"]
    assert isinstance(total, dict)
    lines.append(f"all: {_survey_line(total)}")
    for title, key in (("by customer", "by_customer"), ("by agent", "by_agent"), ("by month", "by_month")):
        lines.append(f"{title}:")
        table = figures[key]
        assert isinstance(table, dict)
        for name, row in table.items():
            lines.append(f"  {names.get(name, name)}: {_survey_line(row)}")
    return "\n".join(lines)


def _survey_line(row: dict[str, object]) -> str:
    ratings = row["ratings"]
    assert isinstance(ratings, dict)
    average = "-" if row["average_rating"] is None else row["average_rating"]
    rate = "-" if row["response_rate"] is None else f"{row['response_rate']} %"
    share = "-" if row["not_solved_share"] is None else f"{row['not_solved_share']} %"
    spread = " ".join(f"{value}:{count}" for value, count in ratings.items())
    return (f"{row['answered']} of {row['sent']} answered ({rate}), average {average}, ratings {spread}, "
            f"not solved {row['not_solved']} ({share})")
