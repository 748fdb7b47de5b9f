"""Forgotten passwords, invitations from the centre, and each person's own settings."""

import re

import pytest
from conftest import csrf_token
from factories import PASSWORD, login, look_again, make_person

from scheduler_app.models import User
from scheduler_app.worker import make_dispatcher


@pytest.fixture
def smtp(app, mail_server):
    app.config["PUBLIC_URL"] = "http://localhost"
    return mail_server


def link_in(message) -> str:
    return re.search(r"http://localhost(/password/\S+)", message.get_body(("plain",)).get_content()).group(1)


def test_a_forgotten_password_is_replaced_through_a_link_that_works_once(app, client, db, smtp):
    person = make_person(db, "parent", "Fatima Haddou")
    page = client.get("/password/forgot")
    response = client.post("/password/forgot", data={"email": person.email, "csrf_token": csrf_token(page.get_data(as_text=True))},
                           follow_redirects=True)
    assert "Si cette adresse a un compte, nous venons de lui envoyer un lien." in response.get_data(as_text=True)
    assert make_dispatcher(app).tick().sent == 1
    [mail] = smtp.mailbox.to(person.email)
    assert mail["Subject"] == "Choisir un nouveau mot de passe"
    link = link_in(mail)
    page = client.get(link)
    assert "Compte de Fatima Haddou" in page.get_data(as_text=True)
    response = client.post(link, data={"password": "un-nouveau-secret", "confirm": "un-nouveau-secret",
                                       "csrf_token": csrf_token(page.get_data(as_text=True))}, follow_redirects=True)
    assert "votre mot de passe est enregistré" in response.get_data(as_text=True)
    look_again(db)
    assert db.get(User, person.id).check_password("un-nouveau-secret")
    assert client.get(link).status_code == 410  # used once, then dead


def test_an_unknown_address_gets_the_same_answer_and_no_mail(app, client, db, smtp):
    page = client.get("/password/forgot")
    response = client.post("/password/forgot", data={"email": "nobody@example.org",
                                                     "csrf_token": csrf_token(page.get_data(as_text=True))},
                           follow_redirects=True)
    assert "Si cette adresse a un compte, nous venons de lui envoyer un lien." in response.get_data(as_text=True)
    assert make_dispatcher(app).tick().sent == 0


def test_a_forged_or_foreign_link_is_refused(client, db):
    assert client.get("/password/reset/not-a-token").status_code == 410
    assert client.get("/password/elsewhere/not-a-token").status_code == 410


