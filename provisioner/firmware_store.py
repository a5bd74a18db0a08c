"""Firmware images served to phones from one folder.

Only names the catalog knows (`firmware_file` of a homologated model) are ever looked up,
so a request can never name a path: there is no joining of user input onto the folder.
Symlinks are refused so the folder cannot be used to reach files outside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path


class FirmwareStore:
    def __init__(
        self,
        folder: Path,
        known_names: Iterable[str],
        rescan_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._folder = folder
        self._known = frozenset(known_names)
        self._rescan_seconds = rescan_seconds
        self._monotonic = monotonic
        self._present: frozenset[str] = frozenset()
        self._scanned_at = float("-inf")
        self._cache: dict[str, tuple[tuple[int, int], bytes]] = {}
        self.generation = 0  # moves when an image appears or goes: configs pointing at images are stale

    def refresh(self) -> None:
        self._present_names()

    def has(self, name: str | None) -> bool:
        return name is not None and name in self._present_names()

    def read(self, name: str) -> bytes | None:
        if not self.has(name):
            return None
        path = self._folder / name
        try:
            if path.is_symlink() or not path.is_file():
                return None
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            cached = self._cache.get(name)
            if cached and cached[0] == stamp:
                return cached[1]
            data = path.read_bytes()
        except OSError:
            return None
        self._cache[name] = (stamp, data)
        return data

    def _present_names(self) -> frozenset[str]:
        now = self._monotonic()
        if now - self._scanned_at >= self._rescan_seconds:
            self._scanned_at = now
            present = frozenset(
                name
                for name in self._known
                if (self._folder / name).is_file() and not (self._folder / name).is_symlink()
            )
            if present != self._present:
                self._present = present
                self.generation += 1
        return self._present
