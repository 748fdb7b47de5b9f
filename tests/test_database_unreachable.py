"""The database goes away: pages say so in the visitor's language (a 503 page that needs no
database), /health says "down", a booking cut off half-way leaves nothing behind, and the next
request, once the database answers again, works.

On PostgreSQL the app reaches the server through a TCP proxy that the test stops and starts
(tests/tcp_proxy.py), and the server ends the app's connections (pg_terminate_backend). On SQLite
the database file cannot be opened: its folder is missing (a volume that did not mount).
"""

import logging
import threading
import time
from datetime import timedelta

import pytest
from conftest import csrf_token
from factories import PASSWORD, login, make_family, make_slot, make_tutor
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy

from scheduler_app.models import Booking, JoinToken, Notification, Slot
from scheduler_app.services.booking import book_slot

FRENCH = "Lien ne marche pas en ce moment"
ENGLISH = "Lien is not working right now"

on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def app_settings(request, database_url, tmp_path):
    if database_url.startswith("sqlite"):
        return {"DATABASE_URL": f"sqlite:///{tmp_path / 'not-mounted' / 'lien.sqlite3'}"}
    proxy = request.getfixturevalue("postgres_proxy")
    return {"DATABASE_URL": make_url(database_url).set(host="127.0.0.1", port=proxy.port)
            .render_as_string(hide_password=False)}


