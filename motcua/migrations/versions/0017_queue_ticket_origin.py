"""queue ticket origin: a chat number remembers the (hashed) client address it came from

Revision ID: 0017_queue_ticket_origin
Revises: 0016_notice_custom
Create Date: 2027-01-12

``queue_tickets.origin`` (null for kiosk, staff and platform numbers): the gateway's keyed hash of
the address of an anonymous chat client (web widget, REST, a kiosk page that is not enrolled), never
the address itself, so the numbers one address took recently can be counted
(:mod:`motcua.queue.limits`); indexed with the day like ``sender_id``.
"""

import sqlalchemy as sa
from alembic import op

revision = '0017_queue_ticket_origin'
down_revision = '0016_notice_custom'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queue_tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_queue_tickets_origin_day', ['origin', 'day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('queue_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_tickets_origin_day')
        batch_op.drop_column('origin')
