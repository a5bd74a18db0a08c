"""DiskIndex: the import's cross-row indexes and the tenant's snapshot in a temporary SQLite file.

Python keeps only a window: before each chunk of rows `prefetch(numbers, macs)` loads, for just
the keys that chunk names, what is known so far (first rows, MAC models, claimed lines, stored
extensions and devices); the validator reads and extends the window; `flush()` writes the new
entries back with executemany. Whole-file questions (duplicates held by other tenants, lines
held outside the file, what --replace removes, which phones are new or left empty) are SQL over
the indexed tables, answered as streams. So memory does not grow with the number of rows.

The database is SQLite's private temporary database (file name ""): a file in the temporary
directory that SQLite unlinks as soon as it opens it, so nothing is left behind even when the
import is killed with SIGKILL (a named file in a TemporaryDirectory was). No journal, no fsync
(it is thrown away with the import), and a page cache capped at 4 MB.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from provisioner.importing.values import ExistingExtension

_SCHEMA = """
CREATE TABLE ext (seq INTEGER PRIMARY KEY, number TEXT NOT NULL, id INTEGER NOT NULL, fp BLOB NOT NULL,
                  pw TEXT, mac TEXT, line INTEGER, usr TEXT);
CREATE TABLE dev (mac TEXT PRIMARY KEY, id INTEGER NOT NULL, model TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE num (number TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE macs (mac TEXT PRIMARY KEY, model TEXT NOT NULL, row INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE slot (mac TEXT NOT NULL, line INTEGER NOT NULL, number TEXT NOT NULL, PRIMARY KEY (mac, line)) WITHOUT ROWID;
CREATE TABLE usr (user TEXT PRIMARY KEY, number TEXT NOT NULL, row INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE mover (id INTEGER PRIMARY KEY);
CREATE TABLE foreign_mac (mac TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE new_dev (mac TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
"""
_INDEXES = "CREATE UNIQUE INDEX ext_number ON ext (number); CREATE INDEX ext_place ON ext (mac, line); CREATE INDEX ext_user ON ext (usr);"  # after the bulk load
_IN = "(SELECT value FROM json_each(?))"
_STREAM = 2000


class DiskIndex:
    """CrossRows on disk (see crossrows.py for the questions), plus the plan's whole-file queries."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("", isolation_level=None)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -4096", "temp_store = FILE",
                       "locking_mode = EXCLUSIVE"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(_SCHEMA)
        self.db.execute("BEGIN")
        self._window_clear()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> DiskIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the tenant's snapshot (filled once, streamed from the main database) ------------------
    def add_devices(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """(id, mac, model key) of the tenant's devices."""
        self.db.executemany("INSERT INTO dev (id, mac, model) VALUES (?, ?, ?)", rows)

    def add_extensions(self, rows: Iterable[ExistingExtension]) -> None:
        self.add_extension_rows((e.id, e.number, e.fingerprint, e.sip_password, e.mac, e.line, e.sip_user) for e in rows)

    def add_extension_rows(self, rows: Iterable[tuple[int, str, bytes, str | None, str | None, int | None, str | None]]) -> None:
        """(id, number, fingerprint, sip password or None, mac or None, line or None, SIP user) of stored extensions."""
        self.db.executemany("INSERT INTO ext (id, number, fp, pw, mac, line, usr) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def snapshot_loaded(self) -> None:
        self.db.executescript(_INDEXES)
        self.db.execute("BEGIN")

    # -- the window ----------------------------------------------------------------------------
    def _window_clear(self) -> None:
        self._num: dict[str, int] = {}
        self._macs: dict[str, tuple[str, int]] = {}
        self._slots: dict[tuple[str, int], str] = {}
        self._ext: dict[str, ExistingExtension] = {}
        self._dev: dict[str, str] = {}
        self._new_num: list[tuple[str, int]] = []
        self._new_macs: list[tuple[str, str, int]] = []
        self._new_slots: list[tuple[str, int, str]] = []
        self._movers: list[tuple[int]] = []

    def prefetch(self, numbers: Collection[str], macs: Collection[str]) -> None:
        self.flush()
        wanted_numbers, wanted_macs = json.dumps(list(numbers)), json.dumps(list(macs))
        q = self.db.execute
        self._num = dict(q(f"SELECT number, row FROM num WHERE number IN {_IN}", (wanted_numbers,)))  # nosec B608 - table names are constants; values go as parameters
        self._macs = {m: (model, row) for m, model, row in q(f"SELECT mac, model, row FROM macs WHERE mac IN {_IN}", (wanted_macs,))}  # nosec B608 - table names are constants; values go as parameters
        self._slots = {(m, line): n for m, line, n in q(f"SELECT mac, line, number FROM slot WHERE mac IN {_IN}", (wanted_macs,))}  # nosec B608 - table names are constants; values go as parameters
        self._dev = dict(q(f"SELECT mac, model FROM dev WHERE mac IN {_IN}", (wanted_macs,)))  # nosec B608 - table names are constants; values go as parameters
        self._ext = {
            number: ExistingExtension(id_, number, fp, pw, mac, line, usr)
            for id_, number, fp, pw, mac, line, usr in q(f"SELECT id, number, fp, pw, mac, line, usr FROM ext WHERE number IN {_IN}",  # nosec B608 - table names are constants; values go as parameters
                                                   (wanted_numbers,))
        }

    def flush(self) -> None:
        if self._new_num:
            self.db.executemany("INSERT INTO num (number, row) VALUES (?, ?)", self._new_num)
        if self._new_macs:
            self.db.executemany("INSERT INTO macs (mac, model, row) VALUES (?, ?, ?)", self._new_macs)
        if self._new_slots:
            self.db.executemany("INSERT INTO slot (mac, line, number) VALUES (?, ?, ?)", self._new_slots)
        if self._movers:
            self.db.executemany("INSERT OR IGNORE INTO mover (id) VALUES (?)", self._movers)
        self._window_clear()

    # -- CrossRows, answered from the window -------------------------------------------------
    def first_row(self, number: str, row: int) -> int:
        first = self._num.get(number)
        if first is None:
            self._num[number] = first = row
            self._new_num.append((number, row))
        return first

    def row_of(self, number: str) -> int:
        row = self._num.get(number)
        if row is None:
            row = self.db.execute("SELECT row FROM num WHERE number = ?", (number,)).fetchone()[0]
        return row

    def mac_model(self, mac: str, model_key: str, row: int) -> tuple[str, int]:
        known = self._macs.get(mac)
        if known is None:
            self._macs[mac] = known = (model_key, row)
            self._new_macs.append((mac, model_key, row))
        return known

    def claim_slot(self, mac: str, line: int, number: str) -> str:
        taken = self._slots.get((mac, line))
        if taken is None:
            self._slots[(mac, line)] = taken = number
            self._new_slots.append((mac, line, number))
        return taken

    def claim_user(self, user: str, number: str, row: int) -> tuple[str, int | None]:
        """Straight to the tables (only rows that name or make a user ask; both lookups are indexed)."""
        stored = self.db.execute("SELECT number FROM ext WHERE usr = ? AND number <> ? LIMIT 1", (user, number)).fetchone()
        if stored is not None:
            held = self._num.get(stored[0])  # this window's rows; earlier windows' are in `num`
            if held is None:
                found = self.db.execute("SELECT row FROM num WHERE number = ?", (stored[0],)).fetchone()
                held = found[0] if found else None
            return stored[0], held
        claimed = self.db.execute("SELECT number, row FROM usr WHERE user = ?", (user,)).fetchone()
        if claimed is not None:
            return claimed[0], claimed[1]
        self.db.execute("INSERT INTO usr (user, number, row) VALUES (?, ?, ?)", (user, number, row))
        return number, row

    def device_model(self, mac: str) -> str | None:
        return self._dev.get(mac)

    def existing(self, number: str) -> ExistingExtension | None:
        return self._ext.get(number)

    def add_mover(self, extension_id: int) -> None:
        self._movers.append((extension_id,))

    # -- whole file (after the last flush) -------------------------------------------------------
    def _stream(self, sql: str, *params: Any) -> Iterator[Any]:
        cursor = self.db.execute(sql, params)
        while batch := cursor.fetchmany(_STREAM):
            yield from batch

    def macs(self) -> Iterator[str]:
        return (mac for (mac,) in self._stream("SELECT mac FROM macs ORDER BY mac"))

    def foreign_claims(self, foreign: Collection[str]) -> Iterator[tuple[str, int]]:
        self.db.executemany("INSERT OR IGNORE INTO foreign_mac (mac) VALUES (?)", ((m,) for m in foreign))
        return self._stream(
            "SELECT s.mac, n.row FROM slot s JOIN foreign_mac f ON f.mac = s.mac JOIN num n ON n.number = s.number"
        )

    def held_outside(self) -> Iterator[tuple[str, int, str, int]]:
        return self._stream(
            "SELECT e.mac, e.line, e.number, n.row FROM ext e"
            " JOIN slot s ON s.mac = e.mac AND s.line = e.line JOIN num n ON n.number = s.number"
            " WHERE s.number <> e.number AND NOT EXISTS (SELECT 1 FROM num o WHERE o.number = e.number)"
            " ORDER BY e.seq"
        )

    def count(self, sql: str, *params: Any) -> int:
        return int(self.db.execute(sql, params).fetchone()[0])

    _REMOVED = "FROM ext e WHERE NOT EXISTS (SELECT 1 FROM num n WHERE n.number = e.number)"
    _NEW_DEVICES = "FROM macs m WHERE NOT EXISTS (SELECT 1 FROM dev d WHERE d.mac = m.mac)"

    def removed_count(self) -> int:
        return self.count(f"SELECT COUNT(*) {self._REMOVED}")

    def removed(self, limit: int = -1) -> Iterator[tuple[int, str]]:
        """(id, number) of the tenant's extensions the file does not mention, in snapshot order."""
        return self._stream(f"SELECT e.id, e.number {self._REMOVED} ORDER BY e.seq LIMIT ?", limit)

    def new_devices_count(self) -> int:
        return self.count(f"SELECT COUNT(*) {self._NEW_DEVICES}")

    def new_devices(self) -> Iterator[tuple[str, str]]:
        """(mac, model key) of the file's MACs the tenant has no device for yet."""
        return self._stream(f"SELECT m.mac, m.model {self._NEW_DEVICES} ORDER BY m.row")

    def devices_left_empty(self, replace: bool) -> int:
        """Devices that carry an extension today and none after the import (plan.devices_left_empty in SQL)."""
        return self.count(
            "SELECT COUNT(*) FROM (SELECT e.mac FROM ext e WHERE e.mac IS NOT NULL GROUP BY e.mac"
            " HAVING SUM(CASE WHEN ? = 0 AND NOT EXISTS (SELECT 1 FROM num n WHERE n.number = e.number)"
            " THEN 1 ELSE 0 END) = 0) d WHERE NOT EXISTS (SELECT 1 FROM slot s WHERE s.mac = d.mac)",
            int(replace),
        )

    # -- device ids for the writer -----------------------------------------------------------------
    def add_new_devices(self, rows: Iterable[tuple[str, int]]) -> None:
        """(mac, id) of the devices this import created."""
        self.db.executemany("INSERT INTO new_dev (mac, id) VALUES (?, ?)", rows)

    def device_ids(self, macs: Collection[str]) -> dict[str, int]:
        """mac -> device id, for the tenant's devices and the ones this import created."""
        wanted = json.dumps(list(macs))
        found = dict(self.db.execute(f"SELECT mac, id FROM dev WHERE mac IN {_IN}", (wanted,)))  # nosec B608 - table names are constants; values go as parameters
        found.update(self.db.execute(f"SELECT mac, id FROM new_dev WHERE mac IN {_IN}", (wanted,)))  # nosec B608 - table names are constants; values go as parameters
        return found

    def movers(self) -> Iterator[int]:
        return (id_ for (id_,) in self._stream("SELECT id FROM mover ORDER BY id"))
