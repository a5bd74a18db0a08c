"""The homologated catalog: load the reviewed TOML once, look models up by any name.

`load_catalog()` reads the packaged homologated.toml through importlib.resources (so it works
from an installed wheel) and caches it; `load_catalog(path)` reads another file. Every row is
validated: a bad file raises CatalogError naming the row, the field and the file's line.

The operator may replace the built-in table with a file of their own (provisioner's
PROVISIONER_CATALOG): whoever reads that setting parses and checks the file and passes the
result to `use_catalog`; from then on `load_catalog()` answers it in that process.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from firmware_catalog.entry import CatalogEntry
from firmware_catalog.errors import CatalogError, UnknownModelError

DATA_FILE = "homologated.toml"
# Every vendor a row may name, provisioned by config files or not (jitsi and wekall are softphones):
# the table's own vocabulary. Which of them a server provisions, and how their phones name files,
# are that server's facts (provisioner's vendor packages), passed in where a check needs them.
VENDORS = ("polycom", "grandstream", "yealink", "jitsi", "wekall")
KINDS = ("desk", "dect", "video", "softphone", "mobile")
DESK_KINDS = frozenset({"desk", "dect", "video"})  # provisioned by MAC through config files

_TEXT, _OPTIONAL_TEXT, _COUNT, _OPTIONAL_COUNT, _TOKENS = "text", "optional text", "count", "optional count", "tokens"
_FIELD_TYPES: Mapping[str, str] = {
    "key": _TEXT, "vendor": _TEXT, "model": _TEXT, "kind": _TEXT, "firmware": _TEXT, "lines": _COUNT,
    "device_max_lines": _OPTIONAL_COUNT, "aliases": _TOKENS, "part_number": _OPTIONAL_TEXT,
    "common_file_code": _OPTIONAL_TEXT, "firmware_file": _OPTIONAL_TEXT, "template": _OPTIONAL_TEXT,
    "notes": _OPTIONAL_TEXT,
}
assert set(_FIELD_TYPES) == {f.name for f in fields(CatalogEntry)}, "catalog loader out of step with CatalogEntry"

_FORMATS: Mapping[str, tuple[re.Pattern[str], str]] = {
    "key": (re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+"), "lower-case words joined by '-', e.g. yealink-t21p"),
    "part_number": (re.compile(r"[0-9]{4}-[0-9]{5}-[0-9]{3}"), "a Polycom part number such as 2345-12365-001"),
    "common_file_code": (re.compile(r"[0-9]{3}"), "three digits, e.g. 034"),
    "firmware_file": (re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*"), "a plain file name (no folders)"),
}
_CHOICES: Mapping[str, tuple[str, ...]] = {"vendor": VENDORS, "kind": KINDS}
_SEPARATORS = re.compile(r"[\s\-_]+")


def token_form(text: str, vendors: Iterable[str] = VENDORS) -> str:
    """The form names are matched in: lower case, no spaces/'-'/'_', no leading vendor name."""
    squashed = _SEPARATORS.sub("", text.casefold())
    for vendor in vendors:
        if squashed.startswith(vendor) and len(squashed) > len(vendor):
            return squashed[len(vendor) :]
    return squashed


def entry_tokens(entry: CatalogEntry) -> frozenset[str]:
    """Every matching form of a row's names: key, model and aliases."""
    return frozenset(token_form(name) for name in (entry.key, entry.model, *entry.aliases))


