"""Agents' pages: the queue (live), a ticket with its timeline and actions, a new ticket, and a
ticket's attachments (downloaded, never shown inline).

Thin: parse the form, call support_link's store in a worker thread, render. The
rules (priority, SLA, transitions) all live in support_link.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from urllib.parse import quote
import re
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from support_link import desk, lifecycle, words
from support_link.calendar import as_bogota
from support_link.errors import TicketError
from support_link.lifecycle import Actor, ActorKind
from support_link.store import attachments, surveys, tickets, work_logs
from support_link.store.values import StoredAttachment, StoredSurvey, StoredTicket, TicketRow
from provisioner.db.models import AppUser, Tenant
from provisioner.errors import ConflictError, InputError, NotFoundError
from provisioner.ticket_queue import MAX_TICKET_ID, queue_filters
from provisioner.web.access import TICKETS
from provisioner.web.app import Route, in_thread, now, read_form, register
from provisioner.web.limits import too_long, unstorable
from provisioner.web.pages import USER, render
from provisioner.web.errors import show_on_error
from provisioner.web.live import LIVE, LiveQueue, queue_events
from provisioner.web.sessions import CurrentUser


def queue_rows(sessions: sessionmaker[Session], filters: dict[str, Any], moment: datetime) -> list[TicketRow]:
    with sessions() as session:
        return tickets.list_tickets(session, moment, **filters)


def customer_names(sessions: sessionmaker[Session]) -> dict[str, str]:
    """Tenant slug -> the customer's name (support_link stores the slug as the ticket's account)."""
    with sessions() as session:
        return dict(session.execute(select(Tenant.slug, Tenant.name).order_by(Tenant.name)).all())


def people_names(sessions: sessionmaker[Session]) -> dict[str, str]:
    """Username -> the person's display name (the timeline stores usernames)."""
    with sessions() as session:
        return {user: name or user for user, name in session.execute(select(AppUser.username, AppUser.display_name))}


VIEWS = ("mine", "unassigned")  # the queue's "Mis casos" and "Sin asignar"


def desk_filters(query: Mapping[str, str], user: CurrentUser) -> dict[str, Any]:
    """The queue's filters plus the view (mine: taken by `user`; unassigned: taken by nobody)."""
    filters = queue_filters(query)
    view = query.get("view", "")
    if view == "mine":
        filters["assignee"] = user.username
    elif view == "unassigned":
        filters["assignee"] = tickets.NOBODY
    return filters


async def queue_page(request: web.Request) -> web.Response:
    template = "ticket_rows.html" if request.query.get("fragment") else "tickets.html"
    customers = await in_thread(request, customer_names)
    people = await in_thread(request, people_names)
    moment = now()
    common = {"query": dict(request.query), "customers": customers, "people": people, "moment": moment,
              "clock": desk.clock, "shown_text": shown_text}
    show_on_error(request, template, rows=[], **common)  # e.g. an unknown filter value
    rows = await in_thread(request, queue_rows, desk_filters(request.query, request[USER]), moment)
    return render(request, template, rows=rows, error=None, **common)


def load_ticket(sessions: sessionmaker[Session], ticket_id: int, moment: datetime) -> StoredTicket:
    with sessions() as session:
        return tickets.get(session, ticket_id, moment)


def load_extras(sessions: sessionmaker[Session], ticket_id: int) -> tuple[list[StoredAttachment], StoredSurvey | None]:
    """The ticket's attachments (without their bytes) and its latest survey, if one was sent."""
    with sessions() as session:
        return attachments.listed(session, ticket_id), surveys.latest(session, ticket_id)


async def ticket_context(request: web.Request, ticket_id: int) -> dict[str, Any]:
    """Everything ticket.html shows, computed now (names, the SLA clock, the offered actions)."""
    moment = now()
    stored = await in_thread(request, load_ticket, ticket_id, moment)
    files, survey = await in_thread(request, load_extras, ticket_id)
    customers = await in_thread(request, customer_names)
    people = await in_thread(request, people_names)
    user: CurrentUser = request[USER]
    return {
        "stored": stored, "message": None, "error": None, "customers": customers, "people": people,
        "customer": customers.get(stored.account, stored.account),
        "sla": desk.clock(stored.ticket, stored.sla_state, moment),
        "offered": desk.actions(stored.ticket, stored.assignee, user.username),
        "changes": desk.describe_changes, "shown_text": shown_text,
        "agreed_date": desk.agreed_date_text(stored.ticket, moment), "proposal": desk.proposal_text(stored.ticket),
        "first_date": first_proposable(moment).isoformat(), "attachments": files, "survey": survey,
        **page_parts(stored),
    }


def first_proposable(moment: datetime) -> date:
    """The earliest resolution date an agent may propose (the date input's min): tomorrow in Bogota."""
    return as_bogota(moment, "now").date() + timedelta(days=1)


