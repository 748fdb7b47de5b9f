"""/j/<token>: a personal link that opens the signed room around session time, no password."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import jwt
import pytest
from factories import make_family, make_slot, make_tutor
from sqlalchemy import select

from rooms import JitsiSettings, fragment_values, verify_token
from scheduler_app.models import JoinToken
from scheduler_app.services.booking import book_slot, cancel_booking

SETTINGS = JitsiSettings(domain="meet.example.org", app_id="lien-test", app_secret="test-jitsi-secret-that-is-long-enough")


@pytest.fixture
def booked(db, frozen_clock):
    """Adam's session with Karim on Wednesday at 14:00 Paris time, booked by his mother."""
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    slot = make_slot(db, tutor, starts_in=timedelta(days=2, hours=4))  # Wed 13 Jan, 13:00 UTC
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    booking = book_slot(db, slot.id, adam, parent, "fractions")
    links = {link.user_id: link.token for link in db.scalars(select(JoinToken).where(JoinToken.slot_id == slot.id))}
    return {"slot": slot, "booking": booking, "tutor": tutor, "parent": parent, "student": adam, "links": links}


def test_the_time_left_is_said_in_words_in_every_language(app):
    from scheduler_app.i18n import time_left

    said = {}
    for code in app.config["LANGUAGES"]:
        with app.test_request_context("/", headers={"Accept-Language": code}):
            said[code] = [time_left(seconds) for seconds in (4 * 86400 + 600, 2 * 3600, 12 * 60)]
    assert said["fr"] == ["dans 4 jours", "dans 2 heures", "dans 12 minutes"]
    assert said["en"] == ["in 4 days", "in 2 hours", "in 12 minutes"]
    assert said["uk"][1] == "через 2 години" and said["tr"][2] == "12 dakika sonra"


def test_early_the_link_shows_the_day_and_time_and_a_countdown(client, booked, frozen_clock):
    frozen_clock(booked["slot"].starts_at - timedelta(hours=2))
    page = client.get(f"/j/{booked['links'][booked['student'].id]}")
    html = page.get_data(as_text=True).replace("\xa0", " ")
    assert page.status_code == 200
    assert "mercredi 13 janvier, 14 h 00" in html  # 13:00 UTC is 14:00 in Paris in winter
    assert "à partir de 13 h 55" in html  # a family's link opens 5 minutes before
    assert 'id="countdown"' in html and 'data-seconds="6900"' in html
    assert "La salle ouvre dans 2 heures." in html  # in words, not a running count
    # No timed refresh (WCAG 2.2.1): without JavaScript, a button enters when it is time.
    assert 'http-equiv="refresh"' not in html
    assert f'href="/j/{booked["links"][booked["student"].id]}"' in html


def test_the_tutors_link_opens_15_minutes_before_and_the_familys_5(client, app, booked, frozen_clock):
    links = booked["links"]
    frozen_clock(booked["slot"].starts_at - timedelta(minutes=15, seconds=1))
    assert [client.get(f"/j/{links[booked[who].id]}").status_code for who in ("tutor", "parent")] == [200, 200]
    frozen_clock(booked["slot"].starts_at - timedelta(minutes=15))
    assert [client.get(f"/j/{links[booked[who].id]}").status_code for who in ("tutor", "parent")] == [303, 200]
    frozen_clock(booked["slot"].starts_at - timedelta(minutes=5, seconds=1))
    assert "à partir de 13 h 55" in client.get(f"/j/{links[booked['parent'].id]}").get_data(as_text=True).replace("\xa0", " ")
    frozen_clock(booked["slot"].starts_at - timedelta(minutes=5))
    assert [client.get(f"/j/{links[booked[who].id]}").status_code for who in ("tutor", "parent", "student")] == [303] * 3
    app.config["JOIN_OPENS_MINUTES_FAMILY"] = 10  # a setting of the centre's
    frozen_clock(booked["slot"].starts_at - timedelta(minutes=10))
    assert client.get(f"/j/{links[booked['student'].id]}").status_code == 303


