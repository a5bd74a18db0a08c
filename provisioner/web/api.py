"""JSON API under /api/v1/ (bearer token), described by /api/v1/openapi.json.

Tickets: list/filter, create, show, act. Devices: list. Imports: preview and confirm.
Errors are JSON, answered by provisioner.web.errors: {"error": <code>, "message": <Spanish>}
and, when the error's own text tells more, "detail".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from provisioner.errors import InputError, MalformedInput
from provisioner.ticket_queue import queue_filters
from provisioner.web.access import DEVICES, PUBLIC, TICKETS
from provisioner.web.app import Route, in_thread, now, register
from provisioner.web.pages import USER
from provisioner.web.installers import device_page
from provisioner.web.live import LIVE
from provisioner.web.tickets import (
    act_on, action_from_form, actor_of, create_ticket, load_ticket, log_work, queue_rows, take, ticket_id_of, work_minutes,
)
from provisioner import ticket_json


async def list_tickets(request: web.Request) -> web.Response:
    filters = queue_filters(request.query)
    if "assignee" in request.query:  # a username; empty: the tickets nobody has taken
        filters["assignee"] = request.query["assignee"][:64]
    rows = await in_thread(request, queue_rows, filters, now())
    return web.json_response([ticket_json.row_to_json(row) for row in rows])


async def show_ticket(request: web.Request) -> web.Response:
    stored = await in_thread(request, load_ticket, ticket_id_of(request), now())
    return web.json_response(ticket_json.to_json(stored))


async def _json_body(request: web.Request) -> dict[str, Any]:
    body = await request.json()  # not JSON: json.JSONDecodeError, answered 400
    if not isinstance(body, dict):
        raise MalformedInput("Envíe un objeto JSON ({...}).")
    return body


async def create(request: web.Request) -> web.Response:
    body = await _json_body(request)
    fields = {key: str(value) for key, value in body.items() if value is not None}
    ticket_id = await in_thread(request, create_ticket, fields, actor_of(request[USER]), now())
    request.app[LIVE].poke()
    stored = await in_thread(request, load_ticket, ticket_id, now())
    return web.json_response(ticket_json.to_json(stored), status=201)


async def act(request: web.Request) -> web.Response:
    ticket_id = ticket_id_of(request)
    body = await _json_body(request)
    if body.get("action") == "log_work":
        ended = now()
        minutes = work_minutes(body.get("minutes", 0))
        await in_thread(request, log_work, ticket_id, request[USER].username, ended - timedelta(minutes=minutes), ended, str(body.get("note", "")))
    elif body.get("action") == "take":
        await in_thread(request, take, ticket_id, request[USER].username, now())
    else:
        action, note = action_from_form({key: str(value) for key, value in body.items()})
        if action is None:
            raise InputError("action is one of respond, note, escalate, resolve, reopen, reclassify, log_work, take")
        await in_thread(request, act_on, ticket_id, action, actor_of(request[USER]), now(), note)
    request.app[LIVE].poke()
    stored = await in_thread(request, load_ticket, ticket_id, now())
    return web.json_response(ticket_json.to_json(stored))


async def list_devices(request: web.Request) -> web.Response:
    query = request.query
    page = await in_thread(request, device_page, query.get("tenant"), query.get("cursor") or None,
                           query.get("q") or None, query.get("which") or None, query.get("compliance") or None)
    return web.json_response({"devices": [row.as_json() for row in page.rows], "next_cursor": page.next_cursor})


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


def setup_api(app: web.Application) -> None:
    register(app, ROUTES)


_TICKET = {
    "type": "object",
    "required": ["id", "type", "status", "urgency", "impact", "priority", "subject", "channel", "created_at",
                 "first_response_due", "sla_state", "devices", "finding"],
    "properties": {
        "id": {"type": "integer"},
        "type": {"type": "string", "enum": ["incident", "requirement", "problem"]},
        "status": {"type": "string", "enum": ["new", "in_progress", "escalated", "resolved", "closed"]},
        "urgency": {"type": "string", "enum": ["high", "medium", "low"]},
        "impact": {"type": "string", "enum": ["organization", "department", "individual"]},
        "priority": {"type": "string", "enum": ["urgent", "high", "normal", "low"]},
        "subject": {"type": "string"},
        "channel": {"type": "string", "enum": ["portal", "email", "phone", "whatsapp", "device"]},
        "created_at": {"type": "string", "format": "date-time"},
        "first_response_due": {"type": ["string", "null"], "format": "date-time"},
        "sla_state": {"type": ["string", "null"], "enum": ["on_time", "at_risk", "breached", None]},
        "devices": {"type": "array", "items": {"type": "string"}},
        "finding": {"type": ["string", "null"]},
        "account": {"type": "string"},
    },
}
_ERROR = {
    "type": "object", "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "stable code, e.g. not_found, bad_json, invalid_classification, refused"},
        "message": {"type": "string", "description": "what went wrong, in Spanish, for people"},
        "detail": {"type": "string", "description": "the error's own text, when it tells more"},
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*statuses: str) -> dict[str, Any]:
    """Error answers of an operation (every one may also answer 401 without a valid token)."""
    return {status: _json({"$ref": "#/components/schemas/Error"}) for status in ("401", *statuses)}


_FILTERS = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
    for name in ("account", "type", "priority", "status", "sla_state")
]

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Provisioning and support API", "version": "1"},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Ticket": _TICKET, "Error": _ERROR},
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/tickets": {
            "get": {
                "summary": "The queue, sorted by first-response due time (default: open tickets; status=all for every one)",
                "parameters": _FILTERS,
                "responses": {"200": _json({"type": "array", "items": {"$ref": "#/components/schemas/Ticket"}}),
                              **_errors("422")},
            },
            "post": {
                "summary": "Open a ticket",
                "requestBody": _json({
                    "type": "object",
                    "required": ["subject", "detail", "requester_name", "requester_contact"],
                    "properties": {k: {"type": "string"} for k in (
                        "type", "urgency", "impact", "channel", "account", "subject", "detail",
                        "requester_name", "requester_contact")},
                }),
                "responses": {"201": _json({"$ref": "#/components/schemas/Ticket"}), **_errors("400", "422")},
            },
        },
        "/api/v1/tickets/{id}": {
            "get": {
                "summary": "A ticket with its timeline, affected devices and work logs",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": _json({"$ref": "#/components/schemas/Ticket"}), **_errors("404")},
            }
        },
        "/api/v1/tickets/{id}/actions": {
            "post": {
                "summary": "Act on a ticket: respond, note, escalate, resolve, reopen, reclassify, log_work, take",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "requestBody": _json({
                    "type": "object", "required": ["action"],
                    "properties": {
                        "action": {"type": "string", "enum": ["respond", "note", "escalate", "resolve", "reopen", "reclassify", "log_work", "take"]},
                        "note": {"type": "string"}, "urgency": {"type": "string"}, "impact": {"type": "string"},
                        "minutes": {"type": "integer"},
                    },
                }),
                "responses": {"200": _json({"$ref": "#/components/schemas/Ticket"}), **_errors("400", "404", "409", "422")},
            }
        },
        "/api/v1/devices": {
            "get": {
                "summary": "Assigned devices and phones waiting for an extension, with compliance; 100 a page, "
                           "assigned ones by MAC first. Ask again with cursor=<next_cursor> until next_cursor is null.",
                "parameters": [
                    {"name": "tenant", "in": "query", "required": False, "schema": {"type": "string"}},
                    {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
                     "description": "next_cursor of the previous page; absent for the first page"},
                ],
                "responses": {"200": _json({
                    "type": "object", "required": ["devices", "next_cursor"],
                    "properties": {
                        "devices": {"type": "array", "maxItems": 100, "items": {"type": "object"}},
                        "next_cursor": {"type": ["string", "null"], "description": "where the next page starts; null on the last page"},
                    },
                }), **_errors("422")},
            }
        },
    },
}
