"""Dates are bounded where they are typed: a slot, a move, a weekly availability, a report or a
day filter far from today (9999-12-31, 0001-01-01) is refused with a message, the form comes
back with what was typed, and nothing is saved; the services refuse them too."""

import html
from datetime import UTC, date, datetime, time

import pytest
from conftest import csrf_token
from factories import HOMEWORK, login, look_again, make_person, make_slot, make_tutor
from sqlalchemy import func, select

from scheduler_app.models import AvailabilityRule, Slot
from scheduler_app.services import ServiceError
from scheduler_app.services.availability import WeeklyPlan, save_rule
from scheduler_app.services.localtime import date_bounds
from scheduler_app.services.slots import SlotPlan, move_slot, open_slots

MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # 10:00 in Paris
PARIS = "Europe/Paris"
FAR = ("9999-12-31", "0001-01-01")


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def post_form(client, url, data):
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_token(page)})


def count(db, model, *where) -> int:
    look_again(db)
    return db.scalar(select(func.count()).select_from(model).where(*where))


def test_the_bounds_are_two_years_ahead_and_ten_back():
    assert date_bounds(date(2027, 3, 1)) == (date(2017, 3, 1), date(2029, 3, 1))
    assert date_bounds(date(2028, 2, 29)) == (date(2018, 2, 28), date(2030, 2, 28))


def test_the_slot_service_refuses_a_day_past_the_bounds_and_repeats_that_would_go_past(db, frozen_clock):
    frozen_clock(MONDAY)
    tutor = make_tutor(db)
    for day in (date(9999, 12, 31), date(2029, 3, 1)):
        with pytest.raises(ServiceError, match="Choisissez une date avant le 2029-03-01") as refused:
            open_slots(db, tutor, SlotPlan(HOMEWORK, day, time(14, 0), 45), PARIS)
        assert refused.value.field == "day"
    with pytest.raises(ServiceError, match="Choisissez une date après le 2017-03-01"):
        open_slots(db, tutor, SlotPlan(HOMEWORK, date(1, 1, 1), time(14, 0), 45), PARIS)
    with pytest.raises(ServiceError, match="La dernière séance serait le 2029-03-07") as refused:
        open_slots(db, tutor, SlotPlan(HOMEWORK, date(2029, 2, 28), time(14, 0), 45, weeks=2), PARIS)
    assert refused.value.field == "weeks"
    assert count(db, Slot) == 0
    [slot] = open_slots(db, tutor, SlotPlan(HOMEWORK, date(2029, 2, 28), time(14, 0), 45), PARIS)  # the last day
    assert slot.starts_at == datetime(2029, 2, 28, 13, 0, tzinfo=UTC)


def test_the_move_service_refuses_a_far_day_and_leaves_the_slot_where_it_was(db, frozen_clock):
    frozen_clock(MONDAY)
    slot = make_slot(db, make_tutor(db))
    before = slot.starts_at
    for day in (date(9999, 12, 31), date(1, 1, 1)):
        with pytest.raises(ServiceError, match="Choisissez une date") as refused:
            move_slot(db, slot, day, time(14, 0), PARIS)
        assert refused.value.field == "day"
    look_again(db)
    assert db.get(Slot, slot.id).starts_at == before


def test_the_availability_service_refuses_far_dates(db, frozen_clock):
    frozen_clock(MONDAY)
    tutor = make_tutor(db)
    term = dict(activity_id=HOMEWORK, weekdays=("WE",), start_time=time(14, 0), end_time=time(17, 0),
                session_minutes=45, valid_from=date(2027, 3, 1))
    for fields, field in (({"valid_until": date(9999, 12, 31)}, "valid_until"),
                          ({"valid_from": date(9999, 12, 30)}, "valid_from"),
                          ({"valid_from": date(1, 1, 1)}, "valid_from"),
                          ({"skipped": (date(9999, 12, 31),)}, "skipped_dates")):
        with pytest.raises(ServiceError, match="Choisissez une date") as refused:
            save_rule(db, tutor, WeeklyPlan(**{**term, **fields}))
        assert refused.value.field == field
    assert count(db, AvailabilityRule) == 0


