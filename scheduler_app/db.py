"""The database: one engine per app, one session per request, explicit write transactions.

SQLite needs care to be safe under concurrent writers: pysqlite's own transaction handling is
switched off and Lien emits BEGIN itself, so that a write transaction can take the write lock
up front (BEGIN IMMEDIATE) instead of failing to upgrade a read lock half-way through.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

IMMEDIATE = "lien_immediate"


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets WAL, a busy timeout and explicit BEGINs."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)

    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # Lien says BEGIN itself, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if ":memory:" not in url:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get(IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def init_app(app: Flask) -> None:
    """Create the app's engine and session factory, and close each request's session."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["lien_engine"] = engine
    app.extensions["lien_sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["lien_engine"]


def new_session() -> Session:
    """A session of its own (for workers and threads); the caller closes it."""
    return current_app.extensions["lien_sessions"]()


def session() -> Session:
    """The current request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session


def _close_session(_error: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


@contextmanager
def write_transaction(db_session: Session) -> Iterator[Session]:
    """A transaction that holds the write lock from its first statement, committed on success.

    On SQLite this is BEGIN IMMEDIATE: two writers queue instead of both reading, then one
    failing to upgrade ("database is locked"). On PostgreSQL it is an ordinary transaction;
    constraints and guarded updates keep concurrent writers right there.
    """
    if db_session.in_transaction():
        # A read transaction (say, loading the current user) is over: nothing was written.
        db_session.commit()
    db_session.connection(execution_options={IMMEDIATE: True})
    try:
        yield db_session
        db_session.commit()
    except BaseException:
        db_session.rollback()
        raise


def engine_of(app: Flask) -> Engine:
    """An app's engine, outside a request (to dispose of it)."""
    return app.extensions["lien_engine"]
