"""dossier privacy: random, hashed, expiring, revocable links; a hashed lookup PIN per dossier

Revision ID: 0006_dossier_privacy
Revises: 0003_dossiers
Create Date: 2026-12-06

Declaration links were an HMAC of the code under the secret key, valid for ever;
they become random tokens kept only as SHA-256 in ``dossier_links``. Dossiers gain
``lookup_pin_hash`` (the receipt's lookup PIN, salted PBKDF2); dossiers filed before have
none, and are looked up with the CCCD and the phone together.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_dossier_privacy"
down_revision = "0003_dossiers"
branch_labels = ("dossier_privacy",)
depends_on = None


def upgrade() -> None:
    op.create_table('dossier_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('dossier_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_links_dossier_id'), ['dossier_id'], unique=False)

    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lookup_pin_hash', sa.String(length=128), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_column('lookup_pin_hash')
    with op.batch_alter_table('dossier_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_links_dossier_id'))
    op.drop_table('dossier_links')
