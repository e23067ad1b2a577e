"""dossier centres: each dossier belongs to the centre it was filed at

Revision ID: 0020_dossier_centers
Revises: 0015_dossier_payments, 0019_centers
Create Date: 2027-01-21

``dossiers.center_code``: the centre (``centers.code``) a dossier was filed at — the desk's staff
member's centre, the kiosk's centre of a chat filing, else the default centre; "default" for the
existing rows. Staff of one centre see only its dossiers (:mod:`motcua.dossiers.access`). An index
on (centre, received at) serves the desk's list, newest first.
"""

import sqlalchemy as sa
from alembic import op

revision = '0020_dossier_centers'
down_revision = ('0015_dossier_payments', '0019_centers')  # joins the dossiers' branch and the centres'
branch_labels = None
depends_on = None

DEFAULT = 'default'


def upgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('center_code', sa.String(length=32), nullable=False, server_default=DEFAULT))
        batch_op.create_index('ix_dossiers_center_received', ['center_code', 'received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('ix_dossiers_center_received')
        batch_op.drop_column('center_code')
