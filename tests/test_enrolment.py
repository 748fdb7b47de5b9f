"""A family books a child every Wednesday at 14:00 with the same tutor until the end of the term,
in one step: each week is a real booking; the weeks that cannot be booked are said, with why."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from conftest import csrf_token
from factories import HOMEWORK, login, look_again, make_family, make_person, make_tutor
from sqlalchemy import func, select
from vacances_scolaires_france import SchoolHolidayDates

from scheduler_app.models import Booking, Enrolment, EnrolmentOccurrence, JoinToken, Notification, Slot
from scheduler_app.services import ServiceError
from scheduler_app.services.availability import WeeklyPlan, save_rule
from scheduler_app.services.booking import book_slot, cancel_booking
from scheduler_app.services.centre_calendar import save_calendar_settings
from scheduler_app.services.enrolment import cancel_weeks_to_come, enrol, weeks_of

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # back from the All Saints' holidays
FIRST_WEDNESDAY = date(2026, 11, 4)


def wednesdays_until(last: date) -> list[date]:
    days, day = [], FIRST_WEDNESDAY
    while day <= last:
        days.append(day)
        day += timedelta(weeks=1)
    return days


def christmas_eve_of_term() -> date:
    """The last school day before the Christmas holidays of zone C, from the package."""
    dates = SchoolHolidayDates()
    first = min(day for day in dates.data if day > FIRST_WEDNESDAY and dates.is_holiday_for_zone(day, "C"))
    assert dates.data[first]["nom_vacances"] == "Vacances de Noël"
    return first - timedelta(days=1)


@pytest.fixture
def centre(db, frozen_clock):
    frozen_clock(MONDAY)
    save_calendar_settings(db, "C", "")
    tutor = make_tutor(db)
    save_rule(db, tutor, WeeklyPlan(activity_id=HOMEWORK, weekdays=("WE",), start_time=time(14, 0),
                                    end_time=time(14, 45), session_minutes=45, valid_from=date(2026, 9, 1),
                                    subject="maths", level="college"))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    parent.phone, parent.notify_by = "+33612345678", "both"
    db.commit()
    first = db.scalar(select(Slot).order_by(Slot.starts_at))
    assert first.starts_at.astimezone(PARIS).date() == FIRST_WEDNESDAY
    return {"tutor": tutor, "parent": parent, "adam": adam, "first": first}


def slot_on(db, day: date) -> Slot:
    return db.scalar(select(Slot).where(Slot.starts_at == datetime.combine(day, time(14, 0), PARIS)))


def test_every_wednesday_until_the_end_of_term_books_each_week_and_says_which_weeks_are_missing(db, centre):
    term_end = christmas_eve_of_term()
    armistice = next(day for day, name in holidays.France(years=2026).items() if (day.month, day.day) == (11, 11))
    assert armistice.weekday() == 2  # a Wednesday in 2026: that week has no session

    result = enrol(db, centre["first"].id, centre["adam"], centre["parent"], term_end, "les fractions")

    expected = [day for day in wednesdays_until(term_end) if day != armistice]
    assert [booking.starts_at.astimezone(PARIS).date() for booking in result.booked] == expected
    assert [(missed.day, missed.reason) for missed in result.missed] == [
        (armistice, "Le centre est fermé : Armistice.")]
    look_again(db)
    bookings = db.scalars(select(Booking).order_by(Booking.starts_at)).all()
    assert {(b.student_id, b.topic, b.status) for b in bookings} == {(centre["adam"].id, "les fractions", "confirmed")}
    assert [b.id for b in weeks_of(db, db.get(Enrolment, result.enrolment.id))] == [b.id for b in bookings]
    # Each week is a real booking: its own join links (Adam and his mother) and its reminders.
    for booking in bookings:
        links = db.scalar(select(func.count()).select_from(JoinToken).where(JoinToken.booking_id == booking.id))
        reminders = db.scalars(select(Notification.kind).where(Notification.booking_id == booking.id,
                                                               Notification.kind.like("reminder_%"))).all()
        assert links == 2 and set(reminders) == {"reminder_24h", "reminder_1h"}
    # The first week is confirmed on every channel; the next ones by email, with their invitations.
    confirmations = db.execute(select(Notification.booking_id, Notification.channel).where(
        Notification.kind == "booking_confirmed", Notification.recipient_id == centre["parent"].id)).all()
    assert {channel for booking_id, channel in confirmations if booking_id == bookings[0].id} == {"email", "sms"}
    assert {channel for booking_id, channel in confirmations if booking_id != bookings[0].id} == {"email"}
    assert len(confirmations) == len(bookings) + 1


def test_a_full_week_and_a_clash_are_reported_and_the_other_weeks_booked(db, centre):
    term_end = christmas_eve_of_term()
    other_parent, [lea] = make_family(db, "Jean Petit", "Léa Petit")
    full_day, clash_day = date(2026, 11, 18), date(2026, 11, 25)
    full_day_slot = slot_on(db, full_day)
    assert full_day_slot is not None
    book_slot(db, full_day_slot.id, lea, other_parent)
    # Adam already has a session with another tutor at that time on 25 November.
    claire = make_tutor(db, "Claire Martin")
    save_rule(db, claire, WeeklyPlan(activity_id=HOMEWORK, weekdays=("WE",), start_time=time(14, 0),
                                     end_time=time(14, 45), session_minutes=45, valid_from=clash_day,
                                     valid_until=clash_day))
    claire_slot = db.scalar(select(Slot).where(Slot.tutor_id == claire.id))
    book_slot(db, claire_slot.id, centre["adam"], centre["parent"])

    result = enrol(db, centre["first"].id, centre["adam"], centre["parent"], term_end)

    reasons = {missed.day: missed.reason for missed in result.missed}
    assert reasons[full_day] == "Quelqu'un d'autre vient de prendre cette séance."
    assert reasons[clash_day] == "Cet élève a déjà une séance à ce moment-là."
    booked_days = {booking.starts_at.astimezone(PARIS).date() for booking in result.booked}
    assert booked_days | set(reasons) == set(wednesdays_until(term_end))
    assert not booked_days & set(reasons)


@pytest.mark.parametrize("last_day, message", [
    (date(2026, 11, 3), "La date de fin doit venir après la première séance"),
    (date(2027, 7, 20), "L'année scolaire finit le"),
])
def test_an_enrolment_ending_before_it_starts_or_after_the_school_year_changes_nothing(db, centre, last_day, message):
    slots_before = db.scalar(select(func.count()).select_from(Slot))
    with pytest.raises(ServiceError, match=message) as refused:
        enrol(db, centre["first"].id, centre["adam"], centre["parent"], last_day)
    assert refused.value.field == "last_day"
    look_again(db)
    assert db.scalar(select(func.count()).select_from(Enrolment)) == 0
    assert db.scalar(select(func.count()).select_from(Booking)) == 0
    assert db.scalar(select(func.count()).select_from(Slot)) == slots_before


def test_a_family_cancels_one_week_then_all_the_weeks_to_come(db, centre, frozen_clock):
    result = enrol(db, centre["first"].id, centre["adam"], centre["parent"], christmas_eve_of_term())
    first, second, *rest = result.booked
    cancel_booking(db, second)
    frozen_clock(first.starts_at + timedelta(minutes=10))  # the first week has started

    cancelled = cancel_weeks_to_come(db, db.get(Enrolment, result.enrolment.id))

    assert [booking.id for booking in cancelled] == [booking.id for booking in rest]
    look_again(db)
    assert db.get(Booking, first.id).status == "confirmed"  # started: kept
    assert {db.get(Booking, booking.id).status for booking in [second, *rest]} == {"cancelled"}
    assert {slot.booked for slot in db.scalars(select(Slot)) if slot.starts_at > first.starts_at} == {0}
    with pytest.raises(ServiceError, match="Il n'y a plus de séance à venir"):
        cancel_weeks_to_come(db, db.get(Enrolment, result.enrolment.id))


def test_a_one_off_slot_or_a_centre_without_a_zone_cannot_be_booked_every_week(db, centre, frozen_clock):
    from factories import make_slot

    one_off = make_slot(db, centre["tutor"], starts_in=timedelta(days=3))
    with pytest.raises(ServiceError, match="ne revient pas chaque semaine"):
        enrol(db, one_off.id, centre["adam"], centre["parent"], date(2026, 12, 1))
    look_again(db)
    db.execute(Enrolment.__table__.delete())
    from scheduler_app.models import CentreCalendar

    db.execute(CentreCalendar.__table__.delete())
    db.commit()
    with pytest.raises(ServiceError, match="zone de vacances scolaires"):
        enrol(db, centre["first"].id, centre["adam"], centre["parent"], date(2026, 12, 1))


def test_a_parent_books_every_wednesday_from_the_slot_page_and_cancels_the_rest(client, db, centre):
    login(client, centre["parent"].email)
    html = client.get(f"/slots/{centre['first'].id}/book").get_data(as_text=True)
    assert "Réserver chaque semaine à cette heure" in html
    page = client.get(f"/slots/{centre['first'].id}/every-week").get_data(as_text=True)
    assert "Chaque mercredi à 14\u00a0h\u00a000" in page
    token = csrf_token(page)

    response = client.post(f"/slots/{centre['first'].id}/every-week", data={
        "student_id": str(centre["adam"].id), "until": "date", "last_day": "2026-11-01", "topic": "la lecture",
        "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "La date de fin doit venir après la première séance" in html
    assert "la lecture" in html  # the form again, with what was typed
    assert db.scalar(select(func.count()).select_from(Booking)) == 0

    response = client.post(f"/slots/{centre['first'].id}/every-week", data={
        "student_id": str(centre["adam"].id), "until": "term", "topic": "la lecture", "csrf_token": token})
    html = response.get_data(as_text=True)
    booked = len(wednesdays_until(christmas_eve_of_term())) - 1
    assert f"{booked} séances réservées pour Adam Haddou" in html
    assert "1 semaine sans séance" in html and "Le centre est fermé : Armistice." in html
    look_again(db)
    enrolment = db.scalar(select(Enrolment))
    page = client.get(f"/enrolments/{enrolment.id}").get_data(as_text=True)
    assert page.count("Annuler cette séance") == booked
    response = client.post(f"/enrolments/{enrolment.id}/cancel", data={"csrf_token": csrf_token(page)},
                           follow_redirects=True)
    assert f"{booked} séances annulées" in response.get_data(as_text=True)
    look_again(db)
    assert set(db.scalars(select(Booking.status))) == {"cancelled"}
    assert db.scalar(select(func.count()).select_from(EnrolmentOccurrence)) == booked


def test_someone_elses_enrolment_is_refused(client, db, centre):
    result = enrol(db, centre["first"].id, centre["adam"], centre["parent"], date(2026, 11, 25))
    stranger, _ = make_family(db, "Jean Petit", "Léa Petit")
    login(client, stranger.email)
    assert client.get(f"/enrolments/{result.enrolment.id}").status_code == 403
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    client.get("/")
    from factories import logout

    logout(client)
    login(client, coordinator.email)
    assert client.get(f"/enrolments/{result.enrolment.id}").status_code == 200


def test_each_week_is_its_own_calendar_event_and_one_cancelled_week_cancels_only_that_event(app, db, centre,
                                                                                           mail_server):
    """One event per week rather than one recurring event: a calendar app cancels or moves an
    event of its own (same UID, higher SEQUENCE) cleanly, with no RECURRENCE-ID override to read."""
    from calendar_reading import both_parsers

    from scheduler_app.worker import make_dispatcher

    result = enrol(db, centre["first"].id, centre["adam"], centre["parent"], date(2026, 11, 25))
    make_dispatcher(app).tick()
    cancel_booking(db, result.booked[1])
    make_dispatcher(app).tick()

    events = []
    for message in mail_server.mailbox.to(centre["parent"].email):
        [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        ical, vcal = both_parsers(part.get_payload(decode=True))
        [event] = ical.walk("VEVENT")
        assert "RRULE" not in event and not hasattr(vcal.vevent, "rrule")
        assert str(event["UID"]) == vcal.vevent.uid.value
        events.append((str(ical["METHOD"]), str(event["UID"]), int(event["SEQUENCE"]), event.DTSTART))
    requests = [event for event in events if event[0] == "REQUEST"]
    cancels = [event for event in events if event[0] == "CANCEL"]
    assert len(requests) == len(result.booked) == 3  # 4, 18 and 25 November: the 11th is a holiday
    assert len({uid for _, uid, _, _ in requests}) == 3
    [(_, cancelled_uid, sequence, start)] = cancels
    [(_, booked_uid, booked_sequence, booked_start)] = [event for event in requests
                                                        if event[3] == result.booked[1].starts_at]
    assert (cancelled_uid, start) == (booked_uid, booked_start) and sequence > booked_sequence


def test_a_child_under_15_without_a_parents_approval_is_not_enrolled_and_nothing_changes(db, centre):
    """Merged rule (services/consent.py): every week is refused up front, not week by week."""
    lea = make_person(db, "student", "Léa Petit", birth_year=2014)
    term_end = christmas_eve_of_term()

    with pytest.raises(ServiceError, match="un parent doit donner son accord"):
        enrol(db, centre["first"].id, lea, lea, term_end)

    look_again(db)
    assert db.scalar(select(func.count()).select_from(Enrolment)) == 0
    assert db.scalar(select(func.count()).select_from(Booking)) == 0


def test_a_mediation_is_never_booked_every_week(db, centre, frozen_clock):
    from factories import MEDIATION, make_slot

    mediator = make_tutor(db, "Ousmane Diallo", mediator=True)
    mediation = make_slot(db, mediator, activity_id=MEDIATION, subject="", level="")

    with pytest.raises(ServiceError, match="médiation est pour un adulte"):
        enrol(db, mediation.id, centre["adam"], centre["parent"], christmas_eve_of_term())

    look_again(db)
    assert db.scalar(select(func.count()).select_from(Enrolment)) == 0
