"""widget origin centres: a site allowed to embed the widget may belong to one centre

Revision ID: 0025_widget_origin_centers
Revises: 0012_widget_origins
Create Date: 2027-01-23

``widget_origins.center_code`` (NULL for the existing rows: a site of every centre, whose page names
its centre): a commune's own site is its centre's, and its widget speaks for that centre only.
"""

import sqlalchemy as sa
from alembic import op

revision = '0025_widget_origin_centers'
down_revision = '0012_widget_origins'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('widget_origins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('center_code', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('widget_origins', schema=None) as batch_op:
        batch_op.drop_column('center_code')
