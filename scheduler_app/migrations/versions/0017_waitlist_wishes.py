"""waitlist wishes: waiting for any slot of a subject, level and tutor's language within some days

Revision ID: 0017
Revises: 0016_sms_delivery
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from scheduler_app.models import UTCDateTime

revision = '0017'
down_revision = '0016_sms_delivery'
branch_labels = None
depends_on = None

LIVE = sa.text("status IN ('waiting', 'offered')")
WAITING_WISH = sa.text("status = 'waiting' AND slot_id IS NULL")


def upgrade() -> None:
    # SQLite rebuilds the table to change a column's NULL and add CHECKs: its partial index is
    # dropped first and made again after, so that its WHERE is kept.
    op.drop_index('uq_waitlist_entry_live_slot_student', table_name='waitlist_entry')
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.alter_column('slot_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('subject', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('level', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='', nullable=False))
        batch_op.add_column(sa.Column('wish_from', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('wish_until', UTCDateTime(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_waitlist_entry_slot_or_wish'), sa.text('slot_id IS NOT NULL OR wish_until IS NOT NULL'))
        batch_op.create_check_constraint(op.f('ck_waitlist_entry_wish_days_in_order'), sa.text('wish_until IS NULL OR wish_until > wish_from'))
    op.create_index('uq_waitlist_entry_live_slot_student', 'waitlist_entry', ['slot_id', 'student_id'], unique=True,
                    sqlite_where=LIVE, postgresql_where=LIVE)
    op.create_index('ix_waitlist_entry_waiting_wish_created_at_id', 'waitlist_entry', ['created_at', 'id'],
                    sqlite_where=WAITING_WISH, postgresql_where=WAITING_WISH)
    op.create_index('uq_waitlist_entry_waiting_wish', 'waitlist_entry', ['student_id', 'subject', 'level', 'language'],
                    unique=True, sqlite_where=WAITING_WISH, postgresql_where=WAITING_WISH)


def downgrade() -> None:
    op.drop_index('uq_waitlist_entry_waiting_wish', table_name='waitlist_entry')
    op.drop_index('ix_waitlist_entry_waiting_wish_created_at_id', table_name='waitlist_entry')
    op.drop_index('uq_waitlist_entry_live_slot_student', table_name='waitlist_entry')
    # Wishes that never found a slot have no place in the older table.
    op.execute("DELETE FROM waitlist_entry WHERE slot_id IS NULL")
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_waitlist_entry_wish_days_in_order'), type_='check')
        batch_op.drop_constraint(op.f('ck_waitlist_entry_slot_or_wish'), type_='check')
        batch_op.drop_column('wish_until')
        batch_op.drop_column('wish_from')
        batch_op.drop_column('language')
        batch_op.drop_column('level')
        batch_op.drop_column('subject')
        batch_op.alter_column('slot_id', existing_type=sa.Integer(), nullable=False)
    op.create_index('uq_waitlist_entry_live_slot_student', 'waitlist_entry', ['slot_id', 'student_id'], unique=True,
                    sqlite_where=LIVE, postgresql_where=LIVE)
