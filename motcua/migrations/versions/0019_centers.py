"""centres: one deployment serves several centres; the queue and the devices belong to one

Revision ID: 0019_centers
Revises: 0017_queue_ticket_origin
Create Date: 2027-01-20

``centers`` (code, name, short name, address, phone, hours, agency code) with the default centre
(code "default": a single-centre installation; ``motcua db upgrade`` and the gateway's start fill
its name, address and hours from ``center.yaml``). ``center_code`` on the queue's tickets,
counters, events and day counters and on the devices, "default" for existing rows. The day's
numbering is per centre: the day counters' key becomes (centre, service, day) and the tickets'
unique number (centre, service, day, number), so two centres both issue A001.
"""

import sqlalchemy as sa
from alembic import op

revision = '0019_centers'
down_revision = '0017_queue_ticket_origin'
branch_labels = None
depends_on = None

DEFAULT = 'default'


def _center_column() -> sa.Column:
    return sa.Column('center_code', sa.String(length=32), nullable=False, server_default=DEFAULT)


def upgrade() -> None:
    centers = op.create_table(
        'centers',
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('short_name', sa.String(length=128), nullable=False),
        sa.Column('address', sa.String(length=255), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('hours', sa.Text(), nullable=False),
        sa.Column('agency_code', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('code'),
    )
    now = sa.func.current_timestamp()
    op.execute(centers.insert().values(code=DEFAULT, name='', short_name='', address='', phone='', hours='',
                                       agency_code='', created_at=now, updated_at=now))

    with op.batch_alter_table('queue_tickets', schema=None) as batch_op:
        batch_op.add_column(_center_column())
        batch_op.drop_constraint('uq_queue_tickets_service_day_number', type_='unique')
        batch_op.create_unique_constraint('uq_queue_tickets_center_service_day_number',
                                          ['center_code', 'issued_service', 'day', 'number'])
        batch_op.create_index('ix_queue_tickets_center_day_status', ['center_code', 'day', 'status'], unique=False)

    with op.batch_alter_table('queue_counters', schema=None) as batch_op:
        batch_op.add_column(_center_column())
        batch_op.create_index('ix_queue_counters_center_code', ['center_code'], unique=False)

    with op.batch_alter_table('queue_events', schema=None) as batch_op:
        batch_op.add_column(_center_column())
        batch_op.create_index('ix_queue_events_center_day', ['center_code', 'day'], unique=False)

    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(_center_column())

    # the day counters' key gains the centre: a new table, the old rows copied as the default centre's
    op.create_table(
        'queue_day_counters_new',
        sa.Column('center_code', sa.String(length=32), nullable=False),
        sa.Column('service_code', sa.String(length=16), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('center_code', 'service_code', 'day', name='pk_queue_day_counters'),
    )
    op.execute("INSERT INTO queue_day_counters_new (center_code, service_code, day, last_number) "
               f"SELECT '{DEFAULT}', service_code, day, last_number FROM queue_day_counters")
    op.drop_table('queue_day_counters')
    op.rename_table('queue_day_counters_new', 'queue_day_counters')


def downgrade() -> None:
    op.create_table(
        'queue_day_counters_old',
        sa.Column('service_code', sa.String(length=16), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('service_code', 'day'),
    )
    op.execute("INSERT INTO queue_day_counters_old (service_code, day, last_number) "
               "SELECT service_code, day, MAX(last_number) FROM queue_day_counters GROUP BY service_code, day")
    op.drop_table('queue_day_counters')
    op.rename_table('queue_day_counters_old', 'queue_day_counters')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('center_code')
    with op.batch_alter_table('queue_events', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_events_center_day')
        batch_op.drop_column('center_code')
    with op.batch_alter_table('queue_counters', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_counters_center_code')
        batch_op.drop_column('center_code')
    # tickets of other centres would clash on the old (service, day, number): they go first
    op.execute(f"DELETE FROM queue_tickets WHERE center_code <> '{DEFAULT}'")
    with op.batch_alter_table('queue_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_tickets_center_day_status')
        batch_op.drop_constraint('uq_queue_tickets_center_service_day_number', type_='unique')
        batch_op.create_unique_constraint('uq_queue_tickets_service_day_number', ['issued_service', 'day', 'number'])
        batch_op.drop_column('center_code')
    op.drop_table('centers')
