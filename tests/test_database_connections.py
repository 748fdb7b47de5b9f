"""How requests use the database: reads without a transaction on PostgreSQL, writes in one, times
in UTC whatever the server's zone, and a connection the server closed while it sat in the pool
replaced before a request meets it."""

import time

import pytest
from factories import make_person
from sqlalchemy import create_engine, select, text

from scheduler_app import db as database
from scheduler_app.db import write_transaction
from scheduler_app.models import User


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
        assert _driver(db_session).execute("SHOW TimeZone").fetchone()[0] == "UTC"


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
