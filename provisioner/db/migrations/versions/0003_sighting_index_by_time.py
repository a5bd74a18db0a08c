"""sighting index by time, not by phone

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 04:50:00

The sighting table is an append-only log written at the rate phones fetch configs. An
index on (tenant, MAC, time) puts each row at its phone's place in the index, so a batch
of sightings from a storm dirties one index page per phone: on SQLite that is ~20 us of
CPU per row at a few hundred thousand rows (every dirty page goes to the WAL and back),
against ~3 us for an index in arrival order. Nothing in the product looks a phone's
sightings up by MAC (phone_state holds what we know of each phone), so the log is indexed
by (tenant, time): contacts in a window, newest first, still cheap.
"""
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sighting', schema=None) as batch_op:
        batch_op.drop_index('ix_sighting_tenant_mac_seen')
        batch_op.create_index('ix_sighting_tenant_seen', ['tenant_id', 'seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sighting', schema=None) as batch_op:
        batch_op.drop_index('ix_sighting_tenant_seen')
        batch_op.create_index('ix_sighting_tenant_mac_seen', ['tenant_id', 'mac', 'seen_at'], unique=False)
