"""The centre's calendar: weekly sessions are not offered in the school holidays of the centre's
zone, on public holidays of its region, nor on the days the coordinator closes the centre.

Expected dates are read from the two packages themselves, so the tests check Lien follows them,
not guesses of when the holidays fall."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from conftest import csrf_token
from factories import HOMEWORK, MEDIATION, login, look_again, make_family, make_person, make_tutor
from sqlalchemy import select
from vacances_scolaires_france import SchoolHolidayDates

from scheduler_app.models import CentreCalendar, ClosureDay, Slot
from scheduler_app.services import ServiceError
from scheduler_app.services.availability import WeeklyPlan, materialise, save_rule
from scheduler_app.services.booking import book_slot
from scheduler_app.services.centre_calendar import (
    add_closure_day,
    remove_closure_day,
    save_calendar_settings,
    school_year,
    term_end,
)
from scheduler_app.services.mediation import MediationPlan, plan_mediation
from scheduler_app.services.slots import SlotPlan, open_slots

PARIS = ZoneInfo("Europe/Paris")
SUMMER_2026 = datetime(2026, 8, 20, 9, 0, tzinfo=UTC)
FIRST_DAY, LAST_DAY = date(2026, 9, 1), date(2027, 7, 2)
SCHOOL_DATES = SchoolHolidayDates()


def weekdays_rule(db, tutor, **changes):
    """Monday to Friday at 17:00, one 45-minute session, over the 2026–2027 school year."""
    fields = dict(activity_id=HOMEWORK, weekdays=("MO", "TU", "WE", "TH", "FR"), start_time=time(17, 0),
                  end_time=time(17, 45), session_minutes=45, valid_from=FIRST_DAY, valid_until=LAST_DAY)
    return save_rule(db, tutor, WeeklyPlan(**{**fields, **changes})).rule


def session_days(db, tutor) -> set[date]:
    look_again(db)
    return {slot.starts_at.astimezone(PARIS).date() for slot in db.scalars(
        select(Slot).where(Slot.tutor_id == tutor.id, Slot.status == "open"))}


def school_days() -> list[date]:
    days, day = [], FIRST_DAY
    while day <= LAST_DAY:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


@pytest.mark.parametrize("zone", ["A", "B", "C"])
def test_the_school_year_2026_2027_skips_the_zones_holidays_and_the_public_holidays(db, frozen_clock, zone):
    frozen_clock(SUMMER_2026)
    save_calendar_settings(db, zone, "")
    tutor = make_tutor(db)
    weekdays_rule(db, tutor)
    materialise(db, SUMMER_2026, weeks=52)

    public = holidays.France(years=(2026, 2027))
    expected = {day for day in school_days()
                if not SCHOOL_DATES.is_holiday_for_zone(day, zone) and day not in public}
    assert session_days(db, tutor) == expected
    # The zones differ in winter and spring: a day in this zone's holidays is open in another's.
    own_holidays = {day for day in school_days() if SCHOOL_DATES.is_holiday_for_zone(day, zone)}
    others = {other: {day for day in own_holidays if not SCHOOL_DATES.is_holiday_for_zone(day, other)}
              for other in "ABC" if other != zone}
    assert all(others.values()), others
    assert not own_holidays & session_days(db, tutor)
    # Armistice day (a Wednesday in 2026) and Easter Monday 2027 are not school holidays anywhere.
    for day, name in public.items():
        if FIRST_DAY <= day <= LAST_DAY and day.weekday() < 5:
            assert day not in session_days(db, tutor), name


def test_alsace_moselle_keeps_good_friday_and_mainland_france_does_not(db, frozen_clock):
    frozen_clock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    local_only = [day for day in holidays.France(subdiv="57", years=2027)
                  if day not in holidays.France(years=2027)]
    good_friday = min(local_only)  # then 26 December
    assert good_friday.weekday() == 4
    save_calendar_settings(db, "B", "")
    tutor = make_tutor(db)
    weekdays_rule(db, tutor, weekdays=("FR",), valid_from=date(2027, 3, 1))
    assert good_friday in session_days(db, tutor)

    save_calendar_settings(db, "B", "57")

    assert good_friday not in session_days(db, tutor)
    assert good_friday - timedelta(days=7) in session_days(db, tutor)


def test_a_closure_day_removes_its_free_sessions_keeps_booked_ones_and_can_be_undone(db, frozen_clock):
    frozen_clock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    save_calendar_settings(db, "C", "")
    tutor = make_tutor(db)
    weekdays_rule(db, tutor, weekdays=("WE",), start_time=time(14, 0), end_time=time(15, 30),
                  valid_from=date(2027, 3, 1))
    closing = date(2027, 3, 10)
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    first, second = [slot for slot in db.scalars(select(Slot).order_by(Slot.starts_at))
                     if slot.starts_at.astimezone(PARIS).date() == closing]
    book_slot(db, second.id, adam, parent)

    still_booked = add_closure_day(db, closing, "Formation de l'équipe", date(2027, 3, 1))

    assert [slot.id for slot in still_booked] == [second.id]
    look_again(db)
    assert db.get(Slot, first.id) is None  # never booked: gone
    assert db.get(Slot, second.id).status == "open"  # booked: kept for the coordinator to decide
    materialise(db, datetime(2027, 3, 2, 9, 0, tzinfo=UTC))
    assert [slot.id for slot in db.scalars(select(Slot)) if slot.starts_at.astimezone(PARIS).date() == closing] \
        == [second.id]

    [closure] = db.scalars(select(ClosureDay))
    remove_closure_day(db, closure.id)

    look_again(db)
    starts = sorted(slot.starts_at.astimezone(PARIS).time() for slot in db.scalars(select(Slot))
                    if slot.starts_at.astimezone(PARIS).date() == closing)
    assert starts == [time(14, 0), time(14, 45)]


def test_a_closure_day_in_the_past_or_twice_is_refused_and_changes_nothing(db, frozen_clock):
    frozen_clock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    with pytest.raises(ServiceError, match="déjà passé"):
        add_closure_day(db, date(2027, 2, 28), "", date(2027, 3, 1))
    add_closure_day(db, date(2027, 3, 12), "", date(2027, 3, 1))
    with pytest.raises(ServiceError, match="déjà fermé"):
        add_closure_day(db, date(2027, 3, 12), "encore", date(2027, 3, 1))
    look_again(db)
    assert [(closure.day, closure.reason) for closure in db.scalars(select(ClosureDay))] == [(date(2027, 3, 12), "")]
    with pytest.raises(ServiceError, match="zone A, B ou C"):
        save_calendar_settings(db, "D", "")
    with pytest.raises(ServiceError, match="région"):
        save_calendar_settings(db, "A", "2A")  # Corsica: closure days, not a subdivision
    assert db.get(CentreCalendar, 1) is None


def test_a_session_opened_on_a_closure_day_is_refused_with_the_day_and_why(db, frozen_clock):
    frozen_clock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    save_calendar_settings(db, "C", "")
    tutor = make_tutor(db)
    add_closure_day(db, date(2027, 3, 10), "Formation de l'équipe", date(2027, 3, 1))
    wednesday = SlotPlan(activity_id=HOMEWORK, day=date(2027, 3, 10), start_time=time(14, 0), duration_minutes=45)

    with pytest.raises(ServiceError, match="Le centre est fermé le 2027-03-10 : Formation de l'équipe.") as refused:
        open_slots(db, tutor, wednesday, "Europe/Paris")
    assert refused.value.field == "day"
    with pytest.raises(ServiceError, match="fermé le 2027-03-10") as refused:  # the second of three weeks
        open_slots(db, tutor, replace(wednesday, day=date(2027, 3, 3), weeks=3), "Europe/Paris")
    assert refused.value.field == "weeks"
    mediator = make_tutor(db, "Ousmane Diallo", mediator=True)
    parent, _ = make_family(db, "Fatima Haddou")
    with pytest.raises(ServiceError, match="fermé le 2027-03-10") as refused:
        plan_mediation(db, mediator, MediationPlan(activity_id=MEDIATION, day=date(2027, 3, 10),
                                                   start_time=time(10, 0), minutes=45, party_ids=(parent.id,),
                                                   separate=True, joint=False), "Europe/Paris")
    assert refused.value.field == "day"
    look_again(db)
    assert db.scalars(select(Slot)).all() == []

    # Public and school holidays are only skipped by weekly availability: a session the tutor
    # chooses for one is meant (8 May, and a day of zone C's spring holidays).
    spring = min(day for day in SCHOOL_DATES.holidays_for_year_and_zone(2027, "C") if day.month == 4)
    assert date(2027, 5, 8) in holidays.France(years=2027)
    for day in (date(2027, 5, 8), spring):
        open_slots(db, tutor, replace(wednesday, day=day), "Europe/Paris")
    assert len(session_days(db, tutor)) == 2


def test_the_tutors_form_says_the_centre_is_closed_that_day_and_keeps_what_was_typed(client, db, frozen_clock):
    frozen_clock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    add_closure_day(db, date(2027, 3, 10), "Formation de l'équipe", date(2027, 3, 1))
    tutor = make_tutor(db)
    login(client, tutor.email)
    page = client.get("/slots/new").get_data(as_text=True)
    response = client.post("/slots/new", data={
        "activity_id": str(HOMEWORK), "day": "2027-03-10", "start_time": "16:30", "duration_minutes": "60",
        "capacity": "2", "subject": "maths", "level": "college", "in_a_row": "1", "weeks": "1",
        "csrf_token": csrf_token(page)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Le centre est fermé le 10 mars 2027 : Formation de l&#39;équipe. Choisissez un autre jour." in html
    assert 'value="2027-03-10"' in html and 'value="16:30"' in html and 'value="60"' in html and 'value="2"' in html
    assert 'aria-invalid="true"' in html
    look_again(db)
    assert db.scalars(select(Slot)).all() == []


@pytest.mark.parametrize("zone", ["A", "B", "C"])
def test_the_school_year_and_its_terms_end_where_the_zones_holidays_begin(zone):
    summer = min(day for day in SCHOOL_DATES.data if day.year == 2027 and day.month >= 6
                 and SCHOOL_DATES.is_holiday_for_zone(day, zone))
    assert school_year(zone, date(2026, 11, 4)) == (FIRST_DAY, summer - timedelta(days=1))
    assert school_year(zone, date(2026, 8, 20)) == (FIRST_DAY, summer - timedelta(days=1))
    christmas = term_end(zone, date(2026, 11, 4)) + timedelta(days=1)
    assert SCHOOL_DATES.data[christmas]["nom_vacances"] == "Vacances de Noël"
    assert not SCHOOL_DATES.is_holiday_for_zone(christmas - timedelta(days=1), zone)
    spring = term_end(zone, date(2027, 1, 6)) + timedelta(days=1)
    assert SCHOOL_DATES.data[spring]["nom_vacances"] == "Vacances de printemps"
    assert SCHOOL_DATES.is_holiday_for_zone(spring, zone)
    assert term_end(zone, date(2027, 5, 3)) == summer - timedelta(days=1)


def test_the_coordinator_sets_the_zone_and_closes_a_day_on_the_calendar_page(client, db, frozen_clock):
    frozen_clock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    login(client, coordinator.email)
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert "Choisissez la zone de vacances scolaires du centre" in page

    response = client.post("/admin/calendar", follow_redirects=True, data={
        "holiday_zone": "Z", "public_holidays": "", "csrf_token": csrf_token(page)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="error" id="holiday_zone-error">Choisissez la zone A, B ou C.' in html
    assert db.get(CentreCalendar, 1) is None

    response = client.post("/admin/calendar", follow_redirects=True, data={
        "holiday_zone": "A", "public_holidays": "6AE", "csrf_token": csrf_token(page)})
    assert "Le calendrier du centre est enregistré." in response.get_data(as_text=True)
    look_again(db)
    assert (db.get(CentreCalendar, 1).holiday_zone, db.get(CentreCalendar, 1).public_holidays) == ("A", "6AE")

    response = client.post("/admin/calendar/closures", data={
        "day": "2027-02-30", "reason": "Pont", "csrf_token": csrf_token(page)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Pont" in html  # the form again, the input kept
    assert db.scalars(select(ClosureDay)).all() == []

    response = client.post("/admin/calendar/closures", follow_redirects=True, data={
        "day": "2027-03-19", "reason": "Pont de printemps", "csrf_token": csrf_token(page)})
    html = response.get_data(as_text=True)
    assert "Jour de fermeture ajouté." in html and "Pont de printemps" in html
    look_again(db)
    [closure] = db.scalars(select(ClosureDay))
    response = client.post(f"/admin/calendar/closures/{closure.id}/remove", follow_redirects=True,
                           data={"csrf_token": csrf_token(page)})
    assert "de nouveau ouvert" in response.get_data(as_text=True)
    look_again(db)
    assert db.scalars(select(ClosureDay)).all() == []


def test_families_and_tutors_cannot_open_the_centres_calendar(client, db):
    parent, _ = make_family(db, "Fatima Haddou")
    login(client, parent.email)
    assert client.get("/admin/calendar").status_code == 403
