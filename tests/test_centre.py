"""The centre's staff carry the families who cannot do it alone."""

from datetime import timedelta

from conftest import csrf_token
from factories import login, look_again, make_family, make_person, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import Booking, Notification


def test_a_coordinator_finds_a_family_by_phone_or_child_and_books_for_them(client, db):
    slot = make_slot(db, make_tutor(db))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    parent.phone = "+33612345678"
    db.commit()
    make_family(db, "Jean Petit", "Léa Petit")
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    login(client, coordinator.email)
    for search in ("06 12 34", "adam", "Haddou"):
        html = client.get(f"/admin/?q={search}").get_data(as_text=True)
        assert "Fatima Haddou" in html and "Jean Petit" not in html, search
    html = client.get(f"/slots?for={adam.id}").get_data(as_text=True)
    assert "Réserver pour Adam Haddou" in html
    page = client.get(f"/slots/{slot.id}/book?for={adam.id}")
    response = client.post(f"/slots/{slot.id}/book?for={adam.id}", follow_redirects=True, data={
        "student_id": str(adam.id), "topic": "appel du 3 mars : les fractions",
        "csrf_token": csrf_token(page.get_data(as_text=True))})
    html = response.get_data(as_text=True)
    assert "C&#39;est réservé" in html or "C'est réservé" in html
    assert "Réservé par Nadia Benali" in html
    booking = db.scalar(select(Booking))
    assert (booking.student_id, booking.booked_by_id) == (adam.id, coordinator.id)
    # The family is told as if they had booked themselves.
    kinds = set(db.scalars(select(Notification.kind).where(Notification.recipient_id == parent.id)))
    assert "booking_confirmed" in kinds


def test_a_coordinator_cannot_book_for_a_parent_or_without_choosing_a_student(client, db):
    slot = make_slot(db, make_tutor(db))
    parent, _ = make_family(db, "Fatima Haddou", "Adam Haddou")
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    assert client.get(f"/slots/{slot.id}/book?for={parent.id}").status_code == 404
    assert client.get(f"/slots/{slot.id}/book").status_code == 302


def test_only_coordinators_see_every_session_and_move_them(client, db):
    slot = make_slot(db, make_tutor(db))
    login(client, make_person(db, "parent", "Fatima Haddou").email)
    assert client.get("/admin/sessions").status_code == 403
    assert client.get(f"/admin/slots/{slot.id}/move").status_code == 403


def test_the_session_list_filters_by_tutor_and_status(client, db):
    karim, claire = make_tutor(db), make_tutor(db, "Claire Martin")
    make_slot(db, karim)
    cancelled = make_slot(db, claire, starts_in=timedelta(days=3))
    from scheduler_app.services.slots import cancel_slot

    cancel_slot(db, cancelled)
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    html = client.get(f"/admin/sessions?tutor={karim.id}").get_data(as_text=True)
    assert "avec Karim Haddad" in html and "avec Claire Martin" not in html
    html = client.get("/admin/sessions?status=cancelled").get_data(as_text=True)
    assert "avec Claire Martin" in html and "avec Karim Haddad" not in html


def test_a_coordinator_who_cancels_a_session_stays_on_the_sessions_page_and_is_told_who_was_warned(client, db):
    tutor = make_tutor(db)
    slot = make_slot(db, tutor)
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    from scheduler_app.services.booking import book_slot

    book_slot(db, slot.id, adam, parent)
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    page = client.get("/admin/sessions")
    response = client.post(f"/slots/{slot.id}/cancel", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/sessions")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Séance annulée : 1 famille prévenue, ainsi que le tuteur." in html
    look_again(db)
    assert "slot_cancelled" in set(db.scalars(select(Notification.kind).where(Notification.recipient_id == tutor.id)))
    assert "booking_cancelled" in set(db.scalars(select(Notification.kind).where(Notification.recipient_id == parent.id)))


def test_a_coordinator_adds_and_renames_an_activity_and_a_duplicate_name_is_explained(client, db):
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    page = client.get("/admin/activities/new")
    data = {"name": "Atelier numérique", "duration_minutes": "60", "capacity": "6", "active": "y",
            "csrf_token": csrf_token(page.get_data(as_text=True))}
    assert "Activité enregistrée" in client.post("/admin/activities/new", data=data, follow_redirects=True).get_data(as_text=True)
    html = client.post("/admin/activities/new", data=data).get_data(as_text=True)
    assert "Une activité porte déjà ce nom" in html and 'value="Atelier numérique"' in html


def test_the_browser_offers_a_new_activity_at_once(app, client, db):
    fatima, _ = make_family(db, "Fatima Haddou", "Adam Haddou")
    family = app.test_client()
    login(family, fatima.email)
    assert "Atelier numérique" not in family.get("/slots").get_data(as_text=True)
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    page = client.get("/admin/activities/new")
    client.post("/admin/activities/new", data={"name": "Atelier numérique", "duration_minutes": "60", "capacity": "6",
                                               "active": "y", "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert "Atelier numérique" in family.get("/slots").get_data(as_text=True)


def test_a_coordinator_edits_what_a_tutor_teaches_and_an_inactive_tutors_slots_are_not_offered(client, db):
    tutor = make_tutor(db, subjects=("maths",), languages=("fr",))
    slot = make_slot(db, tutor)
    student = make_person(db, "student", "Yasmine Haddou")
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    page = client.get(f"/admin/tutors/{tutor.id}")
    html = page.get_data(as_text=True)
    import re

    checked = set(re.findall(r'<input checked[^>]*name="subjects"[^>]*value="([^"]+)"', html))
    assert checked == {"maths"}
    client.post(f"/admin/tutors/{tutor.id}", data={"subjects": ["maths", "francais"], "levels": ["lycee"],
                                                    "languages": ["fr", "ar"], "bio": "Ingénieur",
                                                    "csrf_token": csrf_token(html)})
    look_again(db)
    assert tutor.tutor_profile.languages == ",fr,ar," and tutor.active is False  # the box was left unticked
    client.delete_cookie("session")
    login(client, student.email)
    assert f"/slots/{slot.id}/book" not in client.get("/slots").get_data(as_text=True)
