"""How many lines a phone may hold: the ONE rule every entry point and every renderer uses (pure).

A line is usable when the operator homologated it (the catalog's `lines`) AND the device has the
account (`device_max_lines`, when known). The smaller of the two is the limit:

    GXP1610  homologated 2, device 1   -> 1 (its second "line" never registers)
    T20P     homologated 1, device 2   -> 1 (the operator supports one)
    DP750    homologated 5, device 10  -> 5

`extension add`, the import, compliance (lines_exceeded) and rendering all ask this module, so
what one accepts another never refuses: every export imports back, and a line accepted at entry
is a line the phone is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class LineFacts(Protocol):
    """What the rule reads of a catalog row (CatalogEntry, or a caller's own view of one)."""

    @property
    def model(self) -> str: ...

    @property
    def lines(self) -> int: ...

    @property
    def device_max_lines(self) -> int | None: ...


def allowed_lines(entry: LineFacts) -> int:
    """The lines 1..n this model may carry: the smaller of the homologated and the device's own."""
    if entry.device_max_lines is None:
        return entry.lines
    return min(entry.lines, entry.device_max_lines)


def line_allowed(entry: LineFacts, line: int) -> bool:
    return 1 <= line <= allowed_lines(entry)


def lines_limit_text(entry: LineFacts) -> str:
    """Why the limit is what it is, for a person, in Spanish (installers read it in the web import,
    the API and `extension add`): 'el GXP1610 admite solo la línea 1 (homologado para 2 líneas, pero
    el equipo tiene 1 cuenta SIP)'."""
    allowed = allowed_lines(entry)
    span = "solo la línea 1" if allowed == 1 else f"las líneas 1 a {allowed}"
    homologated = f"homologado para {_count(entry.lines, 'línea', 'líneas')}"
    device = entry.device_max_lines
    if device is not None and device < entry.lines:
        reason = f"{homologated}, pero el equipo tiene {_count(device, 'cuenta SIP', 'cuentas SIP')}"
    else:
        reason = homologated
    return f"el {entry.model} admite {span} ({reason})"


def line_refusal(entry: LineFacts, line: int) -> str | None:
    """None when `line` may be assigned on this model, else the one message every entry point shows."""
    if line_allowed(entry, line):
        return None
    return f"la línea {line} no está disponible: {lines_limit_text(entry)}"


def lines_beyond(entry: LineFacts, line_numbers: Iterable[int]) -> tuple[int, ...]:
    """The assigned line numbers this model may not carry, sorted (existing data from before the rule)."""
    return tuple(sorted(n for n in set(line_numbers) if not line_allowed(entry, n)))


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


__all__ = ["LineFacts", "allowed_lines", "line_allowed", "line_refusal", "lines_beyond", "lines_limit_text"]
