"""sender centres: the centre a Telegram (or other platform) citizen chose, remembered per sender

Revision ID: 0021_sender_centers
Revises: 0020_dossier_centers
Create Date: 2027-01-22

``sender_centers`` (sender id, centre code, when chosen): a province runs one Telegram bot for all
its centres; a centre's link (``t.me/<bot>?start=<centre code>``) names the centre, the gateway
remembers it for that chat, and the chat's numbers and dossiers belong to it. Rows older than the
retention period are deleted with the message log (:mod:`motcua.privacy`).
"""

import sqlalchemy as sa
from alembic import op

revision = '0021_sender_centers'
down_revision = '0020_dossier_centers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sender_centers',
        sa.Column('sender_id', sa.String(length=160), nullable=False),
        sa.Column('center_code', sa.String(length=32), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sender_id'),
    )
    with op.batch_alter_table('sender_centers', schema=None) as batch_op:
        batch_op.create_index('ix_sender_centers_updated_at', ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sender_centers', schema=None) as batch_op:
        batch_op.drop_index('ix_sender_centers_updated_at')
    op.drop_table('sender_centers')
