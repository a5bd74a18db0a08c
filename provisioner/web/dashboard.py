"""The dashboard: how the month goes, in charts (pygal SVG, drawn here; nothing fetched at run time).

/dashboard shows the figures (provisioner.reports via report_facts) as charts and tables;
each chart is an SVG of its own at /dashboard/charts/<name>.svg, shown with <img> so the
page's Content-Security-Policy needs no inline style or script. /api/v1/reports/dashboard
answers the same figures as JSON. The figures are read at most once every FRESH seconds per
process (a page and its six charts are one read).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pygal
from aiohttp import web
from pygal.style import Style
from sqlalchemy.orm import Session, sessionmaker

from firmware_catalog import load_catalog
from provisioner import labels, report_facts
from provisioner.errors import NotFoundError
from provisioner.web.access import TICKETS
from provisioner.web.app import Route, in_thread, now, register
from provisioner.web.pages import render

FRESH = 5.0
FIGURES = web.AppKey("dashboard_figures", dict)
NO_SLA = "Sin ANS"
COLOURS = {"on_time": "#2e8b57", "at_risk": "#e0a100", "breached": "#c62828", "none": "#90a4ae",
           "ok": "#2e8b57", "findings": "#c62828", "unseen": "#90a4ae"}


def read_figures(sessions: sessionmaker[Session], moment: datetime) -> dict[str, Any]:
    with sessions() as session:
        return {"figures": report_facts.dashboard(session, load_catalog(), moment),
                "customers": report_facts.customer_names(session)}


async def figures(request: web.Request) -> dict[str, Any]:
    cached = request.app.get(FIGURES)
    if cached is not None and time.monotonic() - cached["read"] < FRESH:
        return cached["data"]  # type: ignore[no-any-return]
    data = await in_thread(request, read_figures, now())
    request.app[FIGURES] = {"read": time.monotonic(), "data": data}
    return data


def _style(colours: list[str]) -> Style:
    return Style(background="white", plot_background="white", foreground="#1d2430", foreground_strong="#1d2430",
                 foreground_subtle="#667", colors=tuple(colours), font_family="system-ui, sans-serif",
                 label_font_size=13, major_label_font_size=13, legend_font_size=13, title_font_size=16,
                 value_font_size=12, tooltip_font_size=12, no_data_font_size=24)


def styled_chart(kind: Callable[..., Any], title: str, colours: list[str], **options: Any) -> Any:
    return kind(title=title, style=_style(colours), js=[], width=720, height=380, legend_at_bottom=True,
                print_values=False, no_data_text="Sin datos", explicit_size=False, **options)


def whole_numbers(highest: int) -> list[int]:
    """The count axis' labels: whole numbers only, about five of them (pure)."""
    step = max(1, -(-highest // 5))
    return list(range(0, max(highest, 1) + step, step))


def chart_open(data: Mapping[str, Any]) -> Any:
    table = data["figures"]["open_by_priority"]
    states = list(labels.SLA_STATES) + ["none"]
    highest = max((sum(row.values()) for row in table.values()), default=0)
    chart = styled_chart(pygal.StackedBar, "Casos abiertos por prioridad y ANS", [COLOURS[s] for s in states],
                   y_labels=whole_numbers(highest))
    chart.x_labels = [labels.PRIORITIES[p] for p in table]
    for state in states:
        chart.add(labels.SLA_STATES.get(state, NO_SLA), [table[p][state] for p in table])
    return chart


def _rates(title: str, rows: Mapping[str, Mapping[str, Any]], names: Mapping[str, str], horizontal: bool) -> Any:
    chart = styled_chart(pygal.HorizontalBar if horizontal else pygal.Bar, title, ["#1565c0"], range=(0, 100),
                   value_formatter=lambda v: f"{v:.0f} %", show_legend=False)
    chart.x_labels = [names.get(key, key) for key in rows]
    chart.add("Primera respuesta a tiempo (%)", [row["rate"] for row in rows.values()])
    return chart


def chart_by_month(data: Mapping[str, Any]) -> Any:
    return _rates("Primera respuesta a tiempo, por mes (%)", data["figures"]["first_response_by_month"], {}, False)


def chart_by_customer(data: Mapping[str, Any]) -> Any:
    names = {"-": "Sin cliente", **data["customers"]}
    return _rates("Primera respuesta a tiempo, por cliente (%)", data["figures"]["first_response_by_customer"], names, True)


def chart_findings(data: Mapping[str, Any]) -> Any:
    table = data["figures"]["incidents_by_finding"]
    highest = max((row["total"] for row in table.values()), default=0)
    chart = styled_chart(pygal.HorizontalBar, "Incidentes por hallazgo", ["#c62828", "#90a4ae"], y_labels=whole_numbers(highest))
    chart.x_labels = [labels.FINDINGS.get(kind, kind) for kind in table]
    chart.add("Abiertos", [row["open"] for row in table.values()])
    chart.add("En total", [row["total"] for row in table.values()])
    return chart


def chart_models(data: Mapping[str, Any]) -> Any:
    table = data["figures"]["phones_by_model"]
    highest = max((sum(row.values()) for row in table.values()), default=0)
    chart = styled_chart(pygal.StackedBar, "Teléfonos por modelo y conformidad", [COLOURS[c] for c in labels.COMPLIANCE],
                   x_label_rotation=30, y_labels=whole_numbers(highest))
    chart.x_labels = [("Modelo desconocido" if model == "?" else model) for model in table]
    for state, name in labels.COMPLIANCE.items():
        chart.add(name, [row[state] for row in table.values()])
    return chart


def chart_boots(data: Mapping[str, Any]) -> Any:
    table = data["figures"]["boots_per_hour"]
    chart = styled_chart(pygal.Bar, "Arranques por hora (últimas 24 h, hora de Bogotá)", ["#1f3a5f"], show_legend=False,
                   x_label_rotation=60, y_labels=whole_numbers(max(table.values(), default=0)))
    chart.x_labels = [hour[-5:] for hour in table]
    chart.add("Arranques", list(table.values()))
    return chart


CHARTS: Mapping[str, tuple[str, Callable[[Mapping[str, Any]], Any]]] = {
    "abiertos": ("Casos abiertos por prioridad y ANS", chart_open),
    "ans-mes": ("Primera respuesta a tiempo, por mes", chart_by_month),
    "ans-cliente": ("Primera respuesta a tiempo, por cliente", chart_by_customer),
    "hallazgos": ("Incidentes por hallazgo", chart_findings),
    "modelos": ("Teléfonos por modelo y conformidad", chart_models),
    "arranques": ("Arranques por hora", chart_boots),
}


async def dashboard_page(request: web.Request) -> web.Response:
    data = await figures(request)
    return render(request, "dashboard.html", charts=CHARTS, figures=data["figures"],
                  customers={"-": "Sin cliente", **data["customers"]}, stamp=int(time.time()))


async def chart_svg(request: web.Request) -> web.Response:
    entry = CHARTS.get(request.match_info["name"])
    if entry is None:
        raise NotFoundError("No existe ese gráfico.")
    data = await figures(request)
    svg = entry[1](data).render(is_unicode=True)
    return web.Response(text=svg, content_type="image/svg+xml", charset="utf-8",
                        headers={"Cache-Control": "private, max-age=5"})


async def api_dashboard(request: web.Request) -> web.Response:
    return web.json_response((await figures(request))["figures"])


ROUTES = (
    Route("GET", "/dashboard", dashboard_page, TICKETS),
    Route("GET", "/dashboard/charts/{name}.svg", chart_svg, TICKETS),
    Route("GET", "/api/v1/reports/dashboard", api_dashboard, TICKETS),
)


def setup_dashboard(app: web.Application) -> None:
    register(app, ROUTES)
