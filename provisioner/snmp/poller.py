"""Adapter: poll phones over SNMP after they fetch a config, then every `interval` seconds.

    config fetch --schedule(target, delay)--> one loop per (tenant_id, mac)
        wait until due --> semaphore --> snmp_get (timeout, retries) --> parse_reading
        --> reachability.advance --> PollResult --> queue --> on_result (one deliverer task)

- `schedule` is plain and synchronous (no await, O(1)): safe to call from a request handler.
  Scheduling a known phone again replaces its target (new IP, community) and moves its next
  poll to `delay` from now if that is sooner; it never starts a second loop.
- At most `max_concurrency` GETs are in flight; each waits at most timeout x (retries + 1).
- Results go through a queue to one deliverer task: polling never waits for `on_result`,
  results of one phone arrive in order, and an exception in `on_result` is logged and dropped.
  `on_result` may be a plain function or a coroutine function; a plain one must not block.
- `start()` / `stop()` fit an aiohttp cleanup_ctx:

      async def snmp_poller_ctx(app):
          await app[POLLER].start()
          yield
          await app[POLLER].stop()

  `stop` cancels the polls, delivers the results already made (bounded wait), and closes the
  SNMP engine. Counters live in memory: after a restart each phone starts from zero.
- `clock` stamps `PollResult.at`; waiting uses the event loop's own monotonic time.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timezone

from provisioner.snmp.client import close_engine, snmp_get
from provisioner.snmp.errors import AgentError, RequestFailed
from provisioner.snmp.parse import SnmpReading, oids_for, parse_reading
from provisioner.snmp.reachability import Reachability, advance

log = logging.getLogger(__name__)

Key = tuple[int, str]
SnmpGet = Callable[[str, int, str, tuple[str, ...], float, int], Awaitable["dict[str, str] | None"]]


@dataclass(frozen=True)
class PollTarget:
    """Where and how to read one phone. `mac` is 12 lower-case hex digits; `ip` is where it fetched from."""

    tenant_id: int
    mac: str
    ip: str
    _: KW_ONLY
    port: int = 161
    community: str = field(repr=False)  # a credential: kept out of reprs and logs
    vendor: str

    @property
    def key(self) -> Key:
        return (self.tenant_id, self.mac)


@dataclass(frozen=True)
class PollResult:
    """One poll of one phone.

    `reading` is None when the phone did not answer, or answered only with an SNMP error
    (then `error` says which). `reachable` is the phone's state after this poll: False from
    the poll that reaches the unreachable threshold until the next answer.
    `became_unreachable` and `recovered` are each True on exactly one poll per transition.
    """

    target: PollTarget
    reading: SnmpReading | None
    reachable: bool
    consecutive_timeouts: int
    became_unreachable: bool
    recovered: bool
    at: datetime
    error: str | None = None

    @property
    def mac_mismatch(self) -> bool:
        """The agent reports another MAC than the target's: the IP now belongs to another device."""
        return self.reading is not None and self.reading.mac is not None and self.reading.mac != self.target.mac


ResultCallback = Callable[[PollResult], "Awaitable[None] | None"]


