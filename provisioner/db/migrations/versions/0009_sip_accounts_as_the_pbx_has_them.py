"""SIP accounts as the PBX has them: user format, SIP domain, outbound proxy per tenant

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:40:00

Issue 19: a tenant's new extensions get their SIP user from its own format (NULL: the old
"{tenant}-{extension}"), its accounts live in a SIP domain (realm) that may differ from the
registrar's host, and its phones may send through an outbound proxy. Existing tenants keep
exactly what they had: every new column is NULL.

Only ALTER TABLE ADD COLUMN (nullable): on SQLite a batch rebuild of `tenant` would cascade
into every device, extension and sighting (migration 0005 says why).
"""
import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('tenant', sa.Column('sip_user_format', sa.String(length=128), nullable=True))
    op.add_column('tenant', sa.Column('sip_domain', sa.String(length=255), nullable=True))
    op.add_column('tenant', sa.Column('outbound_proxy', sa.String(length=255), nullable=True))


def downgrade() -> None:
    op.drop_column('tenant', 'outbound_proxy')
    op.drop_column('tenant', 'sip_domain')
    op.drop_column('tenant', 'sip_user_format')
