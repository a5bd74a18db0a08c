"""Engine creation and schema migration (the only place that knows database URLs)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from dbkit import migrations

MIGRATIONS = "provisioner.db:migrations"
CONNECT_TIMEOUT_SECONDS = 10  # libpq waits forever by default; it takes whole seconds, 2 at least


def make_engine(url: str, *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS, statement_timeout: float = 0) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so the server and CLI can share a file.

    PostgreSQL gets a connect timeout, and with `statement_timeout` (seconds; the server's)
    a statement_timeout for its sessions, so no pooled connection waits forever on a query.
    A database that accepts connections and never answers is beyond both: the server reads
    off its event loop and never waits longer than PROVISIONER_DB_TIMEOUT_SECONDS for it
    (provisioner.directory). Values given in the URL win."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         connect_args=postgres_timeouts(parsed.query, connect_timeout, statement_timeout))


def postgres_timeouts(query: Mapping[str, object], connect_timeout: float, statement_timeout: float) -> dict[str, object]:
    """libpq connection parameters for the timeouts, leaving alone those the URL sets."""
    timeouts: dict[str, object] = {}
    if "connect_timeout" not in query:
        timeouts["connect_timeout"] = max(2, math.ceil(connect_timeout))
    if statement_timeout > 0 and "options" not in query:
        timeouts["options"] = f"-c statement_timeout={math.ceil(statement_timeout * 1000)}"
    return timeouts


def can_share(url: str) -> bool:
    """Whether another process can open the same database (an in-memory SQLite cannot)."""
    parsed = make_url(url)
    return parsed.get_backend_name() != "sqlite" or parsed.database not in (None, "", ":memory:")


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def upgrade_all(engine: Engine) -> None:
    """Every table set this server uses: provisioning, then support_link's own (idempotent)."""
    from support_link import store

    upgrade(engine)
    store.upgrade(engine)


def upgrade(engine: Engine) -> None:
    """Bring the provisioning schema to the newest Alembic revision (idempotent)."""
    migrations.upgrade(engine, MIGRATIONS)
