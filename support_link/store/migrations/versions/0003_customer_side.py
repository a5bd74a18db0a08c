"""The customer's side (issue 16): requester mail, agreed dates, attachments, surveys, mail threads

sl_ticket gains the requester's address, the resolution date proposed/agreed with the customer
and the cursor of the requester's own mail thread: ADD COLUMN only (nullable), no SQLite
rebuild. New tables: sl_attachment, sl_survey, sl_mail_draft, sl_mail_message (a unique
Message-ID is what keeps two mailbox pollers from opening two tickets for one mail).

Revision ID: sl0003
Revises: sl0002
Create Date: 2026-12-02 17:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'sl0003'
down_revision = 'sl0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sl_ticket', sa.Column('requester_email', sa.String(length=254), nullable=True))
    op.add_column('sl_ticket', sa.Column('proposed_resolution_on', sa.Date(), nullable=True))
    op.add_column('sl_ticket', sa.Column('proposed_by', sa.String(length=16), nullable=True))
    op.add_column('sl_ticket', sa.Column('agreed_resolution_on', sa.Date(), nullable=True))
    op.add_column('sl_ticket', sa.Column('requester_mail_root', sa.String(length=255), nullable=True))
    op.add_column('sl_ticket', sa.Column('requester_mail_sent_event_id', sa.Integer(), nullable=True))
    op.create_table('sl_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=127), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source in ('portal', 'email')", name=op.f('ck_sl_attachment_source')),
    sa.ForeignKeyConstraint(['event_id'], ['sl_ticket_event.id'], name=op.f('fk_sl_attachment_event_id_sl_ticket_event'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['sl_ticket.id'], name=op.f('fk_sl_attachment_ticket_id_sl_ticket'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sl_attachment'))
    )
    op.create_index(op.f('ix_sl_attachment_ticket_id'), 'sl_attachment', ['ticket_id'], unique=False)
    op.create_table('sl_survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=200), nullable=False),
    sa.Column('agent', sa.String(length=64), nullable=True),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('solved', sa.Boolean(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('rating is null or rating between 1 and 5', name=op.f('ck_sl_survey_rating')),
    sa.ForeignKeyConstraint(['ticket_id'], ['sl_ticket.id'], name=op.f('fk_sl_survey_ticket_id_sl_ticket'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sl_survey')),
    sa.UniqueConstraint('ticket_id', 'resolved_at', name='uq_sl_survey_ticket_resolution'),
    sa.UniqueConstraint('token_digest', name=op.f('uq_sl_survey_token_digest'))
    )
    op.create_index(op.f('ix_sl_survey_account'), 'sl_survey', ['account'], unique=False)
    op.create_index(op.f('ix_sl_survey_ticket_id'), 'sl_survey', ['ticket_id'], unique=False)
    op.create_table('sl_mail_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=200), nullable=False),
    sa.Column('sender', sa.String(length=254), nullable=False),
    sa.Column('requester_name', sa.String(length=200), nullable=False),
    sa.Column('requester_contact', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('missing', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['sl_ticket.id'], name=op.f('fk_sl_mail_draft_ticket_id_sl_ticket'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sl_mail_draft'))
    )
    op.create_index(op.f('ix_sl_mail_draft_sender'), 'sl_mail_draft', ['sender'], unique=False)
    op.create_table('sl_mail_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('draft_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("direction in ('in', 'out')", name=op.f('ck_sl_mail_message_direction')),
    sa.ForeignKeyConstraint(['draft_id'], ['sl_mail_draft.id'], name=op.f('fk_sl_mail_message_draft_id_sl_mail_draft'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['sl_ticket.id'], name=op.f('fk_sl_mail_message_ticket_id_sl_ticket'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sl_mail_message')),
    sa.UniqueConstraint('message_id', name=op.f('uq_sl_mail_message_message_id'))
    )
    op.create_index(op.f('ix_sl_mail_message_draft_id'), 'sl_mail_message', ['draft_id'], unique=False)
    op.create_index(op.f('ix_sl_mail_message_ticket_id'), 'sl_mail_message', ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sl_mail_message_ticket_id'), table_name='sl_mail_message')
    op.drop_index(op.f('ix_sl_mail_message_draft_id'), table_name='sl_mail_message')
    op.drop_table('sl_mail_message')
    op.drop_index(op.f('ix_sl_mail_draft_sender'), table_name='sl_mail_draft')
    op.drop_table('sl_mail_draft')
    op.drop_index(op.f('ix_sl_survey_ticket_id'), table_name='sl_survey')
    op.drop_index(op.f('ix_sl_survey_account'), table_name='sl_survey')
    op.drop_table('sl_survey')
    op.drop_index(op.f('ix_sl_attachment_ticket_id'), table_name='sl_attachment')
    op.drop_table('sl_attachment')
    for column in ('requester_mail_sent_event_id', 'requester_mail_root', 'agreed_resolution_on', 'proposed_by',
                   'proposed_resolution_on', 'requester_email'):
        op.drop_column('sl_ticket', column)
