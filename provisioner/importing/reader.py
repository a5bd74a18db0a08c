"""Spreadsheet files -> a mapped Header and a stream of RawRow (text cells, cleaned).

CSV: UTF-8 with or without BOM, UTF-16 (Excel's "Unicode text"), else Windows-1252 as
Excel writes it in a Spanish locale; comma, semicolon or tab separated (detected on the
header line). XLSX: openpyxl in read-only mode, first sheet unless one is named.
Rows are streamed: the file is never held in memory. Row numbers are the spreadsheet's
(the first line is row 1, blank lines count).

Every cell is stripped, and a leading apostrophe that our exporter put in front of
=, +, - or @ (formula-injection guard) is removed again, so export -> import round-trips.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any, BinaryIO

from provisioner.importing.errors import UnreadableFile
from provisioner.importing.words import ENCODINGS, SEPARATORS, say
from provisioner.importing.values import (
    WARNING,
    Column,
    Header,
    Problem,
    RawRow,
    column_letter,
)

# Folded header text -> field. Folding: accents removed, lower case, runs of non-alphanumerics -> "_".
SYNONYMS: dict[str, str] = {
    **dict.fromkeys(("extension", "ext", "extension_number", "numero_de_extension", "anexo"), "extension"),
    **dict.fromkeys(("name", "nombre", "full_name", "nombre_completo", "display_name"), "name"),
    **dict.fromkeys(("first_name", "firstname", "given_name", "nombres"), "first_name"),
    **dict.fromkeys(("last_name", "lastname", "surname", "apellidos", "apellido"), "last_name"),
    **dict.fromkeys(("email", "e_mail", "mail", "correo", "correo_electronico", "e_mail_address"), "email"),
    **dict.fromkeys(("department", "departamento", "area", "dept", "dependencia"), "department"),
    **dict.fromkeys(("permissions", "permisos", "permission", "permiso"), "permissions"),
    **dict.fromkeys(("mac", "mac_address", "direccion_mac"), "mac"),
    **dict.fromkeys(("model", "modelo", "phone_model", "modelo_telefono"), "model"),
    **dict.fromkeys(("line", "linea", "line_number"), "line"),
    **dict.fromkeys(("sip_password", "sip_secret", "contrasena_sip", "clave_sip"), "sip_password"),
    **dict.fromkeys(("sip_user", "sip_username", "sip_auth_user", "usuario_sip", "auth_user"), "sip_user"),
}
_SHOWN_NAMES = {
    "extension": "extension|extensión", "name": "name|nombre", "first_name": "first_name|nombres",
    "last_name": "last_name|apellidos",
}
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_NEUTRALIZED = re.compile(r"'+[=+\-@]")
_SEPARATORS = (",", ";", "\t")
_CHUNK = 1 << 20


def fold(text: str) -> str:
    """'Correo electrónico ' -> 'correo_electronico'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _NON_ALNUM.sub("_", ascii_text).strip("_")


def clean(text: str) -> str:
    """Strip spaces and undo the exporter's formula guard ("'=x" -> "=x", "''=x" -> "'=x")."""
    text = text.strip()
    if text[:1] == "'" and _NEUTRALIZED.match(text):
        return text[1:]
    return text


# -- header -------------------------------------------------------------------------------
def map_header(cells: Sequence[str], row: int) -> Header:
    """Map header cells to fields; report unknown, repeated and missing columns (pure)."""
    columns: list[Column] = []
    problems: list[Problem] = []
    seen: dict[str, Column] = {}
    for index, raw in enumerate(cells):
        text = raw.strip()
        if not text:
            continue
        field = SYNONYMS.get(fold(text))
        if field is None:
            problems.append(Problem(row, text, column_letter(index), say("unused_column", header=text), WARNING))
        elif field in seen:
            first = seen[field]
            problems.append(Problem(row, text, column_letter(index), say("repeated_column", header=text, first=first.header, letter=first.letter)))
            field = None
        else:
            seen[field] = Column(index, text, field)
        columns.append(Column(index, text, field))
    problems.extend(_missing_columns(seen, row))
    problems.extend(_name_columns(seen, row))
    return Header(row, tuple(columns), tuple(problems))


def _missing_columns(seen: dict[str, Column], row: int) -> list[Problem]:
    problems = []
    if "extension" not in seen:
        problems.append(Problem(row, "", "", say("no_extension_column")))
    if not {"name", "first_name", "last_name"} & seen.keys():
        problems.append(Problem(row, "", "", say("no_name_column")))
    return problems


def _name_columns(seen: dict[str, Column], row: int) -> list[Problem]:
    if "name" not in seen:
        return []
    return [
        Problem(row, seen[f].header, seen[f].letter, say("name_column_ignored", header=seen[f].header, name=seen['name'].header), WARNING)
        for f in ("first_name", "last_name") if f in seen
    ]


def row_values(cells: Sequence[str], positions: Sequence[int | None]) -> tuple[str, ...]:
    """The cleaned text of each field for one row (pure)."""
    width = len(cells)
    return tuple(clean(cells[p]) if p is not None and p < width else "" for p in positions)


# -- tables -------------------------------------------------------------------------------
@dataclass
class Table:
    """An open spreadsheet: its header and a one-shot stream of data rows."""

    header: Header
    format: str  # "csv" | "xlsx"
    detail: str  # "utf-8, ';' separated" / "sheet 'Hoja1'"
    estimated_rows: int | None
    _rows: Iterator[RawRow]

    def rows(self) -> Iterator[RawRow]:
        return self._rows


