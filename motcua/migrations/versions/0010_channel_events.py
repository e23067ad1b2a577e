"""channel events: Telegram and Zalo event ids already handled, kept across restarts

Revision ID: 0010_channel_events
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0010_channel_events'
down_revision = '0001'
branch_labels = ('channel_events',)
depends_on = None


def upgrade() -> None:
    op.create_table('channel_events',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'event_id')
    )
    with op.batch_alter_table('channel_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_events_received_at'), ['received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('channel_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_events_received_at'))
    op.drop_table('channel_events')
