"""The database: one engine per app, one session per request, explicit write transactions.

SQLite needs care to be safe under concurrent writers: pysqlite's own transaction handling is
switched off and Lien emits BEGIN itself, so that a write transaction can take the write lock
up front (BEGIN IMMEDIATE) instead of failing to upgrade a read lock half-way through.

On PostgreSQL a request's reads run in autocommit: under READ COMMITTED every statement takes
its own snapshot even inside a transaction, so a read-only transaction only added a BEGIN and
a ROLLBACK, two round trips, to every page. Writes go through `write_transaction`, a real one.
"""

import select
from collections import namedtuple
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import Any


from flask import Flask, current_app, g
from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Select

from .changes import changes_for

IMMEDIATE = "lien_immediate"
SINGLE_READ = "lien_single_read"  # a connection for one read (`rows`): no BEGIN around it
WROTE = "lien_wrote"  # in a session's info: it wrote since its last commit
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
        # No pool_pre_ping: its SELECT 1 was a round trip on every checkout, a quarter of the
        # join redirect's time. An idle connection has nothing to say, so one with something to
        # read has been closed by the server (a restart, pg_terminate_backend, an idle timeout):
        # asking the socket finds that without a round trip. A connection that dies in the
        # middle of a request fails that request, and is dropped from the pool (`rows` too).
        # psycopg prepares a statement run five times on a connection; PostgreSQL would still plan
        # it anew for each run's values ("custom plans"), and planning the pages' joins took
        # longer than running them (~1 ms against ~0.3). Their shapes are few and fixed, and
        # their plans do not depend on the values (the partial-index predicates are written into
        # the statements, LIVE_BOOKING), so each connection keeps one plan per statement.
        # Times come back in UTC, as Lien stores and means them, whatever the server's zone.
        engine = create_engine(url, pool_recycle=RECYCLE_SECONDS,
                               connect_args={"options": "-c plan_cache_mode=force_generic_plan -c TimeZone=UTC"})
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
        options = connection.get_execution_options()
        if options.get(SINGLE_READ):
            return  # one statement, which sqlite3 runs in a transaction of its own
        immediate = options.get(IMMEDIATE)
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
    # What this process keeps from the database until it changes (scheduler_app/changes.py).
    heard = changes_for(engine.url)
    app.extensions["lien_changes"] = heard
    for factory in (app.extensions["lien_sessions"], app.extensions["lien_request_sessions"]):
        # A session that wrote (a flush, an UPDATE or DELETE statement) tells `heard` once it
        # has committed: this process's next reads must not use what it kept.
        event.listen(factory, "after_flush", _flushed)
        event.listen(factory, "do_orm_execute", _executing)
        event.listen(factory, "after_commit", lambda session: session.info.pop(WROTE, False) and heard.committed())


def _flushed(session: Session, _context) -> None:
    session.info[WROTE] = True


def _executing(state) -> None:
    if not state.is_select:
        state.session.info[WROTE] = True


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


