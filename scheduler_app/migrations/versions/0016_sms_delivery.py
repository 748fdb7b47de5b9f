"""SMS delivery reports: the provider's message id and whether the SMS reached the phone

Revision ID: 0016_sms_delivery
Revises: 0010
Create Date: 2026-12-05

Messages sent before this revision keep NULL: their provider ids were not kept, so no report
can name them, and the coordinator sees them as sent, as before.
"""

import sqlalchemy as sa
from alembic import op

from scheduler_app.models import UTCDateTime

revision = '0016_sms_delivery'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_message_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('delivery', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('delivery_at', UTCDateTime(), nullable=True))
        batch_op.create_index('ix_notification_provider_message_id', ['provider_message_id'], unique=False)
        batch_op.create_check_constraint(op.f('ck_notification_delivery'),
                                         "delivery IS NULL OR delivery IN ('delivered', 'undelivered')")


def downgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notification_delivery'), type_='check')
        batch_op.drop_index('ix_notification_provider_message_id')
        batch_op.drop_column('delivery_at')
        batch_op.drop_column('delivery')
        batch_op.drop_column('provider_message_id')
