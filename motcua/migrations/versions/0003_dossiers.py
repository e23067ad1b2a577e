"""dossiers: the dossier store, its status history, attachments and the portal outbox

Revision ID: 0003_dossiers
Revises: 0001
Create Date: 2026-11-25

Its own branch from 0001 (label "dossiers"); ``upgrade_database(url)`` applies every head.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_dossiers"
down_revision = "0001"
branch_labels = ("dossiers",)
depends_on = None


def upgrade() -> None:
    op.create_table('dossier_counters',
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('agency_code', 'day')
    )
    op.create_table('dossier_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_code', sa.String(length=48), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('sender_id', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dossier_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_notifications_dossier_code'), ['dossier_code'], unique=False)

    op.create_table('dossiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('procedure_code', sa.String(length=32), nullable=False),
    sa.Column('procedure_name', sa.Text(), nullable=False),
    sa.Column('form_id', sa.String(length=64), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('applicant_name', sa.String(length=128), nullable=False),
    sa.Column('applicant_cccd', sa.String(length=12), nullable=False),
    sa.Column('applicant_phone', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('sender_id', sa.String(length=128), nullable=False),
    sa.Column('submission_kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processing_value', sa.Double(), nullable=True),
    sa.Column('processing_unit', sa.String(length=16), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('supplement_note', sa.Text(), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agency_code', 'day', 'seq', name='uq_dossiers_agency_day_seq'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossiers_applicant_cccd'), ['applicant_cccd'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_applicant_phone'), ['applicant_phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_procedure_code'), ['procedure_code'], unique=False)
        batch_op.create_index('ix_dossiers_status_received', ['status', 'received_at'], unique=False)

    op.create_table('dossier_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dossier_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_attachments_dossier_id'), ['dossier_id'], unique=False)

    op.create_table('dossier_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=32), nullable=False),
    sa.Column('to_status', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dossier_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_status_changes_dossier_id'), ['dossier_id'], unique=False)

    op.create_table('portal_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('dossier_code', sa.String(length=48), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dossier_id', 'position', name='uq_portal_outbox_dossier_position'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('portal_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_portal_outbox_dossier', ['dossier_id', 'id'], unique=False)
        batch_op.create_index('ix_portal_outbox_pending', ['delivered_at', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('portal_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_portal_outbox_pending')
        batch_op.drop_index('ix_portal_outbox_dossier')

    op.drop_table('portal_outbox')
    with op.batch_alter_table('dossier_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_status_changes_dossier_id'))

    op.drop_table('dossier_status_changes')
    with op.batch_alter_table('dossier_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_attachments_dossier_id'))

    op.drop_table('dossier_attachments')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('ix_dossiers_status_received')
        batch_op.drop_index(batch_op.f('ix_dossiers_procedure_code'))
        batch_op.drop_index(batch_op.f('ix_dossiers_applicant_phone'))
        batch_op.drop_index(batch_op.f('ix_dossiers_applicant_cccd'))

    op.drop_table('dossiers')
    with op.batch_alter_table('dossier_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_notifications_dossier_code'))

    op.drop_table('dossier_notifications')
    op.drop_table('dossier_counters')
