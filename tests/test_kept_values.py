"""Who is logged in, and calendar feeds' versions, kept in each web process until the tables
they come from change (scheduler_app/changes.py): never used once stale, whoever changed them.

Two apps on one database stand for two gunicorn workers. On PostgreSQL a change made by another
process is heard when its notification arrives, a moment after the commit: those tests ask
again until it shows, and fail if it takes longer than a second.
"""

import re
import time
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import select, text, update

from conftest import DATABASES, csrf_token
from factories import PASSWORD, counting, login, make_person, make_slot, make_tutor
from scheduler_app import create_app
from scheduler_app import db as database
from scheduler_app.agenda.routes import FEED_VERSION_AGE
from scheduler_app.changes import RETRY_SECONDS, KeptUntilChanged
from scheduler_app.db import make_engine
from scheduler_app.models import User
from scheduler_app.services.booking import book_slot
from scheduler_app.services.feeds import feed_token

HEARD_WITHIN = 1.0  # seconds
VIEWER = re.compile(r'FROM "?user"?\s+WHERE "?user"?\.id = \S+ AND "?user"?\.login_key = ')  # security.load_user's


def reads_of_the_viewer(statements: list[str]) -> int:
    return sum(bool(VIEWER.search(statement)) for statement in statements)


# What only PostgreSQL has: a connection that listens, and triggers.
postgresql_only = pytest.mark.parametrize("database_url", [name for name in DATABASES if name == "postgresql"],
                                          indirect=True)


@pytest.fixture
def second_worker(app):
    """Another process's app on the same database, with its own kept values."""
    other = create_app({key: app.config[key] for key in (
        "TESTING", "SECRET_KEY", "DATABASE_URL", "JITSI_DOMAIN", "JITSI_APP_ID", "JITSI_APP_SECRET", "TIMEZONE",
        "DEMO_MODE")})
    yield other
    database.close(other)


