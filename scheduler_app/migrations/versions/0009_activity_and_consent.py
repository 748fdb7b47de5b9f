"""people's last login (the purge), a student's birth year and a parent's approval

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

import scheduler_app.models

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Columns only: SQLite adds them without rebuilding tables that others refer to.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_login_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('birth_year', sa.Integer(), nullable=True))
    with op.batch_alter_table('guardianship', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_at', scheduler_app.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('guardianship', schema=None) as batch_op:
        batch_op.drop_column('approved_at')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('birth_year')
        batch_op.drop_column('last_login_at')
