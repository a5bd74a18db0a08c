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
    env.filters["vendor"] = vendor_name
    env.globals["labels"] = labels
    env.globals["access"] = access  # who sees which links
    return env


def bogota_time(moment: datetime | str | None) -> str:
    """A moment (aware datetime or ISO 8601 text) as Bogota wall-clock time, to the minute."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return moment
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BOGOTA).strftime("%Y-%m-%d %H:%M")


def vendor_name(vendor: str | None) -> str:
    """A vendor as people write it (labels.VENDORS), even one the table does not know yet."""
    if not vendor:
        return "—"
    return labels.VENDORS.get(vendor.lower(), vendor[:1].upper() + vendor[1:])


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    user: CurrentUser | None = request.get(USER)
    body = request.app[HTML].get_template(template).render(user=user, csrf_token=user.csrf_token if user else "", **context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
