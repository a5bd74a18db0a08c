"""Validation of imported rows (pure: no I/O, no database; the caller feeds rows and facts).

    v = Validator(header, catalog, suspicious_keys, index, replace=...)
    for raw in rows:  v.check(raw)  -> ValidRow | None     (own checks + checks across rows so far)
    v.finish(foreign_macs)                                  (checks that need the whole file)
    v.problems, v.warnings                                  (every problem, each with row and column)

`index` answers the questions across rows and about the tenant (crossrows.CrossRows): a
MemoryIndex (a TenantState may be passed instead: it is wrapped in one) or the on-disk
DiskIndex the pipeline uses. With a DiskIndex the caller calls `v.prefetch(chunk)` before
each chunk of rows and `v.flush()` after it (see pipeline.py); a MemoryIndex needs neither.
`foreign_macs` is the subset of the file's MACs (`index.macs()`) that belongs to another
tenant: the caller looks it up between the two calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from firmware_catalog import line_refusal, lines_limit_text
from provisioner.importing.crossrows import CrossRows, MemoryIndex
from provisioner.importing.words import FIELD_NAMES, NOT_PHONES, rows as count_rows, say
from provisioner.importing.values import (
    DEPARTMENT,
    EMAIL,
    ERROR,
    EXTENSION,
    FIELDS,
    FIRST_NAME,
    LAST_NAME,
    LINE,
    MAC,
    MODEL,
    NAME,
    PERMISSIONS,
    SIP_PASSWORD,
    SIP_USER,
    WARNING,
    Header,
    Problem,
    RawRow,
    TenantState,
    ValidRow,
    Column,
    display_mac,
)
from provisioner.mac import normalize_mac
from provisioner.permissions import parse_permissions
from provisioner.sip_accounts import AccountError, check_sip_user
from provisioner.softphones import is_softphone, mac_refusal


T = TypeVar("T")


class Entry(Protocol):
    key: str
    vendor: str
    model: str
    kind: str
    lines: int
    device_max_lines: int | None


class CatalogLike(Protocol):
    def find(self, token: str, vendor: str | None = None) -> Entry | None: ...

    def get(self, key: str) -> Entry: ...


_EXTENSION = re.compile(r"[0-9]{2,6}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_EMAIL_DOMAIN = re.compile(r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_PASSWORD = re.compile(r"[!-~]{8,128}")  # printable ASCII, no spaces: what every phone's config format takes
_LINE = re.compile(r"[0-9]{1,3}")
_NOT_PHONES = {"000000000000": NOT_PHONES["all zeros"], "ffffffffffff": NOT_PHONES["the broadcast address"]}


class _Bad(Exception):
    """One cell's problem, raised by a field check and turned into a Problem by the row check."""

    def __init__(self, field_index: int, message: str) -> None:
        super().__init__(message)
        self.field_index = field_index
        self.message = message


# -- single cells (pure functions, each raising _Bad with the installer's message) ----------
def check_extension(text: str) -> str:
    if not text:
        raise _Bad(EXTENSION, say("extension_empty"))
    if not _EXTENSION.fullmatch(text):
        raise _Bad(EXTENSION, say("not_extension", value=text))
    return text


def check_name(values: tuple[str, ...], full_name_column: bool = True) -> str:
    """The `name` column, or `first_name` + `last_name` when the file has those instead."""
    if full_name_column:
        name, where = values[NAME], NAME
    else:
        name, where = " ".join(v for v in (values[FIRST_NAME], values[LAST_NAME]) if v), FIRST_NAME
    if not name:
        raise _Bad(where, say("name_empty"))
    if _CONTROL.search(name):
        raise _Bad(where, say("name_control"))
    _check_length(where, name, "name", 200)
    return name


def check_email(text: str) -> str:
    if not text:
        return ""
    local, at, domain = text.rpartition("@")
    if not at or not _EMAIL_LOCAL.fullmatch(local) or not _EMAIL_DOMAIN.fullmatch(domain):
        raise _Bad(EMAIL, say("not_email", value=text))
    _check_length(EMAIL, text, "e-mail", 254)
    return text


def check_department(text: str) -> str:
    if _CONTROL.search(text):
        raise _Bad(DEPARTMENT, say("department_control"))
    _check_length(DEPARTMENT, text, "department", 200)
    return text


