"""Cancelling asks first, for families, tutors and coordinators alike; the reason given reaches
the tutor (or the families) and the coordinator; a coordinator can cancel one child's place."""

from datetime import timedelta

from conftest import csrf_token
from factories import login, look_again, make_family, make_person, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import Booking, Notification, Slot
from scheduler_app.services.booking import book_slot


def _two_children_in_one_session(db):
    tutor = make_tutor(db)
    slot = make_slot(db, tutor, starts_in=timedelta(days=2), capacity=2)
    parent, [adam, sara] = make_family(db, "Fatima Haddou", "Adam Haddou", "Sara Haddou")
    first = book_slot(db, slot.id, adam, parent)
    second = book_slot(db, slot.id, sara, parent)
    return tutor, slot, parent, first, second


def test_a_family_is_asked_first_and_its_reason_reaches_the_tutor(client, db):
    tutor, slot, parent, first, _ = _two_children_in_one_session(db)
    login(client, parent.email)
    sessions = client.get("/sessions").get_data(as_text=True)
    assert f'href="/sessions/{first.id}/cancel"' in sessions and 'action="/sessions/' not in sessions
    page = client.get(f"/sessions/{first.id}/cancel")
    html = page.get_data(as_text=True)
    assert "Annuler la séance ?" in html and "Non, garder la séance" in html
    look_again(db)
    assert db.get(Booking, first.id).status == "confirmed"
    client.post(f"/sessions/{first.id}/cancel", data={"reason": "Rendez-vous chez le médecin",
                                                      "csrf_token": csrf_token(html)})
    look_again(db)
    assert (db.get(Booking, first.id).status, db.get(Booking, first.id).cancel_reason) == (
        "cancelled", "Rendez-vous chez le médecin")
    told = db.scalar(select(Notification).where(Notification.kind == "tutor_booking_cancelled"))
    assert told.recipient_id == tutor.id and told.payload["reason"] == "Rendez-vous chez le médecin"


def test_a_coordinator_cancels_one_childs_place_and_the_session_stays(client, db):
    tutor, slot, parent, first, second = _two_children_in_one_session(db)
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    sessions = client.get("/admin/sessions").get_data(as_text=True)
    assert f'href="/sessions/{second.id}/cancel"' in sessions
    page = client.get(f"/sessions/{second.id}/cancel")
    assert "Annuler la place de Sara Haddou ?" in page.get_data(as_text=True)
    response = client.post(f"/sessions/{second.id}/cancel", data={"csrf_token": csrf_token(page.get_data(as_text=True))},
                           follow_redirects=True)
    assert "La place de Sara Haddou est annulée" in response.get_data(as_text=True)
    look_again(db)
    assert db.get(Booking, second.id).status == "cancelled" and db.get(Booking, first.id).status == "confirmed"
    assert db.get(Slot, slot.id).status == "open" and db.get(Slot, slot.id).booked == 1


def test_a_tutor_is_asked_first_and_the_reason_reaches_the_families(client, db):
    tutor, slot, parent, first, second = _two_children_in_one_session(db)
    login(client, tutor.email)
    page = client.get(f"/slots/{slot.id}/cancel")
    html = page.get_data(as_text=True)
    assert "Annuler la séance ?" in html
    look_again(db)
    assert db.get(Slot, slot.id).status == "open"
    client.post(f"/slots/{slot.id}/cancel", data={"reason": "Je suis malade", "csrf_token": csrf_token(html)})
    look_again(db)
    assert db.get(Slot, slot.id).status == "cancelled"
    assert db.get(Booking, first.id).cancel_reason == "Je suis malade"
    to_families = db.scalars(select(Notification).where(Notification.kind == "booking_cancelled")).all()
    assert to_families and all(n.payload.get("reason") == "Je suis malade" for n in to_families)


def test_a_reason_too_long_is_refused_with_the_form_again(client, db):
    tutor, slot, parent, first, _ = _two_children_in_one_session(db)
    login(client, parent.email)
    page = client.get(f"/sessions/{first.id}/cancel")
    html = client.post(f"/sessions/{first.id}/cancel", data={"reason": "x" * 501,
                                                             "csrf_token": csrf_token(page.get_data(as_text=True))}
                       ).get_data(as_text=True)
    assert "au plus 500 caractères" in html
    look_again(db)
    assert db.get(Booking, first.id).status == "confirmed"