def test_in_the_window_the_link_redirects_to_the_room_with_a_fresh_valid_token(client, booked, frozen_clock):
    now = frozen_clock(booked["slot"].starts_at - timedelta(minutes=4))
    response = client.get(f"/j/{booked['links'][booked['student'].id]}")
    assert response.status_code == 303
    url = urlsplit(response.headers["Location"])
    room = booked["slot"].room_name
    assert (url.scheme, url.netloc, url.path, url.query) == ("https", "meet.example.org", f"/{room}", "")
    token = fragment_values(response.headers["Location"])["jwt"]  # in the fragment: never in a server's logs
    claims = verify_token(SETTINGS, token, room, now=now)
    assert claims["context"]["user"]["name"] == "Adam Haddou"
    assert claims["context"]["user"]["moderator"] is False
    assert claims["exp"] >= int(booked["slot"].ends_at.timestamp())
    with pytest.raises(jwt.InvalidTokenError):
        verify_token(SETTINGS, token, "anotherroomname2345234523452345", now=now)
    assert response.headers["Cache-Control"] == "no-store"


def test_the_tutor_enters_as_moderator_and_the_parent_as_a_guest(client, booked, frozen_clock):
    now = frozen_clock(booked["slot"].starts_at + timedelta(minutes=5))
    claims = {}
    for who in ("tutor", "parent"):
        location = client.get(f"/j/{booked['links'][booked[who].id]}").headers["Location"]
        token = fragment_values(location)["jwt"]
        claims[who] = verify_token(SETTINGS, token, booked["slot"].room_name, now=now)
    assert claims["tutor"]["context"]["user"]["moderator"] is True
    assert claims["parent"]["context"]["user"]["moderator"] is False
    assert claims["parent"]["context"]["user"]["name"] == "Fatima Haddou"


def test_someone_who_drops_out_can_come_back_until_the_end_plus_the_grace_period(client, booked, frozen_clock):
    link = f"/j/{booked['links'][booked['student'].id]}"
    now = frozen_clock(booked["slot"].ends_at + timedelta(minutes=4, seconds=59))
    response = client.get(link)
    assert response.status_code == 303
    token = fragment_values(response.headers["Location"])["jwt"]
    assert verify_token(SETTINGS, token, booked["slot"].room_name, now=now)  # Jitsi still lets them in
    frozen_clock(booked["slot"].ends_at + timedelta(minutes=5))
    page = client.get(link)
    assert page.status_code == 410
    assert "Cette séance est terminée" in page.get_data(as_text=True)


def test_a_cancelled_booking_kills_its_links_but_not_the_tutors(client, db, booked, frozen_clock):
    cancel_booking(db, booked["booking"])
    frozen_clock(booked["slot"].starts_at)
    for who in ("student", "parent"):
        page = client.get(f"/j/{booked['links'][booked[who].id]}")
        assert page.status_code == 410 and "Cette séance est annulée" in page.get_data(as_text=True)
    assert client.get(f"/j/{booked['links'][booked['tutor'].id]}").status_code == 303


def test_a_made_up_link_is_not_found(client, booked):
    assert client.get("/j/not-a-real-token").status_code == 404


def test_every_person_has_their_own_unguessable_link(booked):
    tokens = list(booked["links"].values())
    assert len(tokens) == 3 == len(set(tokens))
    assert all(len(token) >= 32 for token in tokens)


def test_the_join_page_speaks_the_link_holders_language(client, db, booked, frozen_clock):
    booked["parent"].locale = "en"
    db.commit()
    frozen_clock(booked["slot"].starts_at - timedelta(hours=2))
    html = client.get(f"/j/{booked['links'][booked['parent'].id]}").get_data(as_text=True)
    assert "Wednesday 13 January, 2:00" in html


def test_join_links_are_throttled(client, app, booked):
    app.config["RATELIMIT_JOIN"] = "5 per minute"
    codes = [client.get(f"/j/{booked['links'][booked['student'].id]}").status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
