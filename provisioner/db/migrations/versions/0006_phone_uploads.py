"""files phones write back: logs and override files

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:40:00

Polycom phones PUT their boot and application logs and the user's override file
(<mac>-phone.cfg) and read the override file back at every boot (provisioner.uploads). Every
server process must serve the file another one stored, so they live in the database, in a new
table only (tenant and device are not touched).
"""
import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'phone_upload',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('source_ip', sa.String(length=45), nullable=False),
        sa.Column('user_agent', sa.Text(), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind in ('app_log', 'boot_log', 'override')", name=op.f('ck_phone_upload_kind')),
        sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_phone_upload_device_id_device'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_upload')),
    )
    op.create_index('ix_phone_upload_device_kind', 'phone_upload', ['device_id', 'kind', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_phone_upload_device_kind', table_name='phone_upload')
    op.drop_table('phone_upload')
