"""A parent links a child with the centre's code; a coordinator exports or deletes a person;
old personal data is purged."""

import json
from datetime import UTC, datetime, timedelta

from conftest import csrf_token
from factories import login, look_again, make_family, make_person, make_slot, make_tutor
from sqlalchemy import func, select

from scheduler_app.models import Booking, Guardianship, JoinToken, Notification, User
from scheduler_app.services.booking import book_slot
from scheduler_app.services.privacy import purge


def test_a_parent_links_a_child_with_the_code_the_centre_gave_once(client, db):
    adam = make_person(db, "student", "Adam Haddou", email=None)
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    login(client, coordinator.email)
    page = client.get(f"/admin/people/{adam.id}")
    response = client.post(f"/admin/people/{adam.id}/code", data={"csrf_token": csrf_token(page.get_data(as_text=True))},
                           follow_redirects=True)
    assert "Code pour relier Adam Haddou" in response.get_data(as_text=True)
    look_again(db)
    code = db.get(User, adam.id).family_code
    client.delete_cookie("session")
    parent = make_person(db, "parent", "Fatima Haddou")
    login(client, parent.email)
    page = client.get("/children/link")
    wrong = client.post("/children/link", data={"code": "ZZZZ-ZZZZ", "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert "Ce code ne correspond à aucun enfant" in wrong.get_data(as_text=True)
    typed = f"{code[:4].lower()}-{code[4:].lower()}"  # as someone types it from a phone call
    response = client.post("/children/link", data={"code": typed, "csrf_token": csrf_token(page.get_data(as_text=True))},
                           follow_redirects=True)
    assert "Adam Haddou est ajouté à votre famille" in response.get_data(as_text=True)
    other = make_person(db, "parent", "Someone Else")
    client.delete_cookie("session")
    login(client, other.email)
    page = client.get("/children/link")
    again = client.post("/children/link", data={"code": code, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert "Ce code ne correspond à aucun enfant" in again.get_data(as_text=True)  # used up
    look_again(db)
    assert db.scalar(select(func.count()).select_from(Guardianship)) == 1


def test_a_coordinator_exports_everything_about_a_person(client, db):
    slot = make_slot(db, make_tutor(db))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    book_slot(db, slot.id, adam, parent, "les fractions")
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    response = client.get(f"/admin/people/{adam.id}/export.json")
    assert response.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(response.data)
    assert data["person"]["name"] == "Adam Haddou" and data["parents"] == [parent.id]
    assert data["bookings"][0]["topic"] == "les fractions"
    assert "password_hash" not in json.dumps(data)


def test_deleting_a_person_forgets_them_but_keeps_the_counts(client, db, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    past, future = make_slot(db, tutor, starts_in=timedelta(days=1)), make_slot(db, tutor, starts_in=timedelta(days=9))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    done = book_slot(db, past.id, adam, parent, "les fractions")
    coming = book_slot(db, future.id, adam, parent)
    frozen_clock(datetime(2027, 1, 14, 9, 0, tzinfo=UTC))
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    page = client.get(f"/admin/people/{adam.id}/delete")
    assert "On ne peut pas revenir en arrière" in page.get_data(as_text=True)
    client.post(f"/admin/people/{adam.id}/delete", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    look_again(db)
    gone = db.get(User, adam.id)
    assert (gone.name, gone.email, gone.active) == ("Personne supprimée", None, False)
    assert db.get(Booking, done.id).status == "confirmed" and db.get(Booking, done.id).topic == ""
    assert db.get(Booking, coming.id).status == "cancelled"
    assert db.scalar(select(func.count()).select_from(JoinToken).where(JoinToken.user_id == adam.id)) == 0
    assert db.scalar(select(func.count()).select_from(Notification).where(Notification.recipient_id == adam.id)) == 0
    assert db.scalar(select(func.count()).select_from(Guardianship)) == 0
    assert client.get(f"/admin/people/{adam.id}").status_code in (200, 404)
    assert client.get(f"/admin/people/{adam.id}/export.json").status_code == 404


def test_purge_forgets_what_is_older_than_the_retention(db, frozen_clock):
    frozen_clock(datetime(2024, 1, 8, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    old = book_slot(db, make_slot(db, tutor, starts_in=timedelta(days=2)).id, adam, parent, "les fractions")
    frozen_clock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    _, [lea] = make_family(db, "Jean Petit", "Léa Petit")
    recent = book_slot(db, make_slot(db, tutor, starts_in=timedelta(days=2)).id, lea, lea, "la conjugaison")
    counts = purge(db, older_than=timedelta(days=730), apply=True).counts()
    look_again(db)
    assert db.get(Booking, old.id).topic == "" and db.get(Booking, recent.id).topic == "la conjugaison"
    assert db.get(User, adam.id).deleted_at is not None  # nothing booked in two years
    assert db.get(User, lea.id).deleted_at is None
    assert counts["people"] >= 2 and counts["messages"] > 0


def test_the_purge_command_runs(app, db):
    result = app.test_cli_runner().invoke(args=["purge", "--days", "730", "--yes"])
    assert result.exit_code == 0 and "Purged" in result.output


def test_a_parents_page_names_their_children_whether_or_not_they_have_sessions(client, db):
    from html import unescape

    tutor = make_tutor(db)
    parent, [zoe, adam] = make_family(db, "Fatima Haddou", "Zoé N'Diaye, \"Zo\"", "Adam Haddou")
    make_family(db, "Someone Else", "Not Theirs")
    login(client, parent.email)
    children = "Vos enfants : Adam Haddou, Zoé N'Diaye, \"Zo\""  # by name, whatever a name holds
    html = unescape(client.get("/sessions").get_data(as_text=True))
    assert children in html and "Aucune séance pour l'instant." in html  # no session yet

    book_slot(db, make_slot(db, tutor).id, zoe, parent, "")
    html = unescape(client.get("/sessions").get_data(as_text=True))
    assert children in html and "Not Theirs" not in html
    assert html.count('<li class="card') == 1 and "Zoé N'Diaye" in html  # her session, read with the names


def test_the_longest_session_stays_on_the_family_page_as_long_as_a_short_one(client, db, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    slot = make_slot(db, make_tutor(db), starts_in=timedelta(days=1), minutes=240)  # the longest a form allows
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    booking = book_slot(db, slot.id, adam, parent)
    login(client, parent.email)
    details = f'href="/sessions/{booking.id}"'
    # a family's page shows sessions until 12 hours after their end (bookings.my_sessions),
    # however long ago they began (services.family.LONGEST_SESSION)
    frozen_clock(slot.ends_at + timedelta(hours=12) - timedelta(minutes=1))
    assert details in client.get("/sessions").get_data(as_text=True)
    frozen_clock(slot.ends_at + timedelta(hours=12) + timedelta(minutes=1))
    assert details not in client.get("/sessions").get_data(as_text=True)
