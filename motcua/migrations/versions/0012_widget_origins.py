"""widget origins: the sites an admin allows to embed the web widget

Revision ID: 0012_widget_origins
Revises: 0001
Create Date: 2026-12-07

Its own branch (label "widget_origins"); ``upgrade_database(url)`` applies every head.
Empty at first: the settings' ``cors_origins`` still allow what they allowed before.
"""

import sqlalchemy as sa
from alembic import op

revision = '0012_widget_origins'
down_revision = '0001'
branch_labels = ('widget_origins',)
depends_on = None


def upgrade() -> None:
    op.create_table('widget_origins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=255), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('origin')
    )


def downgrade() -> None:
    op.drop_table('widget_origins')
