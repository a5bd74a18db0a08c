"""JSON API under /api/v1/ (bearer token), described by /api/v1/openapi.json.

Tickets: list/filter, create, show, act. Devices: list. Imports: preview and confirm.
Errors are JSON, answered by provisioner.web.errors: {"error": <code>, "message": <Spanish>}
and, when the error's own text tells more, "detail".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from jsonschema import Draft202012Validator

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from provisioner.db.models import Tenant
from provisioner.errors import InputError, MalformedInput, NotFoundError
from provisioner.ticket_queue import queue_filters
from provisioner.web.access import DEVICES, PUBLIC, TICKETS
from provisioner.web.app import Route, in_thread, now, register
from provisioner.web.pages import USER
from provisioner.web.app import served_settings
from provisioner.web.installers import device_page
from provisioner.web.limits import too_long, unstorable
from provisioner.web.live import LIVE
from provisioner.web.tickets import (
    act_on, action_from_form, actor_of, create_ticket, load_ticket, log_work, queue_rows, take, ticket_id_of, work_minutes,
)
from provisioner import ticket_json
from support_link.errors import ClassificationError
from provisioner.web import openapi as contract
from provisioner.web.openapi import ACTION, DEVICE_CURSOR, FILTERS, NEW_TICKET, OPENAPI


async def list_tickets(request: web.Request) -> web.Response:
    _check_enums(request.query)
    await _known_tenant(request, request.query.get("account"))
    filters = queue_filters(request.query)
    if "assignee" in request.query:  # a username; empty: the tickets nobody has taken
        filters["assignee"] = request.query["assignee"][:64]
    rows = await in_thread(request, queue_rows, filters, now())
    return web.json_response([ticket_json.row_to_json(row) for row in rows])


async def show_ticket(request: web.Request) -> web.Response:
    stored = await in_thread(request, load_ticket, ticket_id_of(request), now())
    return web.json_response(ticket_json.to_json(stored))


async def _json_body(request: web.Request, schema: dict[str, Any]) -> dict[str, Any]:
    """The body as a JSON object valid against its schema in the API contract (else 400 / 422)."""
    body = await request.json()  # not JSON: json.JSONDecodeError, answered 400
    if not isinstance(body, dict):
        raise MalformedInput("Envíe un objeto JSON ({...}).")
    said = too_long(body) or unstorable(body)  # the common refusals in Spanish, as the forms say them
    if said is not None:
        raise InputError(said)
    # A missing field is the lifecycle's to name (missing_fields, in Spanish, all at once).
    problem = next((error for error in _validators[id(schema)].iter_errors(body) if error.validator != "required"), None)
    if problem is not None:
        where = "/".join(str(part) for part in problem.absolute_path) or "el cuerpo"
        raise InputError(f"{where}: {problem.message[:300]}")
    return body


async def _known_tenant(request: web.Request, slug: str | None) -> None:
    """An unknown customer in a filter is a 404, not an empty answer."""
    if slug and ("\x00" in slug or not await in_thread(request, _tenant_exists, slug)):  # NUL: no slug has one
        raise NotFoundError(f"no tenant with slug {slug!r}")


def _tenant_exists(sessions: sessionmaker[Session], slug: str) -> bool:
    with sessions() as session:
        return session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None


async def create(request: web.Request) -> web.Response:
    body = await _json_body(request, NEW_TICKET)
    fields = {key: str(value) for key, value in body.items() if value is not None}
    await _known_tenant(request, fields.get("account"))
    ticket_id = await in_thread(request, create_ticket, fields, actor_of(request[USER]), now())
    request.app[LIVE].poke()
    stored = await in_thread(request, load_ticket, ticket_id, now())
    return web.json_response(ticket_json.to_json(stored), status=201)


async def act(request: web.Request) -> web.Response:
    ticket_id = ticket_id_of(request)
    body = await _json_body(request, ACTION)
    if body.get("action") == "log_work":
        ended = now()
        minutes = work_minutes(int(body.get("minutes") or 0))  # the schema made it a whole number (1244.0 is one)
        await in_thread(request, log_work, ticket_id, request[USER].username, ended - timedelta(minutes=minutes), ended, str(body.get("note", "")))
    elif body.get("action") == "take":
        await in_thread(request, take, ticket_id, request[USER].username, now())
    else:
        action, note = action_from_form({key: str(value) for key, value in body.items()}, now())
        if action is None:
            raise InputError("action is one of " + ", ".join(contract.ACTIONS))
        await in_thread(request, act_on, ticket_id, action, actor_of(request[USER]), now(), note)
    request.app[LIVE].poke()
    stored = await in_thread(request, load_ticket, ticket_id, now())
    return web.json_response(ticket_json.to_json(stored))


async def list_devices(request: web.Request) -> web.Response:
    _refuse_nul(request.query)
    for name, allowed in (("which", contract.WHICH), ("compliance", contract.COMPLIANCE)):
        if name in request.query and request.query[name] not in allowed:  # empty too: not one of them
            raise InputError(f"{name} es uno de: {', '.join(allowed)}")
    await _known_tenant(request, request.query.get("tenant"))
    query = request.query
    cursor = query.get("cursor")
    if cursor is not None and not DEVICE_CURSOR.fullmatch(cursor):
        raise InputError("cursor: use the next_cursor of the previous page")
    page, registered = await in_thread(request, device_page, query.get("tenant") or None, cursor,
                                       query.get("q") or None, query.get("which") or None, query.get("compliance") or None,
                                       served_settings(request.app))
    rows = [{**row.as_json(), "registered": registered.get(row.mac) if row.assigned else None} for row in page.rows]
    return web.json_response({"devices": rows, "next_cursor": page.next_cursor})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


ROUTES = (  # POST /api/v1/imports: provisioner.web.installers
    Route("GET", "/api/v1/openapi.json", openapi, PUBLIC),
    Route("GET", "/api/v1/tickets", list_tickets, TICKETS),
    Route("POST", "/api/v1/tickets", create, TICKETS),
    Route("GET", "/api/v1/tickets/{id}", show_ticket, TICKETS),
    Route("POST", "/api/v1/tickets/{id}/actions", act, TICKETS),
    Route("GET", "/api/v1/devices", list_devices, DEVICES),
)


# Formats are checked too: a resolution date must be a real date ("0000-00-00" is not), whatever the action.
_validators = {id(schema): Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
               for schema in (NEW_TICKET, ACTION)}


def setup_api(app: web.Application) -> None:
    register(app, ROUTES)


def _check_enums(query: Any) -> None:
    """Queue filters out of their enums are refused (422), not answered with nothing."""
    for parameter in FILTERS:
        allowed = parameter["schema"].get("enum")
        given = query.get(parameter["name"])
        if allowed and given is not None and given not in allowed:
            raise ClassificationError(f"{parameter['name']} es uno de: {', '.join(allowed)}")
    _refuse_nul(query)


def _refuse_nul(query: Any) -> None:
    """A NUL in a search or filter is refused (422): PostgreSQL cannot compare text with one (a 500)."""
    for name, value in query.items():
        if "\x00" in value:
            raise InputError(f"{name} contiene un carácter nulo (NUL).")
