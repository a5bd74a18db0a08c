"""Requesters: the customer's staff on the portal, their sessions and one-time links; tenants' mail domains

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 17:10:00

Issue 16. `tenant.email_domains` is ADD COLUMN with a server default (no SQLite rebuild of
`tenant`, migration 0005 says why). Requesters live in their own tables, apart from app_user.
"""
import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('tenant', sa.Column('email_domains', sa.Text(), server_default='', nullable=False))
    op.create_table('requester',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('invited_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_requester_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requester')),
    sa.UniqueConstraint('email', name=op.f('uq_requester_email'))
    )
    op.create_index(op.f('ix_requester_tenant_id'), 'requester', ['tenant_id'], unique=False)
    op.create_table('requester_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['requester_id'], ['requester.id'], name=op.f('fk_requester_session_requester_id_requester'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requester_session')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_requester_session_token_digest'))
    )
    op.create_index(op.f('ix_requester_session_requester_id'), 'requester_session', ['requester_id'], unique=False)
    op.create_table('requester_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("purpose in ('invite', 'register', 'reset')", name=op.f('ck_requester_link_purpose')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_requester_link_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requester_link')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_requester_link_token_digest'))
    )
    op.create_index(op.f('ix_requester_link_email'), 'requester_link', ['email'], unique=False)
    op.create_index(op.f('ix_requester_link_tenant_id'), 'requester_link', ['tenant_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_requester_link_tenant_id'), table_name='requester_link')
    op.drop_index(op.f('ix_requester_link_email'), table_name='requester_link')
    op.drop_table('requester_link')
    op.drop_index(op.f('ix_requester_session_requester_id'), table_name='requester_session')
    op.drop_table('requester_session')
    op.drop_index(op.f('ix_requester_tenant_id'), table_name='requester')
    op.drop_table('requester')
    op.drop_column('tenant', 'email_domains')
