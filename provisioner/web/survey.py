"""The satisfaction survey's results: a page with charts and tables, and the same figures as JSON.

/reports/encuesta shows provisioner.survey_report's figures (read by report_facts) with
customers' and agents' names; each chart is an SVG of its own at
/reports/encuesta/charts/<name>.svg, shown with <img> as on the dashboard (no inline style or
script). /api/v1/reports/survey answers the figures as `provisioner reports survey --json` does.
Both take an optional month (page: ?mes=2026-11, API: ?month=2026-11). No cache: a survey
report is read by a person now and then, never by every phone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pygal
from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from provisioner import report_facts, survey_report
from provisioner.errors import InputError, NotFoundError
from provisioner.web.access import TICKETS
from provisioner.web.app import Route, in_thread, now, register
from provisioner.web.dashboard import styled_chart, whole_numbers
from provisioner.web.pages import render

RATING_COLOURS = ["#c62828", "#ef6c00", "#e0a100", "#7cb342", "#2e8b57"]  # 1 (red) .. 5 (green)


def read_report(sessions: sessionmaker[Session], moment: datetime, month: str | None) -> dict[str, Any]:
    with sessions() as session:
        return {"figures": report_facts.survey(session, moment, month),
                "customers": {"-": "Sin cliente", **report_facts.customer_names(session)},
                "people": {survey_report.NO_AGENT: "Sin responsable", **report_facts.people_names(session)}}


def month_asked(query: Mapping[str, str], name: str, empty_is_all: bool = True) -> str | None:
    """The month a page or API call asks for (absent, or "" from the page's form: every month)."""
    text = query.get(name)
    if text is None or (text == "" and empty_is_all):
        return None
    if not survey_report.valid_month(text):
        raise InputError(f"{name}: indique un mes como AAAA-MM, por ejemplo 2026-11")
    return text


def chart_ratings(data: Mapping[str, Any]) -> Any:
    ratings = data["figures"]["total"]["ratings"]
    chart = styled_chart(pygal.Bar, "Calificaciones recibidas (1 a 5)", ["#1565c0"], show_legend=False,
                   y_labels=whole_numbers(max(ratings.values(), default=0)))
    chart.x_labels = [f"{value} ★" for value in ratings]
    chart.add("Respuestas", list(ratings.values()))
    return chart


def _averages(title: str, rows: Mapping[str, Mapping[str, Any]], names: Mapping[str, str], horizontal: bool) -> Any:
    chart = styled_chart(pygal.HorizontalBar if horizontal else pygal.Bar, title, ["#1f3a5f"], range=(0, 5),
                   y_labels=[0, 1, 2, 3, 4, 5], value_formatter=lambda v: f"{v:.1f}", show_legend=False)
    chart.x_labels = [names.get(key, key) for key in rows]
    chart.add("Calificación promedio", [row["average_rating"] for row in rows.values()])
    return chart


def chart_by_month(data: Mapping[str, Any]) -> Any:
    return _averages("Calificación promedio por mes", data["figures"]["by_month"], {}, False)


def chart_by_customer(data: Mapping[str, Any]) -> Any:
    return _averages("Calificación promedio por cliente", data["figures"]["by_customer"], data["customers"], True)


CHARTS: Mapping[str, tuple[str, Callable[[Mapping[str, Any]], Any]]] = {
    "calificaciones": ("Calificaciones recibidas (1 a 5)", chart_ratings),
    "mes": ("Calificación promedio por mes", chart_by_month),
    "cliente": ("Calificación promedio por cliente", chart_by_customer),
}


async def survey_page(request: web.Request) -> web.Response:
    month = month_asked(request.query, "mes")
    data = await in_thread(request, read_report, now(), month)
    return render(request, "survey.html", charts=CHARTS, month=month, **data)


async def chart_svg(request: web.Request) -> web.Response:
    entry = CHARTS.get(request.match_info["name"])
    if entry is None:
        raise NotFoundError("No existe ese gráfico.")
    data = await in_thread(request, read_report, now(), month_asked(request.query, "mes"))
    return web.Response(text=entry[1](data).render(is_unicode=True), content_type="image/svg+xml", charset="utf-8",
                        headers={"Cache-Control": "private, max-age=5"})


async def api_survey(request: web.Request) -> web.Response:
    month = month_asked(request.query, "month", empty_is_all=False)
    return web.json_response((await in_thread(request, read_report, now(), month))["figures"])


ROUTES = (
    Route("GET", "/reports/encuesta", survey_page, TICKETS),
    Route("GET", "/reports/encuesta/charts/{name}.svg", chart_svg, TICKETS),
    Route("GET", "/api/v1/reports/survey", api_survey, TICKETS),
)


def setup_survey(app: web.Application) -> None:
    register(app, ROUTES)
