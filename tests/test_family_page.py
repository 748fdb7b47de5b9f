"""The coordinator's families: a page at a time and searchable, one family's page (children,
bookings, messages with their status, resending the link, sending a login code), and the
booking made on the phone shows the family's link to read out."""

from datetime import timedelta

from conftest import csrf_token
from factories import login, look_again, make_family, make_person, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import Notification, User
from scheduler_app.services.booking import book_slot


def _coordinator(client, db):
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    login(client, coordinator.email)
    return coordinator


def test_families_come_a_page_at_a_time(client, db):
    for number in range(25):
        make_family(db, f"Parent {number:02d}", f"Enfant {number:02d}")
    _coordinator(client, db)
    html = client.get("/admin/").get_data(as_text=True)
    assert "Parent 00" in html and "Parent 19" in html and "Parent 20" not in html
    next_page = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    html = client.get(next_page).get_data(as_text=True)
    assert "Parent 20" in html and "Parent 24" in html and "Parent 19" not in html and 'rel="next"' not in html
    for hostile in ("x", "-1", "99999999999999999999", "²"):
        assert client.get(f"/admin/?after={hostile}").status_code == 200


def test_a_search_by_phone_says_one_clear_thing(client, db):
    parent, _ = make_family(db, "Awa Diallo", "Moussa Diallo")
    parent.phone = "+33761223344"
    db.commit()
    _coordinator(client, db)
    html = client.get("/admin/?q=07 61").get_data(as_text=True)
    assert "Awa Diallo" in html
    html = client.get("/admin/?q=07 62").get_data(as_text=True)
    assert "Personne ne correspond" in html and "Aucune famille pour l&#39;instant" not in html


def test_after_creating_a_family_the_coordinator_books_for_it(client, db):
    _coordinator(client, db)
    page = client.get("/admin/families/new")
    response = client.post("/admin/families/new", data={
        "parent_name": "Awa Diallo", "parent_phone": "07 61 22 33 44", "child_1": "Moussa Diallo",
        "csrf_token": csrf_token(page.get_data(as_text=True))})
    look_again(db)
    child = db.scalar(select(User).where(User.name == "Moussa Diallo"))
    assert response.headers["Location"] == f"/slots?for={child.id}"


def test_the_family_page_shows_children_bookings_and_messages_and_acts(app, client, db):
    tutor = make_tutor(db)
    slot = make_slot(db, tutor, starts_in=timedelta(days=2))
    parent, [moussa] = make_family(db, "Awa Diallo", "Moussa Diallo")
    parent.email, parent.phone, parent.notify_by = None, "+33761223344", "sms"
    db.commit()
    booking = book_slot(db, slot.id, moussa, parent)
    _coordinator(client, db)
    page = client.get(f"/admin/families/{parent.id}")
    html = page.get_data(as_text=True)
    assert "Famille de Awa Diallo" in html and "07 61 22 33 44" in html and "Moussa Diallo" in html
    assert "/s/" in html and "Renvoyer le lien" in html and "Envoyer un code de connexion" in html
    assert "À envoyer" in html  # the confirmation waits in the outbox
    client.post(f"/admin/families/{parent.id}/bookings/{booking.id}/resend", data={"csrf_token": csrf_token(html)})
    client.post(f"/admin/families/{parent.id}/code", data={"csrf_token": csrf_token(html)})
    look_again(db)
    kinds = db.scalars(select(Notification.kind).where(Notification.address == "+33761223344")).all()
    assert kinds.count("booking_confirmed") == 2 and "login_code" in kinds
    assert client.get(f"/admin/families/{moussa.id}").status_code == 404  # a child is not a family
    assert client.get("/admin/families/99999999999999999999").status_code == 404
    # An id no column holds is no page (the bounded <int:> converter); one that could be, but is
    # not this family's, says so.
    assert client.post(f"/admin/families/{parent.id}/bookings/99999999999999999999/resend",
                       data={"csrf_token": csrf_token(html)}).status_code == 404
    response = client.post(f"/admin/families/{parent.id}/bookings/2147483647/resend",
                           data={"csrf_token": csrf_token(html)}, follow_redirects=True)
    assert "plus de lien à envoyer" in response.get_data(as_text=True)


def test_a_booking_made_on_the_phone_shows_the_familys_link(client, db):
    slot = make_slot(db, make_tutor(db))
    parent, [moussa] = make_family(db, "Awa Diallo", "Moussa Diallo")
    coordinator = _coordinator(client, db)
    booking = book_slot(db, slot.id, moussa, coordinator)
    html = client.get(f"/sessions/{booking.id}?booked=1").get_data(as_text=True)
    assert "Le lien de la famille" in html and "http://localhost/s/" in html
    assert f'href="/admin/families/{parent.id}"' in html and "Voir toutes mes séances" not in html
