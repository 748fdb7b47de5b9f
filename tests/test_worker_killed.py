"""A web worker killed (SIGKILL) while bookings are in flight, under a real gunicorn on
PostgreSQL: nothing is half-written (each slot's counter equals its live bookings, and every
booking has its join links and its messages), and the worker gunicorn starts in its place serves
the next booking, for a family still logged in.

To kill the worker while its bookings are surely half-way, the test holds the outbox table: each
booking's transaction has taken its place and written its booking and join links, and waits to
write its messages.
"""

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import csrf_token
from factories import PASSWORD, make_person, make_slot, make_tutor
from sqlalchemy import create_engine, func, select, text

from scheduler_app.models import LIVE_BOOKING, Booking, JoinToken, Notification, Slot

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

ROOT = Path(__file__).resolve().parent.parent
IN_FLIGHT = 4  # the worker's threads, each with a booking half-way
DEADLINE_SECONDS = 60


class Visitor:
    """A browser, as far as Lien can tell: cookies kept, forms sent with their CSRF token."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        """(status, Location, body) of one request over a new connection."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=DEADLINE_SECONDS)
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                self.cookies.update((name, morsel.value) for name, morsel in SimpleCookie(header).items())
            return response.status, response.headers.get("Location", ""), response.read().decode()
        finally:
            connection.close()

    def send(self, path: str, form: dict) -> tuple[int, str, str]:
        """Open the page, then send its form."""
        _status, _location, page = self.request("GET", path)
        return self.request("POST", path, {**form, "csrf_token": csrf_token(page)})


@pytest.fixture
def gunicorn(database_url, tmp_path):
    """Lien under gunicorn: one worker with IN_FLIGHT threads. Yields (master process, port)."""
    port = _free_port()
    environment = {
        **os.environ, "SECRET_KEY": "test-secret-for-gunicorn", "DATABASE_URL": database_url, "LIEN_DEMO": "0",
        "JITSI_DOMAIN": "meet.example.org", "JITSI_APP_ID": "lien-test",
        "JITSI_APP_SECRET": "test-jitsi-secret-that-is-long-enough", "RATELIMIT_STORAGE_URI": "memory://",
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as output:
        # `python -m` from the repository: the app is this working copy's.
        master = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", str(IN_FLIGHT),
             "--bind", f"127.0.0.1:{port}", "scheduler_app:create_app()"],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_until(lambda: _answers(port), f"gunicorn did not start: {log}")
        yield master, port
    finally:
        master.terminate()
        master.wait(30)


def test_a_worker_killed_with_bookings_half_way_leaves_nothing_half_written_and_a_new_worker_books(
        gunicorn, db, database_url):
    master, port = gunicorn
    tutor = make_tutor(db)
    slots = [make_slot(db, tutor, starts_in=timedelta(days=2, hours=n)) for n in range(IN_FLIGHT + 1)]
    students = [make_person(db, "student", f"Yasmine {n}") for n in range(IN_FLIGHT + 1)]
    visitors = [Visitor(port) for _ in students]
    for visitor, student in zip(visitors, students, strict=True):
        assert visitor.send("/login", {"email": student.email, "password": PASSWORD})[0] == 302
    # One booking made before anything happens: its rows must all still be there at the end.
    assert visitors[IN_FLIGHT].send(f"/slots/{slots[IN_FLIGHT].id}/book", {"topic": "les fractions"})[0] == 302

    server = create_engine(database_url, isolation_level="AUTOCOMMIT")
    holder = create_engine(database_url)
    with server.connect() as watch:
        forms = [visitor.request("GET", f"/slots/{slot.id}/book")[2] for visitor, slot in zip(visitors, slots, strict=False)]
        outcomes: list = [None] * IN_FLIGHT

        def book(n):
            try:
                outcomes[n] = visitors[n].request("POST", f"/slots/{slots[n].id}/book",
                                                  {"topic": "la conjugaison", "csrf_token": csrf_token(forms[n])})
            except (OSError, http.client.HTTPException) as error:  # the worker died under it
                outcomes[n] = error

        with holder.begin() as lock:
            lock.execute(text("LOCK TABLE notification IN EXCLUSIVE MODE"))
            requests = [threading.Thread(target=book, args=(n,)) for n in range(IN_FLIGHT)]
            for request in requests:
                request.start()
            _wait_until(lambda: _waiting_to_write_messages(watch) == IN_FLIGHT, "the bookings never came to the outbox")
            [worker] = _workers(master)
            os.kill(worker, signal.SIGKILL)
            for request in requests:
                request.join(timeout=DEADLINE_SECONDS)
        # The killed worker's transactions end on the server when it finds their client gone.
        _wait_until(lambda: not _open_transactions(watch), "the killed worker's transactions stayed open")

        assert all(isinstance(outcome, (OSError, http.client.HTTPException)) for outcome in outcomes), outcomes
        assert _slot_counts(watch) == [(slot.id, 1 if n == IN_FLIGHT else 0, 1 if n == IN_FLIGHT else 0)
                                       for n, slot in enumerate(slots)]
        _assert_every_booking_is_whole(watch)

        # gunicorn has started a new worker: the same family, still logged in, books.
        _wait_until(lambda: _workers(master) not in ([], [worker]), "gunicorn started no new worker")
        status, location, _page = visitors[0].send(f"/slots/{slots[0].id}/book", {"topic": "la conjugaison"})
        assert status == 302 and "/sessions/" in location
        assert _slot_counts(watch)[0] == (slots[0].id, 1, 1)
        _assert_every_booking_is_whole(watch)
    server.dispose()
    holder.dispose()


def _slot_counts(watch) -> list[tuple[int, int, int]]:
    """(slot, its counter, its live bookings) for every slot."""
    live = (select(func.count()).select_from(Booking).where(Booking.slot_id == Slot.id, LIVE_BOOKING)
            .scalar_subquery())
    return [tuple(row) for row in watch.execute(select(Slot.id, Slot.booked, live).order_by(Slot.starts_at))]


def _assert_every_booking_is_whole(watch) -> None:
    """Every booking has its student's join link and its confirmations (the student's, the tutor's)."""
    for booking_id, student_id in watch.execute(select(Booking.id, Booking.student_id)):
        links = set(watch.scalars(select(JoinToken.user_id).where(JoinToken.booking_id == booking_id)))
        kinds = set(watch.scalars(select(Notification.kind).where(Notification.booking_id == booking_id)))
        assert student_id in links, booking_id
        assert {"booking_confirmed", "tutor_booking_confirmed"} <= kinds, (booking_id, kinds)


def _waiting_to_write_messages(watch) -> int:
    return watch.scalar(text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO notification%'"))


def _open_transactions(watch) -> int:
    return watch.scalar(text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND backend_type = 'client backend' AND xact_start IS NOT NULL"))


def _workers(master: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def _answers(port: int) -> bool:
    try:
        return Visitor(port).request("GET", "/health")[0] == 200
    except OSError:
        return False


def _wait_until(condition, failure: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.05)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
