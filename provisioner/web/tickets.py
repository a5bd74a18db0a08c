"""Agents' pages: the queue (live), a ticket with its timeline and actions, a new ticket.

Thin: parse the form, call support_link's store in a worker thread, render. The
rules (priority, SLA, transitions) all live in support_link.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from support_link import SupportLinkError, lifecycle
from support_link.lifecycle import Actor, ActorKind
from support_link.errors import TicketNotFoundError
from support_link.store import tickets, work_logs
from support_link.store.values import StoredTicket, TicketRow
from provisioner.web import labels
from provisioner.web.app import USER, in_thread, now, protected, render
from provisioner.web.live import LIVE, LiveQueue, queue_events
from provisioner.web.sessions import CurrentUser

OPEN_STATUSES = ("new", "in_progress", "escalated")
FILTERS = ("account", "type", "priority", "status", "sla_state")


def queue_filters(query: Any) -> dict[str, Any]:
    """Filters from the query string; the default queue is every open ticket."""
    chosen: dict[str, Any] = {name: query.get(name) or None for name in FILTERS}
    if chosen["status"] is None:
        chosen["status"] = OPEN_STATUSES
    elif chosen["status"] == "all":
        chosen["status"] = None
    return chosen


def queue_rows(sessions: sessionmaker[Session], filters: dict[str, Any], moment: datetime) -> list[TicketRow]:
    with sessions() as session:
        return tickets.list_tickets(session, moment, **filters)


async def queue_page(request: web.Request) -> web.Response:
    filters = queue_filters(request.query)
    try:
        rows = await in_thread(request, queue_rows, filters, now())
        error = None
    except SupportLinkError as exc:
        rows, error = [], str(exc)
    template = "ticket_rows.html" if request.query.get("fragment") else "tickets.html"
    return render(request, template, rows=rows, labels=labels, query=dict(request.query), error=error)


def load_ticket(sessions: sessionmaker[Session], ticket_id: int, moment: datetime) -> StoredTicket:
    with sessions() as session:
        return tickets.get(session, ticket_id, moment)


async def ticket_page(request: web.Request) -> web.Response:
    ticket_id = _ticket_id(request)
    try:
        stored = await in_thread(request, load_ticket, ticket_id, now())
    except TicketNotFoundError:
        raise web.HTTPNotFound() from None
    return render(request, "ticket.html", stored=stored, labels=labels, message=request.query.get("msg"), **page_parts(stored))


DEVICE_EVENTS = ("device_joined", "device_recovered")
SHOWN_DEVICES = 500
SHOWN_DEVICE_EVENTS = 30


def page_parts(stored: StoredTicket) -> dict[str, Any]:
    """Keep a storm's ticket readable: the first devices and device events, with counts of the rest."""
    device_events = [e for e in stored.events if e.kind in DEVICE_EVENTS]
    hidden = device_events[SHOWN_DEVICE_EVENTS:]
    hidden_ids = {e.id for e in hidden}
    return {
        "timeline": [e for e in stored.events if e.id not in hidden_ids],
        "hidden_device_events": len(hidden),
        "devices_shown": stored.devices[:SHOWN_DEVICES],
        "devices_hidden": max(0, len(stored.devices) - SHOWN_DEVICES),
        "devices_recovered": sum(1 for d in stored.devices if not d.active),
    }


def actor_of(user: CurrentUser) -> Actor:
    return Actor(ActorKind.AGENT, user.username)


def action_from_form(form: Any) -> tuple[lifecycle.Action | None, str | None]:
    """The lifecycle action a form asks for, and its note text (pure)."""
    name = str(form.get("action", ""))
    note = str(form.get("note", "")).strip() or None
    actions: dict[str, Any] = {
        "respond": lambda: lifecycle.Respond(public=True),
        "note": lambda: lifecycle.Respond(public=False),
        "escalate": lifecycle.Escalate,
        "resolve": lifecycle.Resolve,
        "reopen": lifecycle.Reopen,
        "reclassify": lambda: lifecycle.ChangeClassification(str(form.get("urgency", "")), str(form.get("impact", ""))),
    }
    factory = actions.get(name)
    return (factory() if factory else None), note


