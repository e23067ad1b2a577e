"""devices: the registry of kiosks, ticket printers and display boards (keys stored hashed)

Revision ID: 0007_devices
Revises: 0002_queue
Create Date: 2026-12-06

Its own branch from the queue (label "devices"); ``upgrade_database(url)`` applies every head.
"""

import sqlalchemy as sa
from alembic import op

revision = '0007_devices'
down_revision = '0002_queue'
branch_labels = ('devices',)
depends_on = None


def upgrade() -> None:
    op.create_table('devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('key_hint', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash'),
    sa.UniqueConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('devices')
