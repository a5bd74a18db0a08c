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
"""
import sqlalchemy as sa
from alembic import op

from provisioner import credentials


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_urls', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('enroll_until', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('url_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('admin_password', sa.String(length=128), nullable=True))
    device = sa.table('device', sa.column('id', sa.Integer), sa.column('url_token', sa.String),
                      sa.column('admin_password', sa.String))
    connection = op.get_bind()
    for (device_id,) in connection.execute(sa.select(device.c.id)).all():
        connection.execute(
            device.update().where(device.c.id == device_id).values(
                url_token=credentials.device_token(), admin_password=credentials.admin_password()
            )
        )
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.alter_column('url_token', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('admin_password', existing_type=sa.String(length=128), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_device_url_token'), ['url_token'])


def downgrade() -> None:
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_device_url_token'), type_='unique')
        batch_op.drop_column('admin_password')
        batch_op.drop_column('enrolled_at')
        batch_op.drop_column('url_token')
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.drop_column('enroll_until')
        batch_op.drop_column('device_urls')
