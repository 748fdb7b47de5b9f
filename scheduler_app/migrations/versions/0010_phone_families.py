"""families with only a phone: login codes by SMS, short links, nobody reached "by e-mail" without one

Revision ID: 0010
Revises: 0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from scheduler_app.models import UTCDateTime

revision = '0010'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts_left', sa.Integer(), nullable=False),
    sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('attempts_left >= 0', name=op.f('ck_login_code_attempts_left')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_code'))
    )
    op.create_index('ix_login_code_phone_created_at', 'login_code', ['phone', 'created_at'], unique=False)
    op.add_column('join_token', sa.Column('short', sa.String(length=16), nullable=True))
    op.add_column('booking', sa.Column('family_confirmed_at', UTCDateTime(timezone=True), nullable=True))
    op.create_table('inbound_sms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('body', sa.String(length=1600), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_inbound_sms_booking_id_booking')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_sms'))
    )
    op.create_index('uq_inbound_sms_provider_message_id', 'inbound_sms', ['provider', 'message_id'], unique=True)
    op.create_index('uq_join_token_short', 'join_token', ['short'], unique=True)
    # Families the coordinator saved with a phone and no email were stored "by e-mail".
    op.execute("UPDATE \"user\" SET notify_by = 'sms' WHERE email IS NULL AND notify_by IN ('email', 'both')")


def downgrade() -> None:
    op.drop_index('uq_inbound_sms_provider_message_id', table_name='inbound_sms')
    op.drop_table('inbound_sms')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('family_confirmed_at')
    op.drop_index('uq_join_token_short', table_name='join_token')
    with op.batch_alter_table('join_token', schema=None) as batch_op:
        batch_op.drop_column('short')
    op.drop_index('ix_login_code_phone_created_at', table_name='login_code')
    op.drop_table('login_code')
