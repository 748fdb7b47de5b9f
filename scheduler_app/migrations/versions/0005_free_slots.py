"""the slot browser: free slots in its order, and by subject

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

FREE = "status = 'open' AND booked < capacity"


def upgrade() -> None:
    # Indexes only: SQLite adds them without rebuilding the table.
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.create_index('ix_slot_free_starts_at_id', ['starts_at', 'id'], unique=False,
                              sqlite_where=sa.text(FREE), postgresql_where=sa.text(FREE))
        batch_op.create_index('ix_slot_free_subject_starts_at_id', ['subject', 'starts_at', 'id'], unique=False,
                              sqlite_where=sa.text(FREE), postgresql_where=sa.text(FREE))


def downgrade() -> None:
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.drop_index('ix_slot_free_subject_starts_at_id')
        batch_op.drop_index('ix_slot_free_starts_at_id')
