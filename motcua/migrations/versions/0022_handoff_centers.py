"""handoff centres: a conversation handed over to staff belongs to the centre the citizen wrote from

Revision ID: 0022_handoff_centers
Revises: 0021_sender_centers, 0004_staff
Create Date: 2027-01-22

``handoff_conversations.center_code``: the centre of the kiosk, widget, chat page or Telegram link the
citizen wrote from ("default" for the existing rows); staff of one centre see and answer only its
conversations, an admin every centre's.
"""

import sqlalchemy as sa
from alembic import op

revision = '0022_handoff_centers'
down_revision = ('0021_sender_centers', '0004_staff')  # joins the staff branch
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoff_conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('center_code', sa.String(length=32), nullable=False, server_default='default'))
        batch_op.create_index('ix_handoff_conversations_center_code', ['center_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('handoff_conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_handoff_conversations_center_code')
        batch_op.drop_column('center_code')
