"""The miss budget and bans on the request path, shared by every server process (adapter
around the pure provisioner.bans).

    answer(request)                       provisioner.server
        guard.banned(ip)                  one dict lookup; the clock is read only for an address holding a ban
        guard.missed(request, outcome)    a miss is counted for its address; the one past the budget bans
                                          it, with one line on the provisioner.security logger
    every `interval` seconds, in a worker thread (never a query per request):
        store this process's new bans, forget run-out ones, read every process's bans and the
        tenants' declared networks

`provisioner security unban IP` deletes the stored ban: every process drops it at its next read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from provisioner import ban_store, metrics
from provisioner.bans import Ban, BanRules, MissLedger, Network, ban_log_line, miss_reason
from provisioner.service import Outcome
from provisioner.settings import Settings
from provisioner.values import ConfigRequest

log = logging.getLogger("provisioner.bans")
security_log = logging.getLogger("provisioner.security")


class BanGuard:
    def __init__(
        self, sessions: sessionmaker[Session] | None, rules: BanRules = BanRules(), interval: float = 2.0,
        clock: Callable[[], float] = time.time, said_unknown: Callable[[ConfigRequest], bool] | None = None,
    ) -> None:
        self._sessions = sessions  # None: bans held by this process only (benchmarks, tests)
        self._ledger = MissLedger(rules)
        self._interval = interval
        self._clock = clock
        # Whether the database itself said the request's key (or token) is nobody's: one it
        # could not read in time (an outage) is a 404 too, but no miss, or a site's phones
        # would be banned for the database's silence. None: every unknown key counts.
        self._said_unknown = said_unknown

    @classmethod
    def from_settings(cls, settings: Settings, sessions: sessionmaker[Session],
                      said_unknown: Callable[[ConfigRequest], bool] | None = None) -> BanGuard:
        rules = BanRules(settings.miss_limit, settings.miss_window_seconds, settings.ban_seconds)
        return cls(sessions, rules, settings.ban_sync_seconds, said_unknown=said_unknown)

    def banned(self, ip: str) -> bool:
        ledger = self._ledger
        return ledger.holds_ban(ip) and ledger.banned(ip, self._clock())

    def missed(self, request: ConfigRequest, outcome: Outcome) -> bool:
        """Whether the request is a miss; one is counted for its address (it may ban it)."""
        tenant, ident = outcome.tenant, outcome.identification
        if miss_reason(tenant is not None, outcome.device is not None, ident.mac, ident.role) is None:
            return False
        if tenant is None and self._said_unknown is not None and not self._said_unknown(request):
            return False  # not read in time: the database's silence is nobody's miss
        ban = self._ledger.miss(request.source_ip, tenant.view.slug if tenant else None, self._clock())
        if ban is not None:
            metrics.BANS.inc()
            security_log.warning(ban_log_line(ban))  # the whole line is fail2ban's: no prefix
        return True

    # -- sharing bans between processes ------------------------------------------------------
    def sync(self) -> None:
        """Blocking, for a worker thread; see exchange()."""
        if self._sessions is None:
            return
        new = self._ledger.take_pending()
        try:
            stored, networks = exchange(self._sessions, new, self._clock())
        except Exception:
            self._ledger.return_pending(new)
            raise
        self._ledger.install(stored, networks)

    async def context(self, _app: Any) -> AsyncIterator[None]:
        """For the app's cleanup_ctx: a first read before serving (bans and declared networks
        survive a restart), then one every `interval`; this process's last bans stored at the end."""
        await self._sync_logged()
        task = asyncio.get_running_loop().create_task(self._run(), name="ban-sync")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await self._sync_logged()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self._sync_logged()

    async def _sync_logged(self) -> None:
        try:
            await asyncio.to_thread(self.sync)
        except Exception:
            metrics.database_error("bans")
            log.exception("could not store or read the bans; retrying in %s s", self._interval)


def exchange(sessions: sessionmaker[Session], new: list[Ban], now: float) -> tuple[list[Ban], tuple[Network, ...]]:
    """Store `new` bans and forget run-out ones; every process's bans and the declared networks."""
    with sessions.begin() as session:
        ban_store.store(session, new)
        ban_store.forget_expired(session, now)
        return ban_store.active(session, now), ban_store.declared_networks(session)
