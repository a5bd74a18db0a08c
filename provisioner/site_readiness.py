"""The readiness board of one site (pure): from what we know of each phone to groups, a
progress bar and what to do next, in Spanish.

    PhoneFacts per phone (read by provisioner.site_facts)  ──▶  Board

A phone is *listo* when it booted from us, runs the homologated firmware, has no more lines
than homologated, answered SNMP (when SNMP verification is on) and, once registration data
from the PBX exists (issue 19 adds it: PhoneFacts.registered), is registered. Until then the
"registrado" group says "sin datos del PBX" and never counts anyone as registered.
(Not to be confused with provisioner.readiness, the server's /readyz.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from provisioner import labels

BAR_WIDTH = 30
NO_PBX_DATA = labels.NO_PBX_DATA


@dataclass(frozen=True)
class PhoneFacts:
    mac: str
    model: str | None
    extensions: tuple[str, ...]  # numbers on it (empty: waiting for an extension)
    assigned: bool  # an installer put it on the tenant (a device row exists)
    booted: bool  # it fetched its config from us at least once
    firmware_ok: bool | None  # None: not booted, nothing to judge
    lines_ok: bool | None
    snmp: str  # "answered", "unreachable" or "unknown" (never polled)
    registered: bool | None = None  # None: no data from the PBX (issue 19 fills it)


@dataclass(frozen=True)
class Group:
    key: str
    title: str  # Spanish
    count: int | None  # None: no data to count (registrations before the PBX speaks)
    macs: tuple[str, ...]
    next_step: str  # Spanish; "" when nothing is to be done
    good: bool  # a group of phones doing fine (green) or one needing work


@dataclass(frozen=True)
class Board:
    expected: int
    ready: int
    percent: int
    bar: str
    green: bool
    groups: tuple[Group, ...]
    extensions_without_phone: tuple[str, ...]


TITLES = labels.READINESS_GROUPS
NEXT_STEPS = labels.READINESS_STEPS


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """`[#########.....] 9/14` (no total: an empty bar, 0/0)."""
    filled = round(width * done / total) if total else 0
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


def is_ready(phone: PhoneFacts, snmp_enabled: bool, pbx_data: bool) -> bool:
    return (
        phone.assigned and phone.booted and phone.firmware_ok is True and phone.lines_ok is True
        and (not snmp_enabled or phone.snmp == "answered")
        and (not pbx_data or phone.registered is True)
    )


def build_board(phones: Sequence[PhoneFacts], extensions_without_phone: Sequence[str] = (), *, snmp_enabled: bool = True) -> Board:
    """Every group, the bar and the next steps. Pure: the same facts always give the same board."""
    expected = [p for p in phones if p.assigned]
    waiting = [p for p in phones if not p.assigned and p.booted]
    booted = [p for p in expected if p.booted]
    pbx_data = any(p.registered is not None for p in phones)
    ready = [p for p in expected if is_ready(p, snmp_enabled, pbx_data)]

    def macs(chosen: Sequence[PhoneFacts]) -> tuple[str, ...]:
        return tuple(sorted(p.mac for p in chosen))

    def group(key: str, chosen: Sequence[PhoneFacts], good: bool, step: str = "") -> Group:
        return Group(key, TITLES[key], len(chosen), macs(chosen), step if chosen else "", good)

    groups = [
        group("expected", expected, True),
        group("booted", booted, True),
        group("firmware_ok", [p for p in booted if p.firmware_ok is True], True),
        group("lines_ok", [p for p in booted if p.lines_ok is True], True),
    ]
    if snmp_enabled:
        groups.append(group("snmp_ok", [p for p in booted if p.snmp == "answered"], True))
    if pbx_data:
        groups.append(group("registered", [p for p in booted if p.registered is True], True))
    else:  # the hook issue 19 fills: never "registrado" without the PBX's word
        groups.append(Group("registered", TITLES["registered"], None, (), NEXT_STEPS["registered_none"], True))
    groups.append(group("ready", ready, True))
    groups += [
        group("never_seen", [p for p in expected if not p.booted], False, NEXT_STEPS["never_seen"]),
        group("firmware_bad", [p for p in booted if p.firmware_ok is False], False, NEXT_STEPS["firmware_bad"]),
        group("lines_bad", [p for p in booted if p.lines_ok is False], False, NEXT_STEPS["lines_bad"]),
    ]
    if snmp_enabled:
        groups += [
            group("snmp_bad", [p for p in booted if p.snmp == "unreachable"], False, NEXT_STEPS["snmp_bad"]),
            group("snmp_unknown", [p for p in booted if p.snmp == "unknown"], False, NEXT_STEPS["snmp_unknown"]),
        ]
    if pbx_data:
        groups.append(group("unregistered", [p for p in booted if p.registered is not True], False, NEXT_STEPS["unregistered"]))
    groups.append(group("waiting", waiting, False, NEXT_STEPS["waiting"]))
    without = tuple(sorted(extensions_without_phone))
    groups.append(Group("no_phone", TITLES["no_phone"], len(without), without, NEXT_STEPS["no_phone"] if without else "", False))
    percent = (100 * len(ready)) // len(expected) if expected else 0
    green = bool(expected) and len(ready) == len(expected) and not waiting and not without
    return Board(len(expected), len(ready), percent, progress_bar(len(ready), len(expected)), green, tuple(groups), without)


def board_json(board: Board) -> dict[str, object]:
    return {
        "expected": board.expected, "ready": board.ready, "percent": board.percent, "green": board.green,
        "groups": [
            {"key": g.key, "title": g.title, "count": g.count, "macs": list(g.macs), "next_step": g.next_step,
             **({"status": NO_PBX_DATA} if g.key == "registered" and g.count is None else {})}
            for g in board.groups
        ],
    }


def board_text(board: Board, tenant: str) -> str:
    """The board for a terminal: the bar, each group with its count, then what to do next."""
    state = "LISTO: todos los teléfonos esperados están listos" if board.green else f"{board.percent} % listo"
    lines = [f"Tablero de preparación: {tenant}", f"{board.bar}  {state}", ""]
    for g in board.groups:
        count = NO_PBX_DATA if g.count is None else str(g.count)
        lines.append(f"  {g.title:<48} {count}")
    steps = [g for g in board.groups if g.next_step and (g.count or g.count is None)]
    if steps:
        lines += ["", "Qué hacer ahora:"]
        for g in steps:
            shown = ", ".join(g.macs[:10]) + (f" y {len(g.macs) - 10} más" if len(g.macs) > 10 else "")
            lines.append(f"  - {g.title}{f' ({shown})' if shown else ''}: {g.next_step}")
    return "\n".join(lines)
