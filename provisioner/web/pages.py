"""HTML pages: the template environment and `render` (adapter; used by every web module
and by the error middleware, so it depends on none of them).

Autoescaping is on, so anything a phone reported (User-Agent, SNMP strings) or a requester
typed is shown as text, never as markup.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from provisioner import labels
from provisioner.web import access
from provisioner.web.sessions import CurrentUser

HTML = web.AppKey("html", jinja2.Environment)
USER = "user"  # the request key of the logged-in CurrentUser
BOGOTA = ZoneInfo("America/Bogota")


def html_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["bogota"] = bogota_time
    env.globals["labels"] = labels
    env.globals["access"] = access  # who sees which links
    return env


def bogota_time(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BOGOTA).strftime("%Y-%m-%d %H:%M")


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    user: CurrentUser | None = request.get(USER)
    body = request.app[HTML].get_template(template).render(user=user, csrf_token=user.csrf_token if user else "", **context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
