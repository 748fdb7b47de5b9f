"""Many people booking the same last places at the same instant: exactly capacity win.

Each client is a thread with its own database session (its own connection), released together
by a barrier, so the bookings really race on SQLite and on PostgreSQL alike.
"""

from datetime import timedelta

import pytest
from factories import look_again, make_person, make_slot, make_tutor
from racing import race
from sqlalchemy import func, select

from scheduler_app.models import Booking, Slot
from scheduler_app.services import ServiceError
from scheduler_app.services.booking import SlotTaken, book_slot

CLIENTS = 24

pytestmark = pytest.mark.slow




@pytest.mark.parametrize("capacity", [1, 3])
def test_only_capacity_of_many_simultaneous_bookings_survive(app, db, capacity):
    slot = make_slot(db, make_tutor(db), capacity=capacity)
    students = [make_person(db, "student", f"Élève {n}", email=None) for n in range(CLIENTS)]

    def attempt_for(student):
        return lambda session: book_slot(session, slot.id, session.merge(student), session.merge(student))

    outcomes = race(app, [attempt_for(student) for student in students])

    booked = [o for o in outcomes if isinstance(o, Booking)]
    taken = [o for o in outcomes if isinstance(o, SlotTaken)]
    errors = [o for o in outcomes if not isinstance(o, (Booking, SlotTaken))]
    assert errors == []
    assert len(booked) == capacity and len(taken) == CLIENTS - capacity
    look_again(db)
    assert db.scalar(select(func.count()).select_from(Booking).where(Booking.slot_id == slot.id)) == capacity
    assert db.get(Slot, slot.id).booked == capacity


def test_one_student_racing_for_overlapping_slots_gets_only_one(app, db):
    tutors = [make_tutor(db, f"Tuteur {n}") for n in range(8)]
    slots = [make_slot(db, tutor, starts_in=timedelta(days=2, minutes=5 * n)) for n, tutor in enumerate(tutors)]
    student = make_person(db, "student", "Yasmine Haddou")

    def attempt_for(slot):
        return lambda session: book_slot(session, slot.id, session.merge(student), session.merge(student))

    outcomes = race(app, [attempt_for(slot) for slot in slots])

    assert [o for o in outcomes if not isinstance(o, (Booking, ServiceError))] == []
    assert len([o for o in outcomes if isinstance(o, Booking)]) == 1
    look_again(db)
    live = select(func.count()).select_from(Booking).where(Booking.student_id == student.id)
    assert db.scalar(live) == 1
    assert db.scalar(select(func.sum(Slot.booked))) == 1


def test_one_student_racing_twice_for_one_group_slot_gets_one_place(app, db):
    slot = make_slot(db, make_tutor(db), capacity=5)
    student = make_person(db, "student", "Yasmine Haddou")
    attempt = lambda session: book_slot(session, slot.id, session.merge(student), session.merge(student))  # noqa: E731

    outcomes = race(app, [attempt] * 12)

    assert [o for o in outcomes if not isinstance(o, (Booking, ServiceError))] == []
    assert len([o for o in outcomes if isinstance(o, Booking)]) == 1
    look_again(db)
    assert db.get(Slot, slot.id).booked == 1
