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


def _migrate(url: str, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from provisioner.db.engine import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()


def test_0005_gives_existing_devices_their_own_token_and_admin_password(database_url: str) -> None:
    """Devices from before per-device URLs get generated values, each its own; nobody is enrolled;
    every device and line is still there."""
    from sqlalchemy import text

    _migrate(database_url, "downgrade", "0004")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO tenant (id, name, slug, provisioning_key, sip_server, sip_port, sip_transport, snmp_community,"
                " admin_password, ntp_server, contact_name, contact_email, networks, created_at) VALUES (1, 'Old', 'old',"
                " 'k', 'pbx', 5060, 'udp', 'c', 'one-for-all', 'ntp', '', '', '', CURRENT_TIMESTAMP)"
            ))
            for device_id, mac in ((1, "001565000001"), (2, "001565000002")):
                connection.execute(text(
                    "INSERT INTO device (id, tenant_id, mac, model_key, created_at)"
                    " VALUES (:id, 1, :mac, 'yealink-t21p', CURRENT_TIMESTAMP)"
                ), {"id": device_id, "mac": mac})
            connection.execute(text(
                "INSERT INTO extension (id, tenant_id, number, name, email, department, permissions, sip_auth_user,"
                " sip_password, device_id, line) VALUES (1, 1, '101', 'Ana', '', '', 'internal', 'old-101', 's', 1, 1)"
            ))
        _migrate(database_url, "upgrade", "heads")
        with engine.connect() as connection:
            devices = connection.execute(text("SELECT url_token, admin_password, enrolled_at FROM device")).all()
            tenant = connection.execute(text("SELECT device_urls, enroll_until FROM tenant")).one()
            # Nothing rebuilt a table: on SQLite that would cascade to devices and lines.
            line = connection.execute(text("SELECT device_id, line FROM extension")).one()
    finally:
        engine.dispose()
    tokens, passwords = {row.url_token for row in devices}, {row.admin_password for row in devices}
    assert len(tokens) == len(passwords) == 2 and "one-for-all" not in passwords
    assert all(len(token) >= 32 for token in tokens) and all(len(password) >= 12 for password in passwords)
    assert [row.enrolled_at for row in devices] == [None, None]
    assert tuple(line) == (1, 1)
    assert not tenant.device_urls and tenant.enroll_until is None
    assert differences(database_url, ProvisioningBase.metadata) == []
