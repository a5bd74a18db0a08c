"""Alembic environment for support_link's own tables (`sl_*`), with its own version table.

Runs on the connection handed in by support_link.store.upgrade. The version table is
`support_link_alembic_version`, so these migrations never collide with the provisioning
migrations (Alembic's default `alembic_version`) in a shared database, and autogenerate
only looks at `sl_*` tables.
"""

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

from support_link.store import VERSION_TABLE, include_name
from support_link.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        include_name=include_name,
        render_as_batch=True,
    )


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # `alembic revision --autogenerate` from a checkout: sqlalchemy.url from a scratch ini / -x.
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()


run()
