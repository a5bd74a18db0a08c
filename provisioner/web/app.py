"""Web adapters: login (throttled), CSRF, the bearer-token API guard, roles, and route registration.

Pages are rendered by provisioner.web.pages. Every route is registered from a table of
`Route`s that names who may use it (provisioner.web.access). Every POST from a browser must
carry the session's CSRF token; API calls authenticate with a bearer token instead.
Database work runs in a thread so the phone-serving event loop never waits on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
import functools
from functools import partial
from pathlib import Path
import time
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy
from sqlalchemy.orm import Session, sessionmaker

from provisioner.accounts import same_secret
from provisioner.errors import AccessDenied, MalformedInput
from provisioner.settings import Settings
from provisioner.web import access, sessions as web_sessions
from provisioner.web.access import PUBLIC, SIGNED_IN, Access
from provisioner.web.errors import Answer, answer_errors, json_answer
from provisioner.web.login_rules import DEFAULT_NEXT, LoginThrottle, safe_next
from provisioner.web.pages import HTML, USER, html_environment, render

SESSIONS = web.AppKey("db_sessions", sessionmaker)
THROTTLE = web.AppKey("login_throttle", LoginThrottle)
SECURE_COOKIE = web.AppKey("secure_cookie", bool)
COOKIE = "prov_session"
LOCKED_OUT = "Demasiados intentos fallidos. Por seguridad, espere 10 minutos y vuelva a intentarlo."

UNAUTHORIZED = Answer(401, "unauthorized", "Falta un token válido: envíe Authorization: Bearer <token>.")

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def in_thread(request: web.Request, function: Callable[..., T], *args: Any) -> T:
    """Run a database function with a fresh session factory in a worker thread."""
    return await asyncio.to_thread(partial(function, request.app[SESSIONS], *args))


def now() -> datetime:
    return datetime.now(UTC)


async def read_form(request: web.Request) -> MultiDictProxy[str | bytes | web.FileField]:
    """The request's form (urlencoded or multipart); a broken body is MalformedInput, not a 500."""
    try:
        return await request.post()
    except (ValueError, HttpProcessingError):
        raise MalformedInput("El formulario enviado está mal formado.") from None


@dataclass(frozen=True)
class Route:
    """One address of the app or the API and who may use it (access.PUBLIC: anyone)."""

    method: str
    path: str
    handler: Handler
    access: Access | None


def register(app: web.Application, routes: Iterable[Route]) -> None:
    """Add the routes, each behind its login and role checks: the one way routes are added."""
    for route in routes:
        handler = route.handler if route.access is PUBLIC else protected(route.handler, route.access)
        if route.method == "GET":
            app.router.add_get(route.path, handler)  # HEAD too, as every GET page always answered it
        else:
            app.router.add_route(route.method, route.path, handler)


def protected(handler: Handler, allowed: Access) -> Handler:
    """The handler behind the login / role / CSRF / bearer-token checks.

    A wrapper per route rather than an app middleware: every middleware layer runs on
    every request, and the phones' config requests, the hot path of a boot storm, need
    none of them (a storm measured ~10-15 us per request for the layers). The one app
    middleware, errors.answer_errors, returns at once for them.
    """

    @functools.wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        return await check_access(request, handler, allowed)

    return checked


async def check_access(request: web.Request, handler: Handler, allowed: Access) -> web.StreamResponse:
    path = request.path
    if path.startswith("/api/"):
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        user = await in_thread(request, web_sessions.user_for_api_token, token) if token else None
        if user is None:
            return json_answer(UNAUTHORIZED)
        request[USER] = user
        _check_role(user, allowed)
        return await handler(request)
    cookie = request.cookies.get(COOKIE)
    user = await in_thread(request, web_sessions.user_for_session, cookie, now()) if cookie else None
    if user is None:
        raise web.HTTPSeeOther(f"/login?next={request.path_qs}" if request.method == "GET" else "/login")
    request[USER] = user
    _check_role(user, allowed)
    if request.method not in ("GET", "HEAD"):
        form = await read_form(request) if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data") else {}
        sent = request.headers.get("X-CSRF-Token") or (form.get("csrf_token") if form else None)
        if not same_secret(str(sent) if sent else None, user.csrf_token):
            raise AccessDenied("Solicitud rechazada: falta el token CSRF o no es válido.")
    return await handler(request)


def _check_role(user: web_sessions.CurrentUser, allowed: Access) -> None:
    if not access.allowed(allowed, user.role):
        raise AccessDenied(allowed.refusal or "No tiene permiso para hacer esto.")


async def login_page(request: web.Request) -> web.Response:
    return render(request, "login.html", error=None, next=safe_next(request.query.get("next")))


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))  # never an open redirect
    throttle, address = request.app[THROTTLE], request.remote or ""
    if throttle.locked(username, address, time.monotonic()):  # even with the right password
        return render(request, "login.html", status=429, error=LOCKED_OUT, next=target)
    result = await in_thread(request, web_sessions.login, username, password, now())
    if result is None:
        throttle.failed(username, address, time.monotonic())
        return render(request, "login.html", status=401, error="Usuario o contraseña incorrectos.", next=target)
    throttle.succeeded(username, address)
    token, user = result
    response = web.HTTPSeeOther(access.home_for(user.role) if target == DEFAULT_NEXT else target)
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", max_age=12 * 3600, path="/",
                        secure=request.app[SECURE_COOKIE])
    raise response


async def logout_submit(request: web.Request) -> web.StreamResponse:
    cookie = request.cookies.get(COOKIE)
    if cookie:
        await in_thread(request, web_sessions.logout, cookie)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE, path="/", secure=request.app[SECURE_COOKIE])
    raise response


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(access.home_for(request[USER].role))


ROUTES = (
    Route("GET", "/", home, SIGNED_IN),
    Route("GET", "/login", login_page, PUBLIC),
    Route("POST", "/login", login_submit, PUBLIC),
    Route("POST", "/logout", logout_submit, SIGNED_IN),
)


def setup_web(app: web.Application, sessions: sessionmaker[Session]) -> None:
    app.middlewares.append(answer_errors)
    app[SESSIONS] = sessions
    app[HTML] = html_environment()
    app[THROTTLE] = LoginThrottle()  # per process: with --workers N, up to N x 10 tries per 10 minutes
    app[SECURE_COOKIE] = served_settings(app).session_cookie_secure
    register(app, ROUTES)
    app.router.add_static("/static/", Path(__file__).parent / "static")  # public: the look and the queue's script


def served_settings(app: web.Application) -> Settings:
    """The server's Settings, stored in the app by server.create_app before it calls setup_web.

    Found by type because the key belongs to provisioner.server, which imports this package;
    an app without one (a test's bare app) gets the defaults."""
    return next((value for value in app.values() if isinstance(value, Settings)), Settings())
