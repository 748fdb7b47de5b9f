"""How requests use the database: reads without a transaction on PostgreSQL, writes in one, and a
connection the server closed while it sat in the pool replaced before a request meets it; the
pages' reads on PostgreSQL run by psycopg itself, and show what they would through SQLAlchemy."""

import difflib
import re
import time
from contextlib import nullcontext
from datetime import timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import bindparam, create_engine, event, select, text

from factories import counting, login, make_person
from scheduler_app import db as database
from scheduler_app.db import write_transaction
from scheduler_app.models import User, UTCDateTime
from test_query_counts import Centre

CSRF_TOKEN = re.compile(r'(name="(?:\w+-)?csrf_token"[^>]*value=")[^"]*"')


def _driver(db_session):
    return db_session.connection().connection.driver_connection


# SQLite says BEGIN itself, for reads and writes alike: this one is about PostgreSQL only.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_request_reads_in_autocommit_and_writes_in_a_transaction_on_postgresql(app, database_url):
    with app.test_request_context("/"):
        db_session = database.session()
        db_session.execute(select(User.id)).all()
        assert _driver(db_session).autocommit  # no BEGIN or ROLLBACK round trips around reads
        with write_transaction(db_session):
            db_session.execute(select(User.id)).all()
            driver = _driver(db_session)
            assert not driver.autocommit
            assert driver.execute("SHOW transaction_isolation").fetchone()[0] == "read committed"
        db_session.execute(select(User.id)).all()
        assert _driver(db_session).autocommit
        # and one plan per prepared statement, not one per run (scheduler_app/db.py)
        assert _driver(db_session).execute("SHOW plan_cache_mode").fetchone()[0] == "force_generic_plan"


def test_a_failed_write_leaves_nothing_behind(app, db):
    student = make_person(db, "student", "Adam Haddou")
    with app.test_request_context("/"):
        db_session = database.session()
        with pytest.raises(RuntimeError), write_transaction(db_session):
            db_session.get(User, student.id).name = "Someone Else"
            db_session.flush()
            raise RuntimeError("half-way")
    db.expire_all()
    assert db.get(User, student.id).name == "Adam Haddou"


# A SQLite file has no server to hang up: PostgreSQL only.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_the_server_closed_while_idle_is_replaced_before_a_request_uses_it(app, client, database_url):
    assert client.get("/j/not-a-link").status_code == 404  # a connection now waits in the pool
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        others = "datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        assert connection.execute(text(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {others}")).scalar()
        for _ in range(100):
            if not connection.execute(text(f"SELECT count(*) FROM pg_stat_activity WHERE {others}")).scalar():
                break
            time.sleep(0.05)
    admin.dispose()
    assert client.get("/j/not-a-link").status_code == 404  # not a 500: the pool connected afresh


# The pages' reads go to the driver itself, without SQLAlchemy's execution (db.rows).
def test_a_pages_read_runs_on_the_driver_itself_unless_something_counts_statements(app, db, database_url):
    student = make_person(db, "student", "Adam Haddou")
    make_person(db, "tutor", "Karim Haddad")
    # Half an hour after they joined, said in New York: written as it is, its text would read
    # five hours earlier than what SQLite stores (UTC), and miss them.
    soon_after = (db.get(User, student.id).created_at + timedelta(minutes=30)).astimezone(ZoneInfo("America/New_York"))
    statement = (
        select(User.id, User.name, User.created_at)
        .where(User.role == "student", User.created_at < bindparam("before", type_=UTCDateTime))  # a constant, a date
        .order_by(User.id)
    )
    executed = []

    def execute(_connection, clause, *_args):
        executed.append(clause)

    engine = database.engine_of(app)
    with app.test_request_context("/"):
        db_session = database.session()
        event.listen(engine, "before_execute", execute)
        try:
            [row] = database.rows(db_session, statement, {"before": soon_after})
        finally:
            event.remove(engine, "before_execute", execute)
        assert statement not in executed  # not through SQLAlchemy's Connection.execute
        assert (row.id, row.name) == (student.id, "Adam Haddou")
        assert row.created_at == db.get(User, student.id).created_at  # as SQLAlchemy's UTCDateTime gives it
        assert row.created_at.utcoffset() == timedelta(0)
        if database_url.startswith("postgresql"):
            # psycopg's own prepared statement, in a session whose zone is UTC whatever the server's
            assert _driver(db_session).execute("SHOW TimeZone").fetchone()[0] == "UTC"
            prepared = _driver(db_session).execute("SELECT statement FROM pg_prepared_statements").fetchall()
            assert any('FROM "user"' in sql and "$1" in sql for (sql,) in prepared)
        with counting(app) as statements:
            [counted] = database.rows(db_session, statement, {"before": soon_after})
        assert len(statements) == 1 and tuple(counted) == tuple(row)


