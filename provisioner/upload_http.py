"""HTTP PUT of the files phones write back, and the read-back of override files (an adapter).

    PUT /prov/<key>/<name>, PUT /prov/d/<token>/<name>
        guard.banned(source ip)                    404, nothing read
        service.upload_target(request)             whose file (provisioner.service); refused: 404,
                                                   counted as a miss like a GET of the same name
        budget.allow(phone, kind)                  429 (before the body is read)
        Content-Length / body past the cap         413 (never read past the cap)
        uploads.redirecting_parameter(body)        403 (an override file that moves the phone)
        upload_store.store_upload (worker thread)  201 first file of its kind, else 204

    GET|HEAD <mac>-phone.cfg                       the stored override file of that phone, when
                                                   service.upload_target allows it and one is
                                                   stored; otherwise the pipeline's usual answer

Log lines name the request id, the file name and the outcome; never the key, the token or
the body (an override file may carry a password the user typed on the phone).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from provisioner import upload_store
from provisioner.settings import Settings
from provisioner.uploads import UploadBudget, redirecting_parameter, upload_name
from provisioner.values import ConfigRequest, Protocol, UploadKind
from provisioner.vendors import VENDORS

if TYPE_CHECKING:
    from provisioner.ban_sync import BanGuard
    from provisioner.directory import Directory
    from provisioner.service import ProvisioningService

log = logging.getLogger("provisioner.uploads")
security_log = logging.getLogger("provisioner.security")
T = TypeVar("T")


class Uploads:
    """What the upload routes need besides the pipeline: limits, the budget, the database."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.max_bytes = settings.upload_max_bytes
        self.logs_kept = settings.upload_logs_kept
        self.budget = UploadBudget(settings.uploads_per_hour)
        self.db_timeout = settings.db_timeout_seconds
        self.sessions = sessions

    def reads_back(self, filename: str) -> bool:
        """Whether a GET of this name may be a phone's stored override file (no lookups; asked
        on every config GET, so remembered like the pipeline's identification)."""
        return _is_override_name(filename)

    async def _in_thread(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.wait_for(asyncio.to_thread(partial(function, *args)), self.db_timeout * 5)

    # -- PUT ----------------------------------------------------------------------------------
    async def receive(self, request: web.Request, config_request: ConfigRequest, service: ProvisioningService,
                      guard: BanGuard, directory: Directory) -> web.Response:
        rid, filename = config_request.request_id, config_request.filename
        if guard.banned(config_request.source_ip):
            return not_found()
        await _loaded(directory, config_request)
        decision = service.upload_target(config_request)
        if decision.name is None or decision.outcome.device is None:
            log.info("req=%d PUT %s %r -> 404 (%s)", rid, config_request.source_ip, filename, decision.outcome.reason)
            guard.missed(config_request, decision.outcome)
            return not_found()
        name, device = decision.name, decision.outcome.device
        if not self.budget.allow(device.id, name.kind, time.monotonic()):  # before reading: a throttled body costs nothing
            log.warning("req=%d PUT %s %r -> 429 (more than %d an hour) mac=%s", rid, config_request.source_ip,
                        filename, self.budget.per_hour, device.mac)
            return web.Response(status=429, text="429: Too Many Requests")
        body = await read_capped(request, self.max_bytes)
        if body is None:
            log.warning("req=%d PUT %s %r -> 413 (more than %d bytes) mac=%s", rid, config_request.source_ip,
                        filename, self.max_bytes, device.mac)
            return web.Response(status=413, text="413: Payload Too Large")
        if name.kind is UploadKind.OVERRIDE and (parameter := redirecting_parameter(body)):
            security_log.warning("req=%d override file refused from %s for %s: it sets %s", rid,
                                 config_request.source_ip, device.mac, parameter)
            return web.Response(status=403, text="403: Forbidden")
        try:
            created = await self._in_thread(self._store, device.id, name.kind, body, config_request)
        except Exception as error:  # the database is gone or slow: the phone uploads again later
            # Only the error's class: a database error's text repeats its parameters, the body among them.
            log.error("req=%d PUT %r from %s not stored: %s", rid, filename, config_request.source_ip,
                      type(error).__name__)
            return web.Response(status=503, text="503: Service Unavailable")
        log.info("req=%d PUT %s %r -> %d (%s, %d bytes) mac=%s", rid, config_request.source_ip, filename,
                 201 if created else 204, name.kind.value, len(body), device.mac)
        return web.Response(status=201) if created else web.Response(status=204)

    def _store(self, device_id: int, kind: UploadKind, body: bytes, request: ConfigRequest) -> bool:
        with self.sessions.begin() as session:
            return upload_store.store_upload(
                session, device_id, kind, body, source_ip=request.source_ip, user_agent=request.user_agent,
                received_at=request.received_at, keep=self.logs_kept,
            )

    # -- GET of an override file --------------------------------------------------------------
    async def override(self, config_request: ConfigRequest, service: ProvisioningService, guard: BanGuard,
                       directory: Directory) -> bytes | None:
        """The phone's stored override file, or None (then the pipeline answers as usual)."""
        if guard.banned(config_request.source_ip):
            return None
        await _loaded(directory, config_request)
        decision = service.upload_target(config_request)
        device = decision.outcome.device
        if decision.name is None or device is None:
            return None
        try:
            body = await self._in_thread(self._override, device.id)
        except Exception as error:
            log.error("req=%d override file of %s not read: %s", config_request.request_id, device.mac,
                      type(error).__name__)
            return None
        if body is not None:
            security_log.info("req=%d sensitive file served to %s via http: %s", config_request.request_id,
                              config_request.source_ip, config_request.filename)
            log.info("req=%d http %s %r -> 200 (stored override file, %d bytes) mac=%s", config_request.request_id,
                     config_request.source_ip, config_request.filename, len(body), device.mac)
        return body

    def _override(self, device_id: int) -> bytes | None:
        with self.sessions() as session:
            return upload_store.override_file(session, device_id)


async def read_capped(request: web.Request, limit: int) -> bytes | None:
    """The request body, or None when it is (or says it is) longer than `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(min(65536, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


async def _loaded(directory: Directory, request: ConfigRequest) -> None:
    """The request's tenant key (or device token) in the directory's memory, as `answer_after_load`."""
    if request.device_token is None:
        if not directory.knows(request.tenant_key):
            await directory.load(request.tenant_key)
    elif not directory.knows_token(request.device_token):
        await directory.load_token(request.device_token)


def config_request_of(request: web.Request, request_id: int) -> ConfigRequest:
    return ConfigRequest(
        protocol=Protocol.HTTP, tenant_key=request.match_info.get("key", ""), filename=request.match_info["filename"],
        user_agent=request.headers.get("User-Agent"), source_ip=request.remote or "",
        received_at=datetime.now(UTC), request_id=request_id, device_token=request.match_info.get("token"),
    )


@functools.lru_cache(maxsize=65536)
def _is_override_name(filename: str) -> bool:
    name = upload_name(filename, VENDORS.values())
    return name is not None and name.kind is UploadKind.OVERRIDE


def not_found() -> web.Response:
    """The same 404 as every other unknown name (provisioner.server._not_found)."""
    return web.Response(status=404, text="404: Not Found")
