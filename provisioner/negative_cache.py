"""Tenant keys the database did not know, remembered for a while (pure: the caller passes the time).

A phone with a wrong key, or someone guessing keys, asks again and again: each unknown key is
answered 404 from memory for `ttl` seconds instead of asking the database each time. The
entry expires, so a tenant created meanwhile is found once `ttl` has passed. At most `limit`
keys are kept: a flood of random keys pushes the oldest ones out (every entry lives `ttl`, so
the oldest is also the first to expire) instead of growing memory without bound.
"""

from __future__ import annotations

from collections import OrderedDict


class NegativeCache:
    def __init__(self, ttl: float, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit >= 1 required")
        self.ttl = ttl
        self.limit = limit
        self._until: OrderedDict[str, float] = OrderedDict()  # key -> when it expires, oldest first

    def __len__(self) -> int:
        return len(self._until)

    def holds(self, key: str, now: float) -> bool:
        """Whether `key` is known to be unknown at `now`."""
        until = self._until.get(key)
        if until is None:
            return False
        if until <= now:
            del self._until[key]
            return False
        return True

    def add(self, key: str, now: float) -> None:
        self._until.pop(key, None)  # re-inserted at the end: the order stays by expiry
        while self._until and (len(self._until) >= self.limit or self._until[next(iter(self._until))] <= now):
            self._until.popitem(last=False)  # the oldest: full, or expired anyway
        self._until[key] = now + self.ttl

    def forget(self, key: str) -> None:
        self._until.pop(key, None)

    def clear(self) -> None:
        self._until.clear()
