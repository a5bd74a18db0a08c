"""The customer portal under /portal/ (Spanish, for requesters; open 7x24).

    entrar, salir                 login (throttled) and logout, the portal's own cookie
    registro                      ask for a one-time link (same answer for every address)
    enlace/{token}                choose name and password from an invitation / registration / reset link
    casos, casos/nuevo            the tenant's tickets; a new request (plain questions -> urgency x impact)
    casos/{id}[/responder|/fecha|/encuesta|/adjuntos/{attachment_id}]
    encuesta/{token}              the mailed survey link: the token names the ticket, nothing else

The way in (entrar, salir, registro, enlace) is provisioner.web.portal_entry; this module
registers both. Thin: parse the form, call provisioner.portal_cases in a worker thread,
render portal/*.html. Another tenant's ticket is "not found" on every route.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from provisioner import portal_cases
from provisioner.errors import InputError, NotFoundError
from provisioner.portal_cases import Upload
from provisioner.portal_rules import (
    REACH_CHOICES, REACH_QUESTION, STOPPED_CHOICES, STOPPED_QUESTION, TYPE_CHOICES, classify, device_summary,
    public_events, ticket_type,
)
from provisioner.requester_store import PortalUser
from provisioner.ticket_queue import MAX_TICKET_ID
from provisioner.web import portal_entry
from provisioner.web.access import PORTAL
from provisioner.web.app import Route, in_thread, now, register
from provisioner.web.errors import show_on_error
from provisioner.web.live import LIVE
from provisioner.web.login_rules import LoginThrottle
from provisioner.web.pages import USER, render
from provisioner.web.portal_entry import PORTAL_THROTTLE
from provisioner.web.portal_session import check_form_token, form_of, form_token, page_with_form_token, requester_only
from support_link import lifecycle
from support_link.attachments import MAX_ATTACHMENTS, check_attachment
from support_link.calendar import as_bogota
from support_link.errors import AttachmentNotFound, AttachmentRefused
from support_link.lifecycle import Actor, ActorKind


# -- cases -------------------------------------------------------------------------------------
def _cases(sessions: Any, user: PortalUser, moment: datetime) -> Any:
    with sessions() as session:
        return portal_cases.cases(session, user, moment)


@requester_only()
async def cases_page(request: web.Request) -> web.StreamResponse:
    moment = now()
    rows = await in_thread(request, _cases, request[USER], moment)
    return render(request, "portal/casos.html", rows=rows, moment=moment, date_state=lifecycle.resolution_date_state)


def _new_form(user: PortalUser, values: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "values": values or {"requester_name": user.name, "requester_contact": user.email + (f" · {user.phone}" if user.phone else "")},
        "types": TYPE_CHOICES, "stopped": STOPPED_CHOICES, "reach": REACH_CHOICES,
        "stopped_question": STOPPED_QUESTION, "reach_question": REACH_QUESTION, "max_files": MAX_ATTACHMENTS,
    }


@requester_only()
async def new_case_page(request: web.Request) -> web.StreamResponse:
    return render(request, "portal/nuevo.html", error=None, **_new_form(request[USER]))


def uploads_of(form: Any) -> list[Upload]:
    """The form's files, each checked (type sniffed, size capped); AttachmentRefused says which and why."""
    files = [item for item in form.getall("files", []) if isinstance(item, web.FileField) and item.filename]
    if len(files) > MAX_ATTACHMENTS:
        raise InputError(f"Puede adjuntar hasta {MAX_ATTACHMENTS} archivos por envío.")
    uploads = []
    for item in files:
        data = item.file.read()
        try:
            uploads.append(Upload(check_attachment(item.filename, data), data))
        except AttachmentRefused as exc:
            raise InputError(f"{item.filename[:120]}: {exc}") from None
    return uploads


def _open(sessions: Any, user: PortalUser, fields: dict[str, str], files: list[Upload], moment: datetime) -> int:
    with sessions.begin() as session:
        return portal_cases.open_request(session, user, fields, files, moment)


@requester_only(uploads=True)
async def new_case_submit(request: web.Request) -> web.StreamResponse:
    form = await form_of(request, uploads=True)
    user: PortalUser = request[USER]
    values = {key: str(form.get(key, "")) for key in (
        "type", "stopped", "reach", "subject", "detail", "requester_name", "requester_contact")}
    show_on_error(request, "portal/nuevo.html", **_new_form(user, values))
    urgency, impact = classify(values["stopped"], values["reach"])
    fields = {**values, "type": ticket_type(values["type"]), "urgency": urgency, "impact": impact}
    files = uploads_of(form)
    ticket_id = await in_thread(request, _open, user, fields, files, now())
    request.app[LIVE].poke()  # the agents' live queue shows it at once
    raise web.HTTPSeeOther(f"/portal/casos/{ticket_id}?hecho=creado")


