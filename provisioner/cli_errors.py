"""What the CLI says about a user's mistake: one line, never a traceback (pure, but for
reading whether a directory exists).

    database_problem(exc)       a database error that is the operator's to fix -> its line
    missing_sqlite_directory()  a SQLite file whose folder does not exist
    parse_month("2026-03")      -> (2026, 3), or InputError
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from provisioner.errors import InputError

_URL_PASSWORD = re.compile(r"(://[^/:@]*:)[^/@]*@")


def shown_url(url: str) -> str:
    """The database URL as it may be printed: its password as ***."""
    return _URL_PASSWORD.sub(r"\1***@", url)


def database_problem(exc: BaseException, url: str) -> str | None:
    """The one line for a database that cannot be used as configured; None for anything else
    (a bug keeps its traceback)."""
    where = shown_url(url)
    if isinstance(exc, NoSuchModuleError):
        return f"PROVISIONER_DATABASE_URL {where!r}: unknown database kind (use sqlite:///<file> or postgresql://...)"
    if isinstance(exc, ArgumentError):
        return f"PROVISIONER_DATABASE_URL {where!r}: not a database URL (use sqlite:///<file> or postgresql://...)"
    if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        first = next((line.strip() for line in cause if line.strip()), type(exc).__name__)
        return f"cannot use the database {where}: {_masked(first, url)}"
    return None


def _masked(text: str, url: str) -> str:
    password = _password(url)
    return text.replace(password, "***") if password else text


def _password(url: str) -> str | None:
    try:
        return make_url(url).password
    except ArgumentError:
        return None


def missing_sqlite_directory(url: str) -> Path | None:
    """The folder of a SQLite database file when it does not exist (else None)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # said by database_problem when the URL is used
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    folder = Path(parsed.database).parent
    return None if folder.is_dir() else folder


def parse_month(text: str) -> tuple[int, int]:
    """YYYY-MM -> (year, month)."""
    found = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1:
        raise InputError(f"--month {text!r}: use YYYY-MM with a month from 01 to 12, e.g. 2026-03")
    return int(found[1]), int(found[2])
