"""accounts slots bookings join links

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa
import scheduler_app.models


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('capacity >= 1', name=op.f('ck_activity_capacity_positive')),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_activity_duration_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity')),
    sa.UniqueConstraint('name', name=op.f('uq_activity_name'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('login_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("locale IN ('fr', 'en')", name=op.f('ck_user_locale')),
    sa.CheckConstraint("role IN ('student', 'parent', 'tutor', 'coordinator')", name=op.f('ck_user_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('email', name=op.f('uq_user_email'))
    )
    op.create_table('guardianship',
    sa.Column('parent_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['user.id'], name=op.f('fk_guardianship_parent_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['user.id'], name=op.f('fk_guardianship_student_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('parent_id', 'student_id', name=op.f('pk_guardianship'))
    )
    op.create_table('slot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tutor_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=40), nullable=False),
    sa.Column('level', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('room_name', sa.String(length=64), nullable=False),
    sa.Column('created_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'cancelled')", name=op.f('ck_slot_status')),
    sa.CheckConstraint('booked >= 0 AND booked <= capacity', name=op.f('ck_slot_booked_within_capacity')),
    sa.CheckConstraint('capacity >= 1', name=op.f('ck_slot_capacity_positive')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_slot_ends_after_start')),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_slot_activity_id_activity')),
    sa.ForeignKeyConstraint(['tutor_id'], ['user.id'], name=op.f('fk_slot_tutor_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slot')),
    sa.UniqueConstraint('room_name', name=op.f('uq_slot_room_name'))
    )
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.create_index('ix_slot_status_starts_at', ['status', 'starts_at'], unique=False)
        batch_op.create_index('ix_slot_tutor_id_starts_at', ['tutor_id', 'starts_at'], unique=False)

    op.create_table('tutor_profile',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('subjects', sa.String(length=255), nullable=False),
    sa.Column('levels', sa.String(length=255), nullable=False),
    sa.Column('languages', sa.String(length=255), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_tutor_profile_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_tutor_profile'))
    )
    op.create_table('booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('booked_by_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('topic', sa.String(length=500), nullable=False),
    sa.Column('starts_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('confirmed', 'cancelled', 'attended', 'absent')", name=op.f('ck_booking_status')),
    sa.ForeignKeyConstraint(['booked_by_id'], ['user.id'], name=op.f('fk_booking_booked_by_id_user')),
    sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_booking_slot_id_slot')),
    sa.ForeignKeyConstraint(['student_id'], ['user.id'], name=op.f('fk_booking_student_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking'))
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index('ix_booking_student_id_starts_at', ['student_id', 'starts_at'], unique=False)
        batch_op.create_index('uq_booking_live_student_slot', ['slot_id', 'student_id'], unique=True, sqlite_where=sa.text("status <> 'cancelled'"), postgresql_where=sa.text("status <> 'cancelled'"))

    op.create_table('join_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_join_token_booking_id_booking')),
    sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_join_token_slot_id_slot')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_join_token_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_join_token')),
    sa.UniqueConstraint('token', name=op.f('uq_join_token_token'))
    )
    with op.batch_alter_table('join_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_join_token_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_join_token_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_join_token_user_id'), ['user_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # What PostgreSQL can promise for concurrent writers: a tutor's open slots never
        # overlap, and a student never holds two live sessions at the same time.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE slot ADD CONSTRAINT ex_slot_tutor_overlap EXCLUDE USING gist "
            "(tutor_id WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE (status = 'open')"
        )
        op.execute(
            "ALTER TABLE booking ADD CONSTRAINT ex_booking_student_overlap EXCLUDE USING gist "
            "(student_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
            "WHERE (status <> 'cancelled')"
        )

    # The two activities the centre starts with; coordinators add more.
    activity = sa.table(
        "activity",
        sa.column("name", sa.String),
        sa.column("duration_minutes", sa.Integer),
        sa.column("capacity", sa.Integer),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(
        activity,
        [
            {"name": "Aide aux devoirs", "duration_minutes": 45, "capacity": 1, "active": True},
            {"name": "Médiation familiale", "duration_minutes": 60, "capacity": 1, "active": True},
        ],
    )



def downgrade() -> None:
    with op.batch_alter_table('join_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_join_token_user_id'))
        batch_op.drop_index(batch_op.f('ix_join_token_slot_id'))
        batch_op.drop_index(batch_op.f('ix_join_token_booking_id'))

    op.drop_table('join_token')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('uq_booking_live_student_slot', sqlite_where=sa.text("status <> 'cancelled'"), postgresql_where=sa.text("status <> 'cancelled'"))
        batch_op.drop_index('ix_booking_student_id_starts_at')

    op.drop_table('booking')
    op.drop_table('tutor_profile')
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.drop_index('ix_slot_tutor_id_starts_at')
        batch_op.drop_index('ix_slot_status_starts_at')

    op.drop_table('slot')
    op.drop_table('guardianship')
    op.drop_table('user')
    op.drop_table('activity')
