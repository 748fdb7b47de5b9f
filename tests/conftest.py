"""Fixtures: a fresh app and database per test, on SQLite and on PostgreSQL.

LIEN_TEST_DATABASES chooses the databases (default "sqlite,postgresql"); LIEN_TEST_POSTGRES_URL
points at a PostgreSQL server (default: localhost). Each test run creates its own database,
lien_test_<pid>, and drops it at the end, so that runs side by side never meet.
"""

import os
import re
from datetime import UTC, datetime

import pytest
from dial_in_server import dial_in_server  # noqa: F401  (a fixture: Jitsi's dial-in services, locally)
from factories import sqlite_copy
from sms_gateway import brevo  # noqa: F401  (a fixture: a local stand-in for the SMS provider)
from smtp_sink import start_smtp  # noqa: F401  (a fixture: a real SMTP server per test)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scheduler_app import clock, create_app
from scheduler_app import db as database
from scheduler_app.db import make_engine
from scheduler_app.models import Base
from scheduler_app.schema import upgrade

DATABASES = [name for name in os.environ.get("LIEN_TEST_DATABASES", "sqlite,postgresql").split(",") if name]
POSTGRES_SERVER = os.environ.get("LIEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "lien.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return str(path)


@pytest.fixture(scope="session")
def postgres_database():
    """This run's own PostgreSQL database, migrated from empty once, dropped at the end."""
    server = make_url(POSTGRES_SERVER)
    name = f"lien_test_{os.getpid()}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _wipe_postgres(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables if table.name != "activity")
    with engine.begin() as connection:
        # A connection a test left open would make TRUNCATE wait for ever: fail clearly instead.
        connection.execute(text("SET LOCAL lock_timeout = '20s'"))
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        connection.execute(text("DELETE FROM activity WHERE id > 2"))
    engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    url = request.getfixturevalue("postgres_database")
    _wipe_postgres(url)
    return url


@pytest.fixture
def app_settings() -> dict:
    """Settings a test module adds to the test app's: override this fixture to change them."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_settings):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": database_url,
            "JITSI_DOMAIN": "meet.example.org",
            "JITSI_APP_ID": "lien-test",
            "JITSI_APP_SECRET": "test-jitsi-secret-that-is-long-enough",
            "TIMEZONE": "Europe/Paris",
            "DEMO_MODE": False,
            **app_settings,
        }
    )
    app.instance_path = str(tmp_path)
    yield app
    database.close(app)


@pytest.fixture
def db(app):
    """A session of the test's own, for arranging data and checking results.

    No app context stays pushed: requests made by the test client must each get their own,
    as in production (a pushed context would share `g`, and so the logged-in user, between them).
    """
    session = app.extensions["lien_sessions"]()
    yield session
    session.close()


@pytest.fixture
def mail_server(app, start_smtp):  # noqa: F811  (the fixture imported above)
    """A real SMTP server, and the app set to send its email through it."""
    server = start_smtp()
    app.config.update(MAIL_PROVIDER="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=server.port,
                      MAIL_FROM="Lien <lien@centre.example.org>")
    return server


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def _unfrozen_clock():
    yield
    clock.set_now(None)


@pytest.fixture
def frozen_clock():
    """Freeze Lien's clock; call it with a datetime to move time."""

    def move(moment: datetime) -> datetime:
        clock.set_now(moment)
        return moment

    move(datetime.now(UTC).replace(microsecond=0))
    return move


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token a page's form carries, as a browser would send it back."""
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)
