"""Small factories that arrange the story of a test, through Lien's own services."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import cache
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from sqlalchemy import event
from sqlalchemy.orm import Session

from scheduler_app import db as database
from scheduler_app.clock import now_utc
from scheduler_app.models import Guardianship, TutorProfile, User, new_secret
from scheduler_app.services.slots import SlotPlan, open_slots

PASSWORD = "correct-horse-battery"
HOMEWORK = 1  # the "Aide aux devoirs" activity the first migration creates
MEDIATION = 2


@cache
def _password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)  # hashed once: Argon2 is slow on purpose


def make_person(db: Session, role: str, name: str, email: str | None = "", **fields) -> User:
    """A person with the test password; email defaults to one made from the name."""
    if email == "":
        email = name.lower().replace(" ", ".") + "@example.org"
    user = User(name=name, role=role, email=email, password_hash=_password_hash(),
                login_key=new_secret(), **fields)
    db.add(user)
    db.commit()
    return user


def make_tutor(db: Session, name: str = "Karim Haddad", *, subjects=("maths",), levels=("college",),
               languages=("fr", "ar"), **fields) -> User:
    tutor = make_person(db, "tutor", name, **fields)
    db.add(TutorProfile(user_id=tutor.id, subjects=TutorProfile.pack(subjects),
                        levels=TutorProfile.pack(levels), languages=TutorProfile.pack(languages)))
    db.commit()
    return tutor


def make_family(db: Session, parent_name: str, *children: str, phone: str | None = None) -> tuple[User, list[User]]:
    """A parent and their children. With `phone`, a parent who has only that phone: no email,
    told everything by SMS."""
    reach = {"email": None, "phone": phone, "notify_by": "sms"} if phone else {}
    parent = make_person(db, "parent", parent_name, **reach)
    kids = [make_person(db, "student", child, email=None) for child in children]
    for kid in kids:
        db.add(Guardianship(parent_id=parent.id, student_id=kid.id))
    db.commit()
    return parent, kids


def make_slot(db: Session, tutor: User, *, starts_in=timedelta(days=2), minutes=45, capacity=1,
              subject="maths", level="college", activity_id=HOMEWORK):
    """Open one slot for the tutor, `starts_in` from now, through the tutor's own service."""
    local = (now_utc() + starts_in).astimezone(ZoneInfo(tutor.timezone)).replace(second=0, microsecond=0)
    [slot] = open_slots(db, tutor, SlotPlan(activity_id=activity_id, day=local.date(),
                                            start_time=local.time().replace(tzinfo=None),
                                            duration_minutes=minutes, capacity=capacity,
                                            subject=subject, level=level), tutor.timezone)
    return slot


def login(client, email: str, password: str = PASSWORD):
    """Log in through the real form, CSRF token and all; returns the response after redirects."""
    from conftest import csrf_token

    page = client.get("/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))},
        follow_redirects=True,
    )


def finish_sign_up(client, mail_server, address: str):
    """Send the outbox, then open the link of the sign-up email that reached `address` (read back
    from the SMTP server) and press its button, as the person would; returns the page after."""
    import re

    from conftest import csrf_token

    from scheduler_app.worker import make_dispatcher

    make_dispatcher(client.application).tick()
    [message] = mail_server.mailbox.to(address)[-1:]
    link = re.search(r"https?://[^/\s]+(/register/finish/\S+)", message.get_body(("plain",)).get_content()).group(1)
    page = client.get(link)
    return client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))}, follow_redirects=True)


def logout(client):
    from conftest import csrf_token

    page = client.get("/sessions", follow_redirects=True)
    client.post("/logout", data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def look_again(db: Session) -> None:
    """Forget what the test's session has seen: end its read snapshot and reload objects."""
    db.rollback()
    db.expire_all()


def sqlite_copy(template, tmp_path) -> str:
    """The URL of a fresh copy of the migrated SQLite template, in this test's folder."""
    path = tmp_path / "lien.sqlite3"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@contextmanager
def counting(app) -> Iterator[list[str]]:
    """The SQL statements the app sends while the block runs."""
    statements: list[str] = []

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement)

    engine = database.engine_of(app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
