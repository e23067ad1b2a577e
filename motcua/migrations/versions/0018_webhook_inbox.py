"""webhook inbox: a Telegram or Zalo event is stored before the platform gets its 200

Revision ID: 0018_webhook_inbox
Revises: 0010_channel_events
Create Date: 2027-01-14

``webhook_inbox`` (:class:`motcua.models.InboundEvent`, :mod:`bot.webhook_inbox`): one row per
platform event, written in the same transaction as its ``channel_events`` id, with what is needed
to handle it again (``sender_id``, the parsed event in ``payload``, both blanked once handled) and
the delivery policy's columns (:mod:`motcua.delivery`) plus ``locked_until``, the lease of the
process handling it. Follows the channel events' branch.
"""

import sqlalchemy as sa
from alembic import op

revision = '0018_webhook_inbox'
down_revision = '0010_channel_events'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=True),
    sa.Column('sender_id', sa.String(length=128), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('webhook_inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_inbox_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_inbox_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_inbox_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webhook_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_inbox_state'))
        batch_op.drop_index(batch_op.f('ix_webhook_inbox_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_webhook_inbox_created_at'))
    op.drop_table('webhook_inbox')
