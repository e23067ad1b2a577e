"""queue delivery: the notice outbox follows the delivery policy (tries, backoff, dead letters)

Revision ID: 0013_queue_delivery
Revises: 0007_devices
Create Date: 2027-01-10

``queue_notifications`` gains ``state``, ``attempts``, ``next_attempt_at``, ``last_error``
(:mod:`motcua.delivery`) and ``source`` (queue call, or a staff or bot message a platform
refused). Rows already sent become ``sent``; the others are due at once.
"""

import sqlalchemy as sa
from alembic import op

revision = '0013_queue_delivery'
down_revision = '0007_devices'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queue_notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=False, server_default='queue'))
        batch_op.add_column(sa.Column('state', sa.String(length=16), nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_queue_notifications_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_queue_notifications_next_attempt_at'), ['next_attempt_at'],
                              unique=False)
    op.execute("UPDATE queue_notifications SET state = 'sent' WHERE sent_at IS NOT NULL")
    op.execute("UPDATE queue_notifications SET next_attempt_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table('queue_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_notifications_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_queue_notifications_state'))
        for column in ('last_error', 'next_attempt_at', 'attempts', 'state', 'source'):
            batch_op.drop_column(column)
