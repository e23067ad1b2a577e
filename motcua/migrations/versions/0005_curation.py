"""curation: history of staff changes to synonyms, FAQ entries and legal documents' metadata

Revision ID: 0005_curation
Revises: 0001
Create Date: 2026-11-27

Its own branch from 0001 (label "curation"); ``upgrade_database(url)`` applies every head.
Synonyms and FAQ entries gain ``staff_edited`` (a later load of the defaults leaves them
alone) and ``deleted`` (a deletion is kept, so it can be reverted and is not re-added).
"""

import sqlalchemy as sa
from alembic import op

revision = '0005_curation'
down_revision = '0001'
branch_labels = ('curation',)
depends_on = None


def upgrade() -> None:
    op.create_table('kb_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=16), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kb_revisions', schema=None) as batch_op:
        batch_op.create_index('ix_kb_revisions_entity', ['entity', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_revisions_created_at'), ['created_at'], unique=False)

    for table in ('synonyms', 'faq_entries'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('staff_edited', sa.Boolean(), server_default=sa.false(), nullable=False))
            batch_op.add_column(sa.Column('deleted', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    for table in ('faq_entries', 'synonyms'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('deleted')
            batch_op.drop_column('staff_edited')
    with op.batch_alter_table('kb_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_revisions_created_at'))
        batch_op.drop_index('ix_kb_revisions_entity')
    op.drop_table('kb_revisions')