@dataclass(frozen=True)
class _Outcome:
    answered: bool
    reading: SnmpReading | None = None
    error: str | None = None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class SnmpPoller:
    def __init__(
        self,
        on_result: ResultCallback,
        *,
        interval: float = 3600.0,
        timeout: float = 2.0,
        retries: int = 1,
        unreachable_after: int = 3,
        max_concurrency: int = 20,
        clock: Callable[[], datetime] = _utc_now,
        get: SnmpGet = snmp_get,
        drain_seconds: float = 5.0,
    ) -> None:
        _check_settings(interval, timeout, retries, unreachable_after, max_concurrency)
        self._on_result = on_result
        self._interval = interval
        self._timeout = timeout
        self._retries = retries
        self._threshold = unreachable_after
        self._clock = clock
        self._get = get
        self._drain_seconds = drain_seconds
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._targets: dict[Key, PollTarget] = {}
        self._delays: dict[Key, float] = {}  # scheduled before start()
        self._due: dict[Key, float] = {}  # loop time of each phone's next poll
        self._wake: dict[Key, asyncio.Event] = {}
        self._tasks: dict[Key, asyncio.Task[None]] = {}
        self._states: dict[Key, Reachability] = {}
        self._results: asyncio.Queue[PollResult] = asyncio.Queue()
        self._deliverer: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------------- lifetime

    async def start(self) -> None:
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._deliverer = asyncio.create_task(self._deliver(), name="snmp-poller-deliver")
        for key, delay in self._delays.items():
            self._arm(key, delay)
        self._delays.clear()

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._drain()
        self._loop = None
        close_engine()

    async def _drain(self) -> None:
        if self._deliverer is None:
            return
        try:
            async with asyncio.timeout(self._drain_seconds):
                await self._results.join()
        except TimeoutError:
            log.warning("SNMP poller stopped with %d results undelivered", self._results.qsize())
        self._deliverer.cancel()
        await asyncio.gather(self._deliverer, return_exceptions=True)
        self._deliverer = None

    # ----------------------------------------------------------------------- scheduling

    def schedule(self, target: PollTarget, delay: float) -> None:
        """Poll `target` `delay` seconds from now, then every interval. UnsupportedVendor if it has no agent."""
        oids_for(target.vendor)
        key = target.key
        self._targets[key] = target
        if self._loop is None:
            self._delays[key] = min(delay, self._delays.get(key, delay))
            return
        self._arm(key, delay)

    def unschedule(self, tenant_id: int, mac: str) -> None:
        """Forget a phone: no more polls, and its timeout counter is dropped."""
        key = (tenant_id, mac)
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()
        self._targets.pop(key, None)
        self._delays.pop(key, None)
        self._due.pop(key, None)
        self._wake.pop(key, None)
        self._states.pop(key, None)

    def _arm(self, key: Key, delay: float) -> None:
        assert self._loop is not None
        due = self._loop.time() + delay
        self._due[key] = min(due, self._due.get(key, due))
        self._wake.setdefault(key, asyncio.Event()).set()
        task = self._tasks.get(key)
        if task is None or task.done():
            self._tasks[key] = asyncio.create_task(self._run(key), name=f"snmp-poll-{key[0]}-{key[1]}")

    # -------------------------------------------------------------------------- polling

    async def _run(self, key: Key) -> None:
        while True:
            await self._until_due(key)
            assert self._loop is not None
            self._due[key] = self._loop.time() + self._interval
            try:
                result = await self._poll(self._targets[key])
            except Exception:  # noqa: BLE001 - one phone's bug must not end its loop
                log.exception("SNMP poll failed for tenant %s mac %s", key[0], key[1])
                continue
            self._results.put_nowait(result)

    async def _until_due(self, key: Key) -> None:
        assert self._loop is not None
        wake = self._wake[key]
        while (remaining := self._due[key] - self._loop.time()) > 0:
            wake.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancel that lands
            # as the wait ends, and stop() then waited forever for this loop (seen in a test run).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await wake.wait()

    async def _poll(self, target: PollTarget) -> PollResult:
        async with self._semaphore:
            outcome = await self._ask(target)
        step = advance(self._states.get(target.key, Reachability()), outcome.answered, self._threshold)
        self._states[target.key] = step.state
        if step.became_unreachable or step.recovered:
            log.info("SNMP tenant %s mac %s at %s: %s", target.tenant_id, target.mac, target.ip,
                     "unreachable" if step.became_unreachable else "recovered")
        return PollResult(
            target=target, reading=outcome.reading, reachable=not step.state.unreachable,
            consecutive_timeouts=step.state.consecutive_timeouts, became_unreachable=step.became_unreachable,
            recovered=step.recovered, at=self._clock(), error=outcome.error,
        )

    async def _ask(self, target: PollTarget) -> _Outcome:
        """One reading; an OID the agent rejects with an error-status is dropped and the rest asked again."""
        oids = oids_for(target.vendor)
        while True:
            try:
                answer = await self._get_once(target, oids)
            except AgentError as exc:
                if exc.oid is None or exc.oid not in oids or len(oids) == 1:
                    return _Outcome(answered=True, error=str(exc))
                oids = tuple(oid for oid in oids if oid != exc.oid)
                continue
            except RequestFailed as exc:
                log.warning("SNMP tenant %s mac %s: %s", target.tenant_id, target.mac, exc)
                return _Outcome(answered=False, error=str(exc))
            if answer is None:
                return _Outcome(answered=False)
            return _Outcome(answered=True, reading=parse_reading(target.vendor, answer))

    async def _get_once(self, target: PollTarget, oids: tuple[str, ...]) -> dict[str, str] | None:
        # A hard deadline over the engine's own timeout: a lost engine callback must not hold a slot.
        deadline = self._timeout * (self._retries + 1) + 1.0
        try:
            async with asyncio.timeout(deadline):
                return await self._get(target.ip, target.port, target.community, oids, self._timeout, self._retries)
        except TimeoutError:
            return None

    # ------------------------------------------------------------------------- delivery

    async def _deliver(self) -> None:
        while True:
            result = await self._results.get()
            try:
                await self._call(result)
            finally:
                self._results.task_done()

    async def _call(self, result: PollResult) -> None:
        try:
            outcome = self._on_result(result)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:  # noqa: BLE001 - a consumer's failure must not stop delivery
            log.exception("SNMP result handler failed for tenant %s mac %s", result.target.tenant_id, result.target.mac)


def _check_settings(interval: float, timeout: float, retries: int, unreachable_after: int, max_concurrency: int) -> None:
    if interval <= 0 or timeout <= 0:
        raise ValueError("interval and timeout must be positive")
    if retries < 0:
        raise ValueError("retries must be 0 or more")
    if unreachable_after < 1 or max_concurrency < 1:
        raise ValueError("unreachable_after and max_concurrency must be at least 1")
