"""families: a code to link a child, attendance notes, deleted people

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

import scheduler_app.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Columns and indexes only: SQLite adds them without rebuilding tables that others refer to.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family_code', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('uq_user_family_code', ['family_code'], unique=True)
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tutor_note', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('tutor_note')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index('uq_user_family_code')
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('family_code')
