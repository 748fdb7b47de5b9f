"""'Add to my calendar': each person downloads a session with their own join link, and only
their own sessions."""

from datetime import UTC, datetime, timedelta

import pytest
from calendar_reading import both_parsers, unfolded
from factories import login, make_family, make_person, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import JoinToken
from scheduler_app.services.booking import book_slot, cancel_booking

PUBLIC = "https://lien.example.org"


@pytest.fixture
def family_booking(app, db, frozen_clock):
    """Adam, booked by his mother Fatima, with Karim on Wednesday 3 March 2027 at 14:00 Paris."""
    app.config.update(PUBLIC_URL=PUBLIC, MAIL_FROM="Centre social Lien <lien@centre.example.org>")
    frozen_clock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    slot = make_slot(db, tutor, starts_in=timedelta(days=2, hours=4))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    booking = book_slot(db, slot.id, adam, parent, "les fractions")
    return {"tutor": tutor, "slot": slot, "parent": parent, "student": adam, "booking": booking}


def own_link(db, person, slot, booking=None) -> str:
    """The person's /j/ link to the session (a tutor's has no booking)."""
    for_booking = JoinToken.booking_id == booking.id if booking else JoinToken.booking_id.is_(None)
    token = db.scalar(select(JoinToken.token).where(
        JoinToken.user_id == person.id, JoinToken.slot_id == slot.id, for_booking))
    assert token
    return f"{PUBLIC}/j/{token}"


def test_a_parent_downloads_their_childs_session_with_their_own_join_link(client, db, family_booking):
    parent, slot, booking = family_booking["parent"], family_booking["slot"], family_booking["booking"]
    login(client, parent.email)

    response = client.get(f"/sessions/{booking.id}/calendar.ics")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    ical, vcal = both_parsers(response.data)
    [event] = ical.walk("VEVENT")
    vevent = vcal.vevent
    parent_link = own_link(db, parent, slot, booking)
    assert ical["METHOD"] == vcal.method.value == "PUBLISH"
    assert str(event["UID"]) == vevent.uid.value == f"{booking.calendar_uid}@centre.example.org"
    assert event["URL"] == vevent.url.value == parent_link
    assert parent_link in vevent.description.value and "Pour Adam Haddou" in vevent.description.value
    assert datetime(2027, 3, 3, 13, 0, tzinfo=UTC) == event.DTSTART
    assert vevent.dtstart.value.hour == event.DTSTART.hour == 14  # Paris wall time, with its TZID
    assert str(event["SUMMARY"]) == vevent.summary.value == "Aide aux devoirs — Mathématiques avec Karim Haddad"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["ORGANIZER"] == "mailto:lien@centre.example.org"
    assert "ATTENDEE" not in event  # a PUBLISH invites nobody (RFC 5546 §3.2.1)
    assert [alarm["TRIGGER"].dt for alarm in event.walk("VALARM")] == [timedelta(minutes=-15)]
    # The join link is the parent's own, never the child's nor a signed room address.
    assert own_link(db, family_booking["student"], slot, booking) not in unfolded(response.data)
    assert "jwt=" not in unfolded(response.data) and "meet.example.org" not in unfolded(response.data)


def test_a_student_downloads_their_session_with_their_own_link(client, db, frozen_clock):
    frozen_clock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    slot = make_slot(db, make_tutor(db), subject="")
    yasmine = make_person(db, "student", "Yasmine Haddou")
    booking = book_slot(db, slot.id, yasmine, yasmine)
    login(client, yasmine.email)

    response = client.get(f"/sessions/{booking.id}/calendar.ics")

    ical, vcal = both_parsers(response.data)
    [event] = ical.walk("VEVENT")
    token = db.scalar(select(JoinToken.token).where(JoinToken.user_id == yasmine.id))
    assert event["URL"].endswith(f"/j/{token}") and vcal.vevent.url.value == event["URL"]
    assert str(event["SUMMARY"]) == "Aide aux devoirs avec Karim Haddad"  # no subject, said whole
    assert "Yasmine" not in vcal.vevent.description.value  # her own session needs no "for whom"


def test_a_tutor_downloads_a_slot_with_who_booked_it_and_their_moderator_link(client, db, family_booking):
    tutor, slot = family_booking["tutor"], family_booking["slot"]
    login(client, tutor.email)

    response = client.get(f"/slots/{slot.id}/calendar.ics")

    assert response.status_code == 200
    ical, vcal = both_parsers(response.data)
    [event] = ical.walk("VEVENT")
    assert str(event["UID"]) == vcal.vevent.uid.value == f"{slot.calendar_uid}@centre.example.org"
    assert event["URL"] == vcal.vevent.url.value == own_link(db, tutor, slot)
    assert "Participants : Adam Haddou" in vcal.vevent.description.value
    assert str(event["SUMMARY"]) == "Aide aux devoirs — Mathématiques"


def test_a_cancelled_session_downloads_as_cancelled(client, db, family_booking):
    cancel_booking(db, family_booking["booking"])
    login(client, family_booking["parent"].email)

    response = client.get(f"/sessions/{family_booking['booking'].id}/calendar.ics")

    ical, vcal = both_parsers(response.data)
    assert str(ical.walk("VEVENT")[0]["STATUS"]) == vcal.vevent.status.value == "CANCELLED"
    assert int(vcal.vevent.sequence.value) == 1


def test_every_session_page_offers_the_download(client, db, family_booking):
    booking = family_booking["booking"]
    login(client, family_booking["parent"].email)
    link = f'href="/sessions/{booking.id}/calendar.ics"'
    assert link in client.get(f"/sessions/{booking.id}").get_data(as_text=True)
    assert link in client.get("/sessions").get_data(as_text=True)


def test_the_tutors_session_page_offers_the_download(app, db, family_booking):
    client = app.test_client()
    login(client, family_booking["tutor"].email)
    slot_id = family_booking["slot"].id
    assert f'href="/slots/{slot_id}"' in client.get("/slots/mine").get_data(as_text=True)
    assert f'href="/slots/{slot_id}/calendar.ics"' in client.get(f"/slots/{slot_id}").get_data(as_text=True)


def test_nobody_downloads_someone_elses_session(app, db, family_booking):
    booking, slot = family_booking["booking"], family_booking["slot"]
    other_parent, _ = make_family(db, "Jean Petit", "Léa Petit")
    other_tutor = make_tutor(db, "Claire Martin")
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    expectations = [
        (other_parent, f"/sessions/{booking.id}/calendar.ics", 403),
        (other_parent, "/sessions/999999/calendar.ics", 404),
        (other_tutor, f"/slots/{slot.id}/calendar.ics", 403),
        (other_tutor, "/slots/999999/calendar.ics", 404),
        (family_booking["parent"], f"/slots/{slot.id}/calendar.ics", 403),  # a family has no tutor's entry
        (family_booking["tutor"], f"/sessions/{booking.id}/calendar.ics", 403),
        (coordinator, f"/sessions/{booking.id}/calendar.ics", 403),  # no join link of their own
    ]
    for person, url, status in expectations:
        client = app.test_client()
        login(client, person.email)
        assert client.get(url).status_code == status, (person.name, url)
    anonymous = app.test_client().get(f"/sessions/{booking.id}/calendar.ics")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
