"""sl_ticket.assignee: the agent (username) who took the ticket; NULL while unassigned

ADD COLUMN only (nullable), so SQLite needs no table rebuild. Indexed with status for the
"mis casos" and "sin asignar" views of the queue.

Revision ID: sl0002
Revises: sl0001
Create Date: 2026-12-02 13:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'sl0002'
down_revision = 'sl0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sl_ticket', sa.Column('assignee', sa.String(length=64), nullable=True))
    op.create_index('ix_sl_ticket_assignee_status', 'sl_ticket', ['assignee', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sl_ticket_assignee_status', table_name='sl_ticket')
    with op.batch_alter_table('sl_ticket', schema=None) as batch_op:
        batch_op.drop_column('assignee')
