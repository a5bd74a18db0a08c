"""`provisioner firmware ...` through the real console script: a person's mistake is one clear
Spanish line and exit status 1, never a traceback; what is recorded is what was uploaded."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from provisioner.campaigns import BOGOTA
from tests.conftest import cli_json, run_cli


@pytest.fixture
def acme(database_url: str, tmp_path: Path) -> dict[str, str]:
    cli_json(database_url, "tenant", "create", "Acme", "--sip-server", "pbx.acme.example", "--slug", "acme",
             "--contact-email", "it@acme.example.co")
    run_cli(database_url, "extension", "add", "--tenant", "acme", "--extension", "201", "--name", "Ana",
            "--mac", "001565000201", "--model", "T21P", "--line", "1")
    return {"PROVISIONER_FIRMWARE_DIR": str(tmp_path / "fw")}


def cli(database_url: str, env: dict[str, str], *args: str) -> Any:
    return json.loads(run_cli(database_url, *args, "--json", env=env).stdout)


def fails(database_url: str, env: dict[str, str], *args: str) -> str:
    result = run_cli(database_url, *args, check=False, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_image_and_campaign_rules_from_the_command_line(database_url: str, acme: dict[str, str], tmp_path: Path) -> None:
    env = acme
    soon = (datetime.now(BOGOTA).date() + timedelta(days=3)).isoformat()
    later = (datetime.now(BOGOTA).date() + timedelta(days=11)).isoformat()
    # No image yet.
    assert "no está en el almacén" in fails(database_url, env, "firmware", "campaign", "create", "--tenant", "acme",
                                            "--model", "T21P", "--date", later)
    assert "no es un archivo" in fails(database_url, env, "firmware", "add", str(tmp_path / "nada.rom"), "--model", "T21P")
    blob = tmp_path / "imagen.bin"
    blob.write_bytes(b"ROM" * 1000)
    assert "--version" in fails(database_url, env, "firmware", "add", str(blob), "--model", "T21P")
    assert "no es una versión" in fails(database_url, env, "firmware", "add", str(blob), "--model", "T21P", "--version", "x")
    assert "homologado" in fails(database_url, env, "firmware", "add", str(blob), "--model", "T99", "--version", "1.0")
    rom = tmp_path / "34.72.0.75.rom"
    rom.write_bytes(b"\x01ROM" * 5000)
    added = cli(database_url, env, "firmware", "add", str(rom), "--model", "T21P")
    assert added["sha256"] == hashlib.sha256(rom.read_bytes()).hexdigest() and added["size"] == 20000
    assert (Path(env["PROVISIONER_FIRMWARE_DIR"]) / "34.72.0.75.rom").read_bytes() == rom.read_bytes()
    # The notice period, unless critical; the date format; the model.
    assert "al menos 10 días" in fails(database_url, env, "firmware", "campaign", "create", "--tenant", "acme",
                                       "--model", "T21P", "--date", soon)
    usage = run_cli(database_url, "firmware", "campaign", "create", "--tenant", "acme", "--model", "T21P", "--date",
                    "mañana", check=False, env=env)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr and "--date" in usage.stderr  # click's usage error
    assert "no hay un cliente" in fails(database_url, env, "firmware", "campaign", "create", "--tenant", "nadie",
                                        "--model", "T21P", "--date", later)
    # A file changed after upload is refused.
    (Path(env["PROVISIONER_FIRMWARE_DIR"]) / "34.72.0.75.rom").write_bytes(b"otra cosa")
    assert "SHA-256" in fails(database_url, env, "firmware", "campaign", "create", "--tenant", "acme", "--model", "T21P",
                              "--date", later)
    run_cli(database_url, "firmware", "add", str(rom), "--model", "T21P", env=env)
    created = cli(database_url, env, "firmware", "campaign", "create", "--tenant", "acme", "--model", "T21P",
                  "--date", soon, "--critical")
    assert created["critical"] and created["state"] == "planned"  # no SMTP relay: the notice waits
    assert created["notices"][0]["sent_at"] is None and created["phones"][0]["wave"] == 1
    assert "abierta" in fails(database_url, env, "firmware", "campaign", "create", "--tenant", "acme", "--model", "T21P",
                              "--date", later)
    shown = run_cli(database_url, "firmware", "campaign", "show", str(created["id"]), env=env).stdout
    assert "001565000201" in shown and "Planeada" in shown
    assert "no hay una campaña" in fails(database_url, env, "firmware", "campaign", "show", "999")
    run_cli(database_url, "firmware", "campaign", "cancel", str(created["id"]), env=env)
    assert "cancelada" in fails(database_url, env, "firmware", "campaign", "cancel", str(created["id"]))
    listed = cli(database_url, env, "firmware", "campaign", "list")
    assert [(c["id"], c["state"]) for c in listed] == [(created["id"], "cancelled")]
