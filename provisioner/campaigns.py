"""Firmware campaigns inside the maintenance window (pure: no I/O, no clock reads).

The operator's rulebook (shared/reference/service-model.md §2): maintenance is announced
10-15 days ahead and done between 19:00 and 05:00 Bogota; a fix for a critical fault may be
announced and done the same day. A campaign moves one model of one tenant to one version:

    plan_campaign(...)      -> CampaignPlan or CampaignRefused (lead time, target, direction)
    maintenance_window(day) -> [19:00 that day, 05:00 the next) in America/Bogota
    firmware_instruction    -> the image a phone's config points at now, or None (the render path)
    advance(...)            -> what one tick of the worker does: announce, remind, open the
                               window, canary then the rest, judge each phone, halt or finish

Phone states: pending -> instructed -> done | failed; "already" (on the target when planned),
"skipped" (not reached: the window closed, the campaign halted or was cancelled).
Campaign states: planned -> announced -> in_window -> done | halted; cancelled from any
state before done.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from firmware_catalog.errors import VersionError
from firmware_catalog.versions import compare_versions

BOGOTA = ZoneInfo("America/Bogota")
WINDOW_OPENS = time(19, 0)
WINDOW_CLOSES = time(5, 0)  # the next morning
MIN_LEAD_DAYS = 10  # rulebook: announced 10-15 days ahead
MAX_LEAD_DAYS = 15
CANARY_SHARE = 0.05
DEFAULT_MAX_FAILURE_SHARE = 0.2  # more than this share of a wave's phones failing halts the campaign
DEFAULT_PHONE_TIMEOUT = timedelta(minutes=30)  # an instructed phone must be back on the target by then
REMINDER_BEFORE = timedelta(days=1)


class CampaignState(StrEnum):
    PLANNED = "planned"
    ANNOUNCED = "announced"
    IN_WINDOW = "in_window"
    DONE = "done"
    HALTED = "halted"
    CANCELLED = "cancelled"


class PhoneState(StrEnum):
    PENDING = "pending"
    INSTRUCTED = "instructed"
    DONE = "done"
    FAILED = "failed"
    ALREADY = "already"
    SKIPPED = "skipped"


FINISHED = (CampaignState.DONE, CampaignState.HALTED, CampaignState.CANCELLED)
SETTLED = (PhoneState.DONE, PhoneState.FAILED, PhoneState.ALREADY, PhoneState.SKIPPED)


class Direction(StrEnum):
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    MIXED = "mixed"  # some phones newer than the target, some older
    NONE = "none"  # every phone already runs the target


# -- the window ------------------------------------------------------------------------------
def maintenance_window(day: date) -> tuple[datetime, datetime]:
    """[19:00 on `day`, 05:00 the next day) in Bogota (UTC-5 all year: no gap, no fold)."""
    opens = datetime.combine(day, WINDOW_OPENS, BOGOTA)
    closes = datetime.combine(day + timedelta(days=1), WINDOW_CLOSES, BOGOTA)
    return opens, closes


def in_window(day: date, now: datetime) -> bool:
    opens, closes = maintenance_window(day)
    return opens <= now < closes


# -- planning --------------------------------------------------------------------------------
class CampaignRefused(Exception):
    """A campaign the rules do not allow; the message is the operator's one line (Spanish)."""


@dataclass(frozen=True)
class CampaignPlan:
    target: str
    direction: Direction
    day: date
    critical: bool
    canary: tuple[str, ...]  # MACs of the first wave
    rest: tuple[str, ...]  # MACs of the second wave
    already: tuple[str, ...]  # MACs already on the target


def lead_days(day: date, now: datetime) -> int:
    """Whole days from today (Bogota) to the campaign's day."""
    return (day - now.astimezone(BOGOTA).date()).days


def check_date(day: date, now: datetime, critical: bool) -> None:
    """Rulebook §2: 10-15 days ahead; a critical fix may be the same day (never in the past,
    never once that day's window has closed)."""
    days = lead_days(day, now)
    if now >= maintenance_window(day)[1]:
        raise CampaignRefused(f"la fecha {day.isoformat()} ya pasó")
    if critical:
        return
    if days < MIN_LEAD_DAYS:
        raise CampaignRefused(
            f"la fecha {day.isoformat()} está a {days} días: el mantenimiento se anuncia con al menos "
            f"{MIN_LEAD_DAYS} días (use --critical solo para corregir una falla crítica)"
        )
    if days > MAX_LEAD_DAYS:
        raise CampaignRefused(
            f"la fecha {day.isoformat()} está a {days} días: el mantenimiento se anuncia con 10 a 15 días"
        )


