"""dossier delivery: dossier notices and the portal outbox follow the delivery policy

Revision ID: 0014_dossier_delivery
Revises: 0013_dossier_filing_keys
Create Date: 2027-01-10

``dossier_notifications`` gains ``state``, ``attempts``, ``next_attempt_at``, ``last_error``
(:mod:`motcua.delivery`); ``portal_outbox``, which had the others, gains ``state`` (a refused
message becomes a dead letter after the last try). Rows already sent or delivered become
``sent``; the others stay pending.
"""

import sqlalchemy as sa
from alembic import op

revision = '0014_dossier_delivery'
down_revision = '0013_dossier_filing_keys'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dossier_notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=16), nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_dossier_notifications_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_notifications_next_attempt_at'), ['next_attempt_at'],
                              unique=False)
    op.execute("UPDATE dossier_notifications SET state = 'sent' WHERE sent_at IS NOT NULL")
    op.execute("UPDATE dossier_notifications SET next_attempt_at = created_at")
    with op.batch_alter_table('portal_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=16), nullable=False, server_default='pending'))
        batch_op.create_index('ix_portal_outbox_state', ['state', 'next_attempt_at'], unique=False)
    op.execute("UPDATE portal_outbox SET state = 'sent' WHERE delivered_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('portal_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_portal_outbox_state')
        batch_op.drop_column('state')
    with op.batch_alter_table('dossier_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_notifications_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_dossier_notifications_state'))
        for column in ('last_error', 'next_attempt_at', 'attempts', 'state'):
            batch_op.drop_column(column)
