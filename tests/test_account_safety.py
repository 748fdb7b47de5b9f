"""Accounts that give nothing away: logging out ends every copy of the session, a weak password is
refused with help, a reset link shows nothing of the account, and logging in takes as long
whether or not the address has an account."""

import base64

from argon2 import PasswordHasher
from conftest import csrf_token
from factories import PASSWORD, login, look_again, make_person

from scheduler_app.models import User
from scheduler_app.services import passwords


def test_logging_out_makes_a_copied_session_cookie_useless(app, db):
    person = make_person(db, "parent", "Fatima Haddou")
    device = app.test_client()
    login(device, person.email, PASSWORD)
    copy = app.test_client()
    for cookie in device._cookies.values():  # what someone who copied the cookies holds
        copy.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    assert copy.get("/sessions").status_code == 200
    page = device.get("/sessions").get_data(as_text=True)
    device.post("/logout", data={"csrf_token": csrf_token(page)})
    assert copy.get("/sessions").status_code == 302  # back to the login page
    assert device.get("/sessions").status_code == 302


def test_logging_out_ends_a_stay_logged_in_cookie_copied_before(app, db):
    person = make_person(db, "parent", "Fatima Haddou")
    device = app.test_client()
    page = device.get("/login").get_data(as_text=True)
    device.post("/login", data={"email": person.email, "password": PASSWORD, "remember": "y",
                                "csrf_token": csrf_token(page)})
    remembered = device.get_cookie("remember_token")
    assert remembered is not None
    copy = app.test_client()
    copy.set_cookie("remember_token", remembered.value)
    assert copy.get("/sessions").status_code == 200  # the cookie alone logs in
    copy.delete_cookie("session")
    page = device.get("/sessions").get_data(as_text=True)
    device.post("/logout", data={"csrf_token": csrf_token(page)})
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remembered.value)
    assert fresh.get("/sessions").status_code == 302


def test_a_weak_password_is_refused_at_sign_up_with_what_to_do_and_the_form_kept(client):
    page = client.get("/register").get_data(as_text=True)
    for weak in ("aaaaaaaaaa", "1234567890", "password12", "motdepasse123"):
        response = client.post("/register", data={
            "name": "Claire Martin", "role": "parent", "email": "claire@example.org", "password": weak,
            "confirm": weak, "locale": "fr", "csrf_token": csrf_token(page)})
        html = response.get_data(as_text=True)
        assert response.status_code == 200, weak
        assert "trop facile à deviner" in html and "trois ou quatre mots" in html, weak
        assert 'value="Claire Martin"' in html and 'value="claire@example.org"' in html


def test_a_weak_new_password_is_refused_on_the_profile_too(client, db):
    person = make_person(db, "parent", "Fatima Haddou")
    login(client, person.email)
    page = client.get("/profile").get_data(as_text=True)
    response = client.post("/profile", data={"pw-current": PASSWORD, "pw-password": "1234567890",
                                             "pw-confirm": "1234567890", "csrf_token": csrf_token(page)})
    assert "trop facile à deviner" in response.get_data(as_text=True)
    look_again(db)
    assert db.get(User, person.id).check_password(PASSWORD)


def test_a_reset_link_shows_neither_the_account_nor_its_login_key(app, db):
    person = make_person(db, "parent", "Fatima Haddou")
    with app.test_request_context("/"):
        link = passwords.make_link(person, "reset")
        token = link.rsplit("/", 1)[1]
        assert passwords.person_from_link(db, "reset", token).id == person.id
        assert passwords.person_from_link(db, "invitation", token) is None  # for its purpose only
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert person.login_key.encode() not in raw and person.login_key not in token
    assert b'"id"' not in raw and b'"key"' not in raw  # encrypted, not merely signed


def test_a_reset_link_expires_with_lien_s_clock(app, db, frozen_clock):
    from datetime import timedelta

    from scheduler_app.clock import now_utc

    person = make_person(db, "parent", "Fatima Haddou")

    with app.test_request_context("/"):
        now = now_utc()
        token = passwords.make_link(person, "reset").rsplit("/", 1)[1]
        frozen_clock(now + timedelta(hours=23))
        assert passwords.person_from_link(db, "reset", token) is not None
        frozen_clock(now + timedelta(hours=25))
        assert passwords.person_from_link(db, "reset", token) is None


def test_login_does_the_same_work_whether_or_not_the_address_has_an_account(app, db, monkeypatch):
    # Counted, not timed: each failed login verifies exactly one Argon2 hash, account or not.
    person = make_person(db, "parent", "Fatima Haddou")
    verified = []
    real_verify = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify",
                        lambda hasher, stored, given: verified.append(stored) or real_verify(hasher, stored, given))
    client = app.test_client()
    for email in (person.email, "nobody@example.org"):
        verified.clear()
        response = login(client, email, "not-the-password")
        assert "Adresse e-mail ou mot de passe incorrect" in response.get_data(as_text=True)
        assert len(verified) == 1, email
        assert verified[0].startswith("$argon2id$")
