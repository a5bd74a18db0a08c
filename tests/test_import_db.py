"""Import and export against real databases (each test on SQLite and on PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from sqlalchemy import Engine, delete

from provisioner.db.engine import session_factory
from provisioner.db.models import Device, Extension
from provisioner.directory import Directory
from provisioner.settings import Settings
from tests.test_import_support import (
    EXPORT_SCRIPT,
    IMPORT_SCRIPT,
    add_tenant,
    cli_process,
    config_version,
    devices,
    extensions,
    import_db,  # noqa: F401 - fixture
    engine,  # noqa: F401 - fixture
    run_export,
    run_import,
    write_csv,
    write_xlsx,
)

SPANISH = ["Extensión", "Nombre", "Correo", "Área", "Permisos", "MAC", "Modelo", "Línea", "Cargo"]
ROWS = [
    ["101", "José Muñoz", "jose@empresa.com.co", "Gerencia", "interno;local;nacional;celular", "00:0B:82:AA:00:01", "GXP1620", "1", "Gerente"],
    ["102", "Ángela Peña", "", "Ventas", "Nacional|interno", "000b82aa0001", "GXP1620", "2", "Asesora"],
    ["103", "Luis Vélez", "luis@empresa.com.co", "Soporte", "", "0015.65aa.0003", "SIP-T21P", "", ""],
    ["104", "Carla Díaz", "", "Soporte", "internacional", "", "", "", "Remota"],
]
PASSWORD = re.compile(r"[A-Za-z0-9]{20}")


def _file(tmp_path: Path, rows: list[list[str]] = ROWS, name: str = "lista.csv") -> Path:
    return write_csv(tmp_path / name, [SPANISH, *rows], ";", "cp1252")


def _key(engine: Engine, mac: str) -> str:
    return devices(engine)[mac]


def test_import_creates_extensions_phones_and_secret_passwords(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    result = run_import(import_db, str(_file(tmp_path)), "--tenant", "acme")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "lista.csv (Windows-1252, separado por ';') -> tenant acme",
        "warnings:",
        "  fila 1, columna Cargo (I1): la columna 'Cargo' no se usa y se ignoró",
        "imported:",
        "4 rows: 4 created, 0 updated, 0 unchanged, 0 removed, 1 warning",
        "2 new phones registered (by MAC)",
    ]
    stored = extensions(engine)
    assert {n: (e["name"], e["permissions"], e["mac"], e["line"]) for n, e in stored.items()} == {
        "101": ("José Muñoz", "internal,local,national,mobile", "000b82aa0001", 1),
        "102": ("Ángela Peña", "internal,national", "000b82aa0001", 2),
        "103": ("Luis Vélez", "internal", "001565aa0003", 1),
        "104": ("Carla Díaz", "international", None, None),
    }
    assert stored["101"]["sip_auth_user"] == "acme-101"
    passwords = [e["sip_password"] for e in stored.values()]
    assert all(PASSWORD.fullmatch(str(p)) for p in passwords) and len(set(passwords)) == 4
    assert not any(str(p) in result.output for p in passwords)
    assert set(devices(engine)) == {"000b82aa0001", "001565aa0003"}
    assert config_version(engine) == 1


def test_xlsx_gives_the_same_state_as_csv(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    numeric = [[int(r[0]), *r[1:7], int(r[7]) if r[7] else None, r[8]] for r in ROWS]
    path = write_xlsx(tmp_path / "lista.xlsx", [SPANISH, *numeric])
    result = run_import(import_db, str(path), "--tenant", "acme", "--sheet", "Extensiones")
    assert result.exit_code == 0, result.output
    assert "4 created" in result.output
    assert {n: e["mac"] for n, e in extensions(engine).items()} == {
        "101": "000b82aa0001", "102": "000b82aa0001", "103": "001565aa0003", "104": None,
    }


def test_reimporting_the_same_file_changes_nothing(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    path = _file(tmp_path)
    run_import(import_db, str(path), "--tenant", "acme")
    before, version = extensions(engine), config_version(engine)
    result = run_import(import_db, str(path), "--tenant", "acme")
    assert result.exit_code == 0
    assert "4 rows: 0 created, 0 updated, 4 unchanged, 0 removed, 1 warning" in result.output
    assert extensions(engine) == before  # passwords included
    assert config_version(engine) == version  # nothing written: phones' configs are not even marked stale


def test_a_changed_row_updates_in_place_and_the_old_phone_loses_the_extension(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    run_import(import_db, str(_file(tmp_path)), "--tenant", "acme")
    with session_factory(engine)() as session:
        ids = {e.number: e.id for e in session.query(Extension)}
    before = extensions(engine)
    moved = [list(r) for r in ROWS]
    moved[2] = ["103", "Luis Vélez Ramírez", "luis@empresa.com.co", "Soporte", "", "0004f2aa0009", "VVX600", "1", ""]
    result = run_import(import_db, str(_file(tmp_path, moved, "v2.csv")), "--tenant", "acme")
    assert result.exit_code == 0, result.output
    assert "4 rows: 0 created, 1 updated, 3 unchanged, 0 removed, 1 warning" in result.output
    assert "1 phone(s) left with no extension: they stay registered to this customer" in result.output
    after = extensions(engine)
    assert (after["103"]["name"], after["103"]["mac"]) == ("Luis Vélez Ramírez", "0004f2aa0009")
    assert after["103"]["sip_password"] == before["103"]["sip_password"]  # kept: the file has none
    with session_factory(engine)() as session:
        assert {e.number: e.id for e in session.query(Extension)} == ids  # updated in place, same rows
    assert "001565aa0003" in devices(engine)  # the old phone stays registered, with no line


def test_lines_can_swap_between_extensions_in_one_import(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    run_import(import_db, str(_file(tmp_path)), "--tenant", "acme")
    swapped = [list(r) for r in ROWS]
    swapped[0][7], swapped[1][7] = "2", "1"
    result = run_import(import_db, str(_file(tmp_path, swapped, "swap.csv")), "--tenant", "acme")
    assert result.exit_code == 0, result.output
    assert {n: e["line"] for n, e in extensions(engine).items() if n in ("101", "102")} == {"101": 2, "102": 1}


def test_a_password_in_the_file_is_set_and_an_empty_one_keeps_the_stored_one(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    header = ["extension", "name", "sip_password"]
    run_import(import_db, str(write_csv(tmp_path / "a.csv", [header, ["201", "Ana", "Clave.Segura-2024"], ["202", "Luis", ""]])), "--tenant", "acme")
    generated = extensions(engine)["202"]["sip_password"]
    assert extensions(engine)["201"]["sip_password"] == "Clave.Segura-2024"
    result = run_import(import_db, str(write_csv(tmp_path / "b.csv", [header, ["201", "Ana", ""], ["202", "Luis", "Otra.Clave-2025"]])), "--tenant", "acme")
    assert "Otra.Clave-2025" not in result.output and "1 updated" in result.output
    assert extensions(engine)["201"]["sip_password"] == "Clave.Segura-2024"
    assert extensions(engine)["202"]["sip_password"] == "Otra.Clave-2025" != generated


def test_replace_removes_the_extensions_absent_from_the_file(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    run_import(import_db, str(_file(tmp_path)), "--tenant", "acme")
    short = _file(tmp_path, ROWS[:2], "short.csv")
    kept = run_import(import_db, str(short), "--tenant", "acme")
    assert "2 existing extension(s) are not in the file and were kept (--replace removes them)" in kept.output
    assert set(extensions(engine)) == {"101", "102", "103", "104"}
    result = run_import(import_db, str(short), "--tenant", "acme", "--replace")
    assert result.exit_code == 0
    assert "2 rows: 0 created, 0 updated, 2 unchanged, 2 removed, 1 warning" in result.output
    assert set(extensions(engine)) == {"101", "102"}


def test_a_line_held_by_an_extension_outside_the_file_needs_replace(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    run_import(import_db, str(_file(tmp_path)), "--tenant", "acme")
    newcomer = _file(tmp_path, [["110", "Nuevo", "", "", "", "0015.65aa.0003", "T21P", "1", ""]], "new.csv")
    refused = run_import(import_db, str(newcomer), "--tenant", "acme")
    assert refused.exit_code == 1
    assert ("  fila 2, columna Línea (H2): la línea 1 de la MAC 00:15:65:AA:00:03 tiene la extensión 103, que no está en este archivo "
            "(agregue esa extensión con su nueva ubicación, o importe quitando las extensiones que no estén en el archivo, --replace, para quitarla)") in refused.output.splitlines()
    accepted = run_import(import_db, str(newcomer), "--tenant", "acme", "--replace")
    assert accepted.exit_code == 0, accepted.output
    assert set(extensions(engine)) == {"110"}


def test_one_bad_row_writes_nothing_and_lists_every_problem(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    run_import(import_db, str(_file(tmp_path, ROWS[:1])), "--tenant", "acme")
    before, version = extensions(engine), config_version(engine)
    bad = [*ROWS, ["105", "Mal Correo", "mal@", "", "satelital", "", "", "", ""]]
    result = run_import(import_db, str(_file(tmp_path, bad, "bad.csv")), "--tenant", "acme")
    assert result.exit_code == 1
    assert result.output.splitlines()[:4] == [
        "bad.csv (Windows-1252, separado por ';') -> tenant acme",
        "2 problems: nothing was written. Fix the file and import it again.",
        "  fila 6, columna Correo (C6): 'mal@' no es un correo electrónico válido",
        "  fila 6, columna Permisos (E6): permiso desconocido 'satelital' (permitidos: internal, local, national, mobile, international)",
    ]
    assert extensions(engine) == before and config_version(engine) == version


def test_dry_run_shows_the_changes_and_writes_nothing(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    result = run_import(import_db, str(_file(tmp_path)), "--tenant", "acme", "--dry-run")
    assert result.exit_code == 0
    assert "dry run, nothing written; the import would give:" in result.output
    assert "4 rows: 4 created, 0 updated, 0 unchanged, 0 removed, 1 warning" in result.output
    assert extensions(engine) == {} and devices(engine) == {}


def test_a_mac_of_another_customer_is_refused(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine, "otra", "Otra Empresa")
    add_tenant(engine)
    run_import(import_db, str(_file(tmp_path, ROWS[2:3], "otra.csv")), "--tenant", "otra")
    result = run_import(import_db, str(_file(tmp_path)), "--tenant", "acme")
    assert result.exit_code == 1
    assert "  fila 4, columna MAC (F4): la MAC 00:15:65:AA:00:03 pertenece a un teléfono de otro cliente" in result.output.splitlines()
    assert extensions(engine) == {}


def test_a_registered_phone_keeps_its_model(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    run_import(import_db, str(_file(tmp_path)), "--tenant", "acme")
    changed = [list(r) for r in ROWS]
    changed[2][6] = "VVX600"
    result = run_import(import_db, str(_file(tmp_path, changed, "model.csv")), "--tenant", "acme")
    assert result.exit_code == 1
    assert "  fila 4, columna Modelo (G4): la MAC 00:15:65:AA:00:03 está registrada como T21P, no como VVX600" in result.output.splitlines()


def test_json_prints_one_document(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    result = run_import(import_db, str(_file(tmp_path)), "--tenant", "acme", "--json")
    document = json.loads(result.output)
    assert document["summary"] == {
        "rows": 4, "created": 4, "updated": 0, "unchanged": 0, "removed": 0, "absent": 0,
        "devices_created": 2, "devices_left_empty": 0, "warnings": 1,
    }
    assert document["applied"] is True and document["problems"] == []
    assert document["warnings"] == [{"row": 1, "column": "Cargo", "cell": "I1", "severity": "warning",
                                     "message": "la columna 'Cargo' no se usa y se ignoró"}]
    bad = run_import(import_db, str(write_csv(tmp_path / "b.csv", [["extension", "name"], ["1", "x"]])), "--tenant", "acme", "--json")
    assert bad.exit_code == 1
    assert json.loads(bad.output)["problems"] == [{"row": 2, "column": "extension", "cell": "A2", "severity": "error",
                                                   "message": "'1' no es un número de extensión: use de 2 a 6 dígitos"}]


def test_unknown_tenant_and_unreadable_file(engine: Engine, import_db: str, tmp_path: Path) -> None:
    result = run_import(import_db, str(_file(tmp_path)), "--tenant", "nadie")
    assert result.exit_code == 1
    assert "no hay un cliente con el identificador 'nadie' (vea `provisioner tenant list`)" in result.output
    as_json = run_import(import_db, str(_file(tmp_path)), "--tenant", "nadie", "--json")
    assert (as_json.exit_code, json.loads(as_json.output)) == (
        1, {"ok": False, "applied": False, "error": "no hay un cliente con el identificador 'nadie' (vea `provisioner tenant list`)"})
    add_tenant(engine)
    old = tmp_path / "lista.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    assert "guárdelo como .xlsx o CSV" in run_import(import_db, str(old), "--tenant", "acme").output


def test_phones_get_the_new_data_at_once(engine: Engine, import_db: str, tmp_path: Path) -> None:
    """A long-lived server cache (Directory) sees the import on its next check: no stale config."""
    tenant_id = add_tenant(engine)
    run_import(import_db, str(_file(tmp_path)), "--tenant", "acme")
    directory = Directory(session_factory(engine), Settings(cache_check_seconds=0))
    directory.refresh_if_changed()
    phone = directory.device(tenant_id, "000b82aa0001")
    assert phone is not None and [(line.number, line.display_name) for line in phone.lines] == [(1, "José Muñoz"), (2, "Ángela Peña")]
    moved = [list(r) for r in ROWS]
    moved[0][1], moved[1][5] = "José Muñoz Restrepo", ""  # 101 renamed, 102 leaves the phone
    run_import(import_db, str(_file(tmp_path, moved, "v2.csv")), "--tenant", "acme")
    directory.refresh_if_changed()
    phone = directory.device(tenant_id, "000b82aa0001")
    assert phone is not None and [(line.number, line.display_name) for line in phone.lines] == [(1, "José Muñoz Restrepo")]


def test_rendered_configs_show_the_import_at_once(engine: Engine, import_db: str, tmp_path: Path) -> None:
    """A running service (its caches warm) serves the phone's new lines right after an import."""
    from datetime import UTC, datetime

    from firmware_catalog import load_catalog
    from provisioner.firmware_store import FirmwareStore
    from provisioner.service import ProvisioningService
    from provisioner.values import ConfigRequest, Protocol
    from provisioner.vendors import VENDORS

    add_tenant(engine)
    run_import(import_db, str(_file(tmp_path)), "--tenant", "acme")
    service = ProvisioningService(Directory(session_factory(engine), Settings(cache_check_seconds=0)), load_catalog(),
                                  FirmwareStore(tmp_path, ()), VENDORS)

    def config() -> str:
        request = ConfigRequest(Protocol.HTTP, "key-acme-0123456789", "cfg000b82aa0001.xml", None, "127.0.0.1", datetime.now(UTC))
        outcome = service.fetch(request)
        assert outcome.file is not None, outcome.reason
        return outcome.file.body.decode()

    assert "José Muñoz" in config() and "Ángela Peña" in config()
    moved = [list(r) for r in ROWS]
    moved[0][1], moved[1][5] = "José Muñoz Restrepo", ""  # 101 renamed, 102 leaves the phone
    run_import(import_db, str(_file(tmp_path, moved, "v2.csv")), "--tenant", "acme")
    served = config()
    assert "José Muñoz Restrepo" in served and "Ángela Peña" not in served