async def ticket_page(request: web.Request) -> web.Response:
    context = await ticket_context(request, ticket_id_of(request))
    context["message"] = words.DONE.get(request.query.get("hecho", ""))  # only our own messages, by code
    return render(request, "ticket.html", **context)


DEVICE_EVENTS = ("device_joined", "device_recovered")
SHOWN_DEVICES = 500
SHOWN_DEVICE_EVENTS = 30
_DEVICE_COUNT = re.compile(r"^Equipos afectados: \d+", re.MULTILINE)


def shown_text(text: str, account: str, customers: Mapping[str, str], devices: int | None = None) -> str:
    """A generated subject or detail as shown now (pure): the customer's name for its slug, and
    the live device count for the one frozen when the ticket opened."""
    name = customers.get(account)
    if name and account and account != "-":
        text = re.sub(rf"(?<![\w-]){re.escape(account)}(?![\w-])", name, text)
    if devices is not None:
        text = _DEVICE_COUNT.sub(f"Equipos afectados: {devices}", text)
    return text


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


def proposed_date(text: object, moment: datetime) -> date:
    """The resolution date a form or the API proposes ("2026-12-10"), refused in Spanish when it
    cannot be read (InputError), is not after today in Bogota or is more than a year ahead (ConflictError)."""
    value = str(text).strip()
    try:
        on = date.fromisoformat(value) if len(value) == 10 and value.isascii() else None
    except ValueError:
        on = None
    if on is None:
        raise InputError(words.DATE_UNREADABLE)
    problem = desk.resolution_date_problem(on, moment)
    if problem is not None:  # a well-formed date that today's calendar refuses: 409, as the lifecycle's refusals
        raise ConflictError(problem)
    return on


def action_from_form(form: Any, moment: datetime) -> tuple[lifecycle.Action | None, str | None]:
    """The lifecycle action a form asks for, and its note text (pure: `moment` judges a date)."""
    name = str(form.get("action", ""))
    note = str(form.get("note", "")).strip() or None
    check_lengths({"note": note})
    actions: dict[str, Any] = {
        "propose_date": lambda: lifecycle.ProposeResolutionDate(proposed_date(form.get("on", ""), moment)),
        "accept_date": lifecycle.AcceptResolutionDate,
        "respond": lambda: lifecycle.Respond(public=True),
        "note": lambda: lifecycle.Respond(public=False),
        "escalate": lifecycle.Escalate,
        "resolve": lifecycle.Resolve,
        "reopen": lifecycle.Reopen,
        "reclassify": lambda: lifecycle.ChangeClassification(str(form.get("urgency", "")), str(form.get("impact", ""))),
    }
    factory = actions.get(name)
    return (factory() if factory else None), note


def act_on(sessions: sessionmaker[Session], ticket_id: int, action: lifecycle.Action, actor: Actor, moment: datetime, note: str | None) -> lifecycle.Ticket:
    with sessions.begin() as session:
        if isinstance(action, lifecycle.AcceptResolutionDate):
            problem = desk.acceptance_problem(tickets.get(session, ticket_id, moment).ticket, moment)
            if problem is not None:
                raise ConflictError(problem)
        return tickets.act(session, ticket_id, action, actor, moment, note)


def check_lengths(fields: Mapping[str, object]) -> None:
    """Refuse text past its limit (limits.TEXT_LIMITS) before it reaches the database."""
    message = too_long(fields) or unstorable(fields)
    if message is not None:
        raise InputError(message)


def log_work(sessions: sessionmaker[Session], ticket_id: int, agent: str, started: datetime, ended: datetime, note: str) -> None:
    check_lengths({"note": note})
    with sessions.begin() as session:
        work_logs.log_work(session, ticket_id, agent, started, ended, note)


def take(sessions: sessionmaker[Session], ticket_id: int, agent: str, moment: datetime) -> bool:
    with sessions.begin() as session:
        return tickets.take(session, ticket_id, agent, moment)


