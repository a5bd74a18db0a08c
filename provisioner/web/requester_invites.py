"""Staff's page of a tenant's portal requesters: the list and the invitation form.

GET /solicitantes (every customer) and GET/POST /tenants/{slug}/solicitantes (agents, specialists, admins). The one-time link is
shown once on the answer page, and mailed when SMTP is configured; it is never stored or logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from provisioner import requester_store
from provisioner.db.models import Tenant
from provisioner.errors import NotFoundError
from provisioner.web.access import REQUESTER_INVITES
from provisioner.web.app import Route, in_thread, now, read_form, register
from provisioner.web.errors import show_on_error
from provisioner.web.pages import USER, render
from provisioner.web.portal_entry import mail_link


def _tenant_page(sessions: sessionmaker[Session], slug: str) -> dict[str, Any]:
    with sessions() as session:
        tenant = session.query(Tenant).filter(Tenant.slug == slug).one_or_none()
        if tenant is None:
            raise NotFoundError(f"No hay un cliente «{slug[:64]}».")
        return {"tenant_name": tenant.name, "slug": tenant.slug, "domains": tenant.email_domains,
                "requesters": requester_store.listed(session, slug)}


def _invite(sessions: sessionmaker[Session], slug: str, email: str, name: str, by: str, moment: datetime) -> requester_store.IssuedLink:
    with sessions.begin() as session:
        return requester_store.invite(session, slug, email, name, by, moment)


def _customers(sessions: sessionmaker[Session]) -> list[tuple[str, str, int]]:
    """(slug, name, requesters) of every tenant, by name."""
    with sessions() as session:
        counts: dict[str, int] = {}
        for row in requester_store.listed(session):
            counts[str(row["tenant"])] = counts.get(str(row["tenant"]), 0) + 1
        return [(slug, name, counts.get(slug, 0))
                for slug, name in session.query(Tenant.slug, Tenant.name).order_by(Tenant.name)]


async def customers_page(request: web.Request) -> web.Response:
    return render(request, "requesters_index.html", customers=await in_thread(request, _customers))


async def requesters_page(request: web.Request) -> web.Response:
    context = await in_thread(request, _tenant_page, request.match_info["slug"])
    return render(request, "requesters.html", error=None, invited=None, values={}, **context)


async def invite_submit(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    form = await read_form(request)
    values = {"email": str(form.get("email", "")), "name": str(form.get("name", ""))}

    async def page_again() -> dict[str, Any]:
        return await in_thread(request, _tenant_page, slug)

    show_on_error(request, "requesters.html", page_again, invited=None, values=values)
    link = await in_thread(request, _invite, slug, values["email"], values["name"], request[USER].username, now())
    url, mailed = await mail_link(request, link)
    context = await in_thread(request, _tenant_page, slug)
    return render(request, "requesters.html", error=None, values={}, invited={"link": link, "url": url, "mailed": mailed},
                  **context)


ROUTES = (
    Route("GET", "/solicitantes", customers_page, REQUESTER_INVITES),
    Route("GET", "/tenants/{slug}/solicitantes", requesters_page, REQUESTER_INVITES),
    Route("POST", "/tenants/{slug}/solicitantes", invite_submit, REQUESTER_INVITES),
)


def setup_requester_invites(app: web.Application) -> None:
    register(app, ROUTES)