def test_a_read_outside_a_transaction_borrows_a_pooled_connection_and_gives_it_back_as_it_was_lent(app, db):
    student = make_person(db, "student", "Adam Haddou")
    statement = select(User.id, User.name).where(User.name == bindparam("name"))
    engine = database.engine_of(app)
    with app.test_request_context("/"):
        db_session = database.session()
        assert [tuple(row) for row in database.rows(db_session, statement, {"name": "Adam Haddou"})] == [
            (student.id, "Adam Haddou")]
        assert not db_session.in_transaction() and engine.pool.checkedout() == 0
        if engine.dialect.name == "postgresql":
            lent = engine.raw_connection()
            try:  # not left in autocommit: a worker's write transaction on it stays one
                assert not lent.driver_connection.autocommit
            finally:
                lent.close()
        with write_transaction(db_session):
            db_session.get(User, student.id).name = "Adam H."
            db_session.flush()
            # uncommitted, yet this request's own read sees it: it runs on the session's connection
            assert [row.id for row in database.rows(db_session, statement, {"name": "Adam H."})] == [student.id]
            assert engine.pool.checkedout() == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("in_transaction", [False, True], ids=["pooled", "session's"])
def test_a_read_whose_connection_the_server_dropped_fails_and_the_connection_leaves_the_pool(app, client, db,
                                                                                           database_url,
                                                                                           in_transaction, caplog):
    statement = select(User.id).where(User.id == bindparam("person"))
    engine = database.engine_of(app)
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")

    def hang_up(driver_connection) -> None:
        """The server ends this connection's process, and is waited for."""
        backend = driver_connection.info.backend_pid
        with admin.connect() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend}).scalar()
            for _ in range(100):
                if not connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                          {"pid": backend}).scalar():
                    break
                time.sleep(0.05)

    armed, lent = [], []

    def hang_up_once_lent(driver_connection, record, _proxy) -> None:
        if armed:  # after the pool's own check (db.make_engine): too late for it to notice
            armed.clear()
            lent.append(record)
            hang_up(driver_connection)

    with app.test_request_context("/"):
        db_session = database.session()
        database.rows(db_session, statement, {"person": 1})
        if in_transaction:
            hang_up(_driver(db_session))
        else:
            armed.append(True)
            event.listen(engine, "checkout", hang_up_once_lent)
        try:
            with pytest.raises(psycopg.OperationalError):
                database.rows(db_session, statement, {"person": 1})
        finally:
            if not in_transaction:
                event.remove(engine, "checkout", hang_up_once_lent)
        if in_transaction:
            assert db_session.connection().invalidated
        else:
            assert engine.pool.checkedout() == 0 and lent[0].dbapi_connection is None  # closed, not pooled
            # invalidated at once, not found broken by the pool's reset when given back
            assert not [record for record in caplog.records if record.name.startswith("sqlalchemy.pool")]
            assert database.rows(db_session, statement, {"person": 1}) == []  # on a new connection
    admin.dispose()
    assert client.get("/j/not-a-link").status_code == 404  # the next request has a live connection


# Lien's pages, their rows read by the driver and through SQLAlchemy, show the same.
def test_every_page_shows_the_same_whichever_way_its_rows_were_read(app, db, frozen_clock):
    centre = Centre(app, db, frozen_clock)
    centre.grow_to(3)
    clients = {"nobody": app.test_client()}
    for who in ("student", "parent", "tutor"):
        clients[who] = app.test_client()
        login(clients[who], getattr(centre, who).email)

    def shown(counted: bool) -> dict[str, str]:
        pages = {}
        for name, (who, address, status) in centre.pages().items():
            app.extensions["lien_fragments"].clear()  # every card rendered from what was read
            with counting(app) if counted else nullcontext():
                response = clients[who].get(address)
            assert response.status_code == status, name
            pages[name] = CSRF_TOKEN.sub(r"\1", response.get_data(as_text=True))  # signed anew each time
        return pages

    direct, counted = shown(counted=False), shown(counted=True)
    for name, page in direct.items():
        assert page == counted[name], "\n".join(difflib.unified_diff(page.splitlines(), counted[name].splitlines(),
                                                                     name, "through SQLAlchemy", lineterm=""))