def case_id(request: web.Request, key: str = "id") -> int:
    text = request.match_info[key]
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_TICKET_ID:
        raise NotFoundError(f"No existe el caso #{text[:20]}.")
    return int(text)


def _case(sessions: Any, user: PortalUser, ticket_id: int, moment: datetime) -> Any:
    with sessions() as session:
        return portal_cases.case(session, user, ticket_id, moment)


DONE = {
    "creado": "Solicitud registrada. La mesa de servicio le responderá por aquí y por correo.",
    "respondido": "Respuesta enviada.", "fecha": "Listo: la mesa de servicio ve su respuesta sobre la fecha.",
    "encuesta": "Gracias por responder la encuesta.",
}


async def case_context(request: web.Request, ticket_id: int) -> dict[str, Any]:
    moment = now()
    stored, files, survey = await in_thread(request, _case, request[USER], ticket_id, moment)
    ticket = stored.ticket
    return {
        "stored": stored, "ticket": ticket, "files": files, "survey": survey, "moment": moment,
        "timeline": public_events(stored.events),
        "devices": device_summary(sum(1 for device in stored.devices if device.active)),
        "date_state": lifecycle.resolution_date_state(ticket, moment),
        "may_settle_date": ticket.proposed_resolution_on is not None and ticket.proposed_by == "agent",
        "may_reply": ticket.status != lifecycle.Status.CLOSED,
        "may_answer_survey": ticket.status == lifecycle.Status.RESOLVED and (survey is None or survey.answered_at is None),
        "message": DONE.get(request.query.get("hecho", "")), "error": None, "max_files": MAX_ATTACHMENTS,
    }


@requester_only()
async def case_page(request: web.Request) -> web.StreamResponse:
    return render(request, "portal/caso.html", **await case_context(request, case_id(request)))


def _reply(sessions: Any, user: PortalUser, ticket_id: int, text: str, files: list[Upload], moment: datetime) -> None:
    with sessions.begin() as session:
        portal_cases.reply(session, user, ticket_id, text, files, moment)


def _case_again(request: web.Request, ticket_id: int) -> None:
    async def load() -> dict[str, Any]:
        context = await case_context(request, ticket_id)
        del context["error"]
        return context

    show_on_error(request, "portal/caso.html", load)


@requester_only(uploads=True)
async def reply_submit(request: web.Request) -> web.StreamResponse:
    ticket_id = case_id(request)
    form = await form_of(request, uploads=True)
    await in_thread(request, _case, request[USER], ticket_id, now())  # not theirs: 404 before anything else
    _case_again(request, ticket_id)
    files = uploads_of(form)
    await in_thread(request, _reply, request[USER], ticket_id, str(form.get("text", "")), files, now())
    request.app[LIVE].poke()
    raise web.HTTPSeeOther(f"/portal/casos/{ticket_id}?hecho=respondido")


def _attachment(sessions: Any, user: PortalUser, ticket_id: int, attachment_id: int) -> Any:
    with sessions() as session:
        return portal_cases.attachment(session, user, ticket_id, attachment_id)


@requester_only()
async def attachment_download(request: web.Request) -> web.StreamResponse:
    ticket_id, attachment_id = case_id(request), case_id(request, "attachment_id")
    try:
        stored, data = await in_thread(request, _attachment, request[USER], ticket_id, attachment_id)
    except AttachmentNotFound:
        raise NotFoundError("No existe ese adjunto.") from None
    safe_name = stored.filename.replace('"', "'")
    return web.Response(body=data, content_type=stored.content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{safe_name.encode('ascii', 'replace').decode()}\"; "
                               f"filename*=UTF-8''{quote(stored.filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
    })


def _settle(sessions: Any, user: PortalUser, ticket_id: int, counter: date | None, moment: datetime) -> None:
    with sessions.begin() as session:
        portal_cases.settle_date(session, user, ticket_id, counter, moment)


def counter_date(text: str, today: date) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InputError("Escriba la fecha que propone (AAAA-MM-DD).") from None
    if day < today:
        raise InputError("La fecha que propone ya pasó.")
    return day


@requester_only()
async def date_submit(request: web.Request) -> web.StreamResponse:
    ticket_id = case_id(request)
    form = await form_of(request)
    await in_thread(request, _case, request[USER], ticket_id, now())
    _case_again(request, ticket_id)
    choice = str(form.get("choice", ""))
    if choice == "accept":
        counter = None
    elif choice == "counter":
        counter = counter_date(str(form.get("date", "")), as_bogota(now()).date())
    else:
        raise InputError("Elija aceptar la fecha o proponer otra.")
    await in_thread(request, _settle, request[USER], ticket_id, counter, now())
    request.app[LIVE].poke()
    raise web.HTTPSeeOther(f"/portal/casos/{ticket_id}?hecho=fecha")


