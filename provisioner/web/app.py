"""Web adapters: login, CSRF and the bearer-token API guard, and route registration.

Pages are rendered by provisioner.web.pages. Every POST from a browser must carry the
session's CSRF token; API calls authenticate with a bearer token instead.
Database work runs in a thread so the phone-serving event loop never waits on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
import functools
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy
from sqlalchemy.orm import Session, sessionmaker

from provisioner.accounts import same_secret
from provisioner.errors import AccessDenied, MalformedInput
from provisioner.web import sessions as web_sessions
from provisioner.web.errors import Answer, answer_errors, json_answer
from provisioner.web.pages import HTML, USER, html_environment, render

SESSIONS = web.AppKey("db_sessions", sessionmaker)
COOKIE = "prov_session"

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


def protected(handler: Handler) -> Handler:
    """The handler behind the login / CSRF / bearer-token checks.

    A wrapper per route rather than an app middleware: every middleware layer runs on
    every request, and the phones' config requests, the hot path of a boot storm, need
    none of them (a storm measured ~10-15 us per request for the layers). The one app
    middleware, errors.answer_errors, returns at once for them.
    """

    @functools.wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        return await check_access(request, handler)

    return checked


async def check_access(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if path.startswith("/api/"):
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        user = await in_thread(request, web_sessions.user_for_api_token, token) if token else None
        if user is None:
            return json_answer(UNAUTHORIZED)
        request[USER] = user
        return await handler(request)
    cookie = request.cookies.get(COOKIE)
    user = await in_thread(request, web_sessions.user_for_session, cookie, now()) if cookie else None
    if user is None:
        raise web.HTTPSeeOther(f"/login?next={request.path_qs}" if request.method == "GET" else "/login")
    request[USER] = user
    if request.method not in ("GET", "HEAD"):
        form = await read_form(request) if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data") else {}
        sent = request.headers.get("X-CSRF-Token") or (form.get("csrf_token") if form else None)
        if not same_secret(str(sent) if sent else None, user.csrf_token):
            raise AccessDenied("Solicitud rechazada: falta el token CSRF o no es válido.")
    return await handler(request)


async def login_page(request: web.Request) -> web.Response:
    return render(request, "login.html", error=None, next=request.query.get("next", "/tickets"))


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = str(form.get("next", "/tickets"))
    if not target.startswith("/") or target.startswith("//"):
        target = "/tickets"  # never an open redirect
    result = await in_thread(request, web_sessions.login, username, password, now())
    if result is None:
        return render(request, "login.html", status=401, error="Usuario o contraseña incorrectos.", next=target)
    token, _user = result
    response = web.HTTPSeeOther(target)
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", max_age=12 * 3600, path="/")
    raise response


async def logout_submit(request: web.Request) -> web.StreamResponse:
    cookie = request.cookies.get(COOKIE)
    if cookie:
        await in_thread(request, web_sessions.logout, cookie)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/tickets")


def setup_web(app: web.Application, sessions: sessionmaker[Session]) -> None:
    app.middlewares.append(answer_errors)
    app[SESSIONS] = sessions
    app[HTML] = html_environment()
    app.router.add_get("/", home)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", protected(logout_submit))
    app.router.add_static("/static/", Path(__file__).parent / "static")
