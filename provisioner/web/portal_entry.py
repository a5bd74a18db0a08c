"""The portal's way in: login (throttled), logout, and one-time links (registration request,
choosing name and password). Part of the customer portal (provisioner.web.portal registers it).

    /portal/entrar, /portal/salir, /portal/registro, /portal/enlace/{token}
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any

from aiohttp import web

from provisioner import requester_store
from provisioner.errors import InputError
from provisioner.requester_mail import compose_link_mail, link_url, send_link_mail
from provisioner.requester_store import IssuedLink, PortalUser
from provisioner.web.access import PORTAL
from provisioner.web.app import Route, in_thread, now, served_settings
from provisioner.web.errors import show_on_error
from provisioner.web.login_rules import LoginThrottle
from provisioner.web.portal_session import (
    COOKIE, HOME, check_form_token, end_session, form_token, page_with_form_token, portal_next, requester_only,
    signed_in, start_session,
)

log = logging.getLogger("provisioner.portal")
PORTAL_THROTTLE = web.AppKey("portal_throttle", LoginThrottle)
_MAILING: set[asyncio.Task[tuple[str, bool]]] = set()  # registration mails on their way (kept referenced)
LOCKED_OUT = "Demasiados intentos fallidos. Por seguridad, espere 10 minutos y vuelva a intentarlo."


async def portal_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(HOME)


async def login_page(request: web.Request) -> web.StreamResponse:
    if await signed_in(request):
        raise web.HTTPSeeOther(portal_next(request.query.get("next")))
    return page_with_form_token(request, "portal/entrar.html", error=None, email="", next=portal_next(request.query.get("next")))


def _login(sessions: Any, email: str, password: str, moment: datetime) -> tuple[str, PortalUser] | None:
    with sessions.begin() as session:
        return requester_store.login(session, email, password, moment)


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await check_form_token(request)
    email, password = str(form.get("email", "")).strip(), str(form.get("password", ""))
    target = portal_next(str(form.get("next", "")))
    throttle, address = request.app[PORTAL_THROTTLE], request.remote or ""
    if throttle.locked(email, address, time.monotonic()):
        return page_with_form_token(request, "portal/entrar.html", status=429, error=LOCKED_OUT, email=email, next=target)
    result = await in_thread(request, _login, email, password, now())
    if result is None:
        throttle.failed(email, address, time.monotonic())
        return page_with_form_token(request, "portal/entrar.html", status=401, error="Correo o contraseña incorrectos.",
                                email=email, next=target)
    throttle.succeeded(email, address)
    response = web.HTTPSeeOther(target)
    start_session(request, response, result[0])
    raise response


def _logout(sessions: Any, token: str) -> None:
    with sessions.begin() as session:
        requester_store.logout(session, token)


async def logout_submit(request: web.Request) -> web.StreamResponse:
    await in_thread(request, _logout, request.cookies.get(COOKIE, ""))
    response = web.HTTPSeeOther("/portal/entrar")
    end_session(request, response)
    raise response


# -- one-time links ----------------------------------------------------------------------------
async def mail_link(request: web.Request, link: IssuedLink) -> tuple[str, bool]:
    """The link's address, mailed when SMTP is configured (in a worker thread); (url, mailed)."""
    settings = served_settings(request.app)
    url = link_url(settings.portal_base(), link.token)
    mail = settings.mail()
    if mail is None:
        return url, False
    message = compose_link_mail(link, url, settings.smtp_sender, now())
    try:
        await asyncio.to_thread(send_link_mail, mail, message, link.email)
    except OSError as exc:  # smtplib's errors are OSErrors: the page still answers; the link is not logged
        log.warning("could not mail a portal %s link: %s", link.purpose, type(exc).__name__)
        return url, False
    return url, True


def _ask_link(sessions: Any, email: str, moment: datetime) -> IssuedLink | None:
    with sessions.begin() as session:
        return requester_store.request_registration(session, email, moment)


async def register_page(request: web.Request) -> web.StreamResponse:
    return page_with_form_token(request, "portal/registro.html", error=None, email="", done=False)


async def register_submit(request: web.Request) -> web.StreamResponse:
    form = await check_form_token(request)
    email = str(form.get("email", ""))
    show_on_error(request, "portal/registro.html", email=email, done=False, form_token=form_token(request))
    link = await in_thread(request, _ask_link, email, now())  # a malformed address is told; a foreign one is not
    if link is not None:  # mailed after the answer, so its time does not tell either; without mail, nothing to show
        task = asyncio.create_task(mail_link(request, link))
        _MAILING.add(task)
        task.add_done_callback(_MAILING.discard)
    return page_with_form_token(request, "portal/registro.html", error=None, email="", done=True)


def _link_info(sessions: Any, token: str, moment: datetime) -> requester_store.LinkInfo:
    with sessions() as session:
        return requester_store.link_info(session, token, moment)


def _use_link(sessions: Any, token: str, name: str, password: str, moment: datetime) -> tuple[str, PortalUser] | None:
    with sessions.begin() as session:
        user = requester_store.consume_link(session, token, name, password, moment)
        return requester_store.login(session, user.email, password, moment)


async def link_page(request: web.Request) -> web.StreamResponse:
    info = await in_thread(request, _link_info, request.match_info["token"], now())
    return page_with_form_token(request, "portal/enlace.html", info=info, error=None)


async def link_submit(request: web.Request) -> web.StreamResponse:
    form = await check_form_token(request)
    token = request.match_info["token"]
    info = await in_thread(request, _link_info, token, now())
    password, again = str(form.get("password", "")), str(form.get("password_again", ""))
    show_on_error(request, "portal/enlace.html", info=info, form_token=form_token(request))
    if password != again:
        raise InputError("Las dos contraseñas no coinciden.")
    result = await in_thread(request, _use_link, token, str(form.get("name", "")), password, now())
    response = web.HTTPSeeOther(HOME)
    if result is not None:
        start_session(request, response, result[0])
    raise response


ROUTES = (
    Route("GET", "/portal/", portal_home, PORTAL),
    Route("GET", "/portal/entrar", login_page, PORTAL),
    Route("POST", "/portal/entrar", login_submit, PORTAL),
    Route("POST", "/portal/salir", requester_only()(logout_submit), PORTAL),
    Route("GET", "/portal/registro", register_page, PORTAL),
    Route("POST", "/portal/registro", register_submit, PORTAL),
    Route("GET", "/portal/enlace/{token}", link_page, PORTAL),
    Route("POST", "/portal/enlace/{token}", link_submit, PORTAL),
)
