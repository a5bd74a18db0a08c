"""`provisioner serve`: the aiohttp app (configs over HTTP) with the TFTP server, the
sighting writer, the ticket intake and the SNMP poller started and stopped in the app's
cleanup_ctx.

Adapters only. Each protocol turns its request into a ConfigRequest with a request id and
calls `answer`, which reads like the data flow:

    guard.banned(source ip)               a banned address: 404, nothing recorded (provisioner.ban_sync)
    service.fetch(request) -> Outcome     identify, look up, judge, render (provisioner.service)
    log_outcome(request, outcome)         one line, by request id and file name (never the key)
    guard.missed(request, outcome)        a miss counts against its address's budget; past it, a ban
    fanout.config_fetched(...)            sightings, tickets, SNMP checks (provisioner.fanout)

and maps the file to its protocol (200 / 404, DATA / "File not found").
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from multiprocessing.process import BaseProcess
from datetime import UTC, datetime
from typing import NamedTuple

from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from firmware_catalog import Catalog, load_catalog
from provisioner.ban_sync import BanGuard
from provisioner.campaign_store import CampaignBoard
from provisioner.campaign_worker import CLOCK, Clock, campaign_worker
from provisioner.db.engine import make_engine, session_factory, upgrade_all
from provisioner.directory import Directory
from provisioner.errors import RenderError, SettingsError
from provisioner.fanout import Fanout
from provisioner.firmware_store import FirmwareStore
from provisioner.forwarded import Network
from provisioner.http_guard import (
    DESCRIPTOR_RESERVE, GuardLimits, connection_budget, raise_open_file_limit, run_guarded_app,
)
from provisioner.intake import TicketIntake
from provisioner.lifeline import exit_with_parent
from provisioner import log_setup, metrics
from provisioner.operator_catalog import install_operator_catalog
from provisioner.readiness import Probe, Readiness
from provisioner.service import Outcome, ProvisioningService
from provisioner.registrar import RegistrationJob
from provisioner.settings import Settings
from provisioner.sightings import SightingRecorder
from provisioner.ticket_writer import IntakeRules
from provisioner.tftp import TftpServer
from provisioner.tftp_wire import split_request_path
from provisioner.tls import tls_context
from provisioner.upload_http import Uploads, config_request_of
from provisioner.values import ConfigRequest, Protocol, RenderedFile
from provisioner.verification import SnmpVerification
from provisioner.vendors import VENDORS
from provisioner.web.app import setup_web
from provisioner.web.limits import MAX_BODY
from provisioner.web.api import setup_api
from provisioner.web.campaigns import setup_campaigns
from provisioner.web.portal import setup_portal
from provisioner.web.requester_invites import setup_requester_invites
from provisioner.web.installers import setup_installers
from provisioner.web.device_files import setup_device_files
from provisioner.web.onboarding import setup_onboarding
from provisioner.web.live import LIVE
from provisioner.web.softphones import setup_softphones
from provisioner.web.tickets import setup_tickets
from provisioner.web.dashboard import setup_dashboard
from provisioner.mail_in import imap_job
from provisioner.web.survey import setup_survey
from support_link.adapters.jobs import SupportJobs

log = logging.getLogger("provisioner.server")
security_log = logging.getLogger("provisioner.security")

_request_ids = itertools.count(1)


class Core(NamedTuple):
    """What a server process serves phones from; the web app and the workers share `sessions`."""

    sessions: sessionmaker[Session]
    catalog: Catalog
    directory: Directory
    service: ProvisioningService
    recorder: SightingRecorder
    campaigns: CampaignBoard


class Pipeline(NamedTuple):
    """What answers one config request: the pipeline, and where its outcome goes."""

    service: ProvisioningService
    fanout: Fanout
    guard: BanGuard  # bans (issue 20): misses counted per address, banned addresses answered 404


SETTINGS = web.AppKey("settings", Settings)
CORE = web.AppKey("core", Core)
PIPELINE = web.AppKey("pipeline", Pipeline)
TFTP = web.AppKey("tftp", TftpServer)
READINESS = web.AppKey("readiness", Readiness)
UPLOADS = web.AppKey("uploads", Uploads)
MIN_WATCH_SECONDS = 0.05  # a server always watches for config changes: lookups never read on the loop


def build_core(settings: Settings, *, migrate: bool = True) -> Core:
    engine = make_engine(settings.database_url, connect_timeout=settings.db_timeout_seconds,
                         statement_timeout=settings.db_statement_timeout_seconds)
    if migrate:
        upgrade_all(engine)
    sessions = session_factory(engine)
    install_operator_catalog(settings)  # PROVISIONER_CATALOG, in every process (workers are spawned)
    catalog = load_catalog()
    firmware = FirmwareStore(settings.firmware_path, (e.firmware_file for e in catalog.entries if e.firmware_file))
    recorder = SightingRecorder(sessions, interval=settings.sighting_flush_seconds)
    directory = Directory(sessions, settings)
    board = CampaignBoard(sessions)
    service = ProvisioningService(directory, catalog, firmware, VENDORS, orders=board.order)
    return Core(sessions, catalog, directory, service, recorder, board)


def build_intake(settings: Settings, core: Core, on_change: Callable[[], None] | None = None) -> TicketIntake:
    rules = IntakeRules(urgency=settings.urgency_table(), organization_share=settings.organization_share)
    return TicketIntake(
        core.sessions, lambda: datetime.now(UTC), rules=rules, max_hold=settings.intake_max_hold_seconds,
        on_change=on_change, process_database_url=settings.database_url if settings.intake_process else None,
    )


def build_pipeline(
    core: Core, intake: TicketIntake | None, verifier: SnmpVerification | None = None, guard: BanGuard | None = None,
    waiting_phones_per_hour: int = Settings.waiting_phones_per_hour,
) -> Pipeline:
    fanout = Fanout(core.catalog, core.recorder, intake, verifier, waiting_phones_per_hour=waiting_phones_per_hour)
    return Pipeline(core.service, fanout, guard or BanGuard(None))


def answer(pipeline: Pipeline, request: ConfigRequest, started: float | None = None) -> RenderedFile | None:
    """One config request, either protocol: the pipeline's outcome, its log line, its fan-out,
    its metrics (`started`: perf_counter() when the request arrived, if it waited before).

    A config the vendor cannot write for this phone (RenderError) is answered like a file
    we do not have; anything else unexpected is the caller's to turn into its failure."""
    started = time.perf_counter() if started is None else started
    protocol = request.protocol.value
    if pipeline.guard.banned(request.source_ip):
        metrics.config_answered(protocol, None, 404, (), started)
        return None  # the same 404 for everything, its real phones' files included; nothing recorded
    try:
        outcome = pipeline.service.fetch(request)
    except RenderError as error:
        log.warning("req=%d %s %s %r -> 404 (cannot render: %s)", request.request_id, request.protocol.value,
                    request.source_ip, request.filename, error)
        metrics.config_answered(protocol, None, 404, (), started)
        return None
    log_outcome(request, outcome)
    missed = pipeline.guard.missed(request, outcome)
    if missed and pipeline.guard.banned(request.source_ip):
        metrics.config_answered(protocol, outcome.identification.vendor, 404, (), started)
        return None  # this miss banned its address
    pipeline.fanout.config_fetched(request, outcome, missed=missed)
    metrics.config_answered(protocol, outcome.identification.vendor, 200 if outcome.file else 404,
                            outcome.findings, started)
    return outcome.file


