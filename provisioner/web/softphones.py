"""Softphones over HTTP (adapter): Jitsi Desktop's provisioning request and the one-time link page.

    POST /prov/app/ (also /prov/<key>/, /prov/<key>/jitsi)   Jitsi's provisioning form: uuid,
        osname, build, username ("<extension>@<tenant slug>"), password -> 401, or the account
        as a Java properties file; what the app
        reported (version, OS) is kept and judged, and a finding joins the usual incident
        through the ticket intake (the same Observation a desk phone's fetch makes).
    GET  /softphone/<token>   a page with one button (mail scanners that follow links use nothing)
    POST /softphone/<token>   shows the account once, with its QR code; the link is then spent

Neither the tenant key, the link token nor any password reaches a log line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

import segno
from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from firmware_catalog import Catalog
from provisioner import labels
from provisioner.errors import NotFoundError
from provisioner.incidents import device_findings
from provisioner.settings import Settings
from provisioner.softphone_store import found_entry, jitsi_login, link_is_usable, open_link, record_report
from provisioner.softphones import account_qr_text, account_settings, device_name, jitsi_properties, jitsi_report, judge_app
from provisioner.softphone_store import APP_PATH, account_for
from provisioner.ticket_writer import Observation
from provisioner.values import UNASSIGNED_DEPARTMENT
from provisioner.web.access import PUBLIC
from provisioner.web.app import Route, register
from provisioner.web.login_rules import LoginThrottle
from provisioner.web.pages import render

log = logging.getLogger("provisioner.softphones")

SOFTPHONE_SESSIONS = web.AppKey("softphone_sessions", sessionmaker)
SOFTPHONE_CATALOG = web.AppKey("softphone_catalog", Catalog)
SOFTPHONE_SETTINGS = web.AppKey("softphone_settings", Settings)
SOFTPHONE_INTAKE = web.AppKey("softphone_intake", object)  # a FindingSink (provisioner.fanout), or None
SOFTPHONE_THROTTLE = web.AppKey("softphone_throttle", LoginThrottle)  # failed Jitsi logins, per login and address
MAX_FIELD = 256  # Jitsi's form fields are short; anything longer is not Jitsi


class _Answer:
    def __init__(self, status: int, body: str = "", observation: Observation | None = None, note: str = "") -> None:
        self.status, self.body, self.observation, self.note = status, body, observation, note


def _jitsi_answer(sessions: sessionmaker[Session], catalog: Catalog, settings: Settings, key: str | None,
                  form: dict[str, str], user_agent: str | None, source_ip: str) -> _Answer:
    """The provisioning request's work, in a worker thread (one transaction)."""
    now = datetime.now(UTC)
    with sessions.begin() as session:
        found = jitsi_login(session, catalog, key, form.get("username", ""), form.get("password", ""))
        if found is None:
            return _Answer(401, note="login refused")
        tenant, extension = found
        report = jitsi_report(form.get("osname"), form.get("build"), user_agent)
        record_report(extension, report, now)
        assigned = catalog.get(extension.softphone or "")
        judgement = judge_app(assigned, found_entry(catalog, report), report)
        name = device_name(extension.number)
        findings = device_findings(
            judgement, tenant.slug, name, report.model or assigned.model, extension.department or UNASSIGNED_DEPARTMENT,
            now, source_ip, "http", user_agent,
        )
        observation = Observation(tenant.id, name, findings, judgement.covers, now)
        body = jitsi_properties(account_for(session, settings, extension))
        note = f"tenant={tenant.slug} ext={extension.number} model={report.model} version={report.version} " \
               f"findings={','.join(judgement.kinds) or '-'}"
    return _Answer(200, body, observation, note)


