"""unanswered centres: a question on the review list belongs to the centre the citizen wrote from

Revision ID: 0023_unanswered_centers
Revises: 0022_handoff_centers
Create Date: 2027-01-22

``unanswered_questions.center_code`` ("default" for the existing rows): staff of one centre review
only their centre's questions, an admin every centre's.
"""

import sqlalchemy as sa
from alembic import op

revision = '0023_unanswered_centers'
down_revision = '0022_handoff_centers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('unanswered_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('center_code', sa.String(length=32), nullable=False, server_default='default'))
        batch_op.create_index('ix_unanswered_questions_center_code', ['center_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('unanswered_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_unanswered_questions_center_code')
        batch_op.drop_column('center_code')
