"""Signing up, logging in and out, and what protects them."""

import pytest
from conftest import csrf_token
from factories import PASSWORD, finish_sign_up, login, look_again, make_person
from sqlalchemy import select

from scheduler_app import create_app
from scheduler_app.models import User


def _register(client, **fields):
    page = client.get("/register")
    data = {"role": "parent", "name": "Fatima Haddou", "email": "fatima@example.org", "phone": "06 12 34 56 78",
            "password": "un-long-mot-de-passe", "confirm": "un-long-mot-de-passe", "locale": "fr",
            "csrf_token": csrf_token(page.get_data(as_text=True))}
    data.update(fields)
    return client.post("/register", data=data, follow_redirects=True)


def test_a_parent_signs_up_and_is_logged_in(client, db, mail_server):
    response = _register(client)
    assert "<h1>Regardez vos e-mails</h1>" in response.get_data(as_text=True)
    assert db.scalar(select(User)) is None  # not before the link in the email is opened
    response = finish_sign_up(client, mail_server, "fatima@example.org")
    assert "Bienvenue sur Lien, Fatima Haddou" in response.get_data(as_text=True)
    look_again(db)
    user = db.scalar(select(User).where(User.email == "fatima@example.org"))
    assert user.role == "parent" and user.phone == "+33612345678"
    assert user.password_hash.startswith("$argon2id$")
    assert "un-long-mot-de-passe" not in user.password_hash


def test_a_sign_up_with_mistakes_keeps_what_was_typed_and_says_what_to_do(client, db):
    make_person(db, "parent", "Fatima Haddou", email="fatima@example.org")
    response = _register(client, name="Fatima H.", confirm="autre-chose-encore", phone="06 12 34")
    html = response.get_data(as_text=True)
    assert "Les deux mots de passe ne sont pas pareils" in html
    assert "Écrivez le numéro en entier, comme ceci : 06 12 34 56 78." in html and 'value="06 12 34"' in html
    assert 'value="Fatima H."' in html and 'value="fatima@example.org"' in html
    assert 'class="error-summary"' in html
    response = _register(client, name="Fatima H.")
    html = response.get_data(as_text=True)  # the address has an account: nothing says so (tests/test_sign_up.py)
    assert "<h1>Regardez vos e-mails</h1>" in html and "existe déjà" not in html
    assert len(db.scalars(select(User)).all()) == 1


def test_someone_cannot_register_as_a_tutor_or_coordinator(client, db):
    response = _register(client, role="coordinator")
    assert response.status_code == 200
    assert db.scalar(select(User)) is None


def test_a_wrong_password_says_so_without_saying_which_part(client, db):
    person = make_person(db, "student", "Yasmine Haddou")
    html = login(client, person.email, "not-the-password").get_data(as_text=True)
    assert "Adresse e-mail ou mot de passe incorrect" in html
    assert f'value="{person.email}"' in html
    assert "<h1>Mes séances</h1>" in login(client, person.email.upper()).get_data(as_text=True)


def test_login_is_throttled(client, app, db):
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    person = make_person(db, "student", "Yasmine Haddou")
    codes = [login(client, person.email, "wrong").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = login(client, person.email, PASSWORD)  # even the right password must wait
    assert refused.status_code == 429 and "Trop d" in refused.get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_refused(client, db):
    person = make_person(db, "student", "Yasmine Haddou")
    response = client.post("/login", data={"email": person.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "La page est trop ancienne" in response.get_data(as_text=True)


def test_login_returns_only_to_pages_of_this_site(client, db):
    person = make_person(db, "student", "Yasmine Haddou")
    page = client.get("/login")
    token = csrf_token(page.get_data(as_text=True))
    for target, expected in [("/slots", "/slots"), ("https://evil.example/", "/"), ("//evil.example/", "/")]:
        response = client.post(f"/login?next={target}", data={"email": person.email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"] == expected
        client.get("/logout")  # GET is not a logout; reset the session instead
        client.delete_cookie("session")
        page = client.get("/login")
        token = csrf_token(page.get_data(as_text=True))


def test_a_new_password_logs_out_every_other_device(app, client, db):
    person = make_person(db, "student", "Yasmine Haddou")
    login(client, person.email)
    assert client.get("/sessions").status_code == 200
    person.set_password("a-brand-new-password")
    db.commit()
    assert client.get("/sessions").status_code == 302  # back to the login page


def test_pages_need_a_login_and_the_right_role(client, db):
    assert client.get("/sessions").headers["Location"].startswith("/login?next=")
    person = make_person(db, "student", "Yasmine Haddou")
    login(client, person.email)
    assert client.get("/slots/new").status_code == 403
    assert client.get("/admin/").status_code == 403


def test_the_app_refuses_to_start_in_production_with_the_placeholder_secret(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app({"DATABASE_URL": "sqlite://"})
    assert create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "a-real-secret-from-the-environment"})


def test_a_misconfigured_time_zone_is_named_at_start(monkeypatch):
    monkeypatch.setenv("TIMEZONE", "Mars/Olympus")
    with pytest.raises(RuntimeError, match="TIMEZONE='Mars/Olympus'"):
        create_app({"DATABASE_URL": "sqlite://", "TESTING": True})


def test_a_coordinator_creates_a_tutor_and_a_family(client, db):
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    login(client, coordinator.email)
    page = client.get("/admin/tutors/new")
    html = page.get_data(as_text=True)
    assert "Arabe" in html  # languages named in the viewer's language
    response = client.post("/admin/tutors/new", data={
        "name": "Claire Martin", "email": "claire@example.org", "password": "provisoire-2026",
        "subjects": ["francais", "anglais"], "levels": ["college"], "languages": ["fr", "en"],
        "csrf_token": csrf_token(html)}, follow_redirects=True)
    assert "Claire Martin est maintenant tuteur" in response.get_data(as_text=True)
    page = client.get("/admin/families/new")
    response = client.post("/admin/families/new", data={
        "parent_name": "Jean Petit", "parent_phone": "07 61 00 00 01", "child_1": "Léa Petit",
        "child_2": "Hugo Petit", "csrf_token": csrf_token(page.get_data(as_text=True))}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "La famille de Jean Petit est enregistrée" in html
    assert "Réserver pour Léa Petit" in html  # straight on to booking for the first child
    look_again(db)
    tutor = db.scalar(select(User).where(User.email == "claire@example.org"))
    assert tutor.role == "tutor" and tutor.tutor_profile.languages == ",fr,en,"
    assert tutor.check_password("provisoire-2026")
    parent = db.scalar(select(User).where(User.name == "Jean Petit"))
    assert parent.email is None and parent.phone == "+33761000001"
    assert [child.name for child in parent.children] == ["Hugo Petit", "Léa Petit"]
    html = client.get(f"/admin/families/{parent.id}").get_data(as_text=True)
    assert html.index(">Hugo Petit<") < html.index(">Léa Petit<")
