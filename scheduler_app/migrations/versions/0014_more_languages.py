"""more languages: an account's language may be Arabic, Turkish, Portuguese or Ukrainian too

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-04
"""

from alembic import op

revision = '0014'
down_revision = '0009'
branch_labels = None
depends_on = None

# As scheduler_app.config's LANGUAGES were when this revision was written.
LANGUAGES = ("fr", "en", "ar", "tr", "pt", "uk")


def _locale_check(languages: tuple[str, ...]) -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_locale'), type_='check')
        batch_op.create_check_constraint(op.f('ck_user_locale'), f"locale IN {languages}")


def upgrade() -> None:
    _locale_check(LANGUAGES)


def downgrade() -> None:
    op.execute("UPDATE \"user\" SET locale = 'fr' WHERE locale NOT IN ('fr', 'en')")
    _locale_check(("fr", "en"))