def _check_length(field_index: int, text: str, label: str, limit: int) -> None:
    if len(text) > limit:
        raise _Bad(field_index, say("too_long", what=FIELD_NAMES[label], limit=limit))


def check_permissions(text: str) -> str:
    try:
        return parse_permissions(text)
    except ValueError as exc:
        raise _Bad(PERMISSIONS, str(exc)) from None


def check_mac(text: str, normalized: str | None = None) -> str:
    """`normalized`: normalize_mac(text) when the caller already has it."""
    mac = normalized or normalize_mac(text)
    if mac is None:
        raise _Bad(MAC, say("not_mac", value=text))
    if mac in _NOT_PHONES:
        raise _Bad(MAC, say("not_phone_mac", value=text, what=_NOT_PHONES[mac]))
    return mac


def check_line(text: str, entry: Entry) -> int:
    """The same rule and words as `extension add` (firmware_catalog.lines), so every export imports back."""
    if not text:
        return 1
    if not _LINE.fullmatch(text) or int(text) < 1:
        raise _Bad(LINE, say("not_line", value=text, limit=lines_limit_text(entry)))
    if refusal := line_refusal(entry, int(text)):
        raise _Bad(LINE, refusal)
    return int(text)


def check_password(text: str) -> str | None:
    if not text:
        return None
    if not _PASSWORD.fullmatch(text):  # never echo the value: it is a secret
        raise _Bad(SIP_PASSWORD, say("bad_password"))
    return text


def check_user(text: str) -> str | None:
    """The PBX's SIP user: the same rule and words as `extension add --sip-user` (sip_accounts)."""
    if not text:
        return None
    try:
        return check_sip_user(text)
    except AccountError as exc:
        raise _Bad(SIP_USER, str(exc)) from None


# -- the validator --------------------------------------------------------------------------
class _Attempts:
    """Runs cell checks, keeping each failure instead of stopping at the first (all problems at once)."""

    def __init__(self) -> None:
        self.failed: list[_Bad] = []

    def __call__(self, check: Callable[..., T], *args: Any) -> T | None:
        try:
            return check(*args)
        except _Bad as exc:
            self.failed.append(exc)
            return None


@dataclass
class _Aggregate:
    """A warning that would repeat on many rows, reported once with a count."""

    first_row: int
    field_index: int
    count: int = 0


