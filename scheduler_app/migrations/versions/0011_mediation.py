"""family mediation: activities have a kind, staff can be mediators, joint mediation sessions

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='homework', nullable=False))
        batch_op.create_check_constraint('kind', "kind IN ('homework', 'mediation')")
    # The seeded "Médiation familiale" is a mediation (0001 creates it second).
    op.execute("UPDATE activity SET kind = 'mediation' WHERE name = 'Médiation familiale'")
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mediator', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joint', sa.Boolean(), server_default=sa.text('false'), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.drop_column('joint')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('mediator')
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_constraint('kind', type_='check')
        batch_op.drop_column('kind')
