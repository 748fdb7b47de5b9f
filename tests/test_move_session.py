"""A coordinator moves a session: the times follow, and everyone gets the new time."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from factories import look_again, make_family, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import Booking, Slot
from scheduler_app.services import ServiceError
from scheduler_app.services.booking import book_slot
from scheduler_app.services.slots import move_slot
from scheduler_app.worker import make_dispatcher


@pytest.fixture
def booked(app, db, mail_server, frozen_clock):
    server = mail_server
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    slot = make_slot(db, tutor, starts_in=timedelta(days=2, hours=4))  # Wed 13 Jan, 14:00 Paris
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    booking = book_slot(db, slot.id, adam, parent)
    make_dispatcher(app).tick()
    return {"smtp": server, "slot": slot, "booking": booking, "parent": parent, "tutor": tutor, "student": adam}


def test_a_moved_session_tells_everyone_with_an_updated_invitation_and_moves_the_reminders(app, db, booked, frozen_clock):
    move_slot(db, booked["slot"], date(2027, 1, 15), time(16, 30), "Europe/Paris")
    look_again(db)
    slot, booking = db.get(Slot, booked["slot"].id), db.get(Booking, booked["booking"].id)
    assert slot.starts_at == datetime(2027, 1, 15, 15, 30, tzinfo=UTC) and booking.starts_at == slot.starts_at
    assert booking.sequence == 1
    assert make_dispatcher(app).tick().sent == 2  # the mother and the tutor
    moved = booked["smtp"].mailbox.to(booked["parent"].email)[-1]
    assert moved["Subject"] == "Adam : séance déplacée au vendredi 15 janvier à 16 h 30"
    text = moved.get_body(("plain",)).get_content()
    assert "La séance du mercredi 13 janvier à 14 h 00 est déplacée." in text
    [calendar] = [p for p in moved.walk() if p.get_content_type() == "text/calendar"]
    ics = calendar.get_payload(decode=True).decode()
    assert "METHOD:REQUEST" in ics and "SEQUENCE:1" in ics and "20270115T163000" in ics
    frozen_clock(datetime(2027, 1, 12, 14, 0, tzinfo=UTC))  # 24 h before the OLD time
    assert make_dispatcher(app).tick().sent == 0
    frozen_clock(datetime(2027, 1, 14, 15, 30, tzinfo=UTC))  # 24 h before the new time
    assert make_dispatcher(app).tick().sent == 2  # the mother's reminder and the tutor's


def test_a_move_onto_a_students_other_session_is_refused(db, booked):
    other = make_slot(db, make_tutor(db, "Claire Martin"), starts_in=timedelta(days=4, hours=6))
    book_slot(db, other.id, booked["student"], booked["parent"])
    local = other.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    with pytest.raises(ServiceError, match="Adam Haddou a déjà une séance"):
        move_slot(db, booked["slot"], local.date(), local.time(), "Europe/Paris")
    look_again(db)
    assert db.get(Slot, booked["slot"].id).starts_at == booked["slot"].starts_at


def test_a_move_into_the_past_is_refused(db, booked):
    with pytest.raises(ServiceError, match="passé"):
        move_slot(db, booked["slot"], date(2027, 1, 10), time(10, 0), "Europe/Paris")


def test_a_session_moved_off_its_weekly_rule_is_not_opened_again_at_the_old_time(db, frozen_clock):
    from scheduler_app.models import AvailabilityRule
    from scheduler_app.services.availability import WeeklyPlan, materialise, save_rule

    frozen_clock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db, "Claire Martin")
    change = save_rule(db, tutor, WeeklyPlan(activity_id=1, weekdays=("WE",), start_time=time(14, 0),
                                             end_time=time(14, 45), session_minutes=45, valid_from=date(2027, 3, 1)))
    first = min(change.created, key=lambda slot: slot.starts_at)  # Wednesday 3 March, 14:00
    move_slot(db, first, date(2027, 3, 4), time(17, 0), "Europe/Paris")
    materialise(db, datetime(2027, 3, 1, 10, 0, tzinfo=UTC))
    look_again(db)
    starts = [s.starts_at for s in db.scalars(select(Slot).where(Slot.tutor_id == tutor.id, Slot.status == "open"))]
    assert datetime(2027, 3, 3, 13, 0, tzinfo=UTC) not in starts
    assert datetime(2027, 3, 4, 16, 0, tzinfo=UTC) in starts
    assert "2027-03-03" in db.get(AvailabilityRule, change.rule.id).skipped_dates
