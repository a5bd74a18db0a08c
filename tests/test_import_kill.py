"""kill -9 in the middle of a big import leaves the old state, on SQLite and on PostgreSQL.

The importer runs as a real process (the CLI group, `python -c ...`). We wait until it is
well into writing extensions (SQLite: the write-ahead log grows past 4 MB; PostgreSQL: the
extension table's files grow past 2 MB, ~15k uncommitted rows), SIGKILL it, and find the
tenant exactly as it was (a commit per chunk makes this test fail: checked). A second run
of the same import then succeeds: no lock or leftover remains.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from provisioner.importing.sample import write_sample_csv
from tests.test_import_support import (
    IMPORT_SCRIPT,
    add_tenant,
    cli_process,
    config_version,
    devices,
    engine,  # noqa: F401 - fixture
    extensions,
    import_db,  # noqa: F401 - fixture
    run_import,
    write_csv,
)

ROWS = 60_000
PHONES = (("T21P", "001565", 1), ("GXP1620", "000b82", 2), ("GXP1630", "000b82", 3), ("VVX600", "0004f2", 1))


def _writing(engine: Engine, url: str) -> bool:
    """Has the importer started writing inside its (uncommitted) transaction?"""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        wal = Path(f"{parsed.database}-wal")
        return wal.exists() and wal.stat().st_size > 4_000_000
    with engine.connect() as connection:  # uncommitted rows already extend the table's files
        return int(connection.scalar(text("SELECT pg_relation_size('extension')")) or 0) > 2_000_000


def _kill_while_writing(process: subprocess.Popen[str], engine: Engine, url: str) -> None:
    deadline = time.monotonic() + 60
    while not _writing(engine, url):
        assert process.poll() is None, f"the import ended before it could be killed:\n{process.communicate()}"
        assert time.monotonic() < deadline, "the import never started writing"
        time.sleep(0.01)
    time.sleep(0.05)
    assert process.poll() is None, "the import committed before the kill: make the file bigger"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def test_sigkill_mid_import_leaves_the_old_state(engine: Engine, import_db: str, tmp_path: Path) -> None:
    add_tenant(engine)
    old_file = write_csv(tmp_path / "old.csv", [
        ["extension", "name", "mac", "model", "line"],
        ["101", "Ana Gómez", "00:15:65:00:00:01", "T21P", "1"],
        ["102", "Luis Peña", "000b82000002", "GXP1620", "1"],
        ["103", "María Ruiz", "", "", ""],
    ])
    assert run_import(import_db, str(old_file), "--tenant", "acme").exit_code == 0
    before, before_devices, version = extensions(engine), devices(engine), config_version(engine)

    big = tmp_path / "big.csv"
    with open(big, "w", encoding="utf-8-sig", newline="") as out:
        write_sample_csv(out, ROWS, phones=PHONES, mac_start=0x100)
    process = cli_process(import_db, IMPORT_SCRIPT, str(big), "--tenant", "acme", "--replace", "--json",
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _kill_while_writing(process, engine, import_db)

    assert extensions(engine) == before
    assert devices(engine) == before_devices
    assert config_version(engine) == version

    again = run_import(import_db, str(big), "--tenant", "acme", "--replace")
    assert again.exit_code == 0, again.output
    assert f"{ROWS} rows: {ROWS} created" in again.output
    assert len(extensions(engine)) == ROWS
