"""calendars: weekly availability, feed tokens, calendar timestamps

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa
import scheduler_app.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('availability_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tutor_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=40), nullable=False),
    sa.Column('level', sa.String(length=40), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('rrule', sa.String(length=100), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('session_minutes', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('skipped_dates', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity >= 1', name=op.f('ck_availability_rule_capacity_positive')),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_availability_rule_ends_after_start')),
    sa.CheckConstraint('session_minutes > 0', name=op.f('ck_availability_rule_session_minutes_positive')),
    sa.CheckConstraint('valid_until IS NULL OR valid_until >= valid_from', name=op.f('ck_availability_rule_valid_dates')),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_availability_rule_activity_id_activity')),
    sa.ForeignKeyConstraint(['tutor_id'], ['user.id'], name=op.f('fk_availability_rule_tutor_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_availability_rule'))
    )
    with op.batch_alter_table('availability_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_availability_rule_tutor_id'), ['tutor_id'], unique=False)

    op.create_table('feed_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_feed_token_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_token')),
    sa.UniqueConstraint('secret', name=op.f('uq_feed_token_secret'))
    )
    with op.batch_alter_table('feed_token', schema=None) as batch_op:
        batch_op.create_index('uq_feed_token_live_user_id', ['user_id'], unique=True, sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=True))

    # Slot and booking are altered in place, never rebuilt: batch mode rebuilds a SQLite table by
    # dropping the old one, which PRAGMA foreign_keys refuses once bookings and join links point
    # at it. SQLite can add a column together with its foreign key (ADD COLUMN ... REFERENCES),
    # and an index, without a rebuild.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            'ALTER TABLE slot ADD COLUMN rule_id INTEGER '
            'CONSTRAINT fk_slot_rule_id_availability_rule REFERENCES availability_rule (id)'
        )
    else:
        op.add_column('slot', sa.Column('rule_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_slot_rule_id_availability_rule'), 'slot', 'availability_rule', ['rule_id'], ['id'])
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('uq_slot_rule_id_starts_at', ['rule_id', 'starts_at'], unique=True)

    # Rows written before this revision: their last change is their cancellation or creation.
    op.execute('UPDATE slot SET updated_at = COALESCE(cancelled_at, created_at)')
    op.execute('UPDATE booking SET updated_at = COALESCE(cancelled_at, created_at)')



def downgrade() -> None:
    # On SQLite, dropping rule_id (a column with a foreign key) rebuilds slot, which works while
    # no booking or join link points at a slot: take a copy of the database before going back.
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.drop_index('uq_slot_rule_id_starts_at')
        if op.get_bind().dialect.name != 'sqlite':
            # SQLite reflects the column's inline foreign key without its name; the rebuild that
            # drops the column drops the key with it.
            batch_op.drop_constraint(batch_op.f('fk_slot_rule_id_availability_rule'), type_='foreignkey')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('rule_id')

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('updated_at')

    with op.batch_alter_table('feed_token', schema=None) as batch_op:
        batch_op.drop_index('uq_feed_token_live_user_id', sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))

    op.drop_table('feed_token')
    with op.batch_alter_table('availability_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_availability_rule_tutor_id'))

    op.drop_table('availability_rule')