async def handle_jitsi(request: web.Request) -> web.StreamResponse:
    """Jitsi Desktop's provisioning POST (its plugin sends its URL's query as a form)."""
    try:
        form: dict[str, str] = {}
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            posted = await request.post()
            form = {name: str(value)[:MAX_FIELD] for name, value in posted.items() if isinstance(value, str)}
        for name, value in request.query.items():  # a GET, or parameters left in the URL
            form.setdefault(name, value[:MAX_FIELD])
        app = request.app
        throttle, login, address = app[SOFTPHONE_THROTTLE], form.get("username", "")[:80], request.remote or ""
        if throttle.locked(login, address, time.monotonic()):  # even with the right password, as the web login
            log.info("jitsi provisioning from %s -> 429 (too many failed logins)", address)
            return web.Response(status=429, text="429: Too Many Requests")
        answer = await asyncio.to_thread(
            _jitsi_answer, app[SOFTPHONE_SESSIONS], app[SOFTPHONE_CATALOG], app[SOFTPHONE_SETTINGS],
            request.match_info.get("key"), form, request.headers.get("User-Agent"), request.remote or "",
        )
    except Exception:
        log.exception("jitsi provisioning request failed")
        return web.Response(status=500, text="Internal Server Error\n", content_type="text/plain")
    log.info("jitsi provisioning from %s -> %d (%s)", request.remote, answer.status, answer.note)
    if answer.status != 200:
        throttle.failed(login, address, time.monotonic())
        return web.Response(status=401, text="401: Unauthorized", headers={"WWW-Authenticate": 'Basic realm="provisioning"'})
    throttle.succeeded(login, address)
    intake: Any = request.app.get(SOFTPHONE_INTAKE)
    if intake is not None and answer.observation is not None:
        intake.observe(answer.observation)
    return web.Response(text=answer.body, content_type="text/plain", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


# -- the one-time link ---------------------------------------------------------------------------
def _usable(sessions: sessionmaker[Session], token: str) -> bool:
    with sessions() as session:
        return link_is_usable(session, token, datetime.now(UTC))


async def link_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    if not await asyncio.to_thread(_usable, request.app[SOFTPHONE_SESSIONS], token):
        raise NotFoundError(labels.SOFTPHONE_LINK_GONE)
    response = render(request, "softphone_link.html", revealed=None, qr_svg="", link_token=token)
    response.headers["Cache-Control"] = "no-store"
    return response


def _reveal(sessions: sessionmaker[Session], catalog: Catalog, settings: Settings, token: str) -> Any:
    with sessions.begin() as session:
        return open_link(session, catalog, settings, token, datetime.now(UTC))


async def link_reveal(request: web.Request) -> web.Response:
    app = request.app
    revealed = await asyncio.to_thread(_reveal, app[SOFTPHONE_SESSIONS], app[SOFTPHONE_CATALOG],
                                       app[SOFTPHONE_SETTINGS], request.match_info["token"])
    if revealed is None:
        raise NotFoundError(labels.SOFTPHONE_LINK_GONE)
    log.info("softphone link used: ext=%s (%s)", revealed.account.extension, revealed.model)
    qr_text = account_qr_text(revealed.account, revealed.delivery)
    qr = segno.make(qr_text, error="m")
    response = render(request, "softphone_link.html", revealed=revealed, link_token=None, qr_text=qr_text,
                      settings_rows=account_settings(revealed.account),
                      qr_svg=qr.svg_inline(scale=4, dark="#000", light="#fff"))
    response.headers["Cache-Control"] = "no-store"
    return response


ROUTES = (
    Route("GET", "/softphone/{token}", link_page, PUBLIC),  # the token is the credential
    Route("POST", "/softphone/{token}", link_reveal, PUBLIC),
)


def setup_softphones(app: web.Application, sessions: sessionmaker[Session], catalog: Catalog, settings: Settings,
                     intake: object | None) -> None:
    """The link page (a public route of the role tables) and Jitsi's POST below the tenant key."""
    app[SOFTPHONE_SESSIONS] = sessions
    app[SOFTPHONE_CATALOG] = catalog
    app[SOFTPHONE_SETTINGS] = settings
    app[SOFTPHONE_INTAKE] = intake
    app[SOFTPHONE_THROTTLE] = LoginThrottle()  # the web login's rule: 10 failures in 10 minutes lock 10 minutes
    register(app, ROUTES)
    # The phones' path: no role check and no page (the error middleware leaves /prov/ alone).
    app.router.add_post(APP_PATH, handle_jitsi)  # first: "app" is never a tenant key (32 characters)
    app.router.add_post("/prov/{key}/", handle_jitsi)
    app.router.add_post("/prov/{key}/jitsi", handle_jitsi)
