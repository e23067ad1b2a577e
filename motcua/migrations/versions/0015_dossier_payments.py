"""dossier payments: the fee a dossier owes, its payment state and history, imported bank statements

Revision ID: 0015_dossier_payments
Revises: 0014_dossier_delivery
Create Date: 2027-01-20

``dossier_payments`` (one row per priced dossier: amount owed, state unpaid/paid/waived/none_due,
method, paid_at, paid_by, waiver reason), ``dossier_payment_events`` (the payment history) and
``payment_statement_lines`` (every imported bank-statement line and what became of it);
see :mod:`motcua.payments.models`.
"""

import sqlalchemy as sa
from alembic import op

revision = '0015_dossier_payments'
down_revision = '0014_dossier_delivery'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dossier_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('dossier_code', sa.String(length=48), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('fee_source', sa.String(length=16), nullable=False),
    sa.Column('fee_note', sa.Text(), nullable=False),
    sa.Column('channel_kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=True),
    sa.Column('paid_amount', sa.BigInteger(), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_by', sa.String(length=128), nullable=False),
    sa.Column('waiver_reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dossier_code'),
    sa.UniqueConstraint('dossier_id')
    )
    op.create_index('ix_dossier_payments_state', 'dossier_payments', ['state'], unique=False)

    op.create_table('dossier_payment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=False),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_dossier_payment_events_dossier_id', 'dossier_payment_events', ['dossier_id'], unique=False)

    op.create_table('payment_statement_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_key', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('line_number', sa.Integer(), nullable=False),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('dossier_code', sa.String(length=48), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('imported_by', sa.String(length=128), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('line_key')
    )
    op.create_index('ix_payment_statement_lines_outcome', 'payment_statement_lines', ['outcome'], unique=False)
    op.create_index('ix_payment_statement_lines_dossier_code', 'payment_statement_lines', ['dossier_code'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_payment_statement_lines_dossier_code', table_name='payment_statement_lines')
    op.drop_index('ix_payment_statement_lines_outcome', table_name='payment_statement_lines')
    op.drop_table('payment_statement_lines')
    op.drop_index('ix_dossier_payment_events_dossier_id', table_name='dossier_payment_events')
    op.drop_table('dossier_payment_events')
    op.drop_index('ix_dossier_payments_state', table_name='dossier_payments')
    op.drop_table('dossier_payments')