@pytest.fixture
def postgres_proxy(database_url):
    proxy = TcpProxy(make_url(database_url).port or 5432).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def server(database_url):
    """The test's own connection to PostgreSQL, around the proxy, in autocommit."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        yield connection
    engine.dispose()


@pytest.fixture
def family_booking(db):
    """Karim's slot in 5 minutes (its room is open), and Adam's place in it, booked by his mother."""
    tutor = make_tutor(db)
    slot = make_slot(db, tutor, starts_in=timedelta(minutes=5))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    book_slot(db, slot.id, adam, parent, "fractions")
    link = db.scalar(select(JoinToken.token).where(JoinToken.user_id == adam.id))
    return parent, adam, link


@on_postgresql
def test_while_the_database_is_unreachable_pages_say_so_in_each_visitors_language_and_health_says_down(
        app, db, postgres_proxy, family_booking, caplog):
    parent, _adam, link = family_booking
    parent.locale = "en"
    db.commit()
    english = app.test_client()
    assert "<h1>My sessions</h1>" in login(english, parent.email, PASSWORD).get_data(as_text=True)
    french = app.test_client()
    form = french.get("/login").get_data(as_text=True)

    postgres_proxy.stop()
    with caplog.at_level(logging.ERROR):
        pages = {
            "a logged-in parent's sessions": english.get("/sessions"),
            "a login": french.post("/login", data={"email": parent.email, "password": PASSWORD,
                                                   "csrf_token": csrf_token(form)}),
            "a join link": french.get(f"/j/{link}"),
        }
        health = french.get("/health")
    for what, page in pages.items():
        assert (page.status_code, page.headers["Retry-After"]) == (503, "120"), what
    assert ENGLISH in pages["a logged-in parent's sessions"].get_data(as_text=True)
    assert '<html lang="en"' in pages["a logged-in parent's sessions"].get_data(as_text=True)
    for what in ("a login", "a join link"):
        assert FRENCH in pages[what].get_data(as_text=True), what
    assert health.status_code == 503 and health.headers["Retry-After"] == "120"
    assert health.get_json()["status"] == "down" and health.get_json()["database"] == "unreachable"
    # Each outage is logged, without the statement's values (an address, say).
    assert len([r for r in caplog.records if "database is unavailable" in r.getMessage()]) == 3
    assert parent.email not in caplog.text

    postgres_proxy.start()
    assert "<h1>My sessions</h1>" in english.get("/sessions").get_data(as_text=True)
    assert french.get("/health").get_json()["status"] == "ok"


@on_sqlite
def test_a_sqlite_file_that_cannot_be_opened_gives_the_same_page_and_health_says_down(app):
    for language, said in (("fr-FR,fr;q=0.9", FRENCH), ("en-GB,en;q=0.9", ENGLISH)):
        browser = app.test_client()
        browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        form = browser.get("/login").get_data(as_text=True)  # the form itself needs no database
        page = browser.post("/login", data={"email": "fatima@example.org", "password": PASSWORD,
                                            "csrf_token": csrf_token(form)})
        assert (page.status_code, page.headers["Retry-After"]) == (503, "120")
        assert said in page.get_data(as_text=True)
    health = app.test_client().get("/health")
    assert health.status_code == 503 and health.get_json()["status"] == "down"


@on_postgresql
def test_a_booking_whose_connection_the_server_ends_half_way_leaves_nothing_and_the_next_one_books(
        app, db, server, database_url, family_booking):
    parent, adam, _link = family_booking
    slot = make_slot(db, make_tutor(db, "Inès Martin"), starts_in=timedelta(days=3))
    client = app.test_client()
    login(client, parent.email, PASSWORD)
    form = client.get(f"/slots/{slot.id}/book").get_data(as_text=True)
    booking = {"student_id": str(adam.id), "topic": "la conjugaison", "csrf_token": csrf_token(form)}

    # Hold the outbox: the booking's transaction waits there, its place and booking already written.
    holder = create_engine(database_url)
    with holder.begin() as lock:
        lock.execute(text("LOCK TABLE notification IN EXCLUSIVE MODE"))
        answers = []
        request = threading.Thread(target=lambda: answers.append(client.post(f"/slots/{slot.id}/book", data=booking)))
        request.start()
        waiting = _backend_waiting_to_write(server, "notification")
        server.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": waiting})
        request.join(timeout=60)
    holder.dispose()
    [answer] = answers
    assert answer.status_code == 503 and FRENCH in answer.get_data(as_text=True)
    assert _written_for(server, slot.id) == {"booked": 0, "bookings": 0, "links": 0, "messages": 0}

    # Every connection the app holds is ended too (a server restart): the next request books.
    _terminate_all_but(server)
    answer = client.post(f"/slots/{slot.id}/book", data=booking)
    assert answer.status_code == 302 and "/sessions/" in answer.headers["Location"]
    written = _written_for(server, slot.id)
    assert written["booked"] == written["bookings"] == 1 and written["links"] == 2  # Adam's and his mother's
    kinds = set(server.scalars(select(Notification.kind).join(Booking, Booking.id == Notification.booking_id)
                               .where(Booking.slot_id == slot.id)))
    assert {"booking_confirmed", "tutor_booking_confirmed"} <= kinds


def _backend_waiting_to_write(server, table: str) -> int:
    """The server process of the app's statement that waits for a lock to write into `table`."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pid = server.scalar(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND wait_event_type = 'Lock' AND query ILIKE :insert"), {"insert": f"INSERT INTO {table}%"})
        if pid:
            return pid
        time.sleep(0.05)
    raise AssertionError(f"no request came to wait for {table}")


def _terminate_all_but(server) -> None:
    others = "datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    server.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {others}"))
    deadline = time.monotonic() + 60
    while server.scalar(text(f"SELECT count(*) FROM pg_stat_activity WHERE {others}")):
        assert time.monotonic() < deadline, "the app's connections did not end"
        time.sleep(0.05)


def _written_for(server, slot_id: int) -> dict[str, int]:
    """What the database holds about a slot's bookings: the slot's counter, its live bookings,
    their join links and their messages."""
    bookings = select(Booking.id).where(Booking.slot_id == slot_id).scalar_subquery()
    return {
        "booked": server.scalar(select(Slot.booked).where(Slot.id == slot_id)),
        "bookings": server.scalar(select(func.count()).select_from(Booking).where(Booking.slot_id == slot_id)),
        "links": server.scalar(select(func.count()).select_from(JoinToken).where(JoinToken.booking_id.in_(bookings))),
        "messages": server.scalar(select(func.count()).select_from(Notification)
                                  .where(Notification.booking_id.in_(bookings))),
    }
