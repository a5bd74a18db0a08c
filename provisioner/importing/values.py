"""Plain values shared by the import stages (no I/O here)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from provisioner.importing.words import say

# The fields a spreadsheet column can map to, in the order RawRow.values carries them.
FIELDS = (
    "extension", "name", "first_name", "last_name", "email", "department",
    "permissions", "mac", "model", "line", "sip_password", "sip_user",
)
EXTENSION, NAME, FIRST_NAME, LAST_NAME, EMAIL, DEPARTMENT, PERMISSIONS, MAC, MODEL, LINE, SIP_PASSWORD, SIP_USER = range(len(FIELDS))

ERROR = "error"
WARNING = "warning"


def column_letter(index: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA' (as the spreadsheet labels columns)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (error) or worth knowing (warning) about the file, where the installer sees it."""

    row: int  # spreadsheet row number: the header is row 1 in a plain file
    column: str  # the header as written in the file ("" when the problem is not in one column)
    letter: str  # the column's letter ("C"), "" when not in one column
    message: str
    severity: str = ERROR

    @property
    def cell(self) -> str:
        return f"{self.letter}{self.row}" if self.letter else ""

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "cell": self.cell, "severity": self.severity, "message": self.message}

    def __str__(self) -> str:
        where = say("row", row=self.row)
        if self.column:
            where += say("column", column=self.column) + (f" ({self.cell})" if self.letter else "")
        return f"{where}: {self.message}"

    def sort_key(self) -> tuple[int, int, str]:
        return (self.row, len(self.letter), self.letter)


@dataclass(frozen=True, slots=True)
class Column:
    index: int  # 0-based position in the sheet
    header: str  # as written
    field: str | None  # one of FIELDS, None for a column we do not use

    @property
    def letter(self) -> str:
        return column_letter(self.index)


@dataclass(frozen=True)
class Header:
    """The header row, mapped: which sheet column feeds which field."""

    row: int
    columns: tuple[Column, ...]
    problems: tuple[Problem, ...] = ()  # errors and warnings about the header itself

    def column(self, field_index: int) -> Column | None:
        wanted = FIELDS[field_index]
        return next((c for c in self.columns if c.field == wanted), None)

    def positions(self) -> tuple[int | None, ...]:
        """For each entry of FIELDS, the sheet column index that feeds it (None: absent)."""
        by_field = {c.field: c.index for c in self.columns if c.field}
        return tuple(by_field.get(name) for name in FIELDS)

    @property
    def usable(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)


@dataclass(frozen=True, slots=True)
class RawRow:
    number: int  # spreadsheet row number
    values: tuple[str, ...]  # one cleaned text per FIELDS entry, "" when empty or absent


@dataclass(frozen=True, slots=True)
class ValidRow:
    """A row that passed its own checks, in stored form."""

    row: int
    number: str
    name: str
    email: str
    department: str
    permissions: str  # canonical, comma separated
    mac: str | None  # 12 lower-case hex digits
    model_key: str | None  # catalog key
    line: int | None
    sip_password: str | None  # None: keep the existing one / generate
    sip_user: str | None = None  # the PBX's SIP user; None: keep the existing one / the tenant's format

    @property
    def softphone(self) -> str | None:
        """The softphone app's catalog key: a model without a MAC (validate allows only apps there)."""
        return self.model_key if self.mac is None else None

    def as_tuple(self) -> tuple[object, ...]:
        return (self.row, self.number, self.name, self.email, self.department, self.permissions,
                self.mac, self.model_key, self.line, self.sip_password, self.sip_user)


def fingerprint(name: str, email: str, department: str, permissions: str, softphone: str | None = None) -> bytes:
    """128-bit digest of an extension's descriptive fields: the snapshot keeps this, not the text.
    A softphone's app (its catalog key) counts as one of them: it has no MAC or line to compare."""
    fields = (name, email, department, permissions, *((softphone,) if softphone else ()))
    return hashlib.blake2b("\x1f".join(fields).encode(), digest_size=16).digest()


@dataclass(frozen=True, slots=True)
class ExistingExtension:
    """One stored extension, as compact as a diff allows (100k of them stay a few MB)."""

    id: int
    number: str
    fingerprint: bytes  # of name, email, department, permissions
    sip_password: str | None  # loaded only when the file brings passwords to compare
    mac: str | None
    line: int | None
    sip_user: str | None = None  # the stored SIP user (an import never renames it)

    @classmethod
    def of(cls, id: int, number: str, name: str, email: str, department: str, permissions: str,  # noqa: A002
           sip_password: str | None, mac: str | None, line: int | None, softphone: str | None = None,
           sip_user: str | None = None) -> ExistingExtension:
        return cls(id, number, fingerprint(name, email, department, permissions, softphone), sip_password, mac, line, sip_user)


@dataclass(frozen=True, slots=True)
class ExistingDevice:
    id: int
    mac: str
    model_key: str


@dataclass
class TenantState:
    """What the tenant has now: loaded once before validation (a snapshot, not live rows)."""

    tenant_id: int
    slug: str
    extensions: dict[str, ExistingExtension] = field(default_factory=dict)
    devices: dict[str, ExistingDevice] = field(default_factory=dict)

    def slots(self) -> dict[tuple[str, int], str]:
        """(mac, line) -> extension number occupying it today."""
        return {(e.mac, e.line): e.number for e in self.extensions.values() if e.mac is not None and e.line is not None}


def display_mac(mac: str) -> str:
    """'001565aabbcc' -> '00:15:65:AA:BB:CC' (how installers read a MAC on the phone's label)."""
    upper = mac.upper()
    return ":".join(upper[i : i + 2] for i in range(0, 12, 2))
