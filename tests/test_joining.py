"""Joining works for every family: who leads the room, what coordinators are told about it,
and what the messages promise about when links open."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from factories import MEDIATION, login, logout, make_family, make_person, make_slot, make_tutor
from sqlalchemy import select

from rooms import JitsiSettings, fragment_values, verify_token
from scheduler_app.models import JoinToken, User
from scheduler_app.services.booking import book_slot

SETTINGS = JitsiSettings(domain="meet.example.org", app_id="lien-test", app_secret="test-jitsi-secret-that-is-long-enough")


@pytest.mark.parametrize(("settings", "says", "not_said"), [
    ({"JITSI_APP_ID": None, "JITSI_APP_SECRET": None}, "Personne ne peut être modérateur des salles.",
     "Le tuteur ou le médiateur est modérateur"),
    ({}, "Le tuteur n'est pas sûr d'être modérateur.", "Personne ne peut"),
    ({"JITSI_MODERATOR_FROM_TOKEN": True}, "Le tuteur ou le médiateur est modérateur de sa salle",
     "pas sûr d'être modérateur"),
    ({"JITSI_MODERATOR_FROM_TOKEN": True, "JITSI_LOBBY": True},
     "Dans une médiation, les personnes attendent dans la salle d'attente, vous aussi : le médiateur les fait entrer.",
     "pas sûr d'être modérateur"),
])
def test_the_coordinators_page_says_who_can_lead_the_rooms(app, client, db, settings, says, not_said):
    app.config.update(settings)
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    html = client.get("/admin/sessions").get_data(as_text=True).replace("&#39;", "'")
    assert says in html and not_said not in html
    assert ("salle d'attente" in html) is bool(settings.get("JITSI_LOBBY"))
    if "pas sûr" in says:
        assert "Le lien du tuteur s'ouvre 15 minutes avant l'heure, celui des familles 5 minutes avant" in html


@pytest.fixture
def group(db, frozen_clock):
    """A group session (two places) with Karim: Adam and Léa, each booked by a parent."""
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    slot = make_slot(db, tutor, starts_in=timedelta(days=2, hours=4), capacity=2)
    bookings = []
    for parent_name, child_name in (("Fatima Haddou", "Adam Haddou"), ("Jean Petit", "Léa Marie Petit")):
        parent, [child] = make_family(db, parent_name, child_name)
        bookings.append(book_slot(db, slot.id, child, parent, ""))
    links = {link.user_id: link.token for link in db.scalars(select(JoinToken).where(JoinToken.slot_id == slot.id))}
    return {"slot": slot, "tutor": tutor, "links": links, "people": {user.name: user for user in db.scalars(
        select(User).where(User.id.in_(list(links))))}}


def claims_of(client, group, name, now):
    location = client.get(f"/j/{group['links'][group['people'][name].id]}").headers["Location"]
    return verify_token(SETTINGS, fragment_values(location)["jwt"], group["slot"].room_name, now=now)


def test_in_a_group_jitsi_shows_a_given_name_and_an_initial_and_no_database_id(client, group, frozen_clock):
    now = frozen_clock(group["slot"].starts_at)
    users = {name: claims_of(client, group, name, now)["context"]["user"] for name in group["people"]}
    assert {name: user["name"] for name, user in users.items()} == {
        "Karim Haddad": "Karim Haddad",  # the tutor, whose name families already see when booking
        "Fatima Haddou": "Fatima H.", "Adam Haddou": "Adam H.", "Jean Petit": "Jean P.", "Léa Marie Petit": "Léa P."}
    ids = [user["id"] for user in users.values()]
    assert len(set(ids)) == 5 and all(len(i) == 24 for i in ids)
    assert not {str(person.id) for person in group["people"].values()} & set(ids)
    # The same person keeps their id when they come back (Jitsi's own reconnection relies on nothing else).
    assert claims_of(client, group, "Adam Haddou", now)["context"]["user"]["id"] == users["Adam Haddou"]["id"]


def test_a_one_to_one_session_keeps_the_full_name_and_nobody_records_streams_or_dials_out(client, db, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    slot = make_slot(db, make_tutor(db), starts_in=timedelta(days=2, hours=4))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    book_slot(db, slot.id, adam, parent, "")
    token = db.scalar(select(JoinToken.token).where(JoinToken.user_id == adam.id))
    now = frozen_clock(slot.starts_at)
    claims = verify_token(SETTINGS, fragment_values(client.get(f"/j/{token}").headers["Location"])["jwt"],
                          slot.room_name, now=now)
    assert claims["context"]["user"]["name"] == "Adam Haddou"
    assert claims["context"]["features"] == {"livestreaming": "false", "recording": "false",
                                             "transcription": "false", "outbound-call": "false"}


def test_a_weak_connection_opens_the_room_with_sound_only_and_phones_stay_in_the_browser(client, db, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    slot = make_slot(db, make_tutor(db), starts_in=timedelta(days=2, hours=4))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    booking = book_slot(db, slot.id, adam, parent, "")
    token = db.scalar(select(JoinToken.token).where(JoinToken.user_id == parent.id))
    # Early, the waiting page offers the choice, and keeps it once made.
    frozen_clock(slot.starts_at - timedelta(hours=1))
    html = client.get(f"/j/{token}").get_data(as_text=True)
    assert f'href="/j/{token}?connexion=faible">Internet lent ? Entrer avec le son seulement' in html
    html = client.get(f"/j/{token}?connexion=faible").get_data(as_text=True)
    assert f'class="button big" href="/j/{token}?connexion=faible"' in html
    assert "Vous entrerez avec le son seulement." in html and f'href="/j/{token}">Entrer avec la vidéo' in html
    # The URL the redirect produces, read as jitsi-meet reads its fragment.
    frozen_clock(slot.starts_at)
    weak = fragment_values(client.get(f"/j/{token}?connexion=faible").headers["Location"])
    assert weak["config.startAudioOnly"] is True and weak["config.resolution"] == 180
    assert weak["config.constraints.video.height"] == {"ideal": 180, "max": 180}
    assert weak["config.disableDeepLinking"] is True and weak["config.deeplinking.disabled"] is True
    usual = fragment_values(client.get(f"/j/{token}").headers["Location"])
    assert "config.startAudioOnly" not in usual and "config.resolution" not in usual
    assert usual["config.disableDeepLinking"] is True and usual["config.deeplinking.disabled"] is True
    # The family's session page offers it too.
    login(client, parent.email)
    assert f"/j/{token}?connexion=faible" in client.get(f"/sessions/{booking.id}").get_data(as_text=True)


@pytest.fixture
def booked(db, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    slot = make_slot(db, tutor, starts_in=timedelta(days=2, hours=4))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    booking = book_slot(db, slot.id, adam, parent, "")
    links = {link.user_id: link.token for link in db.scalars(select(JoinToken).where(JoinToken.slot_id == slot.id))}
    return {"slot": slot, "booking": booking, "tutor": links[tutor.id], "parent": links[parent.id]}


def page(client, token):
    response = client.get(f"/j/{token}")
    return response.status_code, response.get_data(as_text=True).replace("&#39;", "'")


def test_ended_and_cancelled_links_are_gone_in_words_that_fit_the_reader(client, db, booked, frozen_clock):
    frozen_clock(booked["slot"].starts_at - timedelta(hours=1))
    status, html = page(client, booked["tutor"])
    assert status == 200 and "Votre lien s'ouvre avant celui des familles" in html
    assert "avant celui des familles" not in page(client, booked["parent"])[1]

    frozen_clock(booked["slot"].ends_at + timedelta(hours=1))
    status, html = page(client, booked["tutor"])
    assert status == 410 and "Cette séance est terminée" in html
    assert "Pensez à noter qui était là." in html and 'href="/slots/to-mark"' in html
    assert "réserver une autre séance" not in html  # a tutor does not book sessions
    status, html = page(client, booked["parent"])
    assert status == 410 and "Ce lien ne marche plus. Vous pouvez réserver une autre séance." in html
    assert 'href="/slots"' in html and "noter qui était là" not in html

    slot = booked["slot"]
    slot.status = "cancelled"
    db.commit()
    status, html = page(client, booked["tutor"])
    assert status == 410 and "Cette séance est annulée" in html
    assert "Les familles qui avaient réservé ont été prévenues." in html and "réserver une autre séance" not in html
    status, html = page(client, booked["parent"])
    assert status == 410 and "Ce lien ne marche plus. Vous pouvez réserver une autre séance." in html


@pytest.mark.parametrize("token", ["unknown-but-well-formed-link-000", "a" * 65, "a" * 5000, "abc%00def",
                                   "caf%C3%A9-l%C3%A9a", "x'%20OR%20'1'='1", "..", "%0A"])
def test_an_unknown_or_mangled_link_is_not_found_never_a_500(client, booked, token):
    assert client.get(f"/j/{token}").status_code in (400, 404)  # a NUL byte is refused before any view


def test_a_tampered_link_is_not_found(client, booked):
    real = booked["parent"]
    for tampered in (real[:-1], real + "x", real.upper() if real.upper() != real else real.lower(), real[::-1]):
        assert client.get(f"/j/{tampered}").status_code == 404


def test_every_join_page_and_the_confirmation_link_to_the_device_test(client, db, booked, frozen_clock):
    for moment in (booked["slot"].starts_at - timedelta(hours=1), booked["slot"].ends_at + timedelta(hours=1)):
        frozen_clock(moment)
        for who in ("tutor", "parent"):
            assert 'href="/tester">Tester mon micro et ma caméra</a>' in page(client, booked[who])[1]
    assert "Tester mon micro et ma caméra" in client.get("/tester").get_data(as_text=True)  # no account needed


def test_a_coordinator_enters_a_session_of_the_day_as_a_guest_to_help(client, db, frozen_clock):
    frozen_clock(datetime(2027, 1, 13, 8, 0, tzinfo=UTC))  # Wednesday 9:00 in Paris
    tutor = make_tutor(db)
    today = make_slot(db, tutor, starts_in=timedelta(hours=5))  # 14:00 in Paris
    tomorrow = make_slot(db, tutor, starts_in=timedelta(days=1, hours=5))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    book_slot(db, today.id, adam, parent, "")
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    login(client, coordinator.email)
    html = client.get("/admin/sessions").get_data(as_text=True)
    assert html.count("Entrer pour aider") == 1 and f'href="/admin/slots/{today.id}/enter"' in html
    assert "Vous entrez comme invité, sans pouvoir de modérateur." in html

    now = frozen_clock(today.starts_at + timedelta(minutes=10))
    response = client.get(f"/admin/slots/{today.id}/enter")
    assert response.status_code == 303 and response.headers["Referrer-Policy"] == "no-referrer"
    assert urlsplit(response.headers["Location"]).path == f"/{today.room_name}"
    claims = verify_token(SETTINGS, fragment_values(response.headers["Location"])["jwt"], today.room_name, now=now)
    assert claims["context"]["user"]["name"] == "Nadia, du centre"
    assert claims["context"]["user"]["moderator"] is False
    assert claims["context"]["user"]["id"] != str(coordinator.id)

    # Not tomorrow's session, not one that is over, not a cancelled one; never for others.
    for refused in (tomorrow.id,):
        response = client.get(f"/admin/slots/{refused}/enter", follow_redirects=True)
        assert "On ne peut entrer que dans une séance du jour" in response.get_data(as_text=True).replace("&#39;", "'")
    frozen_clock(today.ends_at + timedelta(minutes=5))
    assert client.get(f"/admin/slots/{today.id}/enter").headers["Location"] == "/admin/sessions"
    assert client.get("/admin/slots/999999/enter").status_code == 404
    logout(client)
    login(client, tutor.email)
    assert client.get(f"/admin/slots/{today.id}/enter").status_code == 403


@pytest.mark.parametrize("app_settings", [{"JITSI_LOBBY": True, "JITSI_MODERATOR_FROM_TOKEN": True}], ids=["lobby"])
def test_with_a_lobby_homework_goes_on_as_before_and_a_coordinator_waits_only_at_a_mediation(
        app, client, db, frozen_clock, app_settings):
    """lobby_autostart opens a lobby in every room: only a mediation's parties, and a coordinator
    stepping into one, are held there; a homework family goes past it at the usual time."""
    jitsi = JitsiSettings.from_mapping(app.config)
    frozen_clock(datetime(2027, 1, 13, 8, 0, tzinfo=UTC))  # Wednesday 9:00 in Paris
    lesson = make_slot(db, make_tutor(db), starts_in=timedelta(hours=5))
    mediation = make_slot(db, make_tutor(db, "Ousmane Diallo", mediator=True), activity_id=MEDIATION, subject="",
                          level="", starts_in=timedelta(hours=7))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    book_slot(db, lesson.id, adam, parent, "")
    token = db.scalar(select(JoinToken.token).where(JoinToken.user_id == parent.id))

    def user(location, slot, now):
        return verify_token(jitsi, fragment_values(location)["jwt"], slot.room_name, now=now)["context"]["user"]

    frozen_clock(lesson.starts_at - timedelta(minutes=6))
    status, html = page(client, token)
    assert status == 200 and "salle d'attente" not in html
    now = frozen_clock(lesson.starts_at - timedelta(minutes=5))
    family = user(client.get(f"/j/{token}").headers["Location"], lesson, now)
    assert (family["moderator"], family["lobby_bypass"], "lobby" in family) == (False, True, False)

    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    now = frozen_clock(lesson.starts_at + timedelta(minutes=10))
    helper = {slot: user(client.get(f"/admin/slots/{slot.id}/enter").headers["Location"], slot, now)
              for slot in (lesson, mediation)}
    assert helper[lesson]["lobby_bypass"] is True and "lobby" not in helper[lesson]
    assert (helper[mediation]["moderator"], helper[mediation]["lobby_bypass"], helper[mediation]["lobby"]) == (
        False, False, True)
