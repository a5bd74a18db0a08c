"""The migrations build exactly the schema the models describe, on both databases.

A model change without its migration (or a migration that drifts from the model) would
only show on a production database; autogenerate's comparison catches it here.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from provisioner.db.engine import make_engine
from provisioner.db.models import Base as ProvisioningBase
from support_link.store.models import Base as SupportBase


def differences(url: str, metadata: MetaData) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"include_name": lambda name, kind, _parent: kind != "table" or name in metadata.tables},
            )
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_provisioning_migrations_match_the_models(database_url: str) -> None:
    assert differences(database_url, ProvisioningBase.metadata) == []


def test_support_link_migrations_match_the_models(database_url: str) -> None:
    assert differences(database_url, SupportBase.metadata) == []


def test_sightings_are_indexed_in_arrival_order(database_url: str) -> None:
    """Not by phone: a storm's sightings append to the index instead of touching a page per phone."""
    engine = make_engine(database_url)
    try:
        indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("sighting")}
    finally:
        engine.dispose()
    assert indexes == {"ix_sighting_tenant_seen": ["tenant_id", "seen_at"]}