def log_outcome(request: ConfigRequest, outcome: Outcome) -> None:
    """One line per fetch; a sensitive file is named as such and its body never logged."""
    ident = outcome.identification
    if outcome.file is not None and outcome.file.sensitive and security_log.isEnabledFor(logging.INFO):
        security_log.info(
            "req=%d sensitive file served to %s via %s: %s", request.request_id, request.source_ip,
            request.protocol.value, request.filename,
        )
    if not log.isEnabledFor(logging.INFO):
        return  # a storm at WARNING pays nothing for the line it does not write
    log.info(
        "req=%d %s %s %r -> %s (%s) vendor=%s model=%s fw=%s mac=%s findings=%s",
        request.request_id, request.protocol.value, request.source_ip, request.filename,
        "200" if outcome.file else "404", outcome.reason, ident.vendor, ident.model, ident.firmware,
        ident.mac, ",".join(outcome.findings) or "-",
    )


# -- HTTP ------------------------------------------------------------------------------------
async def handle_config(request: web.Request) -> web.StreamResponse:
    """GET|HEAD /prov/<key>/<file>, and /prov/d/<device token>/<file> (a phone's own URL,
    provisioner.enrollment). The hot path: no middleware runs before it, so it turns
    any failure into a plain 500 itself (never a traceback to a phone). The path holds the
    tenant key or the device token, secrets: log lines name the request id and the file only."""
    request_id = next(_request_ids)
    started = time.perf_counter()
    filename = request.match_info["filename"]
    try:
        config_request = ConfigRequest(
            protocol=Protocol.HTTP,
            tenant_key=request.match_info.get("key", ""),
            filename=filename,
            user_agent=request.headers.get("User-Agent"),
            source_ip=request.remote or "",  # behind a trusted proxy, its client (http_guard.believe_forwarded_for)
            received_at=request.app[CLOCK](),
            request_id=request_id,
            device_token=request.match_info.get("token"),
        )
        pipeline, directory = request.app[PIPELINE], request.app[CORE].directory
        token = config_request.device_token
        uploads = request.app[UPLOADS]
        if uploads.reads_back(filename) and (stored := await uploads.override(config_request, pipeline.service, pipeline.guard, directory)):
            return web.Response(body=stored, headers={"Content-Type": "application/xml", "Cache-Control": "no-store"})
        if directory.knows(config_request.tenant_key) if token is None else directory.knows_token(token):
            file = answer(pipeline, config_request)  # the hot path: from memory
        else:
            file = await answer_after_load(directory, pipeline, config_request, started)
    except Exception:
        log.exception("req=%d config request %s %r failed", request_id, request.method, filename)
        metrics.config_answered(Protocol.HTTP.value, None, 500, (), started)
        return web.Response(status=500, text="Internal Server Error\n", content_type="text/plain")
    if file is None:
        return _not_found()
    return web.Response(body=file.body, headers={"Content-Type": file.content_type, "Cache-Control": "no-store"})


