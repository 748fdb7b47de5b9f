"""Students and parents book, see and cancel sessions; the rules hold."""

from datetime import timedelta

import pytest
from conftest import csrf_token
from factories import login, look_again, make_family, make_person, make_slot, make_tutor
from sqlalchemy import func, select

from scheduler_app.models import Booking, JoinToken, Slot
from scheduler_app.services import ServiceError
from scheduler_app.services.booking import book_slot, cancel_booking


def _book_through_page(client, slot_id, **fields):
    page = client.get(f"/slots/{slot_id}/book")
    assert page.status_code == 200
    data = {"topic": "les fractions", "csrf_token": csrf_token(page.get_data(as_text=True))}
    data.update(fields)
    return client.post(f"/slots/{slot_id}/book", data=data, follow_redirects=True)


def test_a_student_books_a_slot_and_sees_it_with_a_join_link(client, db):
    slot = make_slot(db, make_tutor(db), subject="maths")
    student = make_person(db, "student", "Yasmine Haddou")
    login(client, student.email)
    browse = client.get("/slots").get_data(as_text=True)
    assert f"/slots/{slot.id}/book" in browse and "Karim Haddad" in browse
    html = _book_through_page(client, slot.id).get_data(as_text=True)
    assert "C&#39;est réservé" in html or "C'est réservé" in html
    token = db.scalar(select(JoinToken.token).where(JoinToken.user_id == student.id))
    assert f"/j/{token}" in html
    booking = db.scalar(select(Booking).where(Booking.student_id == student.id))
    assert booking.topic == "les fractions" and booking.booked_by_id == student.id
    sessions = client.get("/sessions").get_data(as_text=True)
    assert f"/j/{token}" in sessions and "Rejoindre la séance" in sessions


def test_a_full_slot_is_not_offered_and_booking_it_shows_other_slots(client, db):
    tutor = make_tutor(db)
    full = make_slot(db, tutor, starts_in=timedelta(days=2))
    other = make_slot(db, tutor, starts_in=timedelta(days=3))
    first = make_person(db, "student", "Léa Petit")
    book_slot(db, full.id, first, first)
    late = make_person(db, "student", "Adam Haddou")
    login(client, late.email)
    assert f"/slots/{full.id}/book" not in client.get("/slots").get_data(as_text=True)
    response = _book_through_page(client, full.id)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "vient de prendre cette séance" in html
    assert f"/slots/{other.id}/book" in html
    assert db.scalar(select(func.count()).select_from(Booking).where(Booking.slot_id == full.id)) == 1


def test_a_student_cannot_take_two_places_in_one_slot(db):
    slot = make_slot(db, make_tutor(db), capacity=3)
    student = make_person(db, "student", "Yasmine Haddou")
    book_slot(db, slot.id, student, student)
    with pytest.raises(ServiceError, match="déjà une place"):
        book_slot(db, slot.id, student, student)
    assert db.get(Slot, slot.id).booked == 1


def test_a_student_cannot_hold_two_sessions_at_the_same_time(db):
    first = make_slot(db, make_tutor(db), starts_in=timedelta(days=2), minutes=60)
    overlapping = make_slot(db, make_tutor(db, "Claire Martin"), starts_in=timedelta(days=2, minutes=30))
    student = make_person(db, "student", "Yasmine Haddou")
    book_slot(db, first.id, student, student)
    with pytest.raises(ServiceError, match="déjà une séance"):
        book_slot(db, overlapping.id, student, student)
    look_again(db)
    assert db.get(Slot, overlapping.id).booked == 0


def test_cancelling_frees_the_place_and_allows_booking_again(client, db):
    slot = make_slot(db, make_tutor(db))
    student = make_person(db, "student", "Yasmine Haddou")
    booking = book_slot(db, slot.id, student, student)
    login(client, student.email)
    page = client.get("/sessions")
    response = client.post(f"/sessions/{booking.id}/cancel",
                           data={"csrf_token": csrf_token(page.get_data(as_text=True))}, follow_redirects=True)
    assert "La séance est annulée" in response.get_data(as_text=True)
    look_again(db)
    assert db.get(Booking, booking.id).status == "cancelled"
    assert db.get(Booking, booking.id).sequence == 1
    assert db.get(Slot, slot.id).booked == 0
    again = book_slot(db, slot.id, student, student)
    assert again.id != booking.id


def test_a_session_that_has_started_cannot_be_cancelled(db, frozen_clock):
    now = frozen_clock(__import__("datetime").datetime.now(__import__("datetime").UTC))
    slot = make_slot(db, make_tutor(db), starts_in=timedelta(hours=1))
    student = make_person(db, "student", "Yasmine Haddou")
    booking = book_slot(db, slot.id, student, student)
    frozen_clock(now + timedelta(hours=1, minutes=5))
    with pytest.raises(ServiceError, match="commencé"):
        cancel_booking(db, booking)