class Catalog:
    """The homologated rows, in the rulebook's order, with look-ups by every name phones use.

    A catalog read from TOML keeps its text and where each row and field is written in it
    (`text`, `line_of`), so that a problem found later can point at the file's line."""

    def __init__(self, entries: Iterable[CatalogEntry], *, text: str | None = None,
                 lines: Mapping[tuple[str, str | None], int] | None = None) -> None:
        self.entries: tuple[CatalogEntry, ...] = tuple(entries)
        self.text = text
        self._lines = dict(lines or {})
        self._by_key: dict[str, CatalogEntry] = {}
        self._by_token: dict[str, list[CatalogEntry]] = {}
        for entry in self.entries:
            if entry.key in self._by_key:
                raise CatalogError(f"key {entry.key!r} appears twice", field="key")
            self._by_key[entry.key] = entry
            for token in entry_tokens(entry):
                self._by_token.setdefault(token, []).append(entry)

    def line_of(self, key: str, field: str | None = None) -> int | None:
        """The line of the file where the row's field is written (else the row's [[model]] line)."""
        return self._lines.get((key, field)) or self._lines.get((key, None))

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"Catalog({len(self.entries)} entries)"

    def get(self, key: str) -> CatalogEntry:
        """The row with this key; UnknownModelError (a KeyError) otherwise."""
        try:
            return self._by_key[key]
        except KeyError:
            raise UnknownModelError(f"no homologated model with key {key!r}") from None

    def find(self, token: str, vendor: str | None = None) -> CatalogEntry | None:
        """The one row whose key, model or alias matches token (see token_form), else None."""
        if not token or not token.strip():
            return None
        candidates = self._by_token.get(token_form(token), [])
        if vendor is not None:
            candidates = [e for e in candidates if e.vendor == vendor.casefold()]
        return candidates[0] if len(candidates) == 1 else None

    def ambiguous_tokens(self) -> dict[str, tuple[str, ...]]:
        """Match forms shared by more than one row (find() answers None for them)."""
        return {t: tuple(e.key for e in found) for t, found in self._by_token.items() if len(found) > 1}

    def by_part_number(self, part_number: str) -> CatalogEntry | None:
        wanted = part_number.strip()
        return next((e for e in self.entries if e.part_number == wanted), None)

    def by_common_file_code(self, code: str) -> CatalogEntry | None:
        wanted = code.strip()
        return next((e for e in self.entries if e.common_file_code == wanted), None)

    def by_firmware_file(self, name: str) -> list[CatalogEntry]:
        """Every row whose image has this name (the GXP16xx models share gxp1600fw.bin)."""
        wanted = name.strip().casefold()
        return [e for e in self.entries if e.firmware_file and e.firmware_file.casefold() == wanted]

    def desk_models(self) -> tuple[CatalogEntry, ...]:
        """Desk, DECT and video phones: the rows provisioned by MAC through config files."""
        return tuple(e for e in self.entries if e.kind in DESK_KINDS)


# -- loading ---------------------------------------------------------------------------------
_chosen: Catalog | None = None  # the operator's table, once use_catalog() was given one


def use_catalog(catalog: Catalog | None) -> None:
    """Make `catalog` the one `load_catalog()` answers in this process (None: the built-in one)."""
    global _chosen
    _chosen = catalog


def load_catalog(path: Path | None = None) -> Catalog:
    """The catalog in use (the operator's, else the packaged one, read once), or the catalog
    in the TOML file at path."""
    if path is None:
        return _chosen if _chosen is not None else _packaged_catalog()
    return parse_catalog(Path(path).read_bytes(), source=str(path))


def builtin_catalog() -> Catalog:
    """The packaged homologated table, whatever use_catalog() was given."""
    return _packaged_catalog()


@cache
def _packaged_catalog() -> Catalog:
    data = resources.files("firmware_catalog").joinpath(DATA_FILE).read_bytes()
    return parse_catalog(data, source=DATA_FILE)


def parse_catalog(data: bytes, *, source: str = "catalog") -> Catalog:
    """Validate TOML text of [[model]] tables into a Catalog (pure). Syntax errors carry
    tomllib's line and column; a bad row names the row, the field and its line."""
    try:
        text = data.decode("utf-8")
        document = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        line = _syntax_error_line(exc)
        if line is None and "end of document" in str(exc) and isinstance(data, bytes):
            line = data.count(b"\n") + 1
        raise CatalogError(f"{source}: not a readable TOML file: {exc}", source=source, line=line) from None
    starts = _row_starts(text)
    extra = sorted(set(document) - {"model"})
    if extra:
        raise CatalogError(f"{source}: unexpected top-level entry {extra[0]!r}: rows are [[model]] tables", source=source)
    rows = document.get("model")
    if not isinstance(rows, list) or not rows:
        raise CatalogError(f"{source}: no [[model]] tables", source=source)
    finder = _LineFinder(text, starts if len(starts) == len(rows) else [])
    entries = [_entry(row, number, source, finder) for number, row in enumerate(rows, start=1)]
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        if entry.key in seen:
            _fail(source, number, entry.key, "key", f"duplicates row {seen[entry.key]}", finder)
        seen[entry.key] = number
    lines: dict[tuple[str, str | None], int] = {}
    for number, entry in enumerate(entries, start=1):
        for name in (None, *_FIELD_TYPES):
            found = finder.line(number, name)
            if found is not None:
                lines[(entry.key, name)] = found
    return Catalog(entries, text=text, lines=lines)