async def handle_upload(request: web.Request) -> web.StreamResponse:
    """PUT /prov/<key>/<file>, /prov/d/<device token>/<file>: a phone writes back a log or its
    override file (provisioner.upload_http). Like handle_config: no traceback to a phone."""
    request_id = next(_request_ids)
    try:
        config_request = config_request_of(request, request_id)
        pipeline = request.app[PIPELINE]
        return await request.app[UPLOADS].receive(request, config_request, pipeline.service, pipeline.guard,
                                                  request.app[CORE].directory)
    except Exception:
        log.exception("req=%d upload %r failed", request_id, request.match_info.get("filename"))
        return web.Response(status=500, text="Internal Server Error\n", content_type="text/plain")


async def answer_after_load(directory: Directory, pipeline: Pipeline, request: ConfigRequest,
                            started: float | None = None) -> RenderedFile | None:
    """`answer`, once the directory has read the request's tenant key (or device token), off
    the event loop and for at most PROVISIONER_DB_TIMEOUT_SECONDS (why it waits:
    provisioner.directory's `load`). A key still unread then (the database is slow or gone) is
    answered like an unknown one."""
    started = time.perf_counter() if started is None else started
    if request.device_token is None:
        await directory.load(request.tenant_key)
    else:
        await directory.load_token(request.device_token)
    return answer(pipeline, request, started)


async def handle_health(request: web.Request) -> web.Response:
    """Liveness: the process answers. Touches nothing (readiness is /readyz)."""
    return web.json_response({"status": "ok"})


async def handle_ready(request: web.Request) -> web.Response:
    """Readiness: the database and the ticket writer answer in time (provisioner.readiness)."""
    status, body = await request.app[READINESS].check()
    return web.json_response(body, status=status)


async def handle_metrics(request: web.Request) -> web.Response:
    """Prometheus text for every worker process (provisioner.metrics): from the networks in
    PROVISIONER_METRICS_NETWORKS, or with PROVISIONER_METRICS_TOKEN; 403 for anyone else."""
    settings = request.app[SETTINGS]
    if not metrics.allowed_to_scrape(request.remote or "", request.headers.get("Authorization", ""),
                                     settings.metrics_scrapers(), settings.metrics_token):
        return web.Response(status=403, text="403: Forbidden")
    body = await asyncio.to_thread(metrics.exposition)  # reads every process's files
    return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE, "Cache-Control": "no-store"})


