"""The database: one engine per app, one session per request, explicit write transactions.

SQLite needs care to be safe under concurrent writers: pysqlite's own transaction handling is
switched off and Lien emits BEGIN itself, so that a write transaction can take the write lock
up front (BEGIN IMMEDIATE) instead of failing to upgrade a read lock half-way through.

On PostgreSQL a request's reads run in autocommit: under READ COMMITTED every statement takes
its own snapshot even inside a transaction, so a read-only transaction only added a BEGIN and
a ROLLBACK, two round trips, to every page. Writes go through `write_transaction`, a real one.
"""

import select
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

IMMEDIATE = "lien_immediate"
# Lien's writes are built for READ COMMITTED (guarded updates and constraints, no retry loop
# for serialization failures), so write transactions ask for it rather than the server's default.
WRITE_ISOLATION = "READ COMMITTED"
# A connection idle for longer is replaced at checkout: a firewall or NAT that drops idle TCP
# without a word would otherwise leave one that fails (or hangs) on its next query.
RECYCLE_SECONDS = 1800


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets WAL, a busy timeout and explicit BEGINs."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        # Times come back in UTC, as Lien stores and means them, whatever the server's zone.
        engine = create_engine(url, pool_recycle=RECYCLE_SECONDS, connect_args={"options": "-c TimeZone=UTC"})
        # Instead of pool_pre_ping's round trip: an idle connection with bytes to read was closed by the server.
        event.listen(engine, "checkout", _refuse_if_closed_by_server)
        return engine

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


def _refuse_if_closed_by_server(dbapi_connection, _record, _proxy) -> None:
    """Raise DisconnectionError, which makes the pool connect afresh, if the server hung up."""
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    if poller.poll(0):
        raise exc.DisconnectionError("the server closed the connection while it was idle")


def init_app(app: Flask) -> None:
    """Create the app's engine and session factories, and close each request's session."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["lien_engine"] = engine
    app.extensions["lien_sessions"] = sessionmaker(engine, expire_on_commit=False)
    reads = engine.execution_options(isolation_level="AUTOCOMMIT") if engine.dialect.name == "postgresql" else engine
    app.extensions["lien_request_sessions"] = sessionmaker(reads, expire_on_commit=False)
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
        g.db_session = current_app.extensions["lien_request_sessions"]()
    return g.db_session


def _close_session(_error: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


@contextmanager
def write_transaction(db_session: Session) -> Iterator[Session]:
    """A transaction that holds the write lock from its first statement, committed on success.

    On SQLite this is BEGIN IMMEDIATE: two writers queue instead of both reading, then one
    failing to upgrade ("database is locked"). On PostgreSQL it is an ordinary READ COMMITTED
    transaction (even for a request's session, which reads in autocommit); constraints and
    guarded updates keep concurrent writers right there.
    """
    if db_session.in_transaction():
        # A read transaction (say, loading the current user) is over: nothing was written.
        db_session.commit()
    options: dict = {IMMEDIATE: True}
    if db_session.get_bind().dialect.name == "postgresql":
        options["isolation_level"] = WRITE_ISOLATION
    db_session.connection(execution_options=options)
    try:
        yield db_session
        db_session.commit()
    except BaseException:
        db_session.rollback()
        raise


def engine_of(app: Flask) -> Engine:
    """An app's engine, outside a request (to dispose of it)."""
    return app.extensions["lien_engine"]


def close(app: Flask) -> None:
    """Close an app's connections (tests make an app per test)."""
    app.extensions["lien_engine"].dispose()