# -- export ---------------------------------------------------------------------------------
TRICKY = [
    ["extension", "name", "email", "department", "permissions", "mac", "model", "line"],
    ["301", "=HYPERLINK(\"http://evil.example/\",\"Ver\")", "", "+57 Ventas", "local", "00:04:F2:AA:00:01", "VVX600", "1"],
    ["302", "@Sistemas", "", "-Soporte-", "", "", "", ""],
    ["303", "''=ya con apóstrofo", "ana@empresa.com.co", "Cartera", "nacional", "000b82aa0303", "GXP1630", "3"],
]


def _csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_export_neutralizes_formulas_and_leaves_passwords_out(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    run_import(import_db, str(write_csv(tmp_path / "t.csv", TRICKY)), "--tenant", "acme")
    result = run_export(import_db, "--tenant", "acme")
    assert result.exit_code == 0
    cells = _csv_cells(result.output)
    assert cells[0] == ["extension", "name", "email", "department", "permissions", "mac", "model", "line", "sip_user"]
    assert cells[1] == ["301", "'=HYPERLINK(\"http://evil.example/\",\"Ver\")", "", "'+57 Ventas", "local", "00:04:F2:AA:00:01", "VVX600", "1",
                        "acme-301"]
    assert cells[2] == ["302", "'@Sistemas", "", "'-Soporte-", "internal", "", "", "", "acme-302"]
    assert cells[3][1] == "''=ya con apóstrofo"
    assert not any(str(e["sip_password"]) in result.output for e in extensions(engine).values())
    with_passwords = _csv_cells(run_export(import_db, "--tenant", "acme", "--with-passwords").output)
    assert with_passwords[0][-1] == "sip_password"
    assert {r[0]: r[-1] for r in with_passwords[1:]} == {n: e["sip_password"] for n, e in extensions(engine).items()}


def test_export_help_says_passwords_are_left_out(import_db: str) -> None:
    text = " ".join(run_export(import_db, "--help").output.split())
    assert "SIP passwords are not included unless --with-passwords is given" in text


def test_export_then_import_gives_the_same_state(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    run_import(import_db, str(write_csv(tmp_path / "t.csv", TRICKY)), "--tenant", "acme")
    run_import(import_db, str(_file(tmp_path, ROWS[:3])), "--tenant", "acme")
    original, original_devices = extensions(engine), devices(engine)
    exported = tmp_path / "export.csv"
    assert run_export(import_db, "--tenant", "acme", "--with-passwords", "--separator", ";", str(exported)).exit_code == 0
    assert exported.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows the accents right
    same = run_import(import_db, str(exported), "--tenant", "acme")
    assert "6 rows: 0 created, 0 updated, 6 unchanged" in same.output
    with session_factory(engine).begin() as session:  # the customer's data is lost...
        session.execute(delete(Extension))
        session.execute(delete(Device))
    restored = run_import(import_db, str(exported), "--tenant", "acme")  # ...and comes back from the export
    assert restored.exit_code == 0, restored.output
    assert extensions(engine) == original and devices(engine) == original_devices


def test_real_processes_import_and_export(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    importer = cli_process(import_db, IMPORT_SCRIPT, str(_file(tmp_path)), "--tenant", "acme", "--json", stdout=-1, stderr=-1)
    out, err = importer.communicate(timeout=120)
    assert importer.returncode == 0, err
    assert json.loads(out)["summary"]["created"] == 4
    exporter = cli_process(import_db, EXPORT_SCRIPT, "--tenant", "acme", stdout=-1, stderr=-1)
    out, err = exporter.communicate(timeout=120)
    assert exporter.returncode == 0, err
    assert [r[0] for r in _csv_cells(out)] == ["extension", "101", "102", "103", "104"]


# -- the PBX's SIP users (issue 19) -------------------------------------------------------------
def test_import_takes_the_pbx_sip_user_and_never_renames(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    header = ["Extensión", "Nombre", "Usuario SIP", "MAC", "Modelo"]
    first = [header, ["201", "Ana", "201", "00:15:65:AA:02:01", "T21P"], ["202", "Luis", "", "", ""],
             ["203", "Sara", "+5716001203", "", ""]]  # an E.164 user: a formula to a spreadsheet
    result = run_import(import_db, str(write_csv(tmp_path / "a.csv", first, ";")), "--tenant", "acme")
    assert result.exit_code == 0, result.output
    users = {n: e["sip_auth_user"] for n, e in extensions(engine).items()}
    assert users == {"201": "201", "202": "acme-202", "203": "+5716001203"}  # empty: the tenant's format
    again = run_import(import_db, str(write_csv(tmp_path / "b.csv", first, ";")), "--tenant", "acme")
    assert "0 created, 0 updated, 3 unchanged" in again.output

    renamed = [header, ["201", "Ana", "ana-pbx", "00:15:65:AA:02:01", "T21P"], ["202", "Luis", "", "", ""]]
    refused = run_import(import_db, str(write_csv(tmp_path / "c.csv", renamed, ";")), "--tenant", "acme")
    assert refused.exit_code == 1
    assert ("fila 2, columna Usuario SIP (C2): la extensión 201 ya tiene el usuario SIP '201', no 'ana-pbx': "
            "una importación nunca renombra una cuenta") in refused.output
    assert {n: e["sip_auth_user"] for n, e in extensions(engine).items()} == users  # nothing written

    clashes = [header,
               ["204", "Eva", "201", "", ""],  # held by the stored 201
               ["205", "Tom", "pbx-7", "", ""], ["206", "Ivan", "pbx-7", "", ""],  # twice in the file
               ["207", "Rosa", "", "", ""], ["208", "Leo", "acme-207", "", ""],  # 207's user, made from the format
               ["209", "Mar", "dos palabras", "", ""]]
    refused = run_import(import_db, str(write_csv(tmp_path / "d.csv", clashes, ";")), "--tenant", "acme")
    assert refused.exit_code == 1
    for line in ("fila 2, columna Usuario SIP (C2): el usuario SIP '201' pertenece a la extensión 201 (ya guardada)",
                 "fila 4, columna Usuario SIP (C4): el usuario SIP 'pbx-7' pertenece a la extensión 205 (en la fila 3)",
                 "fila 6, columna Usuario SIP (C6): el usuario SIP 'acme-207' pertenece a la extensión 207 (en la fila 5)",
                 "fila 7, columna Usuario SIP (C7): el usuario SIP 'dos palabras' debe tener de 1 a 64 caracteres"):
        assert line in refused.output, refused.output
    assert set(extensions(engine)) == {"201", "202", "203"}


def test_a_format_user_that_is_already_taken_is_refused(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    header = ["extension", "name", "sip_user"]
    run_import(import_db, str(write_csv(tmp_path / "a.csv", [header, ["301", "Ana", "acme-302"]])), "--tenant", "acme")
    refused = run_import(import_db, str(write_csv(tmp_path / "b.csv", [header, ["301", "Ana", ""], ["302", "Luis", ""]])),
                         "--tenant", "acme")
    assert refused.exit_code == 1
    assert ("fila 3, columna sip_user (C3): el usuario SIP 'acme-302' (formado con el formato de usuario SIP del "
            "cliente: dé a esta fila un sip_user) pertenece a la extensión 301 (en la fila 2)") in refused.output


def test_every_export_imports_back_with_its_sip_users(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    header = ["extension", "name", "sip_user", "mac", "model", "line"]
    rows = [header, ["101", "Ana", "101", "000b82aa0101", "GXP1630", "1"], ["102", "Luis", "", "000b82aa0101", "GXP1630", "2"],
            ["103", "Sara", "+5716001103", "", "", ""], ["104", "=Eva", "-eva", "", "Jitsi Windows", ""]]
    assert run_import(import_db, str(write_csv(tmp_path / "a.csv", rows)), "--tenant", "acme").exit_code == 0
    original = extensions(engine)
    exported = tmp_path / "export.csv"
    assert run_export(import_db, "--tenant", "acme", "--with-passwords", str(exported)).exit_code == 0
    cells = _csv_cells(exported.read_text(encoding="utf-8-sig"))
    assert {r[0]: r[8] for r in cells[1:]} == {"101": "101", "102": "acme-102", "103": "'+5716001103", "104": "'-eva"}
    assert "0 created, 0 updated, 4 unchanged" in run_import(import_db, str(exported), "--tenant", "acme").output
    with session_factory(engine).begin() as session:
        session.execute(delete(Extension))
        session.execute(delete(Device))
    with session_factory(engine).begin() as session:  # a new format must not rename the restored accounts
        from provisioner.db.models import Tenant
        session.query(Tenant).filter_by(slug="acme").update({"sip_user_format": "{extension}"})
    restored = run_import(import_db, str(exported), "--tenant", "acme")
    assert restored.exit_code == 0, restored.output
    assert extensions(engine) == original
    without_passwords = tmp_path / "plain.csv"  # the default export imports back too (passwords generated anew)
    assert run_export(import_db, "--tenant", "acme", str(without_passwords)).exit_code == 0
    assert "4 unchanged" in run_import(import_db, str(without_passwords), "--tenant", "acme").output