async def ticket_action(request: web.Request) -> web.StreamResponse:
    ticket_id = ticket_id_of(request)
    form = await read_form(request)
    user: CurrentUser = request[USER]
    name = str(form.get("action", ""))

    async def ticket_again() -> dict[str, Any]:
        context = await ticket_context(request, ticket_id)
        del context["error"]  # the error middleware brings its own
        return context

    show_on_error(request, "ticket.html", ticket_again)
    done = name
    try:
        if name == "log_work":
            ended = now()
            minutes = work_minutes(form.get("minutes", "0"))
            await in_thread(request, log_work, ticket_id, user.username, ended - timedelta(minutes=minutes), ended, str(form.get("note", "")))
        elif name == "take":
            done = "take" if await in_thread(request, take, ticket_id, user.username, now()) else "take_again"
        else:
            action, note = action_from_form(form, now())
            if action is None:
                raise InputError("Acción desconocida.")
            before = (await in_thread(request, load_ticket, ticket_id, now())).ticket if name == "reclassify" else None
            after = await in_thread(request, act_on, ticket_id, action, actor_of(user), now(), note)
            if after == before:
                done = "reclassify_same"
    except TicketError:  # the lifecycle refused: say so in Spanish, on the ticket as it is now
        context = await ticket_context(request, ticket_id)
        context["error"] = desk.refusal_for(name, context["stored"].ticket)
        return render(request, "ticket.html", status=409, **context)
    request.app[LIVE].poke()
    raise web.HTTPSeeOther(f"/tickets/{ticket_id}?hecho={done}")


def read_attachment(sessions: sessionmaker[Session], ticket_id: int, attachment_id: int) -> tuple[StoredAttachment, bytes]:
    with sessions() as session:
        return attachments.read(session, ticket_id, attachment_id)


async def attachment_download(request: web.Request) -> web.Response:
    """A requester's file, always as a download: never rendered in the app's origin."""
    text = request.match_info["attachment_id"]
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_TICKET_ID:
        raise NotFoundError("No existe ese adjunto.")
    stored, data = await in_thread(request, read_attachment, ticket_id_of(request), int(text))
    return web.Response(body=data, headers={  # the type as stored, parameters (charset) and all
        "Content-Type": stored.content_type, "Content-Disposition": f"attachment; filename*=UTF-8''{quote(stored.filename, safe='')}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
    })


def work_minutes(value: object) -> int:
    """Minutes of logged work, 1..1440 (pure)."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 24 * 60:
        raise InputError("los minutos deben ser un número entero entre 1 y 1440")
    return int(text)


def create_ticket(sessions: sessionmaker[Session], fields: dict[str, str], actor: Actor, moment: datetime,
                  require_account: bool = False) -> int:
    """Open a ticket; its account, when given (always, from the web form), must be a customer's slug."""
    check_lengths(fields)
    ticket, event = lifecycle.new_ticket(
        ticket_type=fields.get("type", "incident"), urgency=fields.get("urgency", "medium"),
        impact=fields.get("impact", "individual"), subject=fields.get("subject"), detail=fields.get("detail"),
        requester_name=fields.get("requester_name"), requester_contact=fields.get("requester_contact"),
        channel=fields.get("channel", "portal"), created_at=moment, actor=actor,
    )
    account = fields.get("account", "").strip()
    if account:
        with sessions() as session:
            if session.scalar(select(Tenant.id).where(Tenant.slug == account)) is None:
                raise InputError(f"No hay un cliente «{account[:64]}»: elíjalo de la lista.")
    elif require_account:
        raise InputError("Elija el cliente del caso.")
    with sessions.begin() as session:
        return tickets.create(session, ticket, event, account or "-")


async def new_ticket_page(request: web.Request) -> web.Response:
    customers = await in_thread(request, customer_names)
    return render(request, "ticket_new.html", values={}, error=None, customers=customers)


async def new_ticket_submit(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    values = {key: str(form.get(key, "")) for key in (
        "type", "urgency", "impact", "subject", "detail", "requester_name", "requester_contact", "channel", "account")}
    customers = await in_thread(request, customer_names)
    show_on_error(request, "ticket_new.html", values=values, customers=customers)
    ticket_id = await in_thread(request, create_ticket, values, actor_of(request[USER]), now(), True)
    request.app[LIVE].poke()
    raise web.HTTPSeeOther(f"/tickets/{ticket_id}?hecho=created")


def ticket_id_of(request: web.Request) -> int:
    """The {id} of the path; anything that cannot be a ticket id (not digits, past the column) names no ticket."""
    text = request.match_info["id"]
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_TICKET_ID:
        raise NotFoundError(f"No existe el caso #{text[:20]}.")
    return int(text)


ROUTES = (
    Route("GET", "/tickets", queue_page, TICKETS),
    Route("GET", "/tickets/events", queue_events, TICKETS),
    Route("GET", "/tickets/new", new_ticket_page, TICKETS),
    Route("POST", "/tickets/new", new_ticket_submit, TICKETS),
    Route("GET", "/tickets/{id}", ticket_page, TICKETS),
    Route("POST", "/tickets/{id}/act", ticket_action, TICKETS),
    Route("GET", "/tickets/{id}/adjuntos/{attachment_id}", attachment_download, TICKETS),
)


def setup_tickets(app: web.Application, sessions: sessionmaker[Session]) -> None:
    app[LIVE] = LiveQueue(sessions)
    app.cleanup_ctx.append(app[LIVE].context)
    register(app, ROUTES)