_ROW_HEADER = re.compile(r"^\s*\[\[\s*model\s*\]\]", re.MULTILINE)
_SYNTAX_LINE = re.compile(r"at line (\d+)")


def _row_starts(text: str) -> list[int]:
    """The 1-based line of every [[model]] header, in order."""
    return [text.count("\n", 0, found.start()) + 1 for found in _ROW_HEADER.finditer(text)]


def _syntax_error_line(exc: Exception) -> int | None:
    found = _SYNTAX_LINE.search(str(exc))
    return int(found[1]) if found else None


class _LineFinder:
    """Where row N (1-based) and its fields are written; None when the file does not say
    (rows not written as [[model]] headers)."""

    def __init__(self, text: str, starts: list[int]) -> None:
        self._lines = text.splitlines()
        self._starts = starts

    def line(self, number: int, field: str | None) -> int | None:
        if not 1 <= number <= len(self._starts):
            return None
        start = self._starts[number - 1]
        if field is None:
            return start
        end = self._starts[number] if number < len(self._starts) else len(self._lines) + 1
        pattern = re.compile(rf"^\s*[\"']?{re.escape(field)}[\"']?\s*=")
        for line_number in range(start + 1, end):
            if pattern.match(self._lines[line_number - 1]):
                return line_number
        return None


def _entry(row: object, number: int, source: str, finder: _LineFinder) -> CatalogEntry:
    if not isinstance(row, dict):
        _fail(source, number, None, "model", "each row must be a [[model]] table", finder)
    key = row.get("key") if isinstance(row.get("key"), str) else None
    for name in row:
        if name not in _FIELD_TYPES:
            _fail(source, number, key, name, f"unknown field (known: {', '.join(_FIELD_TYPES)})", finder)
    values = {name: _value(row, name, kind, number, key, source, finder) for name, kind in _FIELD_TYPES.items()}
    _check_formats(values, number, key, source, finder)
    return CatalogEntry(**values)


def _value(row: dict[str, Any], name: str, kind: str, number: int, key: str | None, source: str,
           finder: _LineFinder) -> Any:
    def fail(problem: str) -> NoReturn:
        _fail(source, number, key, name, problem, finder)

    value = row.get(name)
    if value is None:
        if kind in (_TEXT, _COUNT):
            fail("is missing")
        return () if kind == _TOKENS else ("" if name == "notes" else None)
    if kind in (_TEXT, _OPTIONAL_TEXT):
        if not isinstance(value, str) or (not value.strip() and name != "notes"):
            fail(f"must be non-empty text, not {value!r}")
        return value
    if kind in (_COUNT, _OPTIONAL_COUNT):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            fail(f"must be a whole number of 1 or more, not {value!r}")
        return value
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        fail(f"must be a list of non-empty text, not {value!r}")
    return tuple(value)


def _check_formats(values: dict[str, Any], number: int, key: str | None, source: str, finder: _LineFinder) -> None:
    for name, choices in _CHOICES.items():
        if values[name] not in choices:
            _fail(source, number, key, name, f"{values[name]!r} is not one of {', '.join(choices)}", finder)
    for name, (pattern, wanted) in _FORMATS.items():
        if values[name] is not None and not pattern.fullmatch(values[name]):
            _fail(source, number, key, name, f"{values[name]!r} is not {wanted}", finder)
    if not values["key"].startswith(values["vendor"] + "-"):
        _fail(source, number, key, "key", f"{values['key']!r} must start with its vendor, {values['vendor']!r}-", finder)


def _fail(source: str, number: int, key: str | None, field: str, problem: str, finder: _LineFinder) -> NoReturn:
    line = finder.line(number, field) or finder.line(number, None)
    row = f"row {number}" + (f" ({key})" if key else "") + (f", line {line}" if line else "")
    raise CatalogError(f"{source}: {row}: field {field!r} {problem}", source=source, row=number, field=field, line=line)
