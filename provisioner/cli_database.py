"""How every CLI command opens the database (adapter): one place, so each command gets the
same check of the SQLite folder, the same migrations and the same clean-up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session, sessionmaker

from provisioner.cli_errors import missing_sqlite_directory
from provisioner.db.engine import make_engine, session_factory, upgrade_all
from provisioner.settings import Settings


def check_location(settings: Settings, create: bool = False) -> None:
    """A SQLite file in a folder that does not exist is a typo, unless this command creates
    the database on purpose (`db upgrade`, `serve --demo`)."""
    folder = missing_sqlite_directory(settings.database_url)
    if folder is not None and not create:
        raise click.ClickException(
            f"PROVISIONER_DATABASE_URL: the folder {str(folder)!r} does not exist "
            "(create it, or run `provisioner db upgrade` to create the database there)")


@contextmanager
def database(ctx: click.Context, create: bool = False) -> Iterator[sessionmaker[Session]]:
    """Sessions on the settings' database, migrated; the engine is disposed at the end."""
    settings = ctx.find_object(Settings) or Settings.from_env()
    check_location(settings, create)
    engine = make_engine(settings.database_url)
    try:
        upgrade_all(engine)
        yield session_factory(engine)
    finally:
        engine.dispose()
