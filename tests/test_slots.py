"""Tutors open slots in their own time zone; impossible times are refused with a reason."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from conftest import csrf_token
from factories import HOMEWORK, login, look_again, make_slot, make_tutor
from sqlalchemy import func, select

from scheduler_app.models import JoinToken, Slot
from scheduler_app.services import ServiceError
from scheduler_app.services.slots import SlotPlan, open_slots

PARIS = "Europe/Paris"


def plan(day, at, **fields):
    return SlotPlan(activity_id=HOMEWORK, day=day, start_time=at, duration_minutes=fields.pop("minutes", 45), **fields)


def test_a_slot_typed_in_paris_time_is_stored_in_utc(db, frozen_clock):
    frozen_clock(datetime(2027, 1, 10, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    [winter] = open_slots(db, tutor, plan(date(2027, 1, 13), time(14, 0)), PARIS)
    [summer] = open_slots(db, tutor, plan(date(2027, 6, 16), time(14, 0)), PARIS)
    look_again(db)
    assert db.get(Slot, winter.id).starts_at == datetime(2027, 1, 13, 13, 0, tzinfo=UTC)
    assert db.get(Slot, summer.id).starts_at == datetime(2027, 6, 16, 12, 0, tzinfo=UTC)
    assert db.get(Slot, summer.id).ends_at == datetime(2027, 6, 16, 12, 45, tzinfo=UTC)


def test_a_batch_opens_back_to_back_sessions_over_several_weeks_across_dst(db, frozen_clock):
    frozen_clock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    slots = open_slots(db, tutor, plan(date(2027, 3, 24), time(14, 0), in_a_row=3, weeks=2), PARIS)
    starts = [slot.starts_at for slot in slots]
    # 24 March is winter time (UTC+1), 31 March summer time (UTC+2): 14:00 stays 14:00 in Paris.
    assert starts == [
        datetime(2027, 3, 24, 13, 0, tzinfo=UTC), datetime(2027, 3, 24, 13, 45, tzinfo=UTC),
        datetime(2027, 3, 24, 14, 30, tzinfo=UTC), datetime(2027, 3, 31, 12, 0, tzinfo=UTC),
        datetime(2027, 3, 31, 12, 45, tzinfo=UTC), datetime(2027, 3, 31, 13, 30, tzinfo=UTC),
    ]
    assert len({slot.room_name for slot in slots}) == 6
    tutor_links = db.scalar(select(func.count()).select_from(JoinToken).where(JoinToken.user_id == tutor.id))
    assert tutor_links == 6


@pytest.mark.parametrize(
    "day, at, words",
    [
        (date(2027, 3, 28), time(2, 30), "n'existe pas"),  # clocks jump from 02:00 to 03:00
        (date(2027, 10, 31), time(2, 30), "existe deux fois"),  # clocks go back from 03:00 to 02:00
    ],
)
def test_a_time_that_dst_makes_impossible_is_refused(db, frozen_clock, day, at, words):
    frozen_clock(datetime(2027, 1, 1, tzinfo=UTC))
    tutor = make_tutor(db)
    with pytest.raises(ServiceError) as refused:
        open_slots(db, tutor, plan(day, at), PARIS)
    assert words in str(refused.value.message)
    assert db.scalar(select(func.count()).select_from(Slot)) == 0


def test_a_slot_in_the_past_is_refused(db, frozen_clock):
    now = frozen_clock(datetime(2027, 2, 10, 15, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    with pytest.raises(ServiceError, match="passé"):
        open_slots(db, tutor, plan(now.date(), time(15, 0)), PARIS)  # 15:00 Paris = 14:00 UTC, gone


def test_a_slot_overlapping_the_tutors_own_is_refused_but_another_tutor_may(db, frozen_clock):
    frozen_clock(datetime(2027, 1, 10, tzinfo=UTC))
    tutor, other = make_tutor(db), make_tutor(db, "Claire Martin")
    open_slots(db, tutor, plan(date(2027, 1, 13), time(14, 0)), PARIS)
    with pytest.raises(ServiceError, match="chevauche"):
        open_slots(db, tutor, plan(date(2027, 1, 13), time(14, 30)), PARIS)
    open_slots(db, other, plan(date(2027, 1, 13), time(14, 30)), PARIS)
    open_slots(db, tutor, plan(date(2027, 1, 13), time(14, 45)), PARIS)  # touching is fine


def test_zero_places_or_a_zero_length_session_are_refused(db, frozen_clock):
    frozen_clock(datetime(2027, 1, 10, tzinfo=UTC))
    tutor = make_tutor(db)
    with pytest.raises(ServiceError, match="place"):
        open_slots(db, tutor, plan(date(2027, 1, 13), time(14, 0), capacity=0), PARIS)
    for minutes in (0, 241):  # the longest is what the lists of sessions to come rely on
        with pytest.raises(ServiceError, match="de 5 à 240 minutes"):
            open_slots(db, tutor, plan(date(2027, 1, 13), time(14, 0), minutes=minutes), PARIS)


def _form(page, **fields):
    data = {"activity_id": str(HOMEWORK), "day": "", "start_time": "14:00", "duration_minutes": "45",
            "capacity": "1", "subject": "maths", "level": "college", "in_a_row": "1", "weeks": "1"}
    data.update(fields)
    data["csrf_token"] = csrf_token(page.get_data(as_text=True))
    return data


def test_a_tutor_opens_a_slot_through_the_form(client, db):
    tutor = make_tutor(db)
    login(client, tutor.email)
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    page = client.get("/slots/new")
    response = client.post("/slots/new", data=_form(page, day=day), follow_redirects=True)
    html = response.get_data(as_text=True).replace("\xa0", " ")
    assert "1 créneau ouvert." in html
    assert "14 h 00" in html
    assert db.scalar(select(func.count()).select_from(Slot).where(Slot.tutor_id == tutor.id)) == 1


def test_a_refused_slot_form_comes_back_with_what_was_typed_and_what_to_do(client, db):
    tutor = make_tutor(db)
    login(client, tutor.email)
    page = client.get("/slots/new")
    response = client.post("/slots/new", data=_form(page, day="2027-03-28", start_time="02:30", capacity="3"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "n&#39;existe pas" in html or "n'existe pas" in html
    assert 'value="2027-03-28"' in html and 'value="02:30"' in html and 'value="3"' in html
    assert 'aria-invalid="true"' in html
    response = client.post("/slots/new", data=_form(page, day="", capacity="0"))
    html = response.get_data(as_text=True)
    assert "Choisissez une date" in html and "entre 1 et 30 places" in html.lower()
    response = client.post("/slots/new", data=_form(page, day="2027-03-29", duration_minutes="300"))
    html = response.get_data(as_text=True)
    assert "Une séance dure de 5 à 240 minutes." in html and 'value="300"' in html


def test_a_tutor_cancels_an_open_slot_and_its_bookings(client, db):
    from factories import make_person

    from scheduler_app.services.booking import book_slot

    tutor = make_tutor(db)
    slot = make_slot(db, tutor)
    student = make_person(db, "student", "Yasmine Haddou")
    booking = book_slot(db, slot.id, student, student)
    login(client, tutor.email)
    page = client.get("/slots/mine")
    response = client.post(f"/slots/{slot.id}/cancel", data={"csrf_token": csrf_token(page.get_data(as_text=True))},
                           follow_redirects=True)
    assert "1 réservation annulée" in response.get_data(as_text=True)
    look_again(db)
    assert db.get(Slot, slot.id).status == "cancelled"
    assert db.get(type(booking), booking.id).status == "cancelled"


def test_a_tutor_cannot_cancel_someone_elses_slot(client, db):
    slot = make_slot(db, make_tutor(db))
    intruder = make_tutor(db, "Claire Martin")
    login(client, intruder.email)
    page = client.get("/slots/mine")
    response = client.post(f"/slots/{slot.id}/cancel", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 403
    look_again(db)
    assert db.get(Slot, slot.id).status == "open"


def test_a_session_page_shows_who_comes_and_offers_cancelling_until_it_starts(client, db, frozen_clock):
    from factories import make_family, make_person

    from scheduler_app.services.booking import book_slot

    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    slot = make_slot(db, tutor, starts_in=timedelta(days=1), capacity=2)
    fatima, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    book_slot(db, slot.id, adam, fatima, "les fractions")
    login(client, tutor.email)
    html = client.get(f"/slots/{slot.id}").get_data(as_text=True)
    assert "<h1>Séance du mardi 12 janvier, 10\u00a0h\u00a000</h1>" in html
    assert "Adam Haddou" in html and "les fractions" in html and "Places prises : 1 sur 2" in html
    assert f'href="/slots/{slot.id}/cancel"' in html and "/j/" in html  # cancelling, and the tutor's link
    assert "Les familles qui ont réservé sont prévenues tout de suite." in html
    assert client.get("/slots/999999").status_code == 404

    frozen_clock(slot.starts_at + timedelta(minutes=5))  # under way: joined, no longer cancelled
    html = client.get(f"/slots/{slot.id}").get_data(as_text=True)
    assert f'href="/slots/{slot.id}/cancel"' not in html and "/j/" in html

    coordinator = make_person(db, "coordinator", "Claire Martin")
    client.delete_cookie("session")
    login(client, coordinator.email)
    html = client.get(f"/slots/{slot.id}").get_data(as_text=True)
    assert "Adam Haddou" in html and "/j/" not in html  # the tutor's own link is not the coordinator's
