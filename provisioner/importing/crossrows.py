"""What validation needs to know across rows and about the tenant, behind one small interface (pure).

The validator asks "first row of this extension number?", "model of this MAC so far?",
"who holds this (MAC, line)?", "is this MAC registered, as what?" and, at the end, which
claims clash with other tenants or with extensions the file does not mention. Two
implementations answer the same questions:

    MemoryIndex   dicts over a TenantState (small files, tests of the pure rules)
    DiskIndex     a temporary SQLite database (scratch.py), so the import's memory stays flat in N

Both use the same window protocol: `prefetch(numbers, macs)` before a chunk of rows names every
key the chunk can ask about, `flush()` after it. MemoryIndex ignores both.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Protocol

from provisioner.importing.values import ExistingExtension, TenantState


class CrossRows(Protocol):
    def prefetch(self, numbers: Collection[str], macs: Collection[str]) -> None: ...

    def flush(self) -> None: ...

    def first_row(self, number: str, row: int) -> int:
        """The first row with this extension number (this one when it is the first)."""

    def row_of(self, number: str) -> int:
        """The first row of a number already seen."""

    def mac_model(self, mac: str, model_key: str, row: int) -> tuple[str, int]:
        """(model key, first row) of the first valid row placing a phone on this MAC."""

    def claim_slot(self, mac: str, line: int, number: str) -> str:
        """The extension number holding (mac, line): this one when the line was free."""

    def claim_user(self, user: str, number: str, row: int) -> tuple[str, int | None]:
        """(extension number, its row or None when only stored) holding this SIP user: this one when free.
        A stored extension holds its user even when the file also names it."""

    def device_model(self, mac: str) -> str | None:
        """The model key of the tenant's registered device with this MAC (None: not registered)."""

    def existing(self, number: str) -> ExistingExtension | None:
        """The tenant's stored extension with this number."""

    def macs(self) -> Iterator[str]:
        """Every MAC the file places a phone on."""

    def foreign_claims(self, foreign: Collection[str]) -> Iterator[tuple[str, int]]:
        """(mac, row) for each line the file claims on a MAC of another tenant."""

    def held_outside(self) -> Iterator[tuple[str, int, str, int]]:
        """(mac, line, number, claiming row): lines the file claims that carry an extension not in the file."""


class MemoryIndex:
    """CrossRows over plain dicts and a TenantState (everything in memory)."""

    def __init__(self, state: TenantState) -> None:
        self.state = state
        self.numbers: dict[str, int] = {}
        self.slots: dict[tuple[str, int], str] = {}
        self.mac_models: dict[str, tuple[str, int]] = {}
        self.users: dict[str, tuple[str, int]] = {}
        self._stored_users: dict[str, str] | None = None

    def prefetch(self, numbers: Collection[str], macs: Collection[str]) -> None:
        pass

    def flush(self) -> None:
        pass

    def first_row(self, number: str, row: int) -> int:
        return self.numbers.setdefault(number, row)

    def row_of(self, number: str) -> int:
        return self.numbers[number]

    def mac_model(self, mac: str, model_key: str, row: int) -> tuple[str, int]:
        return self.mac_models.setdefault(mac, (model_key, row))

    def claim_slot(self, mac: str, line: int, number: str) -> str:
        return self.slots.setdefault((mac, line), number)

    def claim_user(self, user: str, number: str, row: int) -> tuple[str, int | None]:
        if self._stored_users is None:
            self._stored_users = {e.sip_user: e.number for e in self.state.extensions.values() if e.sip_user}
        stored = self._stored_users.get(user)
        if stored is not None and stored != number:
            return stored, self.numbers.get(stored)
        return self.users.setdefault(user, (number, row))

    def device_model(self, mac: str) -> str | None:
        device = self.state.devices.get(mac)
        return device.model_key if device is not None else None

    def existing(self, number: str) -> ExistingExtension | None:
        return self.state.extensions.get(number)

    def macs(self) -> Iterator[str]:
        return iter(list(self.mac_models))

    def foreign_claims(self, foreign: Collection[str]) -> Iterator[tuple[str, int]]:
        for (mac, _line), number in self.slots.items():
            if mac in foreign:
                yield mac, self.numbers[number]

    def held_outside(self) -> Iterator[tuple[str, int, str, int]]:
        for (mac, line), number in self.state.slots().items():
            claim = self.slots.get((mac, line))
            if claim is not None and claim != number and number not in self.numbers:
                yield mac, line, number, self.numbers[claim]