def _not_found() -> web.Response:
    """Exactly the router's own 404 (status, body, headers), so a known tenant key with an
    unknown file and a path that matches nothing cannot be told apart. A plain Response:
    returning the HTTPNotFound exception is deprecated in aiohttp."""
    return web.Response(status=404, text="404: Not Found")


def create_app(settings: Settings, core: Core, clock: Clock | None = None) -> web.Application:
    """The app, with everything it runs built in order: no part is rewired afterwards.
    `clock`: the time phones' requests are received at and campaigns advance by (tests set it)."""
    app = web.Application(handler_args={"max_field_size": 16384}, client_max_size=MAX_BODY)  # one body limit: web.limits
    app[SETTINGS] = settings
    app[CORE] = core
    app[CLOCK] = clock or (lambda: datetime.now(UTC))
    # Per-device URLs (issue 20): registered first, routes match in order ("d" is never a tenant key).
    app.router.add_get("/prov/d/{token}/{filename:.+}", handle_config, allow_head=True)
    app.router.add_get("/prov/{key}/{filename:.+}", handle_config, allow_head=True)
    app.router.add_put("/prov/d/{token}/{filename:.+}", handle_upload)  # phones' logs and override files
    app.router.add_put("/prov/{key}/{filename:.+}", handle_upload)
    app[UPLOADS] = Uploads(settings, core.sessions)
    app.router.add_get("/healthz", handle_health)
    app.router.add_get("/readyz", handle_ready)
    app.router.add_get("/metrics", handle_metrics)
    app.on_cleanup.append(_metrics_process_ended)
    app.cleanup_ctx.append(_sighting_writer)
    app.cleanup_ctx.append(_directory_watcher)
    app.cleanup_ctx.append(_tftp_server)
    app.cleanup_ctx.append(campaign_worker(core.sessions, core.campaigns, settings))
    setup_web(app, core.sessions)
    setup_tickets(app, core.sessions)
    setup_api(app)
    setup_installers(app)
    setup_device_files(app)  # a device's page: its override file and logs
    setup_dashboard(app)
    setup_survey(app)
    setup_onboarding(app)
    setup_campaigns(app)
    setup_portal(app)  # the customers' portal under /portal/ (its own sessions)
    setup_requester_invites(app)
    jobs = SupportJobs(core.sessions, lambda: datetime.now(UTC), interval=settings.support_job_seconds,
                       mail=settings.mail())
    app.cleanup_ctx.append(jobs.context)
    app[LIVE].on_change.append(jobs.wake)
    mail_in = imap_job(settings, core.sessions)  # issue 16: soporte@'s mail becomes tickets (every process polls)
    if mail_in is not None:
        mail_in.on_taken = lambda _taken: app[LIVE].poke()  # queues show new tickets; the mail job runs
        app.cleanup_ctx.append(mail_in.context)
    intake = build_intake(settings, core, on_change=app[LIVE].poke)  # new tickets show in open queues at once
    app.cleanup_ctx.append(intake.context)
    setup_softphones(app, core.sessions, core.catalog, settings, intake)  # Jitsi's POST, the one-time links
    app[READINESS] = Readiness(Probe(core.directory.ping, settings.db_timeout_seconds),
                               Probe(intake.worker_pid, settings.db_timeout_seconds))
    verifier = None
    if settings.snmp_enabled:
        verifier = SnmpVerification(settings, core.catalog, core.directory, core.directory, core.recorder, intake)
        app.cleanup_ctx.append(verifier.context)
    if settings.registrar_db_url:  # issue 19: what the registrar knows -> never_registered incidents
        app.cleanup_ctx.append(RegistrationJob(core.sessions, settings, core.catalog).context)
    guard = BanGuard.from_settings(settings, core.sessions, core.directory.said_unknown_request)  # shared by every process
    app.cleanup_ctx.append(guard.context)
    app[PIPELINE] = build_pipeline(core, intake, verifier, guard, settings.waiting_phones_per_hour)
    return app


async def _metrics_process_ended(_app: web.Application) -> None:
    metrics.process_ended()  # its queue depth is no longer anyone's


async def _sighting_writer(app: web.Application) -> AsyncIterator[None]:
    app[CORE].recorder.start()
    yield
    await app[CORE].recorder.stop()


