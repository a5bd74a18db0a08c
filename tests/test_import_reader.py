"""Reading installers' spreadsheets: encodings, separators, XLSX, headers, row numbers."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from provisioner.importing.errors import UnreadableFile
from provisioner.importing.reader import clean, fold, map_header, open_table
from provisioner.importing.values import FIELDS, RawRow
from tests.test_import_support import csv_text, write_xlsx

SPANISH = [
    ["Extensión", "Nombres", "Apellidos", "Correo", "Área", "Permisos", "MAC", "Modelo", "Línea"],
    ["101", "José", "Muñoz Peña", "jose.munoz@empresa.com.co", "Logística", "interno;nacional", "00:15:65:AA:BB:01", "T21P", "1"],
    ["102", "Ángela", "Vélez", "", "Contabilidad", "", "000b82aabb02", "GXP1620", "2"],
]


def _values(**fields: str) -> tuple[str, ...]:
    return tuple(fields.get(name, "") for name in FIELDS)


EXPECTED = [
    RawRow(2, _values(extension="101", first_name="José", last_name="Muñoz Peña", email="jose.munoz@empresa.com.co",
                      department="Logística", permissions="interno;nacional", mac="00:15:65:AA:BB:01", model="T21P", line="1")),
    RawRow(3, _values(extension="102", first_name="Ángela", last_name="Vélez", department="Contabilidad",
                      mac="000b82aabb02", model="GXP1620", line="2")),
]


def _read(data: bytes | Path, filename: str = "lista.csv", sheet: str | None = None) -> tuple[list[RawRow], str, object]:
    with open_table(data, filename, sheet=sheet) as table:
        return list(table.rows()), table.detail, table.header


@pytest.mark.parametrize(
    ("encoding", "separator", "detail"),
    [
        ("utf-8", ",", "UTF-8, separado por ','"),
        ("utf-8", ";", "UTF-8, separado por ';'"),
        ("utf-8-sig", ";", "UTF-8 con BOM, separado por ';'"),
        ("utf-8-sig", ",", "UTF-8 con BOM, separado por ','"),
        ("cp1252", ";", "Windows-1252, separado por ';'"),  # Excel "CSV (delimitado por comas)" in a Spanish locale
        ("cp1252", ",", "Windows-1252, separado por ','"),
        ("utf-16", "\t", "UTF-16, separado por tabulador"),  # Excel "Texto Unicode"
    ],
)
def test_every_csv_flavour_reads_the_same_rows(encoding: str, separator: str, detail: str) -> None:
    data = csv_text(SPANISH, separator).encode(encoding)
    if encoding == "utf-8-sig":
        assert data.startswith(codecs.BOM_UTF8)
    rows, shown, _ = _read(data)
    assert rows == EXPECTED
    assert shown == detail


def test_xlsx_reads_the_same_rows_with_numbers_as_excel_stores_them(tmp_path: Path) -> None:
    numeric = [SPANISH[0], [101, *SPANISH[1][1:8], 1], [102.0, *SPANISH[2][1:8], 2.0]]
    rows, detail, _ = _read(write_xlsx(tmp_path / "lista.xlsx", numeric), "lista.xlsx")
    assert rows == EXPECTED
    assert detail == "hoja 'Extensiones'"


def test_xlsx_sheet_is_chosen_by_name_and_unknown_sheets_are_named(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "lista.xlsx", SPANISH, extra_sheet_first=True)
    assert _read(path, sheet="Extensiones")[0] == EXPECTED
    with pytest.raises(UnreadableFile, match=r"no hay una hoja llamada 'Hoja2' \(hojas: Instrucciones, Extensiones\)"):
        _read(path, sheet="Hoja2")


def test_first_sheet_is_the_default(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "lista.xlsx", SPANISH, extra_sheet_first=True)
    with open_table(path) as table:
        assert [p.message for p in table.header.problems][:1] == ["la columna 'Llene la hoja Extensiones' no se usa y se ignoró"]


def test_xlsx_row_numbers_are_the_sheets_own(tmp_path: Path) -> None:
    rows = [[], ["Extension", "Name"], ["201", "Ana"], [], ["202", "Luis"]]
    read, _, header = _read(write_xlsx(tmp_path / "x.xlsx", rows), "x.xlsx")
    assert header.row == 2  # type: ignore[attr-defined]
    assert [r.number for r in read] == [3, 5]


def test_csv_row_numbers_count_blank_lines_and_multiline_cells_as_the_spreadsheet_does() -> None:
    data = b'\r\nextension,name,department\r\n301,"Ana\nGomez",Ventas\r\n\r\n302,Luis,Ventas\r\n'
    rows, _, header = _read(data)
    assert header.row == 2  # type: ignore[attr-defined]
    assert [(r.number, r.values[0]) for r in rows] == [(3, "301"), (5, "302")]
    assert rows[0].values[1] == "Ana\nGomez"  # kept, so validation can reject the line break


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Extensión", "extension"), ("EXTENSION", "extension"), (" extension ", "extension"),
        ("Nombre", "name"), ("Nombres", "first_name"), ("Apellidos", "last_name"), ("First name", "first_name"),
        ("last_name", "last_name"), ("E-mail", "email"), ("Correo electrónico", "email"), ("correo", "email"),
        ("Área", "department"), ("Departamento", "department"), ("Permisos", "permissions"),
        ("MAC", "mac"), ("Dirección MAC", "mac"), ("Modelo", "model"), ("Línea", "line"), ("SIP password", "sip_password"),
    ],
)
def test_header_names_in_english_and_spanish(header: str, field: str) -> None:
    mapped = map_header(["x_other", header], 1)
    assert mapped.columns[1].field == field


def test_extra_columns_are_reported_and_ignored() -> None:
    header = map_header(["Extensión", "Nombre", "Cargo", "", "Celular personal"], 1)
    assert [(p.severity, p.cell, p.message) for p in header.problems] == [
        ("warning", "C1", "la columna 'Cargo' no se usa y se ignoró"),
        ("warning", "E1", "la columna 'Celular personal' no se usa y se ignoró"),
    ]
    assert header.usable


def test_repeated_and_missing_columns_are_errors() -> None:
    header = map_header(["Correo", "Nombre", "email"], 1)
    assert [str(p) for p in header.problems] == [
        "fila 1, columna email (C1): la columna 'email' repite la columna 'Correo' (A)",
        "fila 1: falta la columna de extensión (encabezado extension o extensión)",
    ]
    assert not header.usable
    assert [str(p) for p in map_header(["extension", "correo"], 1).problems] == [
        "fila 1: falta la columna del nombre (encabezado name|nombre, o first_name|nombres y last_name|apellidos)"
    ]


def test_full_name_column_wins_over_first_and_last_name() -> None:
    header = map_header(["extension", "nombre", "nombres"], 1)
    assert [p.message for p in header.problems] == ["la columna 'nombres' se ignoró: la columna 'nombre' ya da el nombre completo"]


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("'=HYPERLINK(\"http://x\")", '=HYPERLINK("http://x")'),
        ("'+57 300", "+57 300"),
        ("'-Ventas-", "-Ventas-"),
        ("'@sistemas", "@sistemas"),
        ("''=x", "'=x"),  # a value that itself began with an apostrophe before the =
        ("'O'Brien", "'O'Brien"),  # an apostrophe not guarding a formula stays
        ("  Ana  ", "Ana"),
        ("\u00a0101\u00a0", "101"),  # non-breaking spaces from copy-paste
    ],
)
def test_cells_are_trimmed_and_lose_the_exporters_formula_guard(cell: str, value: str) -> None:
    assert clean(cell) == value


def test_fold_makes_headers_comparable() -> None:
    assert fold("  Correo Electrónico* ") == "correo_electronico"


def test_old_xls_and_broken_xlsx_are_refused_with_a_fix(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match=r"archivo de Excel antiguo \(\.xls\): guárdelo como \.xlsx o CSV"):
        _read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "lista.xls")
    with pytest.raises(UnreadableFile, match="no es un archivo XLSX legible"):
        _read(b"PK\x03\x04garbage", "lista.xlsx")
    with pytest.raises(UnreadableFile, match="lista.xlsx no es un archivo XLSX válido"):
        _read(b"extension,name\n", "lista.xlsx")


def test_an_empty_file_has_no_header() -> None:
    with pytest.raises(UnreadableFile, match="el archivo no tiene fila de encabezado"):
        _read(b"\r\n ; \r\n")


def test_cp1252_bytes_that_are_invalid_utf8_are_detected() -> None:
    data = "extension;nombre\n101;Peña\n".encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    rows, detail, _ = _read(data)
    assert rows[0].values[1] == "Peña"
    assert detail == "Windows-1252, separado por ';'"
