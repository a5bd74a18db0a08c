"""support_link tables: tickets, their events, affected devices, work logs

UTC datetimes (the models' UtcDateTime is a DateTime(timezone=True) underneath); one open
ticket per dedup_key through the partial unique index uq_open_ticket_key.

Revision ID: sl0001
Revises:
Create Date: 2026-11-25 23:08:21.653178
"""
import sqlalchemy as sa
from alembic import op

revision = 'sl0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sl_ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('urgency', sa.String(length=16), nullable=False),
    sa.Column('impact', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('requester_name', sa.String(length=200), nullable=False),
    sa.Column('requester_contact', sa.String(length=254), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sla_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('dedup_key', sa.String(length=255), nullable=True),
    sa.Column('problem_id', sa.Integer(), nullable=True),
    sa.Column('linked_incidents', sa.JSON(), nullable=False),
    sa.Column('finding', sa.String(length=64), nullable=True),
    sa.Column('sla_state', sa.String(length=16), nullable=True),
    sa.Column('mail_message_id', sa.String(length=255), nullable=True),
    sa.Column('mail_sent_event_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel in ('portal', 'email', 'phone', 'whatsapp', 'device')", name=op.f('ck_sl_ticket_channel')),
    sa.CheckConstraint("impact in ('organization', 'department', 'individual')", name=op.f('ck_sl_ticket_impact')),
    sa.CheckConstraint("priority in ('urgent', 'high', 'normal', 'low')", name=op.f('ck_sl_ticket_priority')),
    sa.CheckConstraint("sla_state is null or sla_state in ('on_time', 'at_risk', 'breached')", name=op.f('ck_sl_ticket_sla_state')),
    sa.CheckConstraint("status in ('new', 'in_progress', 'escalated', 'resolved', 'closed')", name=op.f('ck_sl_ticket_status')),
    sa.CheckConstraint("type in ('incident', 'requirement', 'problem')", name=op.f('ck_sl_ticket_type')),
    sa.CheckConstraint("urgency in ('high', 'medium', 'low')", name=op.f('ck_sl_ticket_urgency')),
    sa.CheckConstraint('tier in (1, 2)', name=op.f('ck_sl_ticket_tier')),
    sa.ForeignKeyConstraint(['problem_id'], ['sl_ticket.id'], name=op.f('fk_sl_ticket_problem_id_sl_ticket'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sl_ticket'))
    )
    with op.batch_alter_table('sl_ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sl_ticket_account'), ['account'], unique=False)
        batch_op.create_index(batch_op.f('ix_sl_ticket_problem_id'), ['problem_id'], unique=False)
        batch_op.create_index('ix_sl_ticket_status_due', ['status', 'first_response_due'], unique=False)
        batch_op.create_index('uq_open_ticket_key', ['dedup_key'], unique=True, sqlite_where=sa.text("status in ('new', 'in_progress', 'escalated') and dedup_key is not null"), postgresql_where=sa.text("status in ('new', 'in_progress', 'escalated') and dedup_key is not null"))

    op.create_table('sl_affected_device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('device', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=200), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recovered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['sl_ticket.id'], name=op.f('fk_sl_affected_device_ticket_id_sl_ticket'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sl_affected_device')),
    sa.UniqueConstraint('ticket_id', 'device', name='uq_sl_affected_device_ticket_device')
    )
    op.create_table('sl_ticket_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("actor_kind in ('agent', 'requester', 'system')", name=op.f('ck_sl_ticket_event_actor_kind')),
    sa.ForeignKeyConstraint(['ticket_id'], ['sl_ticket.id'], name=op.f('fk_sl_ticket_event_ticket_id_sl_ticket'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sl_ticket_event'))
    )
    with op.batch_alter_table('sl_ticket_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sl_ticket_event_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('sl_work_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('agent', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint('ended_at > started_at', name=op.f('ck_sl_work_log_ends_after_start')),
    sa.ForeignKeyConstraint(['ticket_id'], ['sl_ticket.id'], name=op.f('fk_sl_work_log_ticket_id_sl_ticket'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sl_work_log'))
    )
    with op.batch_alter_table('sl_work_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sl_work_log_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sl_work_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sl_work_log_ticket_id'))

    op.drop_table('sl_work_log')
    with op.batch_alter_table('sl_ticket_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sl_ticket_event_ticket_id'))

    op.drop_table('sl_ticket_event')
    op.drop_table('sl_affected_device')
    with op.batch_alter_table('sl_ticket', schema=None) as batch_op:
        batch_op.drop_index('uq_open_ticket_key', sqlite_where=sa.text("status in ('new', 'in_progress', 'escalated') and dedup_key is not null"), postgresql_where=sa.text("status in ('new', 'in_progress', 'escalated') and dedup_key is not null"))
        batch_op.drop_index('ix_sl_ticket_status_due')
        batch_op.drop_index(batch_op.f('ix_sl_ticket_problem_id'))
        batch_op.drop_index(batch_op.f('ix_sl_ticket_account'))

    op.drop_table('sl_ticket')