def rows(db_session: Session, statement: Select, values: Mapping[str, Any]) -> list:
    """The rows of a read for the session, each a named tuple of its columns: on the session's
    connection once it has begun a transaction (it sees what it has written), otherwise on a
    connection borrowed from the pool for this one statement.

    For the pages' statements, built once (what is compiled is kept by statement), with no
    expanding IN. The statement is compiled once and run by the driver itself (psycopg,
    sqlite3), its values and results converted by the statement's own types as SQLAlchemy would
    (SQLite's dates are text): SQLAlchemy's execution around it (an execution context, its
    events, a result and its rows) cost a page more than the driver's own part, and reading
    the pages' rows this way made them a fifth faster under gunicorn (README, "Benchmark:
    pages under gunicorn"). Borrowing the connection from the pool rather than through the
    session (a transaction begun and ended around one statement) took another 5 to 12 % off
    a page's CPU in the web process. While something listens for the engine's statements (the
    tests' and the benchmark's counters), they go through SQLAlchemy, which tells the
    listeners: the same statement, counted.
    """
    engine = db_session.get_bind()
    if engine.dispatch.before_cursor_execute:
        if db_session.in_transaction():
            return list(db_session.connection().execute(statement, values))
        with engine.connect().execution_options(**{SINGLE_READ: True}) as connection:  # as below
            return list(connection.execute(statement, values))
    read = _compiled(statement, engine.dialect)
    if db_session.in_transaction():
        # What the session has written and not yet committed, or the snapshot it reads
        # (SQLite's BEGIN), is on its own connection.
        connection = db_session.connection()
        return _run(read, values, connection.connection.driver_connection, connection)
    # Otherwise a connection straight from the pool, given back at once: the session's
    # transaction and connection around it cost more than the read itself in the web process.
    pooled = engine.raw_connection()
    try:
        driver = pooled.driver_connection
        if read.positional:  # sqlite3, which Lien leaves in autocommit (BEGIN is its own)
            return _run(read, values, driver, pooled)
        driver.autocommit = True  # no BEGIN and ROLLBACK round trips (see the module's docstring)
        try:
            return _run(read, values, driver, pooled)
        finally:
            if not driver.closed:
                driver.autocommit = False  # as the pool lends its connections
    finally:
        pooled.close()


def _run(read: "_Read", values: Mapping[str, Any], driver, holder) -> list:
    """`read` run by the driver. If the server dropped the connection, `holder` (the pool's
    connection, or the session's) is invalidated, as SQLAlchemy's own execution would: it does
    not go back to the pool."""
    try:
        if read.positional:  # sqlite3
            cursor = driver.cursor()
            try:
                cursor.row_factory = lambda _cursor, found: read.row(found)
                return cursor.execute(read.sql, read.parameters(values)).fetchall()
            finally:
                cursor.close()
        with driver.cursor(row_factory=lambda _cursor: read.row) as cursor:  # psycopg
            return cursor.execute(read.sql, read.parameters(values), prepare=True).fetchall()
    except read.dialect.loaded_dbapi.Error as error:
        if read.dialect.is_disconnect(error, driver, None):
            holder.invalidate(error)
        raise


class _Read:
    """A statement compiled for a dialect: its SQL, and how its values and rows are converted."""

    def __init__(self, statement: Select, dialect: Dialect):
        self.dialect = dialect
        compiled = statement.compile(dialect=dialect)
        if any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError("an expanding IN needs SQLAlchemy to write its SQL on each run")
        self.sql = str(compiled)
        self.positional = compiled.positiontup  # the order of the values, for a "?" style
        self.constants = compiled.params  # the values written into the statement, and None for the others
        self.to_driver = [(name, convert) for name, bind in compiled.binds.items()
                          if (convert := bind.type.dialect_impl(dialect).bind_processor(dialect))]
        converters = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                      for column in statement.selected_columns]
        self.from_driver = [(index, convert) for index, convert in enumerate(converters) if convert]
        self.type = namedtuple("Row", statement.selected_columns.keys(), rename=True)

    def parameters(self, values: Mapping[str, Any]) -> dict[str, Any] | list:
        merged = {**self.constants, **values}
        for name, convert in self.to_driver:
            merged[name] = convert(merged[name])
        return [merged[name] for name in self.positional] if self.positional else merged

    def row(self, found) -> tuple:
        if self.from_driver:
            found = list(found)
            for index, convert in self.from_driver:
                found[index] = convert(found[index])
        return self.type._make(found)


@lru_cache(maxsize=256)
def _compiled(statement: Select, dialect: Dialect) -> _Read:
    return _Read(statement, dialect)


def engine_of(app: Flask) -> Engine:
    """An app's engine, outside a request (to dispose of it)."""
    return app.extensions["lien_engine"]


def close(app: Flask) -> None:
    """Close an app's connections (tests make an app per test)."""
    app.extensions["lien_changes"].close()
    app.extensions["lien_engine"].dispose()
