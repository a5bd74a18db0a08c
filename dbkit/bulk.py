"""Many rows through one INSERT statement, cheaply, on SQLite and PostgreSQL.

For writers of thousands of rows a batch that run beside a server (a thread of the
process that serves requests: what they cost in Python, and every time they give up and
retake the GIL, is taken from the event loop). SQLAlchemy's executemany spends ~10 us of
Python per row on parameter processing (and PostgreSQL one Bind/Execute per row), and
pysqlite releases and retakes the GIL around every row's step.

Here the statement is compiled once per dialect and its VALUES group repeated for a page
of rows (SQLite), or fed one array per column through unnest() (PostgreSQL; a JSON column
as one JSON document, which json.dumps writes in C where psycopg would quote each element
of a json[] in Python): one execution per page, with the values converted as SQLAlchemy
would store them (a TypeDecorator's own bind processing first; SQLite: UTC text times,
JSON text, booleans as the 0/1 sqlite3 binds them; PostgreSQL: the rest adapted by
psycopg). A driver's error comes out as SQLAlchemy's (IntegrityError and the rest), as
from Connection.execute. Other databases get plain executemany.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, TypeDecorator, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeEngine

PAGE_ROWS = 256  # x 16 columns: far below SQLite's 32,766 variables
POSTGRESQL_PAGE_ROWS = 5000  # one array per column: no parameter limit, just bounded messages


def insert_rows(
    connection: Connection,
    statement: Insert,
    rows: Sequence[Mapping[str, object]] | Sequence[Sequence[object]],
    columns: Sequence[str] | None = None,
) -> None:
    """Execute `statement` (an INSERT, possibly with ON CONFLICT) once per row of `rows`.

    Rows are mappings with the same keys, or, when `columns` names them, tuples of values in
    that order (no dict per row: the sighting writer's rows). The statement must not carry
    its own values.
    """
    if not rows:
        return
    if columns is None:
        columns = tuple(rows[0])  # type: ignore[arg-type]
        tuples: Sequence[Sequence[object]] = [itemgetter(*columns)(row) for row in rows] if len(columns) > 1 else [
            (row[columns[0]],) for row in rows  # type: ignore[call-overload]
        ]
    else:
        columns = tuple(columns)
        tuples = rows  # type: ignore[assignment]
    dialect = connection.dialect.name
    if dialect not in _DIALECTS:
        connection.execute(statement, [dict(zip(columns, row, strict=True)) for row in tuples])
        return
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    page_rows = POSTGRESQL_PAGE_ROWS if dialect == "postgresql" else PAGE_ROWS
    sql = ""
    try:
        if dialect == "postgresql":
            sql, names = _postgresql_unnest(statement, columns)
        else:
            sql, names = _template(statement, columns, dialect)
        order = [columns.index(name) for name in names]  # the placeholders' order
        converters = _converters(statement, names, dialect)
        for first in range(0, len(tuples), page_rows):
            # Column by column: one list per column, each converted in one pass.
            by_column = list(zip(*tuples[first : first + page_rows], strict=True))
            arrays: list[Any] = [list(by_column[index]) for index in order]  # a list per column, or its JSON text
            for index, convert in converters:
                arrays[index] = [convert(value) for value in arrays[index]]
            if dialect == "postgresql":
                for index in _json_positions(statement, names):  # one JSON document, written in C
                    arrays[index] = json.dumps(arrays[index])
                cursor.execute(sql, arrays)  # one array per column (unnest)
            else:
                cursor.execute(_repeat_values(sql, len(arrays[0])), list(chain.from_iterable(zip(*arrays))))
    except connection.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(sql, None, error, connection.dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()


@lru_cache(maxsize=64)
def _converters(statement: Insert, names: tuple[str, ...], dialect: str) -> tuple[tuple[int, Callable[[object], object]], ...]:
    """(position, conversion) for the columns whose values the driver cannot take as they are."""
    found = []
    for index, name in enumerate(names):
        declared = statement.table.c[name].type
        steps: list[Callable[[object], object]] = []
        if isinstance(declared, TypeDecorator):  # e.g. a UTC-only datetime: its own check first
            steps.append(_bind_processing(declared, dialect))
        kind = _stored_type(declared)
        if isinstance(kind, JSON):
            if dialect == "sqlite":  # PostgreSQL: the whole column goes as one JSON document
                steps.append(_json_text)
        elif dialect == "sqlite" and isinstance(kind, DateTime):
            steps.append(_sqlite_time)
        if steps:
            found.append((index, steps[0] if len(steps) == 1 else _chain(steps)))
    return tuple(found)


def _bind_processing(kind: TypeDecorator[Any], dialect: str) -> Callable[[object], object]:
    def convert(value: object) -> object:
        return kind.process_bind_param(value, _DIALECTS[dialect])

    return convert


def _chain(steps: Sequence[Callable[[object], object]]) -> Callable[[object], object]:
    def convert(value: object) -> object:
        for step in steps:
            value = step(value)
        return value

    return convert


def _json_text(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and not value:
        return "[]"  # most sightings: no findings
    return json.dumps(value)


def _sqlite_time(value: object) -> object:
    """SQLAlchemy's SQLite text form ("%Y-%m-%d %H:%M:%S.%f"), of the UTC instant."""
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is UTC:  # what the server records: drop the "+00:00" rather than convert
        return value.isoformat(" ", "microseconds")[:26]
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


_DIALECTS = {
    "sqlite": sqlite.dialect(),
    "postgresql": postgresql.psycopg.dialect(paramstyle="format"),  # type: ignore[no-untyped-call]  # positional %s, as psycopg takes them
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
    json_columns = _json_positions(statement, names)
    arrays = ", ".join(
        # A JSON column's values come as one JSON array: psycopg would quote each element
        # of a json[] in Python (a regex per value); json.dumps writes the page in C.
        "ARRAY(SELECT value FROM json_array_elements(%s::json) WITH ORDINALITY ORDER BY ordinality)"
        if index in json_columns
        else f"%s::{_LENGTH.sub('', table.c[name].type.compile(dialect=_DIALECTS['postgresql']))}[]"
        for index, name in enumerate(names)
    )
    found = _VALUES.search(one_row_sql)
    if found is None:
        raise ValueError("not an INSERT .. VALUES (..) statement")
    return one_row_sql[: found.start()] + f"SELECT * FROM unnest({arrays})" + one_row_sql[found.end() :], names  # nosec B608 - the statement is SQLAlchemy's own compiled INSERT; no value is spliced in


@lru_cache(maxsize=64)
def _json_positions(statement: Insert, names: tuple[str, ...]) -> frozenset[int]:
    """Positions of the JSON columns (a TypeDecorator over JSON included) among `names`."""
    return frozenset(
        index for index, name in enumerate(names)
        if isinstance(_stored_type(statement.table.c[name].type), JSON)
    )


def _stored_type(kind: TypeEngine[object]) -> TypeEngine[object]:
    """The type the database stores (a TypeDecorator's underlying one)."""
    return kind.impl_instance if isinstance(kind, TypeDecorator) else kind


_LENGTH = re.compile(r"\(\d+\)")
_VALUES = re.compile(r"VALUES (\([^()]*\))")  # one row's placeholders ("?" or "%s::TYPE"), no parentheses inside


@lru_cache(maxsize=256)
def _repeat_values(one_row_sql: str, rows: int) -> str:
    found = _VALUES.search(one_row_sql)
    if found is None:
        raise ValueError("not an INSERT .. VALUES (?, ..) statement")
    group = found.group(1)
    return one_row_sql[: found.start(1)] + ", ".join([group] * rows) + one_row_sql[found.end(1) :]