def survey_answer(form: Any) -> tuple[int, bool, str]:
    rating, solved = str(form.get("rating", "")), str(form.get("solved", ""))
    if rating not in ("1", "2", "3", "4", "5"):
        raise InputError("Califique la atención de 1 a 5.")
    if solved not in ("si", "no"):
        raise InputError("Responda: ¿Quedó resuelto?")
    return int(rating), solved == "si", str(form.get("comment", "")).strip()


def _survey(sessions: Any, user: PortalUser, ticket_id: int, moment: datetime) -> Any:
    with sessions.begin() as session:
        return portal_cases.survey_for(session, user, ticket_id, moment)


def _answer(sessions: Any, ticket_id: int, actor: Actor, answer: tuple[int, bool, str], moment: datetime,
            user: PortalUser | None) -> None:
    with sessions.begin() as session:
        portal_cases.answer_survey(session, ticket_id, actor, *answer, moment, user=user)


@requester_only()
async def survey_page(request: web.Request) -> web.StreamResponse:
    ticket_id = case_id(request)
    survey = await in_thread(request, _survey, request[USER], ticket_id, now())
    return render(request, "portal/encuesta.html", ticket_id=ticket_id, survey=survey, error=None,
                  action=f"/portal/casos/{ticket_id}/encuesta", form_token=None, ratings=RATINGS)


RATINGS = (5, 4, 3, 2, 1)


@requester_only()
async def survey_submit(request: web.Request) -> web.StreamResponse:
    ticket_id = case_id(request)
    form = await form_of(request)
    user: PortalUser = request[USER]
    survey = await in_thread(request, _survey, user, ticket_id, now())
    show_on_error(request, "portal/encuesta.html", ticket_id=ticket_id, survey=survey,
                  action=f"/portal/casos/{ticket_id}/encuesta", form_token=None, ratings=RATINGS)
    await in_thread(request, _answer, ticket_id, portal_cases.actor_of(user), survey_answer(form), now(), user)
    request.app[LIVE].poke()
    raise web.HTTPSeeOther(f"/portal/casos/{ticket_id}?hecho=encuesta")


def _survey_by_token(sessions: Any, token: str, moment: datetime) -> Any:
    with sessions() as session:
        return portal_cases.survey_ticket(session, token, moment)


async def token_survey_page(request: web.Request) -> web.StreamResponse:
    stored, survey = await in_thread(request, _survey_by_token, request.match_info["token"], now())
    return page_with_form_token(request, "portal/encuesta.html", ticket_id=stored.id, survey=survey, error=None,
                            action=request.path, ratings=RATINGS, subject=stored.ticket.subject)


async def token_survey_submit(request: web.Request) -> web.StreamResponse:
    form = await check_form_token(request)
    stored, survey = await in_thread(request, _survey_by_token, request.match_info["token"], now())
    show_on_error(request, "portal/encuesta.html", ticket_id=stored.id, survey=survey, action=request.path,
                  ratings=RATINGS, subject=stored.ticket.subject, form_token=form_token(request))
    actor = Actor(ActorKind.REQUESTER, stored.ticket.requester_name or "solicitante")
    await in_thread(request, _answer, stored.id, actor, survey_answer(form), now(), None)
    request.app[LIVE].poke()
    return render(request, "portal/mensaje.html", title="Encuesta respondida",
                  text="Gracias por responder la encuesta de servicio.")


ROUTES = (
    *portal_entry.ROUTES,
    Route("GET", "/portal/casos", cases_page, PORTAL),
    Route("GET", "/portal/casos/nuevo", new_case_page, PORTAL),
    Route("POST", "/portal/casos/nuevo", new_case_submit, PORTAL),
    Route("GET", "/portal/casos/{id}", case_page, PORTAL),
    Route("POST", "/portal/casos/{id}/responder", reply_submit, PORTAL),
    Route("GET", "/portal/casos/{id}/adjuntos/{attachment_id}", attachment_download, PORTAL),
    Route("POST", "/portal/casos/{id}/fecha", date_submit, PORTAL),
    Route("GET", "/portal/casos/{id}/encuesta", survey_page, PORTAL),
    Route("POST", "/portal/casos/{id}/encuesta", survey_submit, PORTAL),
    Route("GET", "/portal/encuesta/{token}", token_survey_page, PORTAL),
    Route("POST", "/portal/encuesta/{token}", token_survey_submit, PORTAL),
)


def setup_portal(app: web.Application) -> None:
    app[PORTAL_THROTTLE] = LoginThrottle()  # its own: a customer's failures never lock out a staff name
    register(app, ROUTES)
