"""Migrations, over every revision there is (walked with Alembic's ScriptDirectory, so a new
one is tested without touching this file): from an empty database to the latest, from a
database of the first revision that already holds people and bookings, and down and up again.
At the end the schema is exactly what the models say (Alembic's compare_metadata finds nothing).
"""

import os
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import DATABASES, POSTGRES_SERVER
from sqlalchemy import MetaData, create_engine, func, insert, inspect, select, text
from sqlalchemy.engine import make_url

from scheduler_app.catalogue import LANGUAGES
from scheduler_app.db import make_engine
from scheduler_app.models import Base
from scheduler_app.schema import alembic_config, downgrade, upgrade


def revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1, f"migrations have several heads: {script.get_heads()} (merge them)"
    return [revision.revision for revision in reversed(list(script.walk_revisions("base", "heads")))]


@pytest.fixture(params=DATABASES)
def empty_engine(request, tmp_path):
    """An engine on an empty database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        yield engine
        engine.dispose()
        return
    server = make_url(POSTGRES_SERVER)
    name = f"lien_test_{os.getpid()}_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(server.set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def differences(engine) -> list:
    """What Alembic's autogenerate would change to make the database match the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def current_revision(engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


# The tables 0006 put a change-notification trigger on (PostgreSQL only); 0007 drops them again.
TRIGGER_TABLES = {"user", "guardianship", "activity", "slot", "booking", "join_token", "feed_token"}
# Revisions that change nothing Alembic's comparison sees: triggers (0006, 0007), a CHECK (0014).
NOT_COMPARED = {"0006", "0007", "0014"}


def change_triggers(engine) -> set[str]:
    """The tables with 0006's change-notification trigger."""
    if engine.dialect.name != "postgresql":
        return set()
    with engine.connect() as connection:
        return set(connection.scalars(text(
            "SELECT relname FROM pg_trigger JOIN pg_class ON pg_class.oid = tgrelid WHERE tgname = 'lien_changes'")))


def triggers_at(engine, revision: str) -> set[str]:
    return TRIGGER_TABLES if revision == "0006" and engine.dialect.name == "postgresql" else set()


def test_there_is_one_line_of_revisions_starting_with_the_first():
    found = revisions()
    assert found[0] == "0001" and len(found) == len(set(found))


