"""notice custom: a citizen notice carries what a page shows beside its text

Revision ID: 0016_notice_custom
Revises: 0013_queue_delivery
Create Date: 2027-01-12

``queue_notifications.custom`` (JSON, null for most rows): the «your number is called» notice of
a number taken in a kiosk chat session holds ``{"queue_called": {label, counter, token}}``, so the
relay hands the kiosk page its banner through the outbox (it used to be polled from the tickets).
"""

import sqlalchemy as sa
from alembic import op

revision = '0016_notice_custom'
down_revision = '0013_queue_delivery'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queue_notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('custom', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('queue_notifications', schema=None) as batch_op:
        batch_op.drop_column('custom')
