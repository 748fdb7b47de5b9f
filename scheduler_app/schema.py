"""Schema migrations with Alembic, run from Lien's own CLI and tests."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection=None) -> Config:
    """An Alembic configuration for Lien's migrations, bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database up to a revision (the latest by default)."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to an earlier revision."""
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def make_revision(engine: Engine, message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    with engine.begin() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True)
