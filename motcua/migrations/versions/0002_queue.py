"""queue: services, counters, tickets, daily number counters, events, notifications (own branch from 0001)

Revision ID: 0002_queue
Revises: 0001
Create Date: 2026-11-25

Its own branch from 0001 (label "queue"); ``upgrade_database(url)`` applies every head.
"""

import sqlalchemy as sa
from alembic import op

revision = '0002_queue'
down_revision = '0001'
branch_labels = ('queue',)
depends_on = None


def upgrade() -> None:
    op.create_table('queue_counters',
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority_streak', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('number')
    )
    op.create_table('queue_day_counters',
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('service_code', 'day')
    )
    op.create_table('queue_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('counter_number', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('queue_events', schema=None) as batch_op:
        batch_op.create_index('ix_queue_events_day_kind', ['day', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_queue_events_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('queue_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('sender_id', sa.String(length=128), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('queue_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_notifications_created_at'), ['created_at'], unique=False)

    op.create_table('queue_services',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('prefix', sa.String(length=1), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('minutes', sa.Double(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code'),
    sa.UniqueConstraint('prefix')
    )
    op.create_table('queue_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.Column('issued_service', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=32), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('sender_id', sa.String(length=128), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('counter_number', sa.Integer(), nullable=True),
    sa.Column('target_counter', sa.Integer(), nullable=True),
    sa.Column('estimated_wait_min', sa.Integer(), nullable=True),
    sa.Column('ahead_at_issue', sa.Integer(), nullable=False),
    sa.Column('recalls', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('called_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('near_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issued_service', 'day', 'number', name='uq_queue_tickets_service_day_number'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('queue_tickets', schema=None) as batch_op:
        batch_op.create_index('ix_queue_tickets_counter_status', ['counter_number', 'status'], unique=False)
        batch_op.create_index('ix_queue_tickets_day_status_service', ['day', 'status', 'service_code'], unique=False)
        batch_op.create_index('ix_queue_tickets_sender_day', ['sender_id', 'day'], unique=False)

    op.create_table('queue_counter_services',
    sa.Column('counter_number', sa.Integer(), nullable=False),
    sa.Column('service_code', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['counter_number'], ['queue_counters.number'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_code'], ['queue_services.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('counter_number', 'service_code')
    )


def downgrade() -> None:
    op.drop_table('queue_counter_services')
    with op.batch_alter_table('queue_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_tickets_sender_day')
        batch_op.drop_index('ix_queue_tickets_day_status_service')
        batch_op.drop_index('ix_queue_tickets_counter_status')

    op.drop_table('queue_tickets')
    op.drop_table('queue_services')
    with op.batch_alter_table('queue_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_notifications_created_at'))

    op.drop_table('queue_notifications')
    with op.batch_alter_table('queue_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_events_ticket_id'))
        batch_op.drop_index('ix_queue_events_day_kind')

    op.drop_table('queue_events')
    op.drop_table('queue_day_counters')
    op.drop_table('queue_counters')