class Validator:
    def __init__(
        self,
        header: Header,
        catalog: CatalogLike,
        suspicious_keys: Collection[str],
        index: CrossRows | TenantState,
        *,
        replace: bool = False,
        new_user: Callable[[str], str] | None = None,
    ) -> None:
        self.header = header
        self.catalog = catalog
        self.suspicious_keys = frozenset(suspicious_keys)
        self.index: CrossRows = MemoryIndex(index) if isinstance(index, TenantState) else index
        self.replace = replace
        self.new_user = new_user  # extension number -> the SIP user the tenant's format gives a new extension
        self.problems: list[Problem] = [p for p in header.problems if p.severity == ERROR]
        self.warnings: list[Problem] = [p for p in header.problems if p.severity == WARNING]
        self._entries: dict[str, Entry | None] = {}
        self._entries_by_key: dict[str, Entry] = {}
        self._permissions: dict[str, str | _Bad] = {}  # few distinct spellings in a file: parse each once
        self._aggregates: dict[str, _Aggregate] = {}
        self._normalized: dict[str, str | None] = {}  # MAC text -> normalize_mac(text), for the current window
        self.rows_seen = 0
        self._full_name = header.column(NAME) is not None

    # -- per window of rows -----------------------------------------------------------------
    def prefetch(self, chunk: Sequence[RawRow]) -> None:
        """Before checking a chunk of rows: have the index load what those rows can ask about."""
        self._normalized = {}
        numbers: set[str] = set()
        macs: set[str] = set()
        for raw in chunk:
            numbers.add(raw.values[EXTENSION])
            text = raw.values[MAC]
            if text:
                mac = self._normalized[text] = normalize_mac(text)
                if mac is not None:
                    macs.add(mac)
        self.index.prefetch(numbers, macs)

    def flush(self) -> None:
        """After a chunk: the index writes what it learned."""
        self.index.flush()
        self._normalized = {}

    # -- per row ---------------------------------------------------------------------------
    def check(self, raw: RawRow) -> ValidRow | None:
        """Validate one row: every cell on its own, then against earlier rows and the tenant's phones."""
        self.rows_seen += 1
        values, attempt = raw.values, _Attempts()
        number = attempt(check_extension, values[EXTENSION])
        contact = [attempt(check, *args) for check, *args in (
            (check_name, values, self._full_name), (check_email, values[EMAIL]), (check_department, values[DEPARTMENT]),
            (self._check_permissions, values[PERMISSIONS]), (check_password, values[SIP_PASSWORD]),
            (check_user, values[SIP_USER]),
        )]
        device = self._own_device(values, raw.number, attempt)
        if attempt.failed:
            for exc in attempt.failed:
                self._problem(raw.number, exc.field_index, exc.message)
            if number is not None:
                self._check_repeated(raw.number, number)
            return None
        name, email, department, permissions, password, user = contact
        row = ValidRow(raw.number, number, name, email, department, permissions, *device, password, user)  # type: ignore[arg-type]
        self._across_rows(row)
        return row

    def _check_permissions(self, text: str) -> str:
        known = self._permissions.get(text)
        if known is None:
            try:
                known = check_permissions(text)
            except _Bad as exc:
                known = exc
            if len(self._permissions) < 10_000:
                self._permissions[text] = known
        if isinstance(known, _Bad):
            raise _Bad(known.field_index, known.message)
        return known

    def _own_device(self, values: tuple[str, ...], row: int, attempt: _Attempts) -> tuple[str | None, str | None, int | None]:
        if not values[MAC]:
            app = self._softphone(values[MODEL]) if values[MODEL] and not values[LINE] else None
            if app is not None:
                return None, app.key, None  # a softphone extension: its app, no MAC, no line
            for index, what in ((MODEL, "model"), (LINE, "line")):
                if values[index]:
                    self._aggregate(f"{what} without MAC", row, index)
            return None, None, None
        mac = attempt(check_mac, values[MAC], self._normalized.get(values[MAC]))
        entry = attempt(self._entry_for, mac, values[MODEL])
        line = attempt(check_line, values[LINE], entry) if entry is not None else None
        return mac, entry.key if entry is not None else None, line

    def _entry_for(self, mac: str | None, token: str) -> Entry:
        if token:
            entry = self._find(token)
            if entry is None:
                raise _Bad(MODEL, say("not_homologated", value=token))
            if is_softphone(entry):
                raise _Bad(MODEL, mac_refusal(entry))  # the same words as `extension add`
            return entry
        existing = self.index.device_model(mac) if mac else None
        entry = self._by_key(existing) if existing is not None else None
        if entry is None:
            raise _Bad(MODEL, say("model_empty"))
        return entry

    def _by_key(self, key: str) -> Entry | None:
        if key not in self._entries_by_key:
            try:
                self._entries_by_key[key] = self.catalog.get(key)
            except LookupError:
                return None
        return self._entries_by_key[key]

    def _softphone(self, token: str) -> Entry | None:
        entry = self._find(token)
        return entry if is_softphone(entry) else None

    def _find(self, token: str) -> Entry | None:
        if token not in self._entries:
            entry = self.catalog.find(token)
            self._entries[token] = entry
            if entry is not None:
                self._entries_by_key[entry.key] = entry
        return self._entries[token]

    def _check_repeated(self, row: int, number: str) -> bool:
        first = self.index.first_row(number, row)
        if first != row:
            self._problem(row, EXTENSION, say("repeated", number=number, first=first))
            return False
        return True

    def _across_rows(self, row: ValidRow) -> None:
        if self._check_repeated(row.row, row.number):
            self._check_user(row)
        if row.mac is None or row.model_key is None or row.line is None:
            return
        if self._same_model(row) and self._registered_model(row):
            self._free_slot(row)
        if row.model_key in self.suspicious_keys:
            self._aggregate(f"suspicious {row.model_key}", row.row, MODEL)

    def _check_user(self, row: ValidRow) -> None:
        """The account is the PBX's: a stored SIP user is never renamed by an import, and no two
        extensions of the tenant share one (given in the file, stored, or made from the format)."""
        existing = self.index.existing(row.number)
        if existing is not None:
            if row.sip_user is not None and existing.sip_user is not None and row.sip_user != existing.sip_user:
                self._problem(row.row, SIP_USER, say("user_renamed", number=row.number, stored=existing.sip_user,
                                                     given=row.sip_user))
            return  # an existing extension keeps its stored user: held already, nothing new to claim
        user = row.sip_user if row.sip_user is not None else self.new_user(row.number) if self.new_user else None
        if user is None:
            return
        holder, holder_row = self.index.claim_user(user, row.number, row.row)
        if holder != row.number:
            where = say("user_on_row", row=holder_row) if holder_row is not None else say("user_stored")
            made = "" if row.sip_user is not None else say("user_made")
            self._problem(row.row, SIP_USER, say("user_taken", user=user, made=made, holder=holder, where=where))

    def _same_model(self, row: ValidRow) -> bool:
        assert row.mac is not None and row.model_key is not None
        model_key, first_row = self.index.mac_model(row.mac, row.model_key, row.row)
        if model_key != row.model_key:
            self._problem(
                row.row, MODEL,
                say("two_models", mac=display_mac(row.mac), first_model=self._model_name(model_key), first_row=first_row,
                    model=self._model_name(row.model_key)),
            )
            return False
        return True

    def _registered_model(self, row: ValidRow) -> bool:
        assert row.mac is not None
        existing = self.index.device_model(row.mac)
        if existing is None or existing == row.model_key:
            return True
        self._problem(
            row.row, MODEL,
            say("registered_as", mac=display_mac(row.mac), existing=self._model_name(existing),
                model=self._model_name(row.model_key or '')),
        )
        return False

    def _free_slot(self, row: ValidRow) -> None:
        assert row.mac is not None and row.line is not None
        taken = self.index.claim_slot(row.mac, row.line, row.number)
        if taken != row.number:
            self._problem(
                row.row, LINE,
                say("slot_taken", line=row.line, mac=display_mac(row.mac), taken=taken, row=self.index.row_of(taken)),
            )

    def _model_name(self, key: str) -> str:
        entry = self._by_key(key)
        return entry.model if entry is not None else key

    # -- whole file ------------------------------------------------------------------------
    def macs(self) -> set[str]:
        """MACs the file places phones on (for the caller's other-tenant lookup)."""
        return set(self.index.macs())

    def finish(self, foreign_macs: Collection[str]) -> None:
        """Checks that need every row: MACs of other tenants, lines held by extensions not in the file."""
        self.index.flush()
        foreign = set(foreign_macs)
        for mac, first_row in self.index.foreign_claims(foreign) if foreign else ():
            self._problem(first_row, MAC, say("foreign_mac", mac=display_mac(mac)))
        if not self.replace:
            self._lines_held_outside_file()
        self._flush_aggregates()
        self.problems.sort(key=Problem.sort_key)
        self.warnings.sort(key=Problem.sort_key)

    def _lines_held_outside_file(self) -> None:
        for mac, line, number, claim_row in self.index.held_outside():
            self._problem(
                claim_row, LINE,
                say("held_outside", line=line, mac=display_mac(mac), number=number),
            )

    def _aggregate(self, kind: str, row: int, field_index: int) -> None:
        aggregate = self._aggregates.setdefault(kind, _Aggregate(row, field_index))
        aggregate.count += 1

    def _flush_aggregates(self) -> None:
        for kind, aggregate in self._aggregates.items():
            rows = count_rows(aggregate.count)
            if kind.startswith("suspicious "):
                key = kind.removeprefix("suspicious ")
                message = say("suspicious", model=self._model_name(key), rows=rows)
            else:
                what = kind.split()[0]
                message = say("without_mac", what=FIELD_NAMES[what], rows=rows)
            self._warning(aggregate.first_row, aggregate.field_index, message)
        self._aggregates.clear()

    # -- reporting -------------------------------------------------------------------------
    def _problem(self, row: int, field_index: int, message: str, severity: str = ERROR) -> None:
        column = self._column(field_index)
        problem = Problem(row, column.header if column else FIELDS[field_index], column.letter if column else "", message, severity)
        (self.problems if severity == ERROR else self.warnings).append(problem)

    def _warning(self, row: int, field_index: int, message: str) -> None:
        self._problem(row, field_index, message, WARNING)

    def _column(self, field_index: int) -> Column | None:
        return self.header.column(field_index)

    @property
    def ok(self) -> bool:
        return not self.problems
