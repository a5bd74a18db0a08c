"""The API contract: the OpenAPI 3.1 document served at /api/v1/openapi.json (pure data).

Every /api/v1 route is here with each status it can answer (tests/test_openapi.py checks
the document with openapi-spec-validator, compares its paths with the app's router, and
runs schemathesis against a real server: no 5xx, no status the document does not name).
Enums come from support_link's own tables, so a new ticket type or status shows up here
by itself. Errors share one shape (provisioner.web.errors): {"error", "message", "detail"?}.
"""

from __future__ import annotations

import re
from typing import Any

from provisioner.ticket_queue import MAX_TICKET_ID
from provisioner.web.limits import MAX_BODY
from support_link.lifecycle import Channel, Status
from support_link.priority import Impact, Priority, Urgency
from support_link.sla import SlaState, TicketType

TYPES = [str(item) for item in TicketType]
URGENCIES = [str(item) for item in Urgency]
IMPACTS = [str(item) for item in Impact]
PRIORITIES = [str(item) for item in Priority]
STATUSES = [str(item) for item in Status]
CHANNELS = [str(item) for item in Channel]
SLA_STATES = [str(item) for item in SlaState]
WHICH = ["assigned", "waiting"]  # provisioner.admin.WHICH (admin reads the database: not imported here)
COMPLIANCE = ["ok", "findings", "unseen"]  # provisioner.admin.COMPLIANCE
ACTIONS = ["respond", "note", "escalate", "resolve", "reopen", "reclassify", "log_work", "take", "propose_date", "accept_date"]
# provisioner.admin's page cursor; a tenant id of at most 9 digits fits PostgreSQL's INTEGER
# (18 digits were a 500 on PostgreSQL, found by schemathesis)
DEVICE_CURSOR = re.compile(r"a\.[0-9a-f]{12}|w\.[0-9a-f]{12}\.[0-9]{1,9}")
ANY_TEXT = r"^[^\u0000]*$"  # no NUL character (PostgreSQL text cannot store one)
SOME_TEXT = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"  # and not only blanks
SHORT_TEXT, LONG_TEXT = 200, 20_000  # provisioner.web.tickets.check_lengths

_ERROR_TEXT = {
    "400": "Malformed request: the body is not JSON (or not a JSON object), or a form could not be read",
    "401": "No valid API token: send `Authorization: Bearer <token>` (`provisioner user add` prints one)",
    "403": "The token's user may not use this part of the API (role)",
    "404": "Not found: no such ticket, or no customer (tenant) with that slug",
    "409": "The ticket's current state refuses the action (e.g. reopening a new ticket), or a resolution date "
           "that today's calendar refuses (not after today in Bogota, or more than a year ahead)",
    "413": f"The body is larger than {MAX_BODY // (1024 * 1024)} MB",
    "422": "A value is refused (unknown enum value, missing or too long field, bad cursor); `message` says which",
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*statuses: str) -> dict[str, Any]:
    return {status: _json(_ref("Error"), _ERROR_TEXT[status]) for status in statuses}


def _enum(values: list[str], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "enum": values}
    if description:
        schema["description"] = description
    return schema


def _nullable_time() -> dict[str, Any]:
    return {"type": ["string", "null"], "format": "date-time"}


