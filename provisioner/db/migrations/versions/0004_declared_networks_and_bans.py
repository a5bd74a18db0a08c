"""declared networks per tenant, and stored bans

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 07:40:00

Addresses that guess keys, MACs or file names are banned for a while (provisioner.bans).
A ban made by one server process must hold in every process (SO_REUSEPORT spreads one
address's connections over them) and be listed and lifted from the CLI, so bans live in a
table. A tenant's declared networks are never banned.
"""
import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('networks', sa.Text(), server_default='', nullable=False))
    op.create_table(
        'security_ban',
        sa.Column('ip', sa.String(length=45), nullable=False),
        sa.Column('tenant_slug', sa.String(length=64), nullable=True),
        sa.Column('misses', sa.Integer(), nullable=False),
        sa.Column('banned_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('until', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('ip', name=op.f('pk_security_ban')),
    )
    op.create_index(op.f('ix_security_ban_until'), 'security_ban', ['until'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_security_ban_until'), table_name='security_ban')
    op.drop_table('security_ban')
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.drop_column('networks')