def act_on(sessions: sessionmaker[Session], ticket_id: int, action: lifecycle.Action, actor: Actor, moment: datetime, note: str | None) -> None:
    with sessions.begin() as session:
        tickets.act(session, ticket_id, action, actor, moment, note)


def log_work(sessions: sessionmaker[Session], ticket_id: int, agent: str, started: datetime, ended: datetime, note: str) -> None:
    with sessions.begin() as session:
        work_logs.log_work(session, ticket_id, agent, started, ended, note)


async def ticket_action(request: web.Request) -> web.StreamResponse:
    ticket_id = _ticket_id(request)
    form = await request.post()
    user: CurrentUser = request[USER]
    try:
        if form.get("action") == "log_work":
            minutes = int(str(form.get("minutes", "0")))
            if not 1 <= minutes <= 24 * 60:
                raise ValueError("los minutos deben estar entre 1 y 1440")
            ended = now()
            await in_thread(request, log_work, ticket_id, user.username, ended - timedelta(minutes=minutes), ended, str(form.get("note", "")))
        else:
            action, note = action_from_form(form)
            if action is None:
                raise ValueError("acción desconocida")
            await in_thread(request, act_on, ticket_id, action, actor_of(user), now(), note)
    except TicketNotFoundError:
        raise web.HTTPNotFound() from None
    except (SupportLinkError, ValueError) as exc:
        stored = await in_thread(request, load_ticket, ticket_id, now())
        return render(request, "ticket.html", status=409, stored=stored, labels=labels, message=None, error=str(exc),
                      **page_parts(stored))
    request.app[LIVE].poke()
    raise web.HTTPSeeOther(f"/tickets/{ticket_id}")


def create_ticket(sessions: sessionmaker[Session], fields: dict[str, str], actor: Actor, moment: datetime) -> int:
    ticket, event = lifecycle.new_ticket(
        ticket_type=fields.get("type", "incident"), urgency=fields.get("urgency", "medium"),
        impact=fields.get("impact", "individual"), subject=fields.get("subject"), detail=fields.get("detail"),
        requester_name=fields.get("requester_name"), requester_contact=fields.get("requester_contact"),
        channel=fields.get("channel", "portal"), created_at=moment, actor=actor,
    )
    with sessions.begin() as session:
        return tickets.create(session, ticket, event, fields.get("account", "").strip() or "-")


async def new_ticket_page(request: web.Request) -> web.Response:
    return render(request, "ticket_new.html", labels=labels, values={}, error=None)


async def new_ticket_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    values = {key: str(form.get(key, "")) for key in (
        "type", "urgency", "impact", "subject", "detail", "requester_name", "requester_contact", "channel", "account")}
    try:
        ticket_id = await in_thread(request, create_ticket, values, actor_of(request[USER]), now())
    except SupportLinkError as exc:
        return render(request, "ticket_new.html", status=422, labels=labels, values=values, error=str(exc))
    request.app[LIVE].poke()
    raise web.HTTPSeeOther(f"/tickets/{ticket_id}")


def _ticket_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None


def setup_tickets(app: web.Application, sessions: sessionmaker[Session]) -> None:
    app[LIVE] = LiveQueue(sessions)
    app.cleanup_ctx.append(app[LIVE].context)
    app.router.add_get("/tickets", protected(queue_page))
    app.router.add_get("/tickets/events", protected(queue_events))
    app.router.add_get("/tickets/new", protected(new_ticket_page))
    app.router.add_post("/tickets/new", protected(new_ticket_submit))
    app.router.add_get("/tickets/{id}", protected(ticket_page))
    app.router.add_post("/tickets/{id}/act", protected(ticket_action))
