"""Firmware version numbers: dotted numeric, compared component by component (pure)."""

from __future__ import annotations

import functools
import re

from firmware_catalog.errors import VersionError

_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+)*")  # ASCII digits only: str.isdigit() accepts '٣'


def parse_version(text: str) -> tuple[int, ...]:
    """"5.0.13.0881" -> (5, 0, 13, 881). Leading zeros are allowed; anything else raises VersionError."""
    if not isinstance(text, str):
        raise VersionError(f"a firmware version must be text, not {type(text).__name__}")
    return _parse(text)


@functools.lru_cache(maxsize=4096)  # every contact compares the same few versions again
def _parse(text: str) -> tuple[int, ...]:
    stripped = text.strip()
    if not _VERSION.fullmatch(stripped):
        raise VersionError(f"{text!r} is not a firmware version (dotted numbers, e.g. 34.72.0.75)")
    return tuple(int(part) for part in stripped.split("."))


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as a is older than, the same as or newer than b ("1.0" == "1.0.0")."""
    left, right = parse_version(a), parse_version(b)
    width = max(len(left), len(right))
    left += (0,) * (width - len(left))
    right += (0,) * (width - len(right))
    return (left > right) - (left < right)