def _slot_form(**fields):
    return {"activity_id": str(HOMEWORK), "day": "", "start_time": "14:00", "duration_minutes": "45",
            "capacity": "1", "subject": "maths", "level": "college", "in_a_row": "1", "weeks": "1", **fields}


@pytest.mark.parametrize("far", FAR)
def test_a_tutor_typing_a_far_date_for_a_slot_is_told_and_keeps_the_input(client, db, frozen_clock, far):
    frozen_clock(MONDAY)
    tutor = make_tutor(db)
    login(client, tutor.email)
    response = post_form(client, "/slots/new", _slot_form(day=far))
    page = text_of(response)
    assert response.status_code == 200
    assert ("Choisissez une date avant le 1 mars 2029." if far > "2" else "Choisissez une date après le 1 mars 2017.") in page
    assert f'value="{far}"' in page and 'aria-invalid="true"' in page
    response = post_form(client, "/slots/new", _slot_form(day="2029-02-22", weeks="2"))
    assert "La dernière séance serait le 1 mars 2029 : c'est trop loin." in text_of(response)
    assert count(db, Slot) == 0


@pytest.mark.parametrize("far", FAR)
def test_a_coordinator_moving_a_session_to_a_far_date_is_told_and_nothing_moves(client, db, frozen_clock, far):
    frozen_clock(MONDAY)
    slot = make_slot(db, make_tutor(db))
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    response = post_form(client, f"/admin/slots/{slot.id}/move", {"day": far, "start_time": "16:00"})
    page = text_of(response)
    assert response.status_code == 200 and "Choisissez une date" in page and f'value="{far}"' in page
    look_again(db)
    assert db.get(Slot, slot.id).starts_at == slot.starts_at


A_TERM = {"activity_id": "1", "weekdays": ["WE"], "start_time": "14:00", "end_time": "17:00",
          "session_minutes": "45", "capacity": "1", "subject": "", "level": "", "valid_from": "2027-03-01",
          "valid_until": "", "skipped_dates": ""}


@pytest.mark.parametrize("fields", [{"valid_until": "9999-12-31"}, {"valid_from": "9999-12-31"},
                                    {"valid_from": "0001-01-01"}, {"skipped_dates": "31/12/9999"}])
def test_a_tutor_typing_far_dates_in_weekly_availability_is_told_and_nothing_is_saved(client, db, frozen_clock,
                                                                                      fields):
    frozen_clock(MONDAY)
    login(client, make_tutor(db).email)
    response = post_form(client, "/availability/new", {**A_TERM, **fields})
    page = text_of(response)
    assert response.status_code == 200 and "Choisissez une date" in page
    [(_name, typed)] = fields.items()
    assert typed in page  # kept in the form
    assert count(db, AvailabilityRule) == 0 and count(db, Slot) == 0


@pytest.mark.parametrize("far", FAR)
def test_reports_and_day_filters_with_a_far_date_say_so_and_show_the_rest(client, db, frozen_clock, far):
    frozen_clock(MONDAY)
    make_slot(db, make_tutor(db))
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    for url in (f"/admin/reports?start={far}&end={far}&grouping=x", f"/admin/sessions?day={far}",
                f"/slots?day={far}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Choisissez une date" in text_of(response), url
    report = text_of(client.get(f"/admin/reports?start={far}"))
    assert "Du mardi 1 septembre au mardi 31 août." in report  # the school year, as if no date was typed
    csv = client.get(f"/admin/reports.csv?start={far}&end={far}&grouping=x")
    assert csv.status_code == 200 and csv.data.startswith("\ufeff".encode())
    sessions = text_of(client.get(f"/admin/sessions?day={far}"))
    assert "Karim Haddad" in sessions  # the filter in error is left out: every session shows
