"""per-device provisioning URLs and per-device admin passwords

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 08:10:00

The tenant key travels in DHCP configs and installers' notes; with it and a MAC anyone could
fetch a deployed phone's SIP passwords. A tenant may now switch to per-device URLs: after a
phone's first fetch of its MAC file, its config points it at /prov/d/<its token>/ and the
tenant key no longer serves that file (unless re-enrolled or an enrolment window is open).
Each device also gets its own web-admin password instead of the tenant's one.

Existing devices get a fresh token and admin password here, generated with the same
functions the application uses (provisioner.credentials).

Only ALTER TABLE ADD COLUMN and CREATE INDEX, never a batch table rebuild: on SQLite (foreign
keys on) rebuilding `tenant` drops it, and the drop cascades to every device, extension and
sighting; rebuilding `device` would take every extension off its phone. So the new device
columns stay nullable in the schema (every writer fills them), and the token's uniqueness is
a unique index.
"""
import sqlalchemy as sa
from alembic import op

from provisioner import credentials


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('tenant', sa.Column('device_urls', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('tenant', sa.Column('enroll_until', sa.DateTime(timezone=True), nullable=True))
    op.add_column('device', sa.Column('url_token', sa.String(length=64), nullable=True))
    op.add_column('device', sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('device', sa.Column('admin_password', sa.String(length=128), nullable=True))
    device = sa.table('device', sa.column('id', sa.Integer), sa.column('url_token', sa.String),
                      sa.column('admin_password', sa.String))
    connection = op.get_bind()
    for (device_id,) in connection.execute(sa.select(device.c.id)).all():
        connection.execute(
            device.update().where(device.c.id == device_id).values(
                url_token=credentials.device_token(), admin_password=credentials.admin_password()
            )
        )
    op.create_index('uq_device_url_token', 'device', ['url_token'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_device_url_token', table_name='device')
    op.drop_column('device', 'admin_password')
    op.drop_column('device', 'enrolled_at')
    op.drop_column('device', 'url_token')
    op.drop_column('tenant', 'enroll_until')
    op.drop_column('tenant', 'device_urls')