def until(check, *, within: float = HEARD_WITHIN) -> float:
    """Ask `check` again until it holds; how long it took. Fails after `within` seconds."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, "the change was not heard in time"
        time.sleep(0.005)
    return time.monotonic() - started


def test_who_is_logged_in_is_read_once_then_kept(app, client, db):
    person = make_person(db, "student", "Yasmine Haddou")
    login(client, person.email)  # which reads them, on the page it lands on
    with counting(app) as statements:
        for _ in range(3):
            assert client.get("/sessions").status_code == 200
    assert reads_of_the_viewer(statements) == 0


def test_a_name_changed_on_this_process_shows_on_the_next_page(app, client, db):
    person = make_person(db, "student", "Yasmine Haddou")
    login(client, person.email)
    assert "Yasmine Haddou" in client.get("/profile").get_data(as_text=True)
    page = client.get("/profile")
    token = csrf_token(page.get_data(as_text=True))
    client.post("/profile", data={"name": "Yasmine Benali", "email": person.email, "locale": "fr",
                                  "timezone": "Europe/Paris", "notify_by": "email", "phone": "", "csrf_token": token})
    assert db.scalar(select(User.name).where(User.id == person.id)) == "Yasmine Benali"
    assert "Yasmine Benali" in client.get("/sessions").get_data(as_text=True)


def test_a_password_changed_in_another_process_ends_the_session_kept_here(app, client, db, second_worker):
    person = make_person(db, "student", "Yasmine Haddou")
    login(client, person.email)
    with counting(app) as statements:
        assert client.get("/sessions").status_code == 200
    assert reads_of_the_viewer(statements) == 0  # kept: what follows is about a kept session
    elsewhere = second_worker.test_client()
    login(elsewhere, person.email)
    page = elsewhere.get("/profile").get_data(as_text=True)
    response = elsewhere.post("/profile", data={
        "pw-current": PASSWORD, "pw-password": "un-tout-nouveau", "pw-confirm": "un-tout-nouveau",
        "pw-csrf_token": csrf_token(page), "csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "Vos autres appareils sont déconnectés" in response.get_data(as_text=True)
    until(lambda: client.get("/sessions").status_code == 302)
    assert client.get("/sessions").headers["Location"].startswith("/login")


def test_an_account_closed_from_outside_lien_is_refused_at_once(app, client, db):
    person = make_person(db, "tutor", "Karim Haddad")
    login(client, person.email)
    assert client.get("/slots/mine").status_code == 200
    # An administrator, in psql or sqlite3: no session of Lien's, no event of SQLAlchemy's.
    outside = make_engine(app.config["DATABASE_URL"])
    with outside.begin() as connection:
        connection.execute(text('UPDATE "user" SET active = false WHERE id = :id'), {"id": person.id})
    outside.dispose()
    until(lambda: client.get("/slots/mine").status_code == 302)


@postgresql_only
def test_changes_made_while_not_listening_are_not_missed(app, client, db, monkeypatch):
    changes = app.extensions["lien_changes"]
    person = make_person(db, "student", "Yasmine Haddou")
    login(client, person.email)
    assert client.get("/sessions").status_code == 200  # kept
    with psycopg.connect(changes.conninfo, autocommit=True) as admin:
        # The listening connection dies (a restart, an idle timeout)...
        admin.execute("SELECT pg_terminate_backend(%s)", (changes._connection.info.backend_pid,))
        time.sleep(0.1)
        # ... and, before it is back, the account's password changes: nobody hears of it.
        admin.execute('UPDATE "user" SET login_key = %s WHERE id = %s', ("a-new-key", person.id))
    # The next request finds the connection gone: it reads the database, and keeps nothing.
    with counting(app) as statements:
        assert client.get("/sessions").status_code == 302
    assert changes.stamp("user") is None
    # After RETRY_SECONDS it listens again; what was kept before is of no use any more.
    monkeypatch.setattr(changes, "_retry_at", 0.0)
    assert changes.stamp("user") is not None
    assert client.get("/sessions").status_code == 302
    assert RETRY_SECONDS > 0 and reads_of_the_viewer(statements) == 1


@postgresql_only
def test_nothing_is_kept_without_the_triggers(app, client, db):
    person = make_person(db, "student", "Yasmine Haddou")
    with psycopg.connect(app.extensions["lien_changes"].conninfo, autocommit=True) as admin:
        admin.execute('ALTER TABLE "user" DISABLE TRIGGER lien_changes')
        try:
            fresh = create_app(dict(app.config))
            try:
                other = fresh.test_client()
                login(other, person.email)
                with counting(fresh) as statements:
                    for _ in range(2):
                        assert other.get("/sessions").status_code == 200
                assert reads_of_the_viewer(statements) == 2
                assert fresh.extensions["lien_changes"].stamp("user") is None
            finally:
                database.close(fresh)
        finally:
            admin.execute('ALTER TABLE "user" ENABLE TRIGGER lien_changes')


def test_a_feed_version_is_kept_until_a_booking_elsewhere_changes_it(app, db, second_worker, frozen_clock):
    tutor = make_tutor(db)
    slot = make_slot(db, tutor)
    address = f"/calendar/{feed_token(db, tutor).secret}.ics"
    poller = app.test_client()
    first = poller.get(address)
    with counting(app) as statements:
        again = poller.get(address)
    assert statements in ([], ["BEGIN"]) and again.headers["ETag"] == first.headers["ETag"]
    # A student books in the other process: the feed here changes as soon as that is heard.
    student = make_person(db, "student", "Yasmine Haddou")
    elsewhere = second_worker.test_client()
    login(elsewhere, student.email)
    page = elsewhere.get(f"/slots/{slot.id}/book").get_data(as_text=True)
    elsewhere.post(f"/slots/{slot.id}/book", data={"topic": "les fractions", "csrf_token": csrf_token(page)})
    until(lambda: poller.get(address).headers["ETag"] != first.headers["ETag"])
    assert "Yasmine Haddou" in poller.get(address).get_data(as_text=True)


def test_a_feed_version_is_read_again_after_a_minute(app, db, frozen_clock):
    tutor = make_tutor(db)
    make_slot(db, tutor)
    address = f"/calendar/{feed_token(db, tutor).secret}.ics"
    poller = app.test_client()
    start = frozen_clock(datetime.now(UTC).replace(microsecond=0))
    poller.get(address)
    with counting(app) as kept:
        poller.get(address)
    frozen_clock(start + FEED_VERSION_AGE)
    with counting(app) as read:
        poller.get(address)
    assert [s for s in kept if s != "BEGIN"] == [] and len([s for s in read if s != "BEGIN"]) == 1


def test_a_booking_made_here_shows_in_the_feed_at_once(app, db):
    tutor = make_tutor(db)
    slot = make_slot(db, tutor)
    student = make_person(db, "student", "Yasmine Haddou")
    address = f"/calendar/{feed_token(db, tutor).secret}.ics"
    poller = app.test_client()
    assert "Yasmine Haddou" not in poller.get(address).get_data(as_text=True)
    book_slot(db, slot.id, student, student, "les fractions")
    assert "Yasmine Haddou" in poller.get(address).get_data(as_text=True)


def test_a_value_read_in_a_transaction_older_than_a_change_is_not_kept(app, db):
    """On SQLite a request's reads are one transaction, which sees the database as it was at its
    first read: what it reads after a change committed since is old, and must not be kept under
    a stamp taken after that change. (On PostgreSQL each read sees the latest commit.)"""
    person = make_person(db, "student", "Yasmine Haddou")
    store = KeptUntilChanged(app.extensions["lien_changes"], ("user",))
    name_of = select(User.name).where(User.id == person.id)
    request = app.extensions["lien_request_sessions"]()
    request.execute(name_of)  # its first read
    db.execute(update(User).where(User.id == person.id).values(name="Yasmine Benali"))
    db.commit()
    store.get("name", lambda: request.scalar(name_of), request)
    request.close()
    later = app.extensions["lien_request_sessions"]()
    assert store.get("name", lambda: later.scalar(name_of), later) == "Yasmine Benali"
    later.close()


@postgresql_only
def test_a_process_that_keeps_nothing_opens_no_listening_connection(app, db):
    """The outbox worker commits but keeps nothing: it needs no connection to listen on."""
    make_person(db, "student", "Yasmine Haddou")  # a commit, through the app's sessions
    assert app.extensions["lien_changes"]._connection is None
