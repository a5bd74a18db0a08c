"""The operator's catalog (issue 15): PROVISIONER_CATALOG=path.toml replaces the built-in
homologated table in every command and server process, after the same validation and review;
every problem names the file's line; `catalog check` fails on a contradiction.

Through the real `provisioner` console script and a real server (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware_catalog import builtin_catalog, load_catalog, parse_catalog, use_catalog
from tests.conftest import cli_json, run_cli, start_server, stop_server
from tests.phones import SimPhone
from tests.test_boot_e2e import add_phone, http_get, wait_for

BUILTIN = builtin_catalog().text or ""
IP550_FIRMWARE = 'firmware = "4.0.13.1445"           # SM§9 says 5.0.13.0881, which never shipped: corrected, see the header'
GXP1610_LINES = "lines = 2                          # SM§9 - exceeds the device, see notes"


def operators_file(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    """The built-in table as `catalog list --toml` prints it, with the operator's edits."""
    text = run_cli("sqlite:///" + str(tmp_path / "x.sqlite3"), "catalog", "list", "--toml").stdout
    assert text == BUILTIN
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "catalogo.toml"
    path.write_text(text, encoding="utf-8")
    return path


def corrected(tmp_path: Path, ip550_firmware: str = "4.0.15.1009") -> Path:
    """The README's example: this fleet's IP 550s run 4.0.15.1009, its GXP1610s hold one line."""
    return operators_file(tmp_path, (IP550_FIRMWARE, f'firmware = "{ip550_firmware}"'), (GXP1610_LINES, "lines = 1"))


def line_of(path: Path, start: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if line.startswith(start))


def test_the_built_in_table_prints_as_toml_and_reads_back_the_same() -> None:
    assert parse_catalog(BUILTIN.encode()).entries == builtin_catalog().entries


def test_an_operators_catalog_replaces_the_built_in_one(tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "db.sqlite3")
    path = corrected(tmp_path)
    env = {"PROVISIONER_CATALOG": str(path)}
    rows = {r["key"]: r for r in json.loads(run_cli(url, "catalog", "list", "--json", env=env).stdout)}
    assert rows["polycom-ip550"]["firmware"] == "4.0.15.1009" and rows["grandstream-gxp1610"]["lines"] == 1
    checked = run_cli(url, "catalog", "check", env=env)
    assert checked.stdout.strip() == "catalog OK"
    assert run_cli(url, "catalog", "list", "--toml", env=env).stdout == path.read_text()
    # The settings list shows the file in use, and says what the setting does.
    shown = {r["name"]: r for r in json.loads(run_cli(url, "settings", "--json", env=env).stdout)}
    assert shown["catalog"]["value"] == str(path) and "catalog check" in shown["catalog"]["help"]