def direction(current: str | None, target: str) -> Direction:
    """One phone's move: unknown firmware counts as an upgrade (it gets the instruction)."""
    if current is None:
        return Direction.UPGRADE
    try:
        order = compare_versions(current, target)
    except VersionError:
        return Direction.UPGRADE
    return {-1: Direction.UPGRADE, 0: Direction.NONE, 1: Direction.DOWNGRADE}[order]


def campaign_direction(moves: Sequence[Direction]) -> Direction:
    kinds = {move for move in moves if move is not Direction.NONE}
    if not kinds:
        return Direction.NONE
    return kinds.pop() if len(kinds) == 1 else Direction.MIXED


def canary_size(phones: int, share: float = CANARY_SHARE) -> int:
    """5 % of the phones, at least one (none when there are none)."""
    return 0 if phones <= 0 else max(1, math.ceil(phones * share))


def plan_campaign(
    phones: Mapping[str, str | None], homologated: str, to: str | None, day: date, now: datetime, critical: bool,
    image_version: str | None,
) -> CampaignPlan:
    """`phones`: MAC -> the firmware it last reported (None: unknown). `image_version`: the
    version recorded for the model's image in the store (None: no image there)."""
    target = (to or homologated).strip()
    try:
        compare_versions(target, homologated)
    except VersionError:
        raise CampaignRefused(f"{target!r} no es una versión de firmware (números con puntos, p. ej. 34.72.0.75)") from None
    check_date(day, now, critical)
    if not phones:
        raise CampaignRefused("el cliente no tiene teléfonos de ese modelo")
    if image_version is None:
        raise CampaignRefused("la imagen de ese modelo no está en el almacén: súbala con `provisioner firmware add`")
    if compare_versions(image_version, target) != 0:
        raise CampaignRefused(f"la imagen del almacén es la versión {image_version}, no {target}")
    moves = {mac: direction(version, target) for mac, version in phones.items()}
    movers = sorted(mac for mac, move in moves.items() if move is not Direction.NONE)
    if not movers:
        raise CampaignRefused(f"todos los teléfonos de ese modelo ya tienen la versión {target}")
    size = canary_size(len(movers))
    return CampaignPlan(
        target=target, direction=campaign_direction(list(moves.values())), day=day, critical=critical,
        canary=tuple(movers[:size]), rest=tuple(movers[size:]),
        already=tuple(sorted(mac for mac, move in moves.items() if move is Direction.NONE)),
    )


# -- the render path -------------------------------------------------------------------------
@dataclass(frozen=True)
class PhoneOrder:
    """What the worker decided for one phone of a running campaign (read by the render path)."""

    campaign_id: int
    day: date
    campaign_state: CampaignState
    phone_state: PhoneState
    image_name: str


def firmware_instruction(order: PhoneOrder | None, now: datetime) -> str | None:
    """The image this phone's config points at now, or None (its config then carries no
    firmware instruction at all). Only a phone the worker has instructed, of a campaign in its
    window, and only while the window is open: outside it nothing, whatever the worker last did."""
    if order is None:
        return None
    if order.campaign_state is not CampaignState.IN_WINDOW or order.phone_state is not PhoneState.INSTRUCTED:
        return None
    return order.image_name if in_window(order.day, now) else None


# -- the worker's tick -----------------------------------------------------------------------
@dataclass(frozen=True)
class Phone:
    mac: str
    wave: int  # 1 canary, 2 the rest
    state: PhoneState
    instructed_at: datetime | None = None
    deadline: datetime | None = None
    version: str | None = None  # last reported (User-Agent or SNMP)
    reported_at: datetime | None = None


@dataclass(frozen=True)
class Campaign:
    state: CampaignState
    day: date
    target: str
    critical: bool
    announced: bool
    reminded: bool
    max_failure_share: float = DEFAULT_MAX_FAILURE_SHARE
    phone_timeout: timedelta = DEFAULT_PHONE_TIMEOUT
    image_ok: bool = True  # the image still hashes to what was recorded


class Notice(StrEnum):
    ANNOUNCEMENT = "announcement"
    REMINDER = "reminder"


@dataclass(frozen=True)
class Step:
    """What a tick changed: the new campaign state, phones, notices to send, and why it halted."""

    state: CampaignState
    phones: tuple[Phone, ...]
    notices: tuple[Notice, ...] = ()
    halted_because: str | None = None


def reminder_due(campaign: Campaign, now: datetime) -> bool:
    """The day before (from 19:00 the day before): only for campaigns announced earlier than that."""
    opens, _ = maintenance_window(campaign.day)
    return not campaign.reminded and opens - REMINDER_BEFORE <= now < opens


