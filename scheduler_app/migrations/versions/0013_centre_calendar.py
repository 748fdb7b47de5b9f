"""the centre's calendar (school-holiday zone, public holidays, closure days), weekly enrolments, waitlists, tutor absences

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from scheduler_app.models import UTCDateTime

revision = '0013'
down_revision = '0012'
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
    op.create_table(
        'enrolment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('booked_by_id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=False),
        sa.Column('start_time', sa.Time(), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('cancelled_at', UTCDateTime(), nullable=True),
        sa.CheckConstraint('last_day >= first_day', name=op.f('ck_enrolment_days_in_order')),
        sa.ForeignKeyConstraint(['booked_by_id'], ['user.id'], name=op.f('fk_enrolment_booked_by_id_user')),
        sa.ForeignKeyConstraint(['rule_id'], ['availability_rule.id'],
                                name=op.f('fk_enrolment_rule_id_availability_rule')),
        sa.ForeignKeyConstraint(['student_id'], ['user.id'], name=op.f('fk_enrolment_student_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment')),
    )
    op.create_index(op.f('ix_enrolment_student_id'), 'enrolment', ['student_id'], unique=False)
    op.create_table(
        'enrolment_occurrence',
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('enrolment_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_enrolment_occurrence_booking_id_booking')),
        sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'],
                                name=op.f('fk_enrolment_occurrence_enrolment_id_enrolment')),
        sa.PrimaryKeyConstraint('booking_id', name=op.f('pk_enrolment_occurrence')),
    )
    op.create_index(op.f('ix_enrolment_occurrence_enrolment_id'), 'enrolment_occurrence', ['enrolment_id'],
                    unique=False)
    live = sa.text("status IN ('waiting', 'offered')")
    op.create_table(
        'waitlist_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slot_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('offered_at', UTCDateTime(), nullable=True),
        sa.Column('offer_expires_at', UTCDateTime(), nullable=True),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('waiting', 'offered', 'booked', 'left', 'expired')",
                           name=op.f('ck_waitlist_entry_status')),
        sa.ForeignKeyConstraint(['added_by_id'], ['user.id'], name=op.f('fk_waitlist_entry_added_by_id_user')),
        sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_waitlist_entry_booking_id_booking')),
        sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_waitlist_entry_slot_id_slot')),
        sa.ForeignKeyConstraint(['student_id'], ['user.id'], name=op.f('fk_waitlist_entry_student_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entry')),
        sa.UniqueConstraint('token', name=op.f('uq_waitlist_entry_token')),
    )
    op.create_index('ix_waitlist_entry_slot_id_status', 'waitlist_entry', ['slot_id', 'status'], unique=False)
    op.create_index('uq_waitlist_entry_live_slot_student', 'waitlist_entry', ['slot_id', 'student_id'], unique=True,
                    sqlite_where=live, postgresql_where=live)
    op.create_table(
        'tutor_absence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slot_id', sa.Integer(), nullable=False),
        sa.Column('tutor_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('new_tutor_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('resolved_at', UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'reassigned', 'cancelled')", name=op.f('ck_tutor_absence_status')),
        sa.ForeignKeyConstraint(['new_tutor_id'], ['user.id'], name=op.f('fk_tutor_absence_new_tutor_id_user')),
        sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_tutor_absence_slot_id_slot')),
        sa.ForeignKeyConstraint(['tutor_id'], ['user.id'], name=op.f('fk_tutor_absence_tutor_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tutor_absence')),
    )
    op.create_index('uq_tutor_absence_open_slot_id', 'tutor_absence', ['slot_id'], unique=True,
                    sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))


def downgrade() -> None:
    op.drop_index('uq_tutor_absence_open_slot_id', table_name='tutor_absence')
    op.drop_table('tutor_absence')
    op.drop_index('uq_waitlist_entry_live_slot_student', table_name='waitlist_entry')
    op.drop_index('ix_waitlist_entry_slot_id_status', table_name='waitlist_entry')
    op.drop_table('waitlist_entry')
    op.drop_index(op.f('ix_enrolment_occurrence_enrolment_id'), table_name='enrolment_occurrence')
    op.drop_table('enrolment_occurrence')
    op.drop_index(op.f('ix_enrolment_student_id'), table_name='enrolment')
    op.drop_table('enrolment')
    op.drop_table('closure_day')
    op.drop_table('centre_calendar')
