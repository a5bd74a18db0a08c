"""Bring a schema to its newest Alembic revision (idempotent): one call for each side's tree."""

from __future__ import annotations

from sqlalchemy import Engine


def upgrade(engine: Engine, script_location: str) -> None:
    """Run the Alembic tree at `script_location` ("package:folder") up to its heads."""
    from alembic import command  # imported here: only start-up and the CLI migrate
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", script_location)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