def test_the_built_in_table_passes_catalog_check_with_one_warning(tmp_path: Path) -> None:
    """The GXP1610's homologated 2 lines against its 1 account is a warning (only line 1 is
    offered); --strict makes warnings fail too."""
    url = "sqlite:///" + str(tmp_path / "db.sqlite3")
    result = run_cli(url, "catalog", "check", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "grandstream-gxp1610" in result.stdout and "line " in result.stdout and "Traceback" not in result.stderr
    strict = run_cli(url, "catalog", "check", "--strict", check=False)
    assert strict.returncode == 1 and "grandstream-gxp1610" in strict.stdout


def test_a_contradiction_in_the_operators_file_is_listed_by_check_and_refused_elsewhere(tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "db.sqlite3")
    path = corrected(tmp_path, ip550_firmware="5.0.13.0881")  # the rulebook's typo, copied back
    env = {"PROVISIONER_CATALOG": str(path)}
    line = line_of(path, 'firmware = "5.0.13.0881"')
    checked = run_cli(url, "catalog", "check", "--json", check=False, env=env)
    assert checked.returncode == 1
    assert [(p["key"], p["field"], p["line"]) for p in json.loads(checked.stdout)] == [("polycom-ip550", "firmware", line)]
    refused = run_cli(url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example", check=False, env=env)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"PROVISIONER_CATALOG: {path} contradicts vendor facts (line {line}: row polycom-ip550, field firmware" in refused.stderr
    assert refused.stderr.strip().count("\n") == 0  # one line
    # `catalog check --file` reviews a candidate before it is set.
    assert run_cli(url, "catalog", "check", "--file", str(path), check=False).returncode == 1
    assert run_cli(url, "catalog", "check", "--file", str(corrected(tmp_path))).stdout.strip() == "catalog OK"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ((GXP1610_LINES, "lines = 0"), "row 5 (grandstream-gxp1610), line {line}: field 'lines' must be a whole number"),
        ((GXP1610_LINES, 'lines = 2\ncolour = "negro"'), "row 5 (grandstream-gxp1610), line {line}: field 'colour' unknown field"),
        ((GXP1610_LINES, "lines = = 2"), "not a readable TOML file: Invalid value (at line {line}, column 9)"),
    ],
)
def test_a_bad_operators_file_stops_every_command_with_its_line(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    url = "sqlite:///" + str(tmp_path / "db.sqlite3")
    path = operators_file(tmp_path, change)
    line = line_of(path, change[1].splitlines()[-1])
    for command in (("catalog", "list"), ("catalog", "check"), ("devices",)):
        result = run_cli(url, *command, check=False, env={"PROVISIONER_CATALOG": str(path)})
        assert result.returncode == 1, command
        assert "Traceback" not in result.stderr
        assert f"PROVISIONER_CATALOG: {path}: " + expected.format(line=line) in result.stderr, result.stderr
    # The settings stay readable, to see which file is set.
    assert run_cli(url, "settings", env={"PROVISIONER_CATALOG": str(path)}).returncode == 0
    missing = run_cli(url, "devices", check=False, env={"PROVISIONER_CATALOG": str(tmp_path / "nada.toml")})
    assert missing.returncode == 1 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr


def test_every_server_process_builds_on_the_operators_catalog(tmp_path: Path) -> None:
    """build_core is what each (spawned) worker process runs first: it reads the setting itself."""
    from provisioner.server import build_core
    from provisioner.settings import Settings

    path = corrected(tmp_path)
    try:
        core = build_core(Settings(database_url="sqlite:///" + str(tmp_path / "core.sqlite3"), catalog=str(path)))
        assert core.catalog.get("polycom-ip550").firmware == "4.0.15.1009"
        assert core.service.catalog is core.catalog and load_catalog() is core.catalog
        core = build_core(Settings(database_url="sqlite:///" + str(tmp_path / "core.sqlite3")))
        assert core.catalog is builtin_catalog()
    finally:
        use_catalog(None)


def test_the_server_judges_phones_by_the_operators_catalog(database_url: str, tmp_path: Path) -> None:
    """An IP 550 on 4.0.15.1009: firmware_newer by the built-in row, compliant by the operator's."""
    path = corrected(tmp_path)
    tenant = cli_json(database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example")
    phone = SimPhone("polycom-ip550", "IP550", "0004f2550550", "4.0.15.1009", 1)
    add_phone(database_url, tenant["slug"], phone.mac, phone.model_arg, ["101"])
    try:
        use_catalog(parse_catalog(path.read_bytes()))  # what the CLI does in its process
        assert load_catalog().get("polycom-ip550").firmware == "4.0.15.1009"
    finally:
        use_catalog(None)
    assert load_catalog() is builtin_catalog()
    server = start_server(database_url, tmp_path / "server", extra_env={"PROVISIONER_CATALOG": str(path)})
    try:
        for _ in range(2):
            assert http_get(f"{server.base}/prov/{tenant['key']}/{phone.device_file()}", phone.user_agent())[0] == 200

        def seen() -> dict[str, object] | None:
            rows = {r["mac"]: r for r in json.loads(run_cli(database_url, "devices", "--json",
                                                            env={"PROVISIONER_CATALOG": str(path)}).stdout)}
            row = rows.get(phone.mac)
            return row if row and row["firmware"] == "4.0.15.1009" else None

        row = wait_for(seen)
        assert row["compliant"] is True and row["findings"] == []
        # The built-in table judges the same report newer than its 4.0.13.1445.
        builtin_rows = {r["mac"]: r for r in cli_json(database_url, "devices")}
        assert builtin_rows[phone.mac]["findings"] == ["firmware_newer"]
    finally:
        stop_server(server)
