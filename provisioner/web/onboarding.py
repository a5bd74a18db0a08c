"""Installers' site pages: the tenant list, each tenant's onboarding kit and its readiness board
(adapters: read in a worker thread, build with the pure provisioner.onboarding and
provisioner.site_readiness, render)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from firmware_catalog import load_catalog
from provisioner import admin, site_facts
from provisioner.db.models import Tenant
from provisioner.errors import InputError
from provisioner.onboarding import DEFAULT_SUBNET, Kit, build_kit
from provisioner.settings import Settings
from provisioner.site_readiness import Board, build_board
from provisioner.web.access import ONBOARDING
from provisioner.web.app import Route, in_thread, register, served_settings
from provisioner.web.pages import render


def _tenants(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    with sessions() as session:
        return [(t.slug, t.name) for t in session.scalars(select(Tenant).order_by(Tenant.name))]


def _kit(sessions: sessionmaker[Session], settings: Settings, slug: str, calls: int | None, subnet: str) -> Kit:
    rules = site_facts.firewall_rules(settings)
    with sessions() as session:
        site = site_facts.site_for(session, load_catalog(), settings, admin.tenant_by_slug(session, slug))
    return build_kit(site, rules, calls, subnet)


def _board(sessions: sessionmaker[Session], settings: Settings, slug: str) -> tuple[str, Board]:
    with sessions() as session:
        tenant = admin.tenant_by_slug(session, slug)
        now = datetime.now(UTC)
        phones, without = site_facts.phone_facts(session, load_catalog(), tenant, site_facts.snmp_window_start(settings, now),
                                                  settings, now)
        name = tenant.name
    return name, build_board(phones, without, snmp_enabled=bool(settings.snmp_enabled))


def _calls(text: str | None) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 6:
        raise InputError("el número de llamadas simultáneas debe ser un número entero")
    return int(text)


async def tenants_page(request: web.Request) -> web.Response:
    return render(request, "tenants.html", tenants=await in_thread(request, _tenants))


async def onboarding_page(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    calls = _calls(request.query.get("calls"))
    subnet = request.query.get("subnet") or DEFAULT_SUBNET
    kit = await in_thread(request, _kit, served_settings(request.app), slug, calls, subnet)
    return render(request, "onboarding.html", kit=kit)


async def readiness_page(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    name, board = await in_thread(request, _board, served_settings(request.app), slug)
    return render(request, "readiness.html", tenant=name, slug=slug, board=board)


ROUTES = (
    Route("GET", "/tenants", tenants_page, ONBOARDING),
    Route("GET", "/tenants/{slug}/onboarding", onboarding_page, ONBOARDING),
    Route("GET", "/tenants/{slug}/readiness", readiness_page, ONBOARDING),
)


def setup_onboarding(app: web.Application) -> None:
    register(app, ROUTES)
