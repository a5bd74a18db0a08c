"""The web page's import calls: preview (nothing written), confirm (all written), on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from provisioner.db.engine import session_factory
from provisioner.importing.api import FileChanged, confirm_import, preview_import
from provisioner.importing.errors import UnknownTenant, UnreadableFile
from provisioner.web.errors import answer_for
from tests.test_import_support import (
    add_tenant,
    csv_text,
    engine,  # noqa: F401 - fixture
    extensions,
    import_db,  # noqa: F401 - fixture
    write_xlsx,
)

ROWS = [
    ["Extensión", "Nombre", "MAC", "Modelo", "Línea"],
    ["101", "Ana Gómez", "00:0B:82:AA:00:01", "GXP1620", "1"],
    ["102", "Luis Peña", "000b82aa0001", "GXP1620", "2"],
]


def test_preview_then_confirm_an_xlsx_upload(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    data = write_xlsx(tmp_path / "lista.xlsx", ROWS).read_bytes()
    sessions = session_factory(engine)
    preview = preview_import(sessions, "acme", data, "lista.xlsx")
    assert (preview["ok"], preview["applied"], preview["dry_run"]) == (True, False, True)
    assert preview["summary"]["created"] == 2
    assert preview["changes"] == [{"row": 2, "extension": "101", "change": "created"},
                                  {"row": 3, "extension": "102", "change": "created"}]
    assert extensions(engine) == {}
    result = confirm_import(sessions, "acme", data, "lista.xlsx", expect_sha256=preview["file_sha256"])
    assert (result["ok"], result["applied"]) == (True, True)
    assert set(extensions(engine)) == {"101", "102"}
    assert not any(str(e["sip_password"]) in repr(result) for e in extensions(engine).values())


def test_confirm_with_problems_writes_nothing_and_lists_them(engine: Engine, import_db: str) -> None:
    add_tenant(engine)
    data = csv_text([*ROWS, ["103", "", "", "", ""]], ";").encode("cp1252")
    result = confirm_import(session_factory(engine), "acme", data, "lista.csv")
    assert (result["ok"], result["applied"], result["changes"]) == (False, False, [])
    assert result["problems"] == [{"row": 4, "column": "Nombre", "cell": "B4", "severity": "error", "message": "el nombre está vacío"}]
    assert result["format"] == "Windows-1252, separado por ';'"
    assert extensions(engine) == {}


def test_errors_map_to_http_statuses(engine: Engine, import_db: str) -> None:
    add_tenant(engine)
    sessions = session_factory(engine)
    data = csv_text(ROWS).encode()
    with pytest.raises(FileChanged) as changed:
        confirm_import(sessions, "acme", data, "lista.csv", expect_sha256="0" * 64)
    with pytest.raises(UnknownTenant) as unknown:
        preview_import(sessions, "nadie", data, "lista.csv")
    with pytest.raises(UnreadableFile) as unreadable:
        preview_import(sessions, "acme", b"\xd0\xcf\x11\xe0" + b"\0" * 64, "lista.xls")
    assert [answer_for(e.value).status for e in (unknown, changed, unreadable)] == [404, 409, 422]
    assert extensions(engine) == {}
