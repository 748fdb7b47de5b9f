"""change notifications: each watched table NOTIFYs lien_changes after every write (PostgreSQL)

Web processes keep who is logged in and calendar feeds' versions until one of the tables they
come from changes (scheduler_app/changes.py): these triggers tell them, whoever writes. SQLite
has no NOTIFY (processes there ask `PRAGMA data_version` instead): this revision does nothing.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# As scheduler_app.changes.WATCHED was when this revision was written (a migration keeps its own copy).
TABLES = ("user", "guardianship", "activity", "slot", "booking", "join_token", "feed_token")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # FOR EACH STATEMENT: one notification per statement, not per row; PostgreSQL also folds
    # identical ones within a transaction, and delivers them only if it commits.
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


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f'DROP TRIGGER lien_changes ON "{table}"')
    op.execute("DROP FUNCTION lien_notify_change()")
