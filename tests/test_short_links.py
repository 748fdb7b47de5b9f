"""The short personal link in every family SMS (/s/<token>): without a password or JavaScript it
shows the session, joins it at the time, cancels after a confirmation, and books another."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from conftest import csrf_token
from factories import look_again, make_family, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import Booking, JoinToken, Notification
from scheduler_app.services.booking import book_slot
from scheduler_app.worker import make_dispatcher

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def app_settings():
    return {"CENTRE_PHONE": "+33142345678"}


@pytest.fixture
def family(app, db, brevo, frozen_clock):
    app.config.update(brevo.settings(), PUBLIC_URL="https://lien.example.org")
    frozen_clock(NOW)
    tutor = make_tutor(db, "Karim Haddad")
    slot = make_slot(db, tutor, starts_in=timedelta(days=2, hours=5))  # Wednesday 13 January, 15:00 in Paris
    later = make_slot(db, tutor, starts_in=timedelta(days=3, hours=5))
    parent, [adam] = make_family(db, "Awa Diallo", "Adam Diallo", phone="+33612345678")
    booking = book_slot(db, slot.id, adam, parent)
    short = db.scalar(select(JoinToken.short).where(JoinToken.booking_id == booking.id,
                                                    JoinToken.user_id == parent.id))
    return {"parent": parent, "adam": adam, "slot": slot, "later": later, "booking": booking, "short": short}


def test_the_sms_carries_a_short_link_and_what_a_family_needs(app, db, brevo, family):
    make_dispatcher(app).tick()
    [sms] = [r["json"]["content"] for r in brevo.requests if r["json"]["recipient"] == "33612345678"]
    url = re.search(r"https://\S+$", sms).group(0)
    assert url == f"https://lien.example.org/s/{family['short']}" and len(url) <= 60
    assert "Adam Diallo" in sms and "Pas besoin de mot de passe" in sms and "01 42 34 56 78" in sms


def test_the_page_shows_the_session_and_other_sessions_without_logging_in(client, family):
    html = client.get(f"/s/{family['short']}").get_data(as_text=True)
    assert "mercredi 13 janvier" in html and "Adam Diallo" in html and "Karim Haddad" in html
    assert 'href="/j/' not in html and "apparaît ici à 14" in html
    assert "Je ne peux pas venir : proposez-moi une autre séance" in html and "jeudi 14 janvier" in html
    assert html.index("Prendre cette séance à la place") < html.index("Annuler la séance")


def test_at_the_time_the_family_joins(client, db, family, frozen_clock):
    frozen_clock(family["slot"].starts_at - timedelta(minutes=5))  # JOIN_OPENS_MINUTES_FAMILY
    html = client.get(f"/s/{family['short']}").get_data(as_text=True)
    token = db.scalar(select(JoinToken.token).where(JoinToken.short == family["short"]))
    assert f'href="/j/{token}">Rejoindre<' in html
    response = client.get(f"/j/{token}")
    assert response.status_code == 303 and "meet" in response.headers["Location"]


def test_cancelling_asks_first_and_the_reason_reaches_the_tutor(app, client, db, family):
    page = client.get(f"/s/{family['short']}/annuler")
    html = page.get_data(as_text=True)
    assert "Annuler la séance ?" in html and "Non, garder la séance" in html
    look_again(db)
    assert db.get(Booking, family["booking"].id).status == "confirmed"  # nothing happened yet
    response = client.post(f"/s/{family['short']}/annuler", data={
        "reason": "Adam est malade", "csrf_token": csrf_token(html)}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "C&#39;est annulé" in html and "Cette séance est annulée" in html and "Prendre cette séance" in html
    look_again(db)
    booking = db.get(Booking, family["booking"].id)
    assert (booking.status, booking.cancel_reason) == ("cancelled", "Adam est malade")
    to_tutor = db.scalar(select(Notification).where(Notification.kind == "tutor_booking_cancelled"))
    assert to_tutor.payload == {"cancelled_by": "family", "reason": "Adam est malade"}
    make_dispatcher(app).tick()
    assert client.get(f"/s/{family['short']}/annuler").status_code == 302  # nothing left to cancel


def test_another_session_is_booked_in_one_tap_and_the_first_given_up(client, db, family):
    page = client.get(f"/s/{family['short']}")
    response = client.post(f"/s/{family['short']}/autre", data={
        "slot_id": family["later"].id, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 302
    look_again(db)
    new = db.scalar(select(Booking).where(Booking.slot_id == family["later"].id))
    assert new.status == "confirmed" and new.student_id == family["adam"].id
    assert db.get(Booking, family["booking"].id).status == "cancelled"
    new_short = db.scalar(select(JoinToken.short).where(JoinToken.booking_id == new.id,
                                                        JoinToken.user_id == family["parent"].id))
    assert response.headers["Location"] == f"/s/{new_short}"
    assert "jeudi 14 janvier" in client.get(f"/s/{new_short}").get_data(as_text=True)


def test_an_ended_or_unknown_link_says_so_and_offers_the_centre_or_booking_again(client, family, frozen_clock):
    frozen_clock(family["slot"].ends_at)
    html = client.get(f"/s/{family['short']}").get_data(as_text=True)
    assert "Ce lien ne marche plus" in html and "La séance est terminée" in html
    assert "tel:+33142345678" in html and "Réserver une autre séance" in html and "Annuler la séance" not in html
    response = client.get("/s/AAAAAAAAAAAA")
    assert response.status_code == 404 and "Ce lien ne marche pas" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["", "0", "-1", "99999999999999999999", "abc", "1.5", "\x00", "<b>", "2147483648"])
def test_hostile_choices_and_links_get_an_answer_not_a_500(client, db, family, value):
    page = client.get(f"/s/{family['short']}")
    if "\x00" in value:  # no form of Lien's takes a NUL (security.refuse_hostile_input): a 400, nothing changes
        token = csrf_token(page.get_data(as_text=True))
        assert client.post(f"/s/{family['short']}/autre", data={"slot_id": value, "csrf_token": token}).status_code == 400
        assert client.get(f"/s/{value}").status_code == 400
        assert client.post(f"/s/{family['short']}/annuler", data={
            "reason": f"a{value}b", "csrf_token": token}).status_code == 400
        look_again(db)
        assert db.get(Booking, family["booking"].id).status == "confirmed"
        return
    response = client.post(f"/s/{family['short']}/autre", data={
        "slot_id": value, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code in (400, 409)
    assert client.get(f"/s/{value or 'x'}").status_code == 404
    assert client.post(f"/s/{family['short']}/annuler", data={"reason": "x"}).status_code == 400  # no CSRF token
    page = client.get(f"/s/{family['short']}/annuler")
    long_reason = client.post(f"/s/{family['short']}/annuler", data={
        "reason": value * 600 or "x" * 501, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert long_reason.status_code == 200 and "au plus 500 caractères" in long_reason.get_data(as_text=True)
    look_again(db)
    assert db.get(Booking, family["booking"].id).status == "confirmed"
    short_reason = client.post(f"/s/{family['short']}/annuler", data={
        "reason": f"a{value}b", "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert short_reason.status_code == 302
    look_again(db)
    assert db.get(Booking, family["booking"].id).cancel_reason == f"a{value}b"