@contextmanager
def open_table(source: str | Path | bytes, filename: str | None = None, sheet: str | None = None) -> Iterator[Table]:
    """Open a CSV or XLSX file (path or uploaded bytes); the format comes from content and name."""
    with _binary(source) as stream:
        name = filename or (str(source) if not isinstance(source, bytes) else "")
        kind = _sniff_format(stream, name)
        if kind == "xlsx":
            with _xlsx_table(stream, sheet) as table:
                yield table
        else:
            if sheet is not None:
                raise UnreadableFile(say("sheet_not_csv"))
            yield _csv_table(stream)


@contextmanager
def _binary(source: str | Path | bytes) -> Iterator[BinaryIO]:
    if isinstance(source, bytes):
        yield io.BytesIO(source)
        return
    try:
        handle = open(source, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise UnreadableFile(say("cannot_open", path=source, reason=exc.strerror)) from None
    with handle:
        yield handle


def _sniff_format(stream: BinaryIO, name: str) -> str:
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(say("old_xls"))
    if name.lower().endswith((".xlsx", ".xlsm")):
        raise UnreadableFile(say("not_xlsx", name=name))
    return "csv"


# -- CSV ----------------------------------------------------------------------------------
def detect_encoding(stream: BinaryIO) -> tuple[str, int]:
    """(encoding, line count). BOM first; else UTF-8 if the whole file decodes as UTF-8 (read in
    chunks, never whole); else Windows-1252 as Excel writes it; Latin-1 if even that fails."""
    head = stream.read(4)
    stream.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", _count_lines(stream, None)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", _count_lines(stream, None) // 2
    for encoding in ("utf-8", "cp1252"):
        try:
            return encoding, _count_lines(stream, codecs.getincrementaldecoder(encoding)())
        except UnicodeDecodeError:
            continue
    return "latin-1", _count_lines(stream, None)


def _count_lines(stream: BinaryIO, decoder: codecs.IncrementalDecoder | None) -> int:
    """Newlines in the file (an estimate of its rows), decoding as we go when asked (to test an encoding)."""
    lines = 0
    try:
        while chunk := stream.read(_CHUNK):
            lines += chunk.count(b"\n")
            if decoder is not None:
                decoder.decode(chunk)
        if decoder is not None:
            decoder.decode(b"", final=True)
        return lines
    finally:
        stream.seek(0)


def detect_separator(header_line: str) -> str:
    """The separator that splits the header line into the most known column names (then: most cells)."""
    def score(separator: str) -> tuple[int, int]:
        cells = next(csv.reader([header_line], delimiter=separator), [])
        return (sum(fold(c) in SYNONYMS for c in cells), len(cells))

    return max(_SEPARATORS, key=score)


def _csv_table(stream: BinaryIO) -> Table:
    encoding, lines = detect_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    first_line = _first_nonblank_line(text)
    text.seek(0)
    separator = detect_separator(first_line)
    records = enumerate(csv.reader(text, delimiter=separator), start=1)
    header = _header_from(records, say("the_file"))
    detail = say("csv_detail", encoding=ENCODINGS[encoding], separator=SEPARATORS[separator])
    return Table(header, "csv", detail, max(lines - header.row, 0),
                 _data_rows(records, header))


def _first_nonblank_line(text: IO[str]) -> str:
    for line in text:
        if line.strip():
            return line
    return ""


def _header_from(records: Iterable[tuple[int, Sequence[str]]], where: str) -> Header:
    try:
        for number, cells in records:
            if any(c.strip() for c in cells):
                return map_header(cells, number)
    except UnicodeDecodeError:
        raise UnreadableFile(say("not_text")) from None
    except csv.Error as exc:
        raise UnreadableFile(say("bad_csv", detail=exc)) from None
    raise UnreadableFile(say("no_header", where=where))


def _data_rows(records: Iterator[tuple[int, Sequence[str]]], header: Header) -> Iterator[RawRow]:
    positions = header.positions()
    try:
        for number, cells in records:
            if any(c.strip() for c in cells):
                yield RawRow(number, row_values(cells, positions))
    except csv.Error as exc:
        raise UnreadableFile(say("bad_csv", detail=exc)) from None


# -- XLSX ---------------------------------------------------------------------------------
@contextmanager
def _xlsx_table(stream: BinaryIO, sheet: str | None) -> Iterator[Table]:
    import zipfile

    import openpyxl

    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile(say("bad_xlsx", detail=exc)) from None
    try:
        worksheet = _pick_sheet(workbook, sheet)
        records = enumerate(worksheet.iter_rows(values_only=True), start=1)
        texts = ((n, [cell_text(v) for v in cells]) for n, cells in records)
        header = _header_from(texts, say("sheet", sheet=worksheet.title))
        estimated = (worksheet.max_row - header.row) if worksheet.max_row else None
        yield Table(header, "xlsx", say("sheet_detail", sheet=worksheet.title), estimated, _data_rows(texts, header))
    finally:
        workbook.close()


def _pick_sheet(workbook: Any, sheet: str | None) -> Any:
    if sheet is None:
        return workbook.worksheets[0]
    if sheet not in workbook.sheetnames:
        raise UnreadableFile(say("no_sheet", sheet=sheet, sheets=", ".join(workbook.sheetnames)))
    return workbook[sheet]


def cell_text(value: object) -> str:
    """An XLSX cell value as the text the installer sees (101.0 -> '101')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)
