"""Many rows through one INSERT statement, cheaply, on SQLite and PostgreSQL.

The sighting writer runs in a thread of the process that serves phones, so what it costs
in Python, and every time it gives up and retakes the GIL, is taken from the event loop.
SQLAlchemy's executemany spends ~10 us of Python per row on parameter processing, and
pysqlite releases and retakes the GIL around every row's step, each retake waiting for
the busy event loop. Here the statement is compiled once per dialect and its VALUES group
repeated for a page of rows (SQLite), or fed one array per column through unnest()
(PostgreSQL): one execution per page, with the values converted as SQLAlchemy would
store them (SQLite: UTC text times, JSON text, 0/1; PostgreSQL: JSON text, the rest
adapted by psycopg). Other databases get plain executemany.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Connection, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

PAGE_ROWS = 256  # x 16 columns: far below SQLite's 32,766 variables
POSTGRESQL_PAGE_ROWS = 5000  # one array per column: no parameter limit, just bounded messages


def insert_rows(connection: Connection, statement: Insert, rows: Sequence[Mapping[str, object]]) -> None:
    """Execute `statement` (an INSERT, possibly with ON CONFLICT) once per row of `rows`.

    Every row must have the same keys; the statement must not carry its own values.
    """
    if not rows:
        return
    dialect = connection.dialect.name
    if dialect not in _DIALECTS:
        connection.execute(statement, list(rows))
        return
    columns = tuple(rows[0])
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if dialect == "postgresql":
            sql, names = _postgresql_unnest(statement, columns)
            for first in range(0, len(rows), POSTGRESQL_PAGE_ROWS):
                page = rows[first : first + POSTGRESQL_PAGE_ROWS]
                cursor.execute(sql, [[_postgresql_value(row[name]) for row in page] for name in names])
            return
        one_row_sql, names = _template(statement, columns, dialect)
        for first in range(0, len(rows), PAGE_ROWS):
            page = rows[first : first + PAGE_ROWS]
            parameters = [_sqlite_value(row[name]) for row in page for name in names]
            cursor.execute(_repeat_values(one_row_sql, len(page)), parameters)
    finally:
        cursor.close()


_DIALECTS = {
    "sqlite": sqlite.dialect(),
    "postgresql": postgresql.psycopg.dialect(paramstyle="format"),  # positional %s, as psycopg takes them
}


@lru_cache(maxsize=64)
def _template(statement: Insert, columns: tuple[str, ...], dialect: str) -> tuple[str, tuple[str, ...]]:
    """The statement's text for one row, and the order its placeholders take."""
    one_row = statement.values({name: bindparam(name) for name in columns}).inline()  # no RETURNING of ids
    compiled = one_row.compile(dialect=_DIALECTS[dialect])
    names = tuple(compiled.positiontup or ())
    if sorted(names) != sorted(columns):
        raise ValueError(f"statement binds {names}, rows carry {columns}: it must take exactly the row's values")
    return str(compiled), names


@lru_cache(maxsize=64)
def _postgresql_unnest(statement: Insert, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The statement reading its rows from one array per column (unnest): a short text that
    psycopg parses once, whatever the number of rows, and arrays it adapts in C."""
    one_row_sql, names = _template(statement, columns, "postgresql")
    table = statement.table
    # Arrays of the unbounded type (VARCHAR, not VARCHAR(8)): an explicit cast would cut
    # an over-long value silently, the insert's own assignment refuses it as VALUES would.
    arrays = ", ".join(
        f"%s::{_LENGTH.sub('', table.c[name].type.compile(dialect=_DIALECTS['postgresql']))}[]"  # type: ignore[union-attr]
        for name in names
    )
    found = _VALUES.search(one_row_sql)
    if found is None:
        raise ValueError("not an INSERT .. VALUES (..) statement")
    return one_row_sql[: found.start()] + f"SELECT * FROM unnest({arrays})" + one_row_sql[found.end() :], names


_LENGTH = re.compile(r"\(\d+\)")
_VALUES = re.compile(r"VALUES (\([^()]*\))")  # one row's placeholders ("?" or "%s::TYPE"), no parentheses inside


@lru_cache(maxsize=256)
def _repeat_values(one_row_sql: str, rows: int) -> str:
    found = _VALUES.search(one_row_sql)
    if found is None:
        raise ValueError("not an INSERT .. VALUES (?, ..) statement")
    group = found.group(1)
    return one_row_sql[: found.start(1)] + ", ".join([group] * rows) + one_row_sql[found.end(1) :]


def _postgresql_value(value: object) -> object:
    """psycopg adapts times, booleans and text itself; JSON columns take JSON text."""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value) if value else "[]"
    return value


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