def test_a_parent_books_for_their_child_and_both_get_a_link(client, db):
    slot = make_slot(db, make_tutor(db))
    parent, [adam, yasmine] = make_family(db, "Fatima Haddou", "Adam Haddou", "Yasmine Haddou")
    login(client, parent.email)
    html = _book_through_page(client, slot.id, student_id=str(yasmine.id)).get_data(as_text=True)
    assert "Yasmine Haddou" in html
    booking = db.scalar(select(Booking))
    assert booking.student_id == yasmine.id and booking.booked_by_id == parent.id
    holders = set(db.scalars(select(JoinToken.user_id).where(JoinToken.booking_id == booking.id)))
    assert holders == {yasmine.id, parent.id}
    assert "Pour Yasmine Haddou" in client.get("/sessions").get_data(as_text=True)


def test_a_parent_cannot_book_for_another_familys_child(client, db):
    slot = make_slot(db, make_tutor(db))
    parent, _ = make_family(db, "Fatima Haddou", "Adam Haddou")
    _, [lea] = make_family(db, "Jean Petit", "Léa Petit")
    login(client, parent.email)
    response = _book_through_page(client, slot.id, student_id=str(lea.id))
    assert response.status_code == 200
    assert db.scalar(select(func.count()).select_from(Booking)) == 0
    with pytest.raises(ServiceError):
        book_slot(db, slot.id, lea, parent)


def test_nobody_sees_or_cancels_another_familys_session(client, db):
    slot = make_slot(db, make_tutor(db))
    _, [lea] = make_family(db, "Jean Petit", "Léa Petit")
    booking = book_slot(db, slot.id, lea, lea)
    stranger = make_person(db, "student", "Yasmine Haddou")
    login(client, stranger.email)
    assert client.get(f"/sessions/{booking.id}").status_code == 403
    page = client.get("/sessions")
    assert "Léa Petit" not in page.get_data(as_text=True)
    response = client.post(f"/sessions/{booking.id}/cancel", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 403
    look_again(db)
    assert db.get(Booking, booking.id).status == "confirmed"


def test_a_parent_without_children_is_asked_to_add_one_first(client, db):
    slot = make_slot(db, make_tutor(db))
    parent = make_person(db, "parent", "Fatima Haddou")
    login(client, parent.email)
    page = client.get(f"/slots/{slot.id}/book", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Ajouter un enfant" in html
    response = client.post("/children/new", data={"name": "Adam Haddou", "csrf_token": csrf_token(html)},
                           follow_redirects=True)
    assert "Adam Haddou est ajouté" in response.get_data(as_text=True)
    look_again(db)
    [adam] = parent.children
    booked = _book_through_page(client, slot.id, student_id=str(adam.id))
    assert booked.status_code == 200, booked.get_data(as_text=True)
    look_again(db)
    assert db.scalar(select(func.count()).select_from(Booking)) == 1


def test_slots_are_filtered_by_subject_level_language_and_day(client, db):
    karim = make_tutor(db, languages=("fr", "ar"))
    claire = make_tutor(db, "Claire Martin", languages=("fr", "en"))
    maths = make_slot(db, karim, subject="maths", level="college", starts_in=timedelta(days=2))
    english = make_slot(db, claire, subject="anglais", level="lycee", starts_in=timedelta(days=3))
    student = make_person(db, "student", "Yasmine Haddou")
    login(client, student.email)

    def offered(query):
        html = client.get("/slots?" + query).get_data(as_text=True)
        return {slot.id for slot in (maths, english) if f"/slots/{slot.id}/book" in html}

    assert offered("") == {maths.id, english.id}
    assert offered("subject=anglais") == {english.id}
    assert offered("level=college") == {maths.id}
    assert offered("language=ar") == {maths.id}
    assert offered("language=en&subject=maths") == set()
    from zoneinfo import ZoneInfo

    day = maths.starts_at.astimezone(ZoneInfo("Europe/Paris")).date().isoformat()
    assert offered(f"day={day}") == {maths.id}
    assert offered("day=not-a-date") == {maths.id, english.id}  # a bad filter shows everything


def test_a_tutors_profile_shows_what_they_teach_and_their_free_slots(client, db):
    tutor = make_tutor(db, subjects=("maths", "sciences"), levels=("college",), languages=("fr", "ar"))
    slot = make_slot(db, tutor)
    login(client, make_person(db, "student", "Yasmine Haddou").email)
    html = client.get(f"/tutors/{tutor.id}").get_data(as_text=True)
    assert "Mathématiques" in html and "Collège" in html and "Arabe" in html
    assert f"/slots/{slot.id}/book" in html