_TICKET_FIELDS: dict[str, Any] = {
    "id": {"type": "integer", "minimum": 1},
    "type": _enum(TYPES),
    "status": _enum(STATUSES),
    "urgency": _enum(URGENCIES),
    "impact": _enum(IMPACTS),
    "priority": _enum(PRIORITIES, "from urgency x impact (the operator's matrix)"),
    "subject": {"type": "string"},
    "channel": _enum(CHANNELS),
    "created_at": {"type": "string", "format": "date-time"},
    "first_response_due": _nullable_time(),
    "first_response_at": _nullable_time(),
    "resolved_at": _nullable_time(),
    "closed_at": _nullable_time(),
    "sla_state": {"type": ["string", "null"], "enum": [*SLA_STATES, None]},
    "finding": {"type": ["string", "null"], "description": "the device finding kind behind an automatic incident"},
    "account": {"type": "string", "description": "the customer (tenant slug); '-' when none"},
    "detail": {"type": "string"},
    "requester_name": {"type": "string"},
    "requester_contact": {"type": "string"},
    "tier": {"type": "integer"},
    "escalated": {"type": "boolean"},
    "dedup_key": {"type": ["string", "null"]},
    "problem_id": {"type": ["integer", "null"]},
    "linked_incidents": {"type": "array", "items": {"type": "integer"}},
    "devices": {"type": "array", "items": {"type": "string"}, "description": "MACs of the affected phones"},
    "assignee": {"type": ["string", "null"], "description": "the agent (username) who took the ticket; null: nobody"},
    "requester_email": {"type": ["string", "null"], "description": "where replies and the survey go (portal and mail tickets)"},
    "proposed_resolution_on": {"type": ["string", "null"], "format": "date",
                               "description": "requirements: a resolution date waiting for the other side's acceptance"},
    "proposed_by": {"type": ["string", "null"], "enum": ["agent", "requester", None]},
    "agreed_resolution_on": {"type": ["string", "null"], "format": "date", "description": "requirements: the agreed resolution date"},
    "resolution_date_state": {"type": ["string", "null"], "enum": ["met", "missed", "pending", None],
                              "description": "the agreed date: met, missed, pending (Bogota days); null: none agreed"},
}
_QUEUE_ROW = {
    "type": "object",
    "required": ["id", "type", "status", "urgency", "impact", "priority", "subject", "channel", "created_at",
                 "first_response_due", "sla_state", "devices", "finding", "account"],
    "properties": _TICKET_FIELDS,
}
_TICKET = {
    "type": "object",
    "required": [*_QUEUE_ROW["required"], "events", "affected_devices", "work_logs"],
    "properties": {
        **_TICKET_FIELDS,
        "affected_devices": {"type": "array", "items": {"type": "object", "properties": {
            "device": {"type": "string"}, "department": {"type": ["string", "null"]},
            "evidence": {"type": ["string", "null"]}, "joined_at": _nullable_time(), "recovered_at": _nullable_time(),
        }}},
        "events": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "actor": {"type": "string"},
            "actor_kind": {"type": "string"}, "actor_name": {"type": "string"}, "kind": {"type": "string"},
            "before": {}, "after": {}, "note": {"type": ["string", "null"]},
        }}},
        "work_logs": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "agent": {"type": "string"}, "started_at": {"type": "string", "format": "date-time"},
            "ended_at": {"type": "string", "format": "date-time"}, "note": {"type": ["string", "null"]},
        }}},
    },
}
_SURVEY_SUMMARY = {
    "type": "object",
    "required": ["sent", "answered", "response_rate", "average_rating", "ratings", "not_solved", "not_solved_share"],
    "properties": {
        "sent": {"type": "integer", "minimum": 0}, "answered": {"type": "integer", "minimum": 0},
        "response_rate": {"type": ["number", "null"], "description": "% of sent surveys answered"},
        "average_rating": {"type": ["number", "null"], "description": "1-5, one decimal"},
        "ratings": {"type": "object", "description": "\"1\"..\"5\" -> answers with that rating",
                    "additionalProperties": {"type": "integer", "minimum": 0}},
        "not_solved": {"type": "integer", "minimum": 0},
        "not_solved_share": {"type": ["number", "null"], "description": "% of answers saying 'no quedó resuelto'"},
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
NEW_TICKET = {
    "type": "object",
    "required": ["subject", "detail", "requester_name", "requester_contact"],
    "additionalProperties": False,
    "properties": {
        "type": _enum(TYPES, "default incident"),
        "urgency": _enum(URGENCIES, "default medium"),
        "impact": _enum(IMPACTS, "default individual"),
        "channel": _enum(CHANNELS, "default portal"),
        "account": {"type": "string", "maxLength": SHORT_TEXT, "pattern": ANY_TEXT, "description": "the customer's tenant slug"},
        "subject": {"type": "string", "minLength": 1, "maxLength": SHORT_TEXT, "pattern": SOME_TEXT},
        "detail": {"type": "string", "minLength": 1, "maxLength": LONG_TEXT, "pattern": SOME_TEXT},
        "requester_name": {"type": "string", "minLength": 1, "maxLength": SHORT_TEXT, "pattern": SOME_TEXT},
        "requester_contact": {"type": "string", "minLength": 1, "maxLength": SHORT_TEXT, "pattern": SOME_TEXT},
    },
}
ACTION = {
    "type": "object", "required": ["action"], "additionalProperties": False,
    "properties": {
        "action": _enum(ACTIONS),
        "note": {"type": "string", "maxLength": LONG_TEXT, "pattern": ANY_TEXT},
        "urgency": _enum(URGENCIES, "reclassify: the new urgency"),
        "impact": _enum(IMPACTS, "reclassify: the new impact"),
        "minutes": {"type": "integer", "minimum": 1, "maximum": 1440, "description": "log_work: minutes worked"},
        "on": {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
               "description": "propose_date (requirements): the resolution date, after today in Bogota, within a year"},
    },
    "allOf": [
        {"if": {"properties": {"action": {"const": "reclassify"}}}, "then": {"required": ["urgency", "impact"]}},
        {"if": {"properties": {"action": {"const": "log_work"}}}, "then": {"required": ["minutes"]}},
        {"if": {"properties": {"action": {"const": "propose_date"}}}, "then": {"required": ["on"]}},
    ],
}
_IMPORT_RESULT = {
    "type": "object", "required": ["ok"],
    "properties": {
        "ok": {"type": "boolean"}, "tenant": {"type": "string"}, "file": {"type": "string"},
        "dry_run": {"type": "boolean"}, "replace": {"type": "boolean"}, "applied": {"type": "boolean"},
        "summary": {"type": "object"}, "problems": {"type": "array", "items": {"type": "object"}},
        "warnings": {"type": "array", "items": {"type": "object"}}, "changes": {},
        "format": {}, "file_sha256": {"type": "string"},
    },
}
_DEVICE = {
    "type": "object",
    "properties": {
        "mac": {"type": "string"}, "tenant": {"type": "string"}, "vendor": {"type": ["string", "null"]},
        "model": {"type": ["string", "null"]}, "firmware": {"type": ["string", "null"]},
        "assigned": {"type": "boolean"}, "compliant": {"type": "boolean"},
        "findings": {"type": "array", "items": {"type": "string"}},
        "open_tickets": {"type": "array", "items": {"type": "integer"}},
        "lines": {"type": "integer"}, "softphone": {"type": "boolean"},
        "status": {"type": "string", "description": "what a person reads: ok, the findings, no reportado, never seen"},
        "extensions": {"type": "array", "items": {
            "type": "object", "properties": {"number": {"type": "string"}, "name": {"type": "string"}}}},
        "registered": {"type": ["boolean", "null"],
                       "description": "registered on the PBX now; null when no registrar is connected (or not assigned)"},
    },
}
_TICKET_ID = {"name": "id", "in": "path", "required": True,
              "schema": {"type": "integer", "minimum": 1, "maximum": MAX_TICKET_ID}}
FILTERS = [
    {"name": "account", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "only this customer (tenant slug); an unknown one is 404"},
    {"name": "type", "in": "query", "required": False, "schema": _enum(TYPES)},
    {"name": "priority", "in": "query", "required": False, "schema": _enum(PRIORITIES)},
    {"name": "status", "in": "query", "required": False, "schema": _enum([*STATUSES, "all"]),
     "description": "default: the open ones (new, in_progress, escalated); all: every ticket"},
    {"name": "sla_state", "in": "query", "required": False, "schema": _enum(SLA_STATES)},
    {"name": "assignee", "in": "query", "required": False, "schema": {"type": "string", "pattern": ANY_TEXT},
     "description": "only the tickets this agent (username) took; empty: the tickets nobody has taken"},
]

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Provisioning and support API", "version": "1",
        "description": "Tickets of the support desk, the phones (devices) and extension imports. "
                       "Authenticate with `Authorization: Bearer <token>` (printed once by `provisioner user add`). "
                       "Errors are JSON: {error, message (Spanish), detail?}.",
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Ticket": _TICKET, "QueueRow": _QUEUE_ROW, "Error": _ERROR, "NewTicket": NEW_TICKET,
                    "Action": ACTION, "ImportResult": _IMPORT_RESULT, "Device": _DEVICE,
                    "SurveySummary": _SURVEY_SUMMARY},
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/openapi.json": {
            "get": {
                "summary": "This document", "security": [],
                "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 document")},
            },
        },
        "/api/v1/tickets": {
            "get": {
                "summary": "The queue, sorted by first-response due time (agents, specialists, admins)",
                "parameters": FILTERS,
                "responses": {"200": _json({"type": "array", "items": _ref("QueueRow")}, "The tickets asked for"),
                              **_errors("401", "403", "404", "422")},
            },
            "post": {
                "summary": "Open a ticket (priority and first-response due time are computed)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewTicket")}}},
                "responses": {"201": _json(_ref("Ticket"), "The new ticket"),
                              **_errors("400", "401", "403", "404", "413", "422")},
            },
        },
        "/api/v1/tickets/{id}": {
            "get": {
                "summary": "A ticket with its timeline, affected devices and work logs",
                "parameters": [_TICKET_ID],
                "responses": {"200": _json(_ref("Ticket"), "The ticket"), **_errors("401", "403", "404")},
            },
        },
        "/api/v1/tickets/{id}/actions": {
            "post": {
                "summary": "Act on a ticket: respond, note, escalate, resolve, reopen, reclassify, log_work, take; "
                           "requirements: propose_date (with `on`) and accept_date (the requester's counter-proposal)",
                "parameters": [_TICKET_ID],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Action")}}},
                "responses": {"200": _json(_ref("Ticket"), "The ticket after the action"),
                              **_errors("400", "401", "403", "404", "409", "413", "422")},
            },
        },
        "/api/v1/devices": {
            "get": {
                "summary": "Assigned devices and phones waiting for an extension, with compliance; 100 a page, "
                           "assigned ones by MAC first. Ask again with cursor=<next_cursor> until next_cursor is null.",
                "parameters": [
                    {"name": "tenant", "in": "query", "required": False, "schema": {"type": "string"},
                     "description": "only this customer (tenant slug); an unknown one is 404"},
                    {"name": "cursor", "in": "query", "required": False,
                     "schema": {"type": "string", "pattern": f"^({DEVICE_CURSOR.pattern})$"},
                     "description": "next_cursor of the previous page; absent for the first page"},
                    {"name": "q", "in": "query", "required": False, "schema": {"type": "string", "pattern": ANY_TEXT},
                     "description": "search: a MAC (any part, any separators), an extension number or user name, or a model"},
                    {"name": "which", "in": "query", "required": False, "schema": _enum(WHICH),
                     "description": "only assigned devices, or only phones waiting for an extension"},
                    {"name": "compliance", "in": "query", "required": False, "schema": _enum(COMPLIANCE),
                     "description": "ok (conforme), findings (con hallazgos) or unseen (sin contacto)"},
                ],
                "responses": {"200": _json({
                    "type": "object", "required": ["devices", "next_cursor"],
                    "properties": {
                        "devices": {"type": "array", "maxItems": 100, "items": _ref("Device")},
                        "next_cursor": {"type": ["string", "null"], "description": "where the next page starts; null on the last page"},
                    },
                }, "One page of devices"), **_errors("401", "404", "422")},
            },
        },
        "/api/v1/reports/dashboard": {
            "get": {
                "summary": "The dashboard's figures (agents, specialists, admins): open tickets by priority and SLA "
                           "state, first-response compliance per month and per customer, incidents by finding kind, "
                           "phones per model and compliance, boots per hour (the same as `provisioner reports dashboard --json`)",
                "responses": {"200": _json({
                    "type": "object",
                    "required": ["at", "open_tickets", "open_by_priority", "first_response_by_month",
                                 "first_response_by_customer", "incidents_by_finding", "phones_by_model", "boots_per_hour"],
                    "properties": {
                        "at": {"type": "string", "format": "date-time"},
                        "open_tickets": {"type": "integer", "minimum": 0},
                        **{name: {"type": "object"} for name in (
                            "open_by_priority", "first_response_by_month", "first_response_by_customer",
                            "incidents_by_finding", "phones_by_model", "boots_per_hour")},
                    },
                }, "The figures"), **_errors("401", "403")},
            },
        },
        "/api/v1/reports/survey": {
            "get": {
                "summary": "The satisfaction survey's results (agents, specialists, admins): surveys sent and answered, "
                           "response rate, average rating, ratings 1-5 and 'no quedó resuelto', in all and per customer, "
                           "agent and month of the resolution (the same as `provisioner reports survey --json`)",
                "parameters": [{"name": "month", "in": "query", "required": False,
                                "schema": {"type": "string", "pattern": r"^2[0-9]{3}-(0[1-9]|1[0-2])$"},
                                "description": "only resolutions of this month, Bogota (YYYY-MM)"}],
                "responses": {"200": _json({
                    "type": "object", "required": ["at", "month", "total", "by_customer", "by_agent", "by_month"],
                    "properties": {
                        "at": {"type": "string", "format": "date-time"},
                        "month": {"type": ["string", "null"]},
                        "total": _ref("SurveySummary"),
                        **{name: {"type": "object", "additionalProperties": _ref("SurveySummary")}
                           for name in ("by_customer", "by_agent", "by_month")},
                    },
                }, "The figures"), **_errors("401", "403", "422")},
            },
        },
        "/api/v1/imports": {
            "post": {
                "summary": "Check (dry_run=1, the default) or apply an extension list (CSV or XLSX) for a customer "
                           "(installers, admins). All or nothing: every bad row is reported with its row, column and reason.",
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file", "tenant"],
                    "properties": {
                        "file": {"type": "string", "contentMediaType": "application/octet-stream",
                                 "description": "the CSV or XLSX file (English or Spanish headers)"},
                        "tenant": {"type": "string", "description": "the customer's tenant slug"},
                        "dry_run": {"type": "string", "enum": ["1", "0"], "description": "1 (default): check only, write nothing"},
                        "replace": {"type": "string", "enum": ["1", "0"], "description": "1: extensions missing from the file are removed"},
                    },
                }}}},
                "responses": {
                    "200": _json(_ref("ImportResult"), "The list is fine: checked (dry run) or applied"),
                    "422": _json({"oneOf": [_ref("ImportResult"), _ref("Error")]},
                                 "Refused: the report with every problem (ok=false), or an unreadable file / missing field"),
                    **_errors("400", "401", "403", "404", "409", "413"),
                },
            },
        },
    },
}
