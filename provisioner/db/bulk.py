"""Many rows through one INSERT statement, cheaply, on SQLite and PostgreSQL.

The sighting writer runs in a thread of the process that serves phones, so what it costs
in Python, and every time it gives up and retakes the GIL, is taken from the event loop.
SQLAlchemy's executemany is the right tool on PostgreSQL (psycopg pipelines the rows).
On SQLite it is not: pysqlite releases and retakes the GIL around every row's step, and
under a boot storm each retake waits for the busy event loop. Here SQLite gets the same
statement with its VALUES group repeated for a page of rows: one step per page, and the
values converted as SQLAlchemy stores them (UTC text times, JSON text, 0/1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Connection, bindparam
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.dml import Insert

SQLITE_PAGE_ROWS = 256  # 256 rows x 16 columns stays far below SQLite's 32,766 variables


def insert_rows(connection: Connection, statement: Insert, rows: Sequence[Mapping[str, object]]) -> None:
    """Execute `statement` (an INSERT, possibly with ON CONFLICT) once per row of `rows`.

    Every row must have the same keys; the statement must not carry its own values.
    """
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        connection.execute(statement, list(rows))
        return
    columns = tuple(rows[0])
    one_row_sql, names = _sqlite_template(statement, columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for first in range(0, len(rows), SQLITE_PAGE_ROWS):
            page = rows[first : first + SQLITE_PAGE_ROWS]
            parameters = [_sqlite_value(row[name]) for row in page for name in names]
            cursor.execute(_repeat_values(one_row_sql, len(page)), parameters)
    finally:
        cursor.close()


@lru_cache(maxsize=64)
def _sqlite_template(statement: Insert, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The statement's SQLite text for one row, and the order its placeholders take."""
    compiled = statement.values({name: bindparam(name) for name in columns}).compile(dialect=sqlite.dialect())
    names = tuple(compiled.positiontup or ())
    if sorted(names) != sorted(columns):
        raise ValueError(f"statement binds {names}, rows carry {columns}: it must take exactly the row's values")
    return str(compiled), names


_VALUES = re.compile(r"VALUES (\((?:\?, )*\?\))")


@lru_cache(maxsize=256)
def _repeat_values(one_row_sql: str, rows: int) -> str:
    found = _VALUES.search(one_row_sql)
    if found is None:
        raise ValueError("not an INSERT .. VALUES (?, ..) statement")
    group = found.group(1)
    return one_row_sql[: found.start(1)] + ", ".join([group] * rows) + one_row_sql[found.end(1) :]


def _sqlite_value(value: object) -> object:
    """What SQLAlchemy's SQLite types would bind: text times (UTC), JSON text, 0/1."""
    kind = type(value)
    if kind is str or kind is int or value is None or kind is float:
        return value  # by far the most values: checked first, by exact type
    if kind is bool:
        return int(value)  # type: ignore[call-overload]
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(" ", "microseconds")  # SQLAlchemy's "%Y-%m-%d %H:%M:%S.%f"
    if isinstance(value, (list, tuple)):
        return json.dumps(value) if value else "[]"
    if isinstance(value, (str, int, float, dict)):  # subclasses
        return json.dumps(value) if isinstance(value, dict) else value
    raise TypeError(f"no SQLite form for {type(value).__name__}")
