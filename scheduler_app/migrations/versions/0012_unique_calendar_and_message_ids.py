"""calendar UIDs and Message-IDs unique across every copy of the database; why a session was
cancelled; activities' English names

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-04

Rows made before this revision keep NULL, and the code goes on writing the identifiers their
calendars and mail clients already hold (booking-<id>@<domain>, slot-<id>@<domain>, the
Message-ID hashed from the dedupe key): the domain comes from MAIL_FROM at run time, which a
migration does not know, so filling the old values in here could only guess it.
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns and indexes only: SQLite adds them without rebuilding the tables.
    for table in ('slot', 'booking'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('calendar_uid', sa.String(length=64), nullable=True))
            batch_op.create_index(f'uq_{table}_calendar_uid', ['calendar_uid'], unique=True)
            batch_op.add_column(sa.Column('cancel_reason', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_key', sa.String(length=64), nullable=True))
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_en', sa.String(length=120), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_column('name_en')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('message_key')
    for table in ('booking', 'slot'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('cancel_reason')
            batch_op.drop_index(f'uq_{table}_calendar_uid')
            batch_op.drop_column('calendar_uid')
