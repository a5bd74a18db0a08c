"""Login rules (pure: no I/O, the clock is passed in).

    safe_next(target)       where to go after login: a path of this site, decided after the
                            browser's own normalisation, else the queue
    LoginThrottle           10 failures in 10 minutes, per user name or per address, lock
                            that name or address out for 10 minutes, even with the right password
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULT_NEXT = "/tickets"
# Browsers drop tabs and newlines from URLs and read '\' as '/': "/\t/evil.example" and
# "/\\evil.example" are "//evil.example", another site. Those, and other controls, go first.
_IGNORED_BY_BROWSERS = re.compile(r"[\x00-\x20\x7f]")


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else DEFAULT_NEXT (never an open redirect)."""
    if not target:
        return DEFAULT_NEXT
    cleaned = _IGNORED_BY_BROWSERS.sub("", target).replace("\\", "/")
    if not cleaned.startswith("/") or cleaned.startswith("//"):
        return DEFAULT_NEXT
    decoded = unquote(cleaned)  # "/%2F%2Fevil" is still a path here, but refuse it all the same
    if decoded.startswith("//") or _IGNORED_BY_BROWSERS.sub("", decoded).replace("\\", "/").startswith("//"):
        return DEFAULT_NEXT
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc:
        return DEFAULT_NEXT
    return cleaned


@dataclass(frozen=True)
class ThrottleRules:
    failures: int = 10
    window: float = 600.0
    lockout: float = 600.0


class LoginThrottle:
    """Failed logins per user name and per address; bounded memory."""

    MAX_KEYS = 50_000

    def __init__(self, rules: ThrottleRules = ThrottleRules()) -> None:
        self.rules = rules
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._locked_until: dict[str, float] = {}

    def locked(self, username: str, address: str, now: float) -> bool:
        return any(self._locked_until.get(key, float("-inf")) > now for key in _keys(username, address))

    def failed(self, username: str, address: str, now: float) -> None:
        for key in _keys(username, address):
            times = self._failures.get(key)
            if times is None:
                if len(self._failures) >= self.MAX_KEYS:
                    self._failures.popitem(last=False)
                times = self._failures[key] = deque(maxlen=self.rules.failures)
            times.append(now)
            while times and times[0] <= now - self.rules.window:
                times.popleft()
            if len(times) >= self.rules.failures:
                if len(self._locked_until) >= self.MAX_KEYS:
                    self._locked_until = {k: t for k, t in self._locked_until.items() if t > now}
                self._locked_until[key] = now + self.rules.lockout
                times.clear()

    def succeeded(self, username: str, address: str) -> None:
        self._failures.pop(_keys(username, address)[0], None)


def _keys(username: str, address: str) -> tuple[str, str]:
    return "user:" + username.strip().lower(), "ip:" + address
