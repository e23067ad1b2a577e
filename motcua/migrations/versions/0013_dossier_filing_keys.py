"""dossier filing keys: a retried filing finds its dossier instead of filing a second one

Revision ID: 0013_dossier_filing_keys
Revises: 0006_dossier_privacy
Create Date: 2026-12-08

Dossiers gain ``filing_key`` (the SHA-256 of the key the chat's form session or the desk's
filing form sent; unique; NULL for dossiers filed before, and for callers that send none).
``dossier_filing_pins`` keeps, for an hour, the lookup PIN of a keyed filing's first answer,
sealed with the key, so that a retry can repeat that answer word for word.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_dossier_filing_keys"
down_revision = "0006_dossier_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A unique index, not a constraint: SQLite adds both the column and the index in place, where a
    # constraint would copy the table, and dropping the old one would cascade to its history and files.
    op.add_column('dossiers', sa.Column('filing_key', sa.String(length=64), nullable=True))
    op.create_index('ix_dossiers_filing_key', 'dossiers', ['filing_key'], unique=True)

    op.create_table('dossier_filing_pins',
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('sealed_pin', sa.String(length=16), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dossier_id')
    )
    with op.batch_alter_table('dossier_filing_pins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_filing_pins_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dossier_filing_pins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_filing_pins_expires_at'))
    op.drop_table('dossier_filing_pins')
    op.drop_index('ix_dossiers_filing_key', table_name='dossiers')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_column('filing_key')
