"""the centre's calendar: its school-holiday zone, its public holidays, its closure days

Revision ID: 0013
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from scheduler_app.models import UTCDateTime

revision = '0013'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'centre_calendar',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('holiday_zone', sa.String(length=1), nullable=True),
        sa.Column('public_holidays', sa.String(length=10), server_default='', nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_centre_calendar_one_row')),
        sa.CheckConstraint("holiday_zone IS NULL OR holiday_zone IN ('A', 'B', 'C')",
                           name=op.f('ck_centre_calendar_holiday_zone')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_centre_calendar')),
    )
    op.create_table(
        'closure_day',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=120), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_closure_day')),
        sa.UniqueConstraint('day', name=op.f('uq_closure_day_day')),
    )


def downgrade() -> None:
    op.drop_table('closure_day')
    op.drop_table('centre_calendar')
