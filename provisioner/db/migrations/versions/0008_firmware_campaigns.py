"""firmware images with their SHA-256, and firmware campaigns inside the maintenance window

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:40:00

New tables only (issue 18): firmware_image (what `provisioner firmware add` recorded),
firmware_campaign, campaign_phone and campaign_notice (the campaign's mail outbox).
"""
import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'firmware_image',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('model_key', sa.String(length=64), nullable=False),
        sa.Column('version', sa.String(length=64), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_firmware_image')),
        sa.UniqueConstraint('name', name=op.f('uq_firmware_image_name')),
    )
    op.create_table(
        'firmware_campaign',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('model_key', sa.String(length=64), nullable=False),
        sa.Column('target_version', sa.String(length=64), nullable=False),
        sa.Column('direction', sa.String(length=16), nullable=False),
        sa.Column('image_name', sa.String(length=128), nullable=False),
        sa.Column('image_sha256', sa.String(length=64), nullable=False),
        sa.Column('image_size', sa.BigInteger(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('critical', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('max_failure_share', sa.Float(), nullable=False),
        sa.Column('phone_timeout_seconds', sa.Integer(), nullable=False),
        sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('halted_because', sa.Text(), nullable=True),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('incident_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_firmware_campaign_tenant_id_tenant'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_firmware_campaign')),
    )
    op.create_index(op.f('ix_firmware_campaign_tenant_id'), 'firmware_campaign', ['tenant_id'], unique=False)
    op.create_index('ix_firmware_campaign_state', 'firmware_campaign', ['state'], unique=False)
    op.create_table(
        'campaign_phone',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('mac', sa.String(length=12), nullable=False),
        sa.Column('wave', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('from_version', sa.String(length=64), nullable=True),
        sa.Column('instructed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('deadline', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reported_version', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['firmware_campaign.id'],
                                name=op.f('fk_campaign_phone_campaign_id_firmware_campaign'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_phone')),
        sa.UniqueConstraint('campaign_id', 'mac', name='uq_campaign_phone_campaign_mac'),
    )
    op.create_table(
        'campaign_notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['firmware_campaign.id'],
                                name=op.f('fk_campaign_notice_campaign_id_firmware_campaign'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_notice')),
    )
    op.create_index(op.f('ix_campaign_notice_campaign_id'), 'campaign_notice', ['campaign_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_campaign_notice_campaign_id'), table_name='campaign_notice')
    op.drop_table('campaign_notice')
    op.drop_table('campaign_phone')
    op.drop_index('ix_firmware_campaign_state', table_name='firmware_campaign')
    op.drop_index(op.f('ix_firmware_campaign_tenant_id'), table_name='firmware_campaign')
    op.drop_table('firmware_campaign')
    op.drop_table('firmware_image')
