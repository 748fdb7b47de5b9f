"""outbox, notification preferences, slot invitation sequence

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa
import scheduler_app.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('slot_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('due_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('lease_until', scheduler_app.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempted_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f('ck_notification_channel')),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')", name=op.f('ck_notification_status')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_notification_booking_id_booking')),
    sa.ForeignKeyConstraint(['recipient_id'], ['user.id'], name=op.f('fk_notification_recipient_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['slot_id'], ['slot.id'], name=op.f('fk_notification_slot_id_slot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_dedupe_key'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index('ix_notification_status_due_at', ['status', 'due_at'], unique=False)

    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_by', sa.String(length=10), server_default='email', nullable=False))
        batch_op.create_check_constraint(op.f('ck_user_notify_by'), "notify_by IN ('email', 'sms', 'both')")


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_notify_by'), type_='check')
        batch_op.drop_column('notify_by')

    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.drop_column('sequence')

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_status_due_at')
        batch_op.drop_index(batch_op.f('ix_notification_slot_id'))
        batch_op.drop_index(batch_op.f('ix_notification_recipient_id'))
        batch_op.drop_index(batch_op.f('ix_notification_booking_id'))

    op.drop_table('notification')