async def _directory_watcher(app: web.Application) -> AsyncIterator[None]:
    """Serve the directory from memory (provisioner.directory): a thread reads config
    changes and the keys that missed; no fetch reads the database on the event loop."""
    directory = app[CORE].directory
    # The first pass before serving: a pass that began before a tenant's first (cold) load
    # would replace what that load read, and the next fetch would load it again.
    try:
        await asyncio.wait_for(directory.reload(), app[SETTINGS].db_timeout_seconds)
    except TimeoutError:
        log.error("database did not answer within %s s: serving starts with an empty directory",
                  app[SETTINGS].db_timeout_seconds)
    directory.serving = True
    loop = asyncio.get_running_loop()
    tasks = [
        loop.create_task(directory.watch(max(app[SETTINGS].cache_check_seconds, MIN_WATCH_SECONDS)),
                         name="directory-watcher"),
        loop.create_task(directory.read_wanted(), name="directory-reader"),
    ]
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    directory.serving = False


async def _tftp_server(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if settings.tftp_port < 0:  # disabled
        yield
        return
    pipeline = app[PIPELINE]
    directory = app[CORE].directory

    def source(path: str, client_ip: str) -> bytes | None | Awaitable[bytes | None]:
        """From memory at once; a key not in memory yet is a coroutine that the TFTP server
        awaits (off the loop, bounded: `answer_after_load`), as HTTP's handler does."""
        split = split_request_path(path)
        if split is None:
            return None
        key, filename = split
        request = ConfigRequest(Protocol.TFTP, key, filename, None, client_ip, app[CLOCK](), next(_request_ids))
        if not directory.knows(key):
            return _body(answer_after_load(directory, pipeline, request, time.perf_counter()))
        file = answer(pipeline, request)
        return file.body if file else None

    tftp = TftpServer(
        source, host=settings.host, port=settings.tftp_port,
        max_sessions=settings.tftp_max_sessions, max_sessions_per_source=settings.tftp_max_sessions_per_source,
        default_max_blksize=settings.tftp_max_blksize,
    )
    await tftp.start()
    app[TFTP] = tftp
    log.info("TFTP listening on %s:%d", settings.host, tftp.port)
    yield
    await tftp.stop()


async def _body(answering: Awaitable[RenderedFile | None]) -> bytes | None:
    file = await answering
    return file.body if file else None


def serve(settings: Settings, workers: int = 1) -> None:
    """Run the server; with several workers, HTTP is shared through SO_REUSEPORT.

    Worker 0 (this process) also runs TFTP, whose port is not shared. Every worker has its
    own caches, sighting writer and ticket intake; they agree through the database
    (config_version for caches, uq_open_ticket_key for tickets).
    """
    tls_context(settings)  # bad certificate or key files, or proxies: one line, before anything starts
    settings.trusted_proxy_networks()
    settings.metrics_scrapers()
    check_ports_free(settings)  # a port in use: one line, before anything says it listens
    migrate_once(settings)
    children = [_start_worker(settings, index) for index in range(1, workers)]
    try:
        _run_worker(settings, reuse_port=workers > 1, children=children)
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()  # told already on a clean shutdown (they ignore a repeat); else now
        for child in children:
            child.join(timeout=30)


def check_ports_free(settings: Settings) -> None:
    """SettingsError naming the port when HTTP's (TCP) or TFTP's (UDP) cannot be bound."""
    wanted = [("HTTP", socket.SOCK_STREAM, settings.http_port)]
    if settings.tftp_port >= 0:
        wanted.append(("TFTP", socket.SOCK_DGRAM, settings.tftp_port))
    for name, kind, port in wanted:
        try:
            family = socket.getaddrinfo(settings.host, port, type=kind)[0][0]
            with socket.socket(family, kind) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is no user
                probe.bind((settings.host, port))
        except OSError as error:
            raise SettingsError(f"{name} port {port} on {settings.host}: {error.strerror or error} "
                                f"(another server running? choose another with --{name.lower()}-port)") from None


def migrate_once(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    upgrade_all(engine)
    engine.dispose()


def _start_worker(settings: Settings, index: int) -> BaseProcess:
    context = multiprocessing.get_context("spawn")
    child = context.Process(
        target=_worker_main, args=(replace(settings, tftp_port=-1), index, os.getpid()), name=f"provisioner-worker-{index}",
        daemon=False,  # it starts a ticket worker process of its own; serve() stops it either way
    )
    child.start()
    return child


async def _ignore_further_sigterm(_app: web.Application) -> None:
    """Shutting down already: a second SIGTERM (from the first worker, and from whoever
    signalled the whole process group) must not interrupt the flush of sightings and tickets."""
    asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _stop_children(children: Sequence[BaseProcess]) -> Callable[[web.Application], Awaitable[None]]:
    """SIGTERM the other workers as soon as this one starts shutting down, so that every
    process flushes its sightings and tickets in parallel, not one after the other."""

    async def stop(_app: web.Application) -> None:
        for child in children:
            if child.is_alive():
                child.terminate()

    return stop


def _worker_main(settings: Settings, index: int, parent: int) -> None:
    exit_with_parent(parent)  # a SIGKILLed first worker must not leave this one serving its port
    log_setup.configure(settings.log_level, settings.log_format, worker=f"w{index}")
    _run_worker(settings, reuse_port=True)


def _run_worker(settings: Settings, *, reuse_port: bool, children: Sequence[BaseProcess] = ()) -> None:
    # Sightings and tickets are written from worker threads. Each time the event loop
    # comes back from a socket call while one of them holds the GIL, it waits up to the
    # switch interval for it: at CPython's 5 ms a storm stalled the loop behind them
    # (5,000-5,500 configs/s with 2 workers; 7,300-8,200 at 0.5 ms, bench/README.md).
    sys.setswitchinterval(settings.gil_switch_ms / 1000)
    ssl_context = tls_context(settings)
    trusted = settings.trusted_proxy_networks()
    limits = guard_limits(settings, trusted)
    app = create_app(settings, build_core(settings, migrate=False))
    app.on_shutdown.append(_ignore_further_sigterm)
    if children:
        app.on_shutdown.append(_stop_children(children))
    # Everything built so far (modules, SQLAlchemy, aiohttp, templates: ~120,000 objects)
    # lives as long as the process. Frozen, the cyclic collector stops walking it on every
    # full collection: those walks were 60-130 ms pauses of the event loop in a storm.
    gc.collect()
    gc.freeze()
    # Young collections every 20,000 new objects instead of 700, and a full one after 50
    # middle ones instead of 10: a 2-worker storm had 9 full collections, now 3.
    gc.set_threshold(20_000, 20, 50)
    log.info("HTTP %s, at most %d connections, %d per address (trusted proxies exempt: %s); head within %g s, "
             "bodies stalled %g s and idle keep-alive %g s are cut", "over TLS" if ssl_context else "in the clear",
             limits.max_connections, limits.per_source, settings.trusted_proxies or "none", limits.head_timeout,
             limits.body_timeout, settings.http_keepalive_seconds)
    # web.run_app's life cycle (signals, the graceful shutdown above, no access log) on a
    # site whose connections are guarded: one client cannot hold every socket (issue 20).
    run_guarded_app(
        app, host=settings.host, port=settings.http_port, limits=limits, ssl_context=ssl_context, backlog=4096,
        reuse_port=reuse_port or None, keepalive_timeout=settings.http_keepalive_seconds, trusted_proxies=trusted,
        listening=lambda: log.info("HTTP listening on %s:%d (pid %d)", settings.host, settings.http_port, os.getpid()),
    )


def guard_limits(settings: Settings, trusted: tuple[Network, ...]) -> GuardLimits:
    """This process's connection limits, after raising its descriptor limit as far as allowed.
    The process that runs TFTP leaves its session cap's descriptors to it."""
    open_files = raise_open_file_limit()
    tftp_share = settings.tftp_max_sessions if settings.tftp_port >= 0 else 0
    budget = connection_budget(settings.http_max_connections, open_files, shared_with=tftp_share)
    if tftp_share and budget > open_files - DESCRIPTOR_RESERVE - tftp_share:
        # Said at INFO: the common 20,000 limit meets this at every start, and half of it each
        # is plenty for a boot storm; an operator who wants more raises LimitNOFILE.
        log.info("descriptor limit %d shared by %d TFTP sessions and HTTP: HTTP keeps %d connections "
                 "(raise systemd's LimitNOFILE for more)", open_files, tftp_share, budget)
    return GuardLimits(
        per_source=settings.http_max_connections_per_source, max_connections=budget,
        head_timeout=settings.http_head_timeout_seconds, body_timeout=settings.http_body_timeout_seconds,
        exempt=trusted,
    )
