"""procedure layers: what the centre's files and the national catalogue each say

Revision ID: 0011_procedure_layers
Revises: 0005_curation
Create Date: 2026-12-05

A procedure's ``data`` stays what citizens are told. Two new columns keep where it came
from, so that it can be composed field by field (the centre's text wins, the catalogue fills
what it leaves empty) and a revert can tell whether staff content is still in place:
``center_data`` (the default file as last loaded) and ``catalogue_data`` (the national
portal's record as last imported). Both are empty until the next load or import.
"""

import sqlalchemy as sa
from alembic import op

revision = '0011_procedure_layers'
down_revision = '0005_curation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('center_data', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('catalogue_data', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.drop_column('catalogue_data')
        batch_op.drop_column('center_data')
