"""the slot browser's subject filter: open slots by subject, soonest first

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An index only: SQLite adds it without rebuilding the table.
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.create_index('ix_slot_status_subject_starts_at', ['status', 'subject', 'starts_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.drop_index('ix_slot_status_subject_starts_at')
