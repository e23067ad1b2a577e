"""conversation centres: each message of the log belongs to the centre the citizen wrote from

Revision ID: 0024_conversation_centers
Revises: 0023_unanswered_centers
Create Date: 2027-01-22

``conversation_messages.center_code`` ("default" for the existing rows): the dashboard counts a
centre's questions and answers (its kiosks', widgets' and Telegram links' conversations).
"""

import sqlalchemy as sa
from alembic import op

revision = '0024_conversation_centers'
down_revision = '0023_unanswered_centers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversation_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('center_code', sa.String(length=32), nullable=False, server_default='default'))
        batch_op.create_index('ix_conversation_messages_center_code', ['center_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('conversation_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_messages_center_code')
        batch_op.drop_column('center_code')
