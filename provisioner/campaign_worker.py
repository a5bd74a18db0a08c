"""The server's firmware-campaign tasks (adapter): the board the render path reads, refreshed
every cache_check_seconds, and the tick (provisioner.campaign_store.tick) every
campaign_tick_seconds, both off the event loop. Every server process refreshes its board;
each tick locks the campaign row it moves, so several processes ticking never double a step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from provisioner.campaign_store import CampaignBoard, tick
from provisioner.settings import Settings

log = logging.getLogger("provisioner.campaigns")
Clock = Callable[[], datetime]
CLOCK = web.AppKey("clock", Clock)
MIN_REFRESH_SECONDS = 0.05


def campaign_worker(
    sessions: sessionmaker[Session], board: CampaignBoard, settings: Settings,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        clock = app[CLOCK]
        try:
            await asyncio.to_thread(board.refresh)
        except Exception:  # noqa: BLE001 - the database may be down at start: phones get no instruction
            log.exception("campaign board: first read failed")
        tasks = [asyncio.get_running_loop().create_task(_refresh(board, settings), name="campaign-board")]
        if settings.campaign_tick_seconds > 0:
            tasks.append(asyncio.get_running_loop().create_task(_ticks(sessions, board, settings, clock), name="campaign-tick"))
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return context


async def _refresh(board: CampaignBoard, settings: Settings) -> None:
    while True:
        await asyncio.sleep(max(settings.cache_check_seconds, MIN_REFRESH_SECONDS))
        try:
            await asyncio.to_thread(board.refresh)
        except Exception:  # noqa: BLE001 - keep serving from the last board; try again
            log.exception("campaign board: read failed")


async def _ticks(sessions: sessionmaker[Session], board: CampaignBoard, settings: Settings, clock: Clock) -> None:
    mail = settings.campaign_mail()
    while True:
        await asyncio.sleep(settings.campaign_tick_seconds)
        try:
            report = await asyncio.to_thread(tick, sessions, settings.firmware_path, clock(), mail)
            if report.instructed or report.done or report.failed or report.halted or report.notices_sent:
                log.info("campaigns: %s", report)
            await asyncio.to_thread(board.refresh)
        except Exception:  # noqa: BLE001 - one bad tick must not stop the next
            log.exception("campaign tick failed")
