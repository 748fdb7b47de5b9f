"""a child's parents found by the child: an index on guardianship(student_id)

The primary key (parent_id, student_id) finds a parent's children, not a child's parents. At bench
scale 100 on PostgreSQL a parent's page ran at 0.04 of the floor: EXPLAIN (ANALYZE, BUFFERS) of
its children statement (plan_cache_mode=force_generic_plan) showed the approval check ("has any
parent of this child approved?") read the whole guardianship table, 885 buffers and 9 ms, for a
parent of 2 children; the same lookup serves the messages to a child's parents.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('guardianship', schema=None) as batch_op:
        batch_op.create_index('ix_guardianship_student_id', ['student_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('guardianship', schema=None) as batch_op:
        batch_op.drop_index('ix_guardianship_student_id')
