"""The ticket writer in a process of its own.

A storm's 5,000 findings cost the writer about a second of Python. In a thread of the
server process that second holds the interpreter lock against the event loop: each time
the loop comes back from a socket call it may wait for the writer, and the p99 of config
fetches rose by half while a storm's tickets were written (bench/README.md). In a child
process the two share only the CPU, where the child runs niced below the loop.

The child builds its own engine from the database URL; like the server workers, the
processes agree through the database. Observations go to it pickled (in the event loop,
LOOP_SLICE at a time, so a storm's batch never holds the loop for long), and each batch's
stats come back. A child that dies (the OOM killer, a crash in a driver) fails its batch,
and the next batch, or the intake's retry of the same one, gets a new child.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import pickle  # nosec B403 - batches pickled by this server's own parent process
import signal
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import TypeVar

from provisioner.db.engine import make_engine, session_factory
from provisioner.lifeline import exit_with_parent
from provisioner.ticket_writer import IntakeRules, IntakeStats, Observation, TicketWriter

log = logging.getLogger("provisioner.intake")

INTAKE_NICE = 10  # below the event loop serving configs
# Observations handled per turn of the event loop: a storm's 5,000 must not stall fetches.
# At 500, a raise batch's hand-over still put about 50 probe fetches over 6 ms (a stall of
# 20-35 ms where the loop turned slowly); at 100 none (bench/intake_latency.py --timeline).
LOOP_SLICE = 100
_T = TypeVar("_T")


class WriterProcess:
    """The parent's handle on the child: write batches there, replace it if it dies."""

    def __init__(self, database_url: str, rules: IntakeRules) -> None:
        self._database_url = database_url
        self._rules = rules
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Spawn the child now (it takes a moment) rather than on the first batch."""
        self._executor().submit(os.getpid)

    async def write(self, batch: list[Observation], now: datetime) -> IntakeStats:
        # Pickled here a slice per turn of the event loop: the pool's feeder thread would
        # pickle a storm's batch in one go, holding the interpreter lock against the loop.
        parts = [pickle.dumps(part, pickle.HIGHEST_PROTOCOL) async for part in in_slices(batch)]
        return await self._call(_write, parts, now)

    async def pid(self) -> int:
        return await self._call(os.getpid)

    async def stop(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, wait=True)

    async def _call(self, function: Callable[..., _T], *args: object) -> _T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor(), function, *args)
        except BrokenProcessPool:
            log.error("the ticket worker process died; the next batch starts a new one")
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
            raise

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=_start_child,
                initargs=(self._database_url, self._rules, logging.getLogger().getEffectiveLevel(), os.getpid()),
            )
        return self._pool


async def in_slices(items: list[_T]) -> AsyncIterator[list[_T]]:
    """`items` LOOP_SLICE at a time, letting the event loop serve fetches between slices."""
    for start in range(0, len(items), LOOP_SLICE):
        if start:
            await asyncio.sleep(0)
        yield items[start : start + LOOP_SLICE]


def yield_cpu() -> None:
    """Run the calling thread (Linux nice is per thread) below the event loop's priority:
    a storm's 5,000 findings must not slow the configs being served."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0) + INTAKE_NICE)


# -- in the child ------------------------------------------------------------------------
_writer: TicketWriter | None = None


def _start_child(database_url: str, rules: IntakeRules, log_level: int, parent: int) -> None:
    # Ctrl-C and a SIGTERM to the whole process group are the server's to handle: it
    # drains its queue into this process before it stops it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    exit_with_parent(parent)  # ignoring SIGTERM, it would outlive a SIGKILLed server
    yield_cpu()
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s ticket-worker %(name)s %(message)s")
    global _writer
    _writer = TicketWriter(session_factory(make_engine(database_url)), rules)


def _write(parts: list[bytes], now: datetime) -> IntakeStats:
    assert _writer is not None, "initializer did not run"
    return _writer.process([observation for part in parts for observation in pickle.loads(part)], now)  # nosec B301 - bytes from the parent process over the pool's pipe, never from a client
