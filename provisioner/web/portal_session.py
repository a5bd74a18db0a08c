"""The customer portal's own login: cookie `portal_session` on /portal/ only, CSRF per session,
and a double-submit token for the forms used before logging in (adapter).

Requesters are not staff: this never reads the staff's cookie and the staff's check never
reads this one (provisioner.requester_store keeps the accounts apart).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import functools
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from provisioner import requester_store
from provisioner.accounts import new_token, same_secret
from provisioner.errors import AccessDenied
from provisioner.requester_store import PortalUser
from provisioner.web.app import SECURE_COOKIE, in_thread, now, read_form
from provisioner.web.limits import MAX_BODY, PORTAL_UPLOAD_BODY
from provisioner.web.login_rules import safe_next
from provisioner.web.pages import USER, render

COOKIE = "portal_session"
PATH = "/portal/"
HOME = "/portal/casos"
FORM_COOKIE = "portal_form"  # double-submit token of the forms before login (entrar, registro, enlace, encuesta)
FORM = "portal_form"  # the request key of the form already read (with the portal's own body limit)
CSRF_REFUSED = ("Solo se aceptan formularios abiertos en este portal: falta su token de seguridad o no es válido. "
                "Recargue la página.")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def portal_next(target: str | None) -> str:
    """Where to go after login: a portal page of this site, else the cases (never an open redirect)."""
    cleaned = safe_next(target)
    return cleaned if cleaned.startswith(PATH) else HOME


def _current(sessions: Any, token: str, moment: Any) -> PortalUser | None:
    with sessions() as session:
        return requester_store.current(session, token, moment)


async def signed_in(request: web.Request) -> PortalUser | None:
    token = request.cookies.get(COOKIE)
    return await in_thread(request, _current, token, now()) if token else None


async def form_of(request: web.Request, uploads: bool = False) -> MultiDictProxy[Any]:
    """The POSTed form, read once; routes with attachments take the larger body (limits.PORTAL_UPLOAD_BODY)."""
    if FORM not in request:
        reader = request.clone(client_max_size=PORTAL_UPLOAD_BODY if uploads else MAX_BODY)
        request[FORM] = await read_form(reader)
    return request[FORM]  # type: ignore[no-any-return]


def requester_only(uploads: bool = False) -> Callable[[Handler], Handler]:
    """The handler behind the portal's login and CSRF checks; a staff login means nothing here."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            user = await signed_in(request)
            if user is None:
                target = f"/portal/entrar?next={request.path_qs}" if request.method == "GET" else "/portal/entrar"
                raise web.HTTPSeeOther(target)
            request[USER] = user  # the portal's templates read `user` and its csrf_token
            if request.method == "POST":
                form = await form_of(request, uploads)
                if not same_secret(str(form.get("csrf_token") or ""), user.csrf_token):
                    raise AccessDenied(CSRF_REFUSED)
            return await handler(request)

        return checked

    return wrap


def form_token(request: web.Request) -> str:
    """The pre-login forms' token: the browser's cookie, or a new one."""
    return request.cookies.get(FORM_COOKIE) or new_token()


def set_form_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="Strict", path=PATH,
                        secure=request.app[SECURE_COOKIE])


async def check_form_token(request: web.Request) -> MultiDictProxy[Any]:
    form = await form_of(request)
    if not same_secret(str(form.get("csrf_token") or ""), request.cookies.get(FORM_COOKIE)):
        raise AccessDenied(CSRF_REFUSED)
    return form


def start_session(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", max_age=12 * 3600, path=PATH,
                        secure=request.app[SECURE_COOKIE])


def end_session(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path=PATH, secure=request.app[SECURE_COOKIE])


def page_with_form_token(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A page with a form used before login: its token in the form and in a cookie (double submit)."""
    token = form_token(request)
    page = render(request, template, status=status, form_token=token, **context)
    set_form_cookie(request, page, token)
    return page
