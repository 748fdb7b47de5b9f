"""Benchmark: dispatch 10,000 due reminders through the outbox to a local SMTP sink.

Prints messages per second, and the ratio to the floor: the same messages, prepared in
advance, sent with plain smtplib over one connection. Target: at least 0.5 of the floor.

    .venv/bin/python bench/dispatch.py [--messages 10000] [--database-url URL]

The sink (aiosmtpd) runs in its own process so that it does not share the sender's GIL.
"""

import argparse
import multiprocessing
import smtplib
import socket
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def run_sink(port: int, ready) -> None:
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fill(app, count: int) -> None:
    """`count` due reminders: 200 families, each booked on its own slot, 50 reminder rows each."""
    from sqlalchemy import insert

    from rooms import new_room_name
    from scheduler_app.clock import now_utc
    from scheduler_app.models import Booking, JoinToken, Notification, Slot, User

    sessions = app.extensions["lien_sessions"]
    now = now_utc()
    with sessions() as db, db.begin():
        tutor = User(name="Karim Haddad", role="tutor", email="karim@example.org")
        db.add(tutor)
        db.flush()
        families = 200
        parents = [User(name=f"Parent {n}", role="parent", email=f"parent{n}@example.org") for n in range(families)]
        students = [User(name=f"Élève {n}", role="student") for n in range(families)]
        db.add_all(parents + students)
        db.flush()
        bookings = []
        for n in range(families):
            start = now + timedelta(hours=2, minutes=50 * n)
            slot = Slot(tutor_id=tutor.id, activity_id=1, starts_at=start, ends_at=start + timedelta(minutes=45),
                        booked=1, subject="maths", level="college", room_name=new_room_name())
            db.add(slot)
            db.flush()
            booking = Booking(slot_id=slot.id, student_id=students[n].id, booked_by_id=parents[n].id,
                              starts_at=slot.starts_at, ends_at=slot.ends_at, topic="les fractions")
            db.add(booking)
            db.flush()
            db.add(JoinToken(slot_id=slot.id, booking_id=booking.id, user_id=parents[n].id))
            bookings.append((booking, parents[n]))
        due = now - timedelta(seconds=1)
        db.execute(insert(Notification), [
            {"kind": "reminder_1h", "channel": "email", "recipient_id": parent.id, "address": parent.email,
             "locale": "fr", "booking_id": booking.id, "slot_id": booking.slot_id, "payload": {},
             "due_at": due, "status": "pending", "attempts": 0, "last_error": "",
             "dedupe_key": f"bench|{n}", "created_at": due}
            for n, (booking, parent) in ((n, bookings[n % families]) for n in range(count))
        ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    from notifications import build_email
    from scheduler_app import create_app
    from scheduler_app import db as database
    from scheduler_app.models import Notification
    from scheduler_app.schema import upgrade
    from scheduler_app.worker import make_dispatcher

    port = free_port()
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=run_sink, args=(port, ready), daemon=True)
    sink.start()
    ready.wait(10)

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "MAIL_PROVIDER": "smtp",
                          "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "MAIL_FROM": "Lien <lien@centre.example.org>"})
        engine = database.engine_of(app)
        if engine.dialect.name == "postgresql":
            from sqlalchemy import text

            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(engine)
        fill(app, args.messages)

        # The floor: the same messages, composed beforehand, over one plain smtplib connection.
        dispatcher = make_dispatcher(app)
        with app.extensions["lien_sessions"]() as db:
            from sqlalchemy import select
            from sqlalchemy.orm import joinedload

            rows = db.scalars(select(Notification).options(joinedload(Notification.recipient))).all()
            composed = dispatcher.compose(db, list(rows))
        prepared = [build_email(message, sender="Lien <lien@centre.example.org>") for message in composed.values()]
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for message in prepared:
                smtp.send_message(message)
        floor = len(prepared) / (time.perf_counter() - started)

        started = time.perf_counter()
        report = dispatcher.tick(max_batches=10_000)
        elapsed = time.perf_counter() - started
        rate = report.sent / elapsed
        engine.dispose()
    sink.terminate()

    print(f"database            {url.split(':')[0]}")
    print(f"messages            {report.sent} sent, {report.failed} failed, {report.retried} to retry")
    print(f"outbox dispatch     {rate:8.0f} messages/s  ({elapsed:.2f} s)")
    print(f"smtplib floor       {floor:8.0f} messages/s  (prepared messages, one connection)")
    print(f"ratio to the floor  {rate / floor:8.2f}  (target >= 0.50)")


if __name__ == "__main__":
    main()
