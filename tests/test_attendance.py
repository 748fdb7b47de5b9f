"""After a session the tutor marks who came and leaves a note the next tutor reads."""

from datetime import UTC, datetime, timedelta

import pytest
from conftest import csrf_token
from factories import login, look_again, make_family, make_slot, make_tutor

from scheduler_app.models import Booking
from scheduler_app.services import ServiceError
from scheduler_app.services.attendance import mark
from scheduler_app.services.booking import book_slot


@pytest.fixture
def session_done(db, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    karim = make_tutor(db)
    first = make_slot(db, karim, starts_in=timedelta(days=1))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    booking = book_slot(db, first.id, adam, parent, "les fractions")
    claire = make_tutor(db, "Claire Martin")
    second = make_slot(db, claire, starts_in=timedelta(days=5))
    book_slot(db, second.id, adam, parent)
    frozen_clock(first.ends_at + timedelta(minutes=5))
    return {"karim": karim, "claire": claire, "booking": booking, "adam": adam, "second": second}


def test_a_tutor_marks_a_student_present_with_a_note_and_the_next_tutor_reads_it(client, db, session_done):
    login(client, session_done["karim"].email)
    html = client.get("/slots/mine").get_data(as_text=True)
    assert "1 séance passée à marquer" in html and 'href="/slots/to-mark"' in html
    html = client.get("/slots/to-mark").get_data(as_text=True)
    assert "Adam Haddou" in html
    prefix = f"b{session_done['booking'].id}-"
    response = client.post(f"/slots/bookings/{session_done['booking'].id}/attendance", follow_redirects=True, data={
        prefix + "presence": "present", prefix + "note": "a travaillé les fractions, revoir les divisions",
        prefix + "csrf_token": csrf_token(html)})
    html = response.get_data(as_text=True)
    assert "Présence de Adam Haddou enregistrée" in html and "Tout est marqué" in html
    assert "à marquer" not in client.get("/slots/mine").get_data(as_text=True)
    look_again(db)
    saved = db.get(Booking, session_done["booking"].id)
    assert saved.status == "attended" and saved.tutor_note.startswith("a travaillé les fractions")
    client.delete_cookie("session")
    login(client, session_done["claire"].email)
    html = client.get("/slots/mine").get_data(as_text=True)
    assert "revoir les divisions" not in html  # notes are on the session's own page
    html = client.get(f"/slots/{session_done['second'].id}").get_data(as_text=True)
    assert "revoir les divisions" in html and "Karim Haddad" in html and "Adam Haddou" in html


def test_attendance_cannot_be_marked_before_the_session(db, session_done, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    with pytest.raises(ServiceError, match="pas encore commencé"):
        mark(db, session_done["booking"], present=True)


def test_a_missing_choice_is_explained_and_the_note_kept(client, db, session_done):
    login(client, session_done["karim"].email)
    html = client.get("/slots/to-mark").get_data(as_text=True)
    prefix = f"b{session_done['booking'].id}-"
    response = client.post(f"/slots/bookings/{session_done['booking'].id}/attendance", data={
        prefix + "note": "note gardée", prefix + "csrf_token": csrf_token(html)})
    html = response.get_data(as_text=True)
    assert "Choisissez présent ou absent." in html and "note gardée" in html
    assert "<h1>Présences et notes</h1>" in html


def test_another_tutor_cannot_mark_my_student(client, db, session_done):
    login(client, session_done["claire"].email)
    html = client.get("/slots/mine").get_data(as_text=True)
    prefix = f"b{session_done['booking'].id}-"
    response = client.post(f"/slots/bookings/{session_done['booking'].id}/attendance", data={
        prefix + "presence": "absent", prefix + "csrf_token": csrf_token(html)})
    assert response.status_code == 403
    look_again(db)
    assert db.get(Booking, session_done["booking"].id).status == "confirmed"


def test_the_sessions_to_come_are_shown_day_by_day(client, db, session_done):
    login(client, session_done["claire"].email)
    html = client.get("/slots/mine").get_data(as_text=True)
    assert "Mes prochaines séances" in html and "samedi 16 janvier" in html  # Claire's, on the fifth day
    assert "Adam Haddou" in html and f'href="/slots/{session_done["second"].id}"' in html
    assert "à marquer" not in html  # nothing of Claire's to mark


def test_a_refused_correction_of_a_session_already_marked_is_still_explained(client, db, session_done):
    mark(db, session_done["booking"], present=True, note="vu")
    login(client, session_done["karim"].email)
    html = client.get("/slots/to-mark").get_data(as_text=True)
    assert f'id="booking-{session_done["booking"].id}"' not in html  # nothing left to mark there
    prefix = f"b{session_done['booking'].id}-"
    response = client.post(f"/slots/bookings/{session_done['booking'].id}/attendance", data={
        prefix + "note": "corrigée", prefix + "csrf_token": csrf_token(html)})
    assert "Choisissez présent ou absent." in response.get_data(as_text=True)
    look_again(db)
    assert db.get(Booking, session_done["booking"].id).tutor_note == "vu"