def judge(phone: Phone, target: str, now: datetime) -> Phone:
    """An instructed phone back on the target (reported after the instruction) is done; past
    its deadline, failed."""
    if phone.state is not PhoneState.INSTRUCTED:
        return phone
    reported_since = phone.reported_at is not None and phone.instructed_at is not None and phone.reported_at >= phone.instructed_at
    if reported_since and phone.version is not None and direction(phone.version, target) is Direction.NONE:
        return replace(phone, state=PhoneState.DONE)
    if phone.deadline is not None and now >= phone.deadline:
        return replace(phone, state=PhoneState.FAILED)
    return phone


def failure_share(phones: Sequence[Phone]) -> float:
    judged = [p for p in phones if p.state in (PhoneState.DONE, PhoneState.FAILED)]
    if not judged:
        return 0.0
    return sum(p.state is PhoneState.FAILED for p in judged) / len(judged)


def advance(campaign: Campaign, phones: Sequence[Phone], now: datetime) -> Step:
    """One tick: everything the campaign should do at `now`, as data (the adapter stores it)."""
    state = campaign.state
    notices: list[Notice] = []
    current = tuple(phones)
    if state in FINISHED:
        return Step(state, current)
    if not campaign.announced:
        notices.append(Notice.ANNOUNCEMENT)  # the adapter marks it announced once the mail is out
    elif reminder_due(campaign, now):
        notices.append(Notice.REMINDER)
    opens, closes = maintenance_window(campaign.day)
    if now < opens:
        return Step(state, current, tuple(notices))
    if now >= closes:
        return _close(campaign, current, notices)
    if not campaign.announced and state is not CampaignState.IN_WINDOW:
        return _halt(current, notices, "el anuncio al cliente no se pudo enviar: no se toca ningún teléfono")
    if not campaign.image_ok:
        return _halt(current, notices, "la imagen del almacén ya no coincide con su SHA-256 registrado")
    state = CampaignState.IN_WINDOW
    current = tuple(judge(p, campaign.target, now) for p in current)
    for wave in (1, 2):
        members = [p for p in current if p.wave == wave]
        if any(p.state is PhoneState.PENDING for p in members):
            if wave == 2 and failure_share([p for p in current if p.wave == 1]) > campaign.max_failure_share:
                break  # already halted below
            deadline = min(now + campaign.phone_timeout, closes)
            current = tuple(
                replace(p, state=PhoneState.INSTRUCTED, instructed_at=now, deadline=deadline)
                if p.wave == wave and p.state is PhoneState.PENDING else p
                for p in current
            )
            break
        if any(p.state is PhoneState.INSTRUCTED for p in members):
            break  # this wave is still coming back
        if failure_share(members) > campaign.max_failure_share:
            return _halt(current, notices, _failure_reason(members, campaign.max_failure_share, wave))
    if all(p.state in SETTLED for p in current):
        return Step(CampaignState.DONE, current, tuple(notices))
    return Step(state, current, tuple(notices))


def _failure_reason(members: Sequence[Phone], limit: float, wave: int) -> str:
    failed = sum(p.state is PhoneState.FAILED for p in members)
    judged = sum(p.state in (PhoneState.DONE, PhoneState.FAILED) for p in members)
    name = "la ola canaria" if wave == 1 else "la segunda ola"
    return f"{failed} de {judged} teléfonos de {name} no volvieron con la versión objetivo (límite {limit:.0%})"


def _halt(phones: tuple[Phone, ...], notices: list[Notice], reason: str) -> Step:
    stopped = tuple(
        replace(p, state=PhoneState.SKIPPED) if p.state in (PhoneState.PENDING, PhoneState.INSTRUCTED) else p
        for p in phones
    )
    return Step(CampaignState.HALTED, stopped, tuple(notices), reason)


def _close(campaign: Campaign, phones: tuple[Phone, ...], notices: list[Notice]) -> Step:
    """The window closed: phones still out failed, phones not reached skipped."""
    closed = tuple(
        replace(p, state=PhoneState.FAILED) if p.state is PhoneState.INSTRUCTED
        else replace(p, state=PhoneState.SKIPPED) if p.state is PhoneState.PENDING else p
        for p in phones
    )
    for wave in (1, 2):
        members = [p for p in closed if p.wave == wave]
        if failure_share(members) > campaign.max_failure_share:
            return Step(CampaignState.HALTED, closed, tuple(notices), _failure_reason(members, campaign.max_failure_share, wave))
    return Step(CampaignState.DONE, closed, tuple(notices))


def cancel(phones: Sequence[Phone]) -> Step:
    return Step(CampaignState.CANCELLED, tuple(
        replace(p, state=PhoneState.SKIPPED) if p.state in (PhoneState.PENDING, PhoneState.INSTRUCTED) else p
        for p in phones
    ))
