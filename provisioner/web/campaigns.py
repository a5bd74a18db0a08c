"""Firmware campaigns' progress pages (read only; campaigns are planned with the CLI):
/campaigns lists them, /campaigns/<id> shows the window, the notices and each phone's state."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from provisioner import campaign_store
from provisioner.errors import NotFoundError
from provisioner.web.access import CAMPAIGNS
from provisioner.web.app import Route, in_thread, now, register
from provisioner.web.pages import render


def _list(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    with sessions() as session:
        return campaign_store.list_campaigns(session)


def _view(sessions: sessionmaker[Session], campaign_id: int) -> dict[str, Any]:
    with sessions() as session:
        return campaign_store.campaign_view(session, campaign_id, now())


async def campaigns_page(request: web.Request) -> web.Response:
    return render(request, "campaigns.html", campaigns=await in_thread(request, _list))


async def campaign_page(request: web.Request) -> web.Response:
    text = request.match_info["id"]
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) < 2**31:
        raise NotFoundError(f"no hay una campaña {text!r}")
    return render(request, "campaign.html", c=await in_thread(request, _view, int(text)))


ROUTES = (
    Route("GET", "/campaigns", campaigns_page, CAMPAIGNS),
    Route("GET", "/campaigns/{id}", campaign_page, CAMPAIGNS),
)


def setup_campaigns(app: web.Application) -> None:
    register(app, ROUTES)
