"""softphones: an extension may carry a softphone app instead of a desk phone

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:40:00

Issue 15: the homologated table has software rows (WeKall APP Windows, Wave iOS/Android,
Jitsi Windows/MacOS) that have no MAC. The extension names its app (a catalog key), keeps
the digest of its provisioning secret (Jitsi's login, never the SIP password) and the last
version the app reported. One-time links deliver the account to the extension's owner.
ADD COLUMN only: on SQLite a batch rebuild of `extension` is not needed and is not done.
"""
import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('extension', sa.Column('softphone', sa.String(length=64), nullable=True))
    op.add_column('extension', sa.Column('softphone_secret_digest', sa.String(length=64), nullable=True))
    op.add_column('extension', sa.Column('softphone_version', sa.String(length=64), nullable=True))
    op.add_column('extension', sa.Column('softphone_reported_model', sa.String(length=64), nullable=True))
    op.add_column('extension', sa.Column('softphone_seen_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'softphone_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('extension_id', sa.Integer(), nullable=False),
        sa.Column('token_digest', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['extension_id'], ['extension.id'], name=op.f('fk_softphone_link_extension_id_extension'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_softphone_link')),
        sa.UniqueConstraint('token_digest', name=op.f('uq_softphone_link_token_digest')),
    )
    op.create_index(op.f('ix_softphone_link_extension_id'), 'softphone_link', ['extension_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_softphone_link_extension_id'), table_name='softphone_link')
    op.drop_table('softphone_link')
    for column in ('softphone_seen_at', 'softphone_reported_model', 'softphone_version', 'softphone_secret_digest', 'softphone'):
        with op.batch_alter_table('extension', schema=None) as batch_op:
            batch_op.drop_column(column)
