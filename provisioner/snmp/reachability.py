"""Pure: consecutive timeouts -> unreachable, and an answer afterwards -> recovered.

    answered     -> counter back to 0; `recovered` when the phone was unreachable
    no answer    -> counter + 1; `became_unreachable` exactly once, on the poll that reaches
                    the threshold; later timeouts keep it unreachable without repeating it
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reachability:
    """One phone's SNMP state between polls."""

    consecutive_timeouts: int = 0
    unreachable: bool = False


@dataclass(frozen=True)
class Step:
    state: Reachability
    became_unreachable: bool
    recovered: bool


def advance(state: Reachability, answered: bool, threshold: int) -> Step:
    """The state after one poll; `threshold` is the number of consecutive timeouts meaning unreachable."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    if answered:
        return Step(Reachability(), became_unreachable=False, recovered=state.unreachable)
    count = state.consecutive_timeouts + 1
    crossed = not state.unreachable and count >= threshold
    return Step(Reachability(count, state.unreachable or crossed), became_unreachable=crossed, recovered=False)
