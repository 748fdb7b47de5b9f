"""drop the change notifications of 0006: web processes no longer keep values between requests

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The tables 0006 put a trigger on (a migration keeps its own copy).
TABLES = ("user", "guardianship", "activity", "slot", "booking", "join_token", "feed_token")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f'DROP TRIGGER IF EXISTS lien_changes ON "{table}"')
    op.execute("DROP FUNCTION IF EXISTS lien_notify_change()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION lien_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('lien_changes', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$
    """)
    for table in TABLES:
        op.execute(f'CREATE TRIGGER lien_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}"'
                   " FOR EACH STATEMENT EXECUTE FUNCTION lien_notify_change()")