def test_an_empty_database_migrates_to_exactly_the_models(empty_engine):
    upgrade(empty_engine)
    assert current_revision(empty_engine) == revisions()[-1]
    assert differences(empty_engine) == []
    assert change_triggers(empty_engine) == set()
    assert locale_check(empty_engine) == set(LANGUAGES)
    assert set(inspect(empty_engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}


def test_each_revision_goes_down_and_up_again(empty_engine):
    upgrade(empty_engine)
    steps = revisions()
    for earlier in reversed(steps[:-1]):
        downgrade(empty_engine, earlier)
        assert current_revision(empty_engine) == earlier
        assert change_triggers(empty_engine) == triggers_at(empty_engine, earlier)
        if set(steps[steps.index(earlier) + 1:]) <= NOT_COMPARED:
            assert differences(empty_engine) == []
        else:
            assert differences(empty_engine) != []  # the comparison does see a schema behind the models
    downgrade(empty_engine, "base")
    assert current_revision(empty_engine) is None
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    for revision in steps:
        upgrade(empty_engine, revision)
        assert current_revision(empty_engine) == revision
    assert differences(empty_engine) == []
    assert change_triggers(empty_engine) == set()
    assert locale_check(empty_engine) == set(LANGUAGES)


def locale_check(engine) -> set[str]:
    """The languages the user table's CHECK on locale allows."""
    [check] = [check for check in inspect(engine).get_check_constraints("user") if check["name"] == "ck_user_locale"]
    return set(re.findall(r"'(\w+)'", check["sqltext"]))


NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def fill_first_revision(engine) -> dict[str, int]:
    """A centre as the first revision knew it: a tutor, a family, slots, bookings and join
    links, written with that revision's own tables (reflected, not today's models)."""
    with engine.begin() as connection:
        tables = MetaData()
        tables.reflect(connection)

        def add(name: str, rows: list[dict]) -> None:
            connection.execute(insert(tables.tables[name]), rows)

        person = {"password_hash": None, "locale": "fr", "timezone": "Europe/Paris", "active": True,
                  "created_at": NOW, "phone": None}
        add("user", [
            {"id": 1, "name": "Karim Haddad", "email": "karim@example.org", "role": "tutor", "login_key": "k1", **person},
            {"id": 2, "name": "Fatima Haddou", "email": "fatima@example.org", "role": "parent", "login_key": "k2", **person},
            {"id": 3, "name": "Yasmine Haddou", "email": None, "role": "student", "login_key": "k3", **person},
            {"id": 4, "name": "Adam Haddou", "email": None, "role": "student", "login_key": "k4", **person},
        ])
        add("guardianship", [{"parent_id": 2, "student_id": 3}, {"parent_id": 2, "student_id": 4}])
        add("tutor_profile", [{"user_id": 1, "subjects": ",maths,", "levels": ",college,", "languages": ",fr,ar,",
                               "bio": "Ingénieur à la retraite"}])
        slots = []
        for n in range(3):
            start = NOW + timedelta(days=n + 1)
            slots.append({"id": n + 1, "tutor_id": 1, "activity_id": 1, "starts_at": start,
                          "ends_at": start + timedelta(minutes=45), "capacity": 2, "booked": 1 if n < 2 else 0,
                          "subject": "maths", "level": "college", "status": "cancelled" if n == 2 else "open",
                          "room_name": f"room{n}abcdefghijklmnopqrstuv", "created_at": NOW,
                          "cancelled_at": NOW if n == 2 else None})
        add("slot", slots)
        add("booking", [
            {"id": 1, "slot_id": 1, "student_id": 3, "booked_by_id": 2, "status": "confirmed",
             "topic": "les fractions", "starts_at": slots[0]["starts_at"], "ends_at": slots[0]["ends_at"],
             "sequence": 0, "created_at": NOW, "cancelled_at": None},
            {"id": 2, "slot_id": 2, "student_id": 4, "booked_by_id": 2, "status": "confirmed",
             "topic": "", "starts_at": slots[1]["starts_at"], "ends_at": slots[1]["ends_at"],
             "sequence": 1, "created_at": NOW, "cancelled_at": None},
        ])
        add("join_token", [
            {"id": 1, "token": "student-link", "slot_id": 1, "booking_id": 1, "user_id": 3, "created_at": NOW},
            {"id": 2, "token": "parent-link", "slot_id": 1, "booking_id": 1, "user_id": 2, "created_at": NOW},
            {"id": 3, "token": "tutor-link", "slot_id": 1, "booking_id": None, "user_id": 1, "created_at": NOW},
        ])
    return {"user": 4, "guardianship": 2, "tutor_profile": 1, "slot": 3, "booking": 2, "join_token": 3, "activity": 2}


def counts(engine, names) -> dict[str, int]:
    with engine.connect() as connection:
        tables = MetaData()
        tables.reflect(connection, only=list(names))
        return {name: connection.scalar(select(func.count()).select_from(tables.tables[name])) for name in names}


@pytest.fixture
def first_revision_database(empty_engine):
    upgrade(empty_engine, revisions()[0])
    assert current_revision(empty_engine) == "0001"
    return empty_engine


def test_a_database_of_the_first_revision_keeps_its_rows_through_every_later_one(first_revision_database):
    engine = first_revision_database
    expected = fill_first_revision(engine)
    for revision in revisions()[1:]:
        upgrade(engine, revision)  # one step at a time, as a centre that updates now and then would
        assert counts(engine, expected) == expected, f"rows lost at {revision}"
    assert differences(engine) == []

    # Today's models read the old rows as they were written.
    from sqlalchemy.orm import Session

    from scheduler_app.models import Booking, JoinToken, Slot, User

    with Session(engine) as db:
        booking = db.get(Booking, 1)
        assert (booking.student.name, booking.booked_by.name, booking.topic) == ("Yasmine Haddou", "Fatima Haddou", "les fractions")
        assert booking.slot.starts_at == NOW + timedelta(days=1) and booking.slot.tutor.tutor_profile.languages == ",fr,ar,"
        assert [child.name for child in db.get(User, 2).children] == ["Adam Haddou", "Yasmine Haddou"]
        assert db.scalar(select(JoinToken).where(JoinToken.token == "tutor-link")).user.name == "Karim Haddad"
        assert db.get(Slot, 3).status == "cancelled"
        # Columns added later were filled in for the old rows.
        assert db.get(Slot, 1).updated_at == NOW and booking.updated_at == NOW and booking.tutor_note == ""
