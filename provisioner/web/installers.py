"""Installers' pages: upload an extension list, preview every problem and change, confirm;
and the devices list (assigned phones and phones waiting for an extension)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from urllib.parse import urlencode
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from firmware_catalog import load_catalog
from provisioner import admin
from provisioner.db.models import Tenant
from provisioner.importing import api as import_api
from provisioner.importing.errors import ImportingError
from provisioner.registrar import registration_by_mac, source_for
from provisioner.settings import Settings
from provisioner.web.access import DEVICES, IMPORTS
from provisioner.web.app import Route, in_thread, read_form, register, served_settings
from provisioner.web.limits import MAX_BODY
from provisioner.web.pages import render
from provisioner.web.errors import show_on_error

MAX_UPLOAD = MAX_BODY  # a file can be no larger than the body that carries it


def _tenants(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    with sessions() as session:
        return [(t.slug, t.name) for t in session.scalars(select(Tenant).order_by(Tenant.name))]


async def imports_page(request: web.Request) -> web.Response:
    return render(request, "imports.html", tenants=await in_thread(request, _tenants), result=None, error=None, form={})


async def _upload(request: web.Request) -> tuple[dict[str, Any], bytes, str]:
    form = await read_form(request)
    upload = form.get("file")
    if upload is not None and hasattr(upload, "file"):
        data, name = upload.file.read(MAX_UPLOAD + 1), upload.filename or "upload.csv"
    else:  # the confirm step sends back the previewed file
        try:
            data = base64.b64decode(str(form.get("file_b64", "")), validate=True)
        except (binascii.Error, ValueError):
            data = b""
        name = str(form.get("file_name", "upload.csv"))
    if len(data) > MAX_UPLOAD:
        raise ImportingError(f"el archivo pasa de {MAX_UPLOAD // (1024 * 1024)} MB")
    fields = {key: str(form.get(key, "")) for key in ("tenant", "replace", "step", "expect_sha256", "dry_run")}
    return fields, data, name


async def imports_submit(request: web.Request) -> web.Response:
    tenants = await in_thread(request, _tenants)
    show_on_error(request, "imports.html", tenants=tenants, result=None, form={})
    fields, data, name = await _upload(request)
    if not data:
        raise ImportingError("elija un archivo CSV o XLSX")
    replace = fields["replace"] == "1"
    if fields["step"] == "confirm":
        result = await in_thread(request, _confirm, fields["tenant"], data, name, replace, fields["expect_sha256"] or None)
    else:
        result = await in_thread(request, _preview, fields["tenant"], data, name, replace)
    return render(request, "imports.html", status=200 if result["ok"] else 422, tenants=tenants, result=result, error=None,
                  form={**fields, "file_b64": base64.b64encode(data).decode(), "file_name": name})


def _preview(sessions: sessionmaker[Session], tenant: str, data: bytes, name: str, replace: bool) -> dict[str, Any]:
    return import_api.preview_import(sessions, tenant, data, name, replace=replace)


def _confirm(sessions: sessionmaker[Session], tenant: str, data: bytes, name: str, replace: bool, sha: str | None) -> dict[str, Any]:
    return import_api.confirm_import(sessions, tenant, data, name, replace=replace, expect_sha256=sha)


async def api_import(request: web.Request) -> web.Response:
    """POST /api/v1/imports (multipart: file, tenant, dry_run=1|0, replace=1|0)."""
    fields, data, name = await _upload(request)
    dry_run = (fields["dry_run"] or "1") != "0"
    result = await in_thread(request, _run_api, fields["tenant"], data, name, dry_run, fields["replace"] == "1")
    return web.json_response(result, status=200 if result["ok"] else 422)


def _run_api(sessions: sessionmaker[Session], tenant: str, data: bytes, name: str, dry_run: bool, replace: bool) -> dict[str, Any]:
    return import_api.import_upload(sessions, tenant, data, name, dry_run=dry_run, replace=replace)


DEVICE_FILTERS = ("q", "tenant", "which", "compliance")


def device_page(sessions: sessionmaker[Session], tenant: str | None, cursor: str | None, search: str | None = None,
                which: str | None = None, compliance: str | None = None,
                settings: Settings | None = None) -> tuple[admin.DevicePage, dict[str, bool | None]]:
    """One page of devices (admin.DEVICE_PAGE_SIZE), read in a worker thread by bounded queries,
    and whether each is registered (issue 19; None: no registrar connected)."""
    settings = settings or Settings()
    with sessions() as session:
        page = admin.filtered_device_page(session, load_catalog(), tenant_slug=tenant, cursor=cursor, search=search,
                                          which=which, compliance=compliance)
        source = source_for(settings)
        try:
            phones = [(row.tenant, row.mac) for row in page.rows if row.assigned]
            registered = registration_by_mac(session, settings, source, phones, datetime.now(UTC))
        finally:
            if source is not None:
                source.close()
    return page, registered


def _customers(sessions: sessionmaker[Session]) -> dict[str, str]:
    return dict(_tenants(sessions))


async def devices_page(request: web.Request) -> web.Response:
    chosen = {name: request.query.get(name, "").strip() or None for name in DEVICE_FILTERS}
    customers = await in_thread(request, _customers)
    show_on_error(request, "devices.html", rows=[], next_query=None, first_query=None, chosen=chosen, customers=customers, registered={})
    page, registered = await in_thread(request, device_page, chosen["tenant"], request.query.get("cursor") or None,
                                       chosen["q"], chosen["which"], chosen["compliance"], served_settings(request.app))
    kept = {name: value for name, value in chosen.items() if value}
    following = urlencode({**kept, "cursor": page.next_cursor}) if page.next_cursor else None
    return render(request, "devices.html", rows=page.rows, next_query=following, chosen=chosen, customers=customers,
                  first_query=urlencode(kept) if request.query.get("cursor") else None, error=None,
                  registered=registered)


ROUTES = (
    Route("GET", "/imports", imports_page, IMPORTS),
    Route("POST", "/imports", imports_submit, IMPORTS),
    Route("POST", "/api/v1/imports", api_import, IMPORTS),
    Route("GET", "/devices", devices_page, DEVICES),
)


def setup_installers(app: web.Application) -> None:
    register(app, ROUTES)