def test_a_tutor_added_without_a_password_is_invited_by_email(app, client, db, smtp):
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    login(client, coordinator.email)
    page = client.get("/admin/tutors/new")
    client.post("/admin/tutors/new", data={"name": "Claire Martin", "email": "claire@example.org",
                                           "languages": ["fr"], "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert make_dispatcher(app).tick().sent == 1
    [mail] = smtp.mailbox.to("claire@example.org")
    assert "Bienvenue sur Lien" in mail["Subject"]
    link = link_in(mail)
    assert link.startswith("/password/invitation/")
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/admin/").get_data(as_text=True))})
    page = client.get(link)
    client.post(link, data={"password": "mon-mot-de-passe", "confirm": "mon-mot-de-passe",
                            "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert "<h1>Mes créneaux</h1>" in client.get("/", follow_redirects=True).get_data(as_text=True)


def test_a_person_chooses_sms_and_english_and_the_form_explains_what_is_missing(client, db):
    person = make_person(db, "parent", "Fatima Haddou")
    login(client, person.email)
    page = client.get("/profile")
    data = {"name": "Fatima Haddou", "email": person.email, "phone": "", "notify_by": "sms", "locale": "en",
            "timezone": "Europe/Paris", "csrf_token": csrf_token(page.get_data(as_text=True))}
    html = client.post("/profile", data=data).get_data(as_text=True)
    assert "Pour recevoir des SMS, écrivez votre numéro de portable." in html
    data["phone"] = "06 12 34 56 78"
    response = client.post("/profile", data=data, follow_redirects=True)
    assert response.status_code == 200 and 'lang="en"' in response.get_data(as_text=True)
    look_again(db)
    saved = db.get(User, person.id)
    assert (saved.notify_by, saved.locale, saved.phone) == ("sms", "en", "+33612345678")


def test_changing_ones_password_keeps_this_device_and_logs_out_the_others(app, client, db):
    person = make_person(db, "student", "Yasmine Haddou")
    other_device = app.test_client()
    login(client, person.email)
    login(other_device, person.email)
    page = client.get("/profile")
    data = {"pw-current": "wrong-password", "pw-password": "un-tout-nouveau", "pw-confirm": "un-tout-nouveau",
            "pw-csrf_token": csrf_token(page.get_data(as_text=True)), "csrf_token": csrf_token(page.get_data(as_text=True))}
    assert "Ce n&#39;est pas votre mot de passe actuel" in client.post("/profile", data=data).get_data(as_text=True)
    data["pw-current"] = PASSWORD
    assert "Vos autres appareils sont déconnectés" in client.post("/profile", data=data, follow_redirects=True).get_data(as_text=True)
    assert client.get("/sessions").status_code == 200
    assert other_device.get("/sessions").status_code == 302


def test_a_coordinator_sets_a_familys_channels_and_others_cannot(client, db):
    from factories import make_family

    parent, _ = make_family(db, "Fatima Haddou", "Adam Haddou")
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    page = client.get(f"/admin/people/{parent.id}")
    response = client.post(f"/admin/people/{parent.id}", data={
        "name": "Fatima Haddou", "email": "", "phone": "07 61 22 33 44", "notify_by": "sms", "locale": "fr",
        "timezone": "Europe/Paris", "csrf_token": csrf_token(page.get_data(as_text=True))}, follow_redirects=True)
    assert "Les réglages de Fatima Haddou sont enregistrés" in response.get_data(as_text=True)
    look_again(db)
    assert (db.get(User, parent.id).notify_by, db.get(User, parent.id).email) == ("sms", None)
    assert client.get("/admin/people/999999").status_code == 404
    other = make_person(db, "parent", "Jean Petit")
    client.delete_cookie("session")
    login(client, other.email)
    assert client.get(f"/admin/people/{parent.id}").status_code == 403


def test_the_language_link_changes_the_pages_and_never_the_language_of_messages(app, client, db):
    person = make_person(db, "parent", "Fatima Haddou")
    login(client, person.email)
    assert client.get("/language/en?next=/sessions").headers["Location"] == "/sessions"
    assert "My sessions" in client.get("/sessions").get_data(as_text=True)
    look_again(db)
    assert db.get(User, person.id).locale == "fr"  # her messages stay in the language she chose
    for code, words in (("ar", 'dir="rtl"'), ("uk", '<html lang="uk"'), ("tr", '<html lang="tr"'),
                        ("pt", '<html lang="pt"')):
        client.get(f"/language/{code}")
        assert words in client.get("/sessions").get_data(as_text=True), code
    elsewhere = app.test_client()  # another device, logged in afresh: the account's language
    login(elsewhere, person.email)
    assert '<html lang="fr"' in elsewhere.get("/sessions").get_data(as_text=True)


def test_the_language_of_messages_is_chosen_on_the_profile_among_every_language(client, db):
    person = make_person(db, "parent", "Fatima Haddou")
    login(client, person.email)
    html = client.get("/profile").get_data(as_text=True)
    for name in ("Français", "English", "العربية", "Türkçe", "Português", "Українська"):
        assert name in html


def test_the_profile_form_gives_one_change_for_the_persons_page_and_the_coordinators(app):
    from werkzeug.datastructures import MultiDict

    from scheduler_app.auth.forms import ProfileForm
    from scheduler_app.services.accounts import ProfileChange

    typed = MultiDict({"name": " Fatima Haddou ", "email": "Fatima@Example.org", "phone": "07 61 22 33 44",
                       "notify_by": "both", "locale": "en", "timezone": "Indian/Reunion"})
    with app.test_request_context():
        change = ProfileForm(formdata=typed, meta={"csrf": False}).change()
    # As typed, the phone in international form (a number that exists: services.phones); update_profile
    # trims the name and the address.
    assert change == ProfileChange(name=" Fatima Haddou ", email="Fatima@Example.org", phone="+33761223344",
                                   notify_by="both", locale="en", timezone="Indian/Reunion")
