"""Phone numbers as families type them: stored in E.164, wrong ones refused with the expected
form, and SMS chosen whenever there is a mobile (never email for someone without one)."""

import pytest
from conftest import csrf_token
from factories import finish_sign_up, login, look_again, make_family, make_person
from sqlalchemy import select

from scheduler_app.models import User
from scheduler_app.services import ServiceError, phones


@pytest.mark.parametrize("typed, stored", [
    ("06 12 34 56 78", "+33612345678"),
    ("06.12.34.56.78", "+33612345678"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("0033612345678", "+33612345678"),
    ("01 42 34 56 78", "+33142345678"),
    ("0692 12 34 56", "+262692123456"),   # Réunion, dialled from metropolitan France
    ("0690 12 34 56", "+590690123456"),   # Guadeloupe
    ("0696 12 34 56", "+596696123456"),   # Martinique
    ("0694 12 34 56", "+594694123456"),   # Guyane
    ("+262 692 12 34 56", "+262692123456"),
    ("+32 470 12 34 56", "+32470123456"),  # Belgium
    ("+212 6 12 34 56 78", "+212612345678"),  # Morocco
])
def test_numbers_are_stored_in_e164(typed, stored):
    assert phones.e164(typed) == stored


@pytest.mark.parametrize("typed", [
    "06 12 34", "0612", "+3361234", "07 00 00 00 01", "pas un numéro", "+", "00", "0" * 40, "06 12 34 56 78 90",
    "\x00", "06\x0012345678", "١٢٣٤٥٦٧٨٩٠", "+999 123456789", "0612345678" * 10, "=cmd|' /C calc'!A0", "\u202e0612345678",
])
def test_wrong_numbers_are_refused_with_the_expected_form(typed):
    assert phones.e164(typed) is None
    with pytest.raises(ServiceError) as refused:
        phones.require(typed)
    assert "06 12 34 56 78" in str(refused.value.message)


def test_mobiles_landlines_and_countries():
    assert phones.is_mobile("+33612345678") and phones.is_mobile("+262692123456")
    assert not phones.is_mobile("+33142345678") and not phones.is_mobile(None)
    assert phones.can_receive_codes("+590690123456", phones.CODE_COUNTRIES)
    assert not phones.can_receive_codes("+212612345678", phones.CODE_COUNTRIES)
    assert not phones.can_receive_codes("+33142345678", phones.CODE_COUNTRIES)
    assert phones.readable("+33612345678") == "06 12 34 56 78"
    assert phones.readable("+262692123456").startswith("+262")


@pytest.mark.parametrize("email, phone, channel", [
    ("a@example.org", "+33612345678", "both"),
    (None, "+33612345678", "sms"),
    ("a@example.org", None, "email"),
    ("a@example.org", "+33142345678", "email"),  # a landline takes no SMS
    (None, None, "sms"),  # never "by e-mail" without an email
])
def test_the_default_channel(email, phone, channel):
    assert phones.default_channel(email, phone) == channel


def _new_family(client, **fields):
    page = client.get("/admin/families/new")
    data = {"parent_name": "Awa Diallo", "parent_phone": "07 61 22 33 44", "child_1": "Moussa Diallo",
            "csrf_token": csrf_token(page.get_data(as_text=True))}
    data.update(fields)
    return client.post("/admin/families/new", data=data, follow_redirects=True)


def test_a_family_created_with_only_a_phone_gets_sms_and_its_settings_save(client, db):
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    html = _new_family(client, parent_phone="06 12 34").get_data(as_text=True)
    assert "comme ceci : 06 12 34 56 78" in html and 'value="06 12 34"' in html
    assert db.scalar(select(User).where(User.name == "Awa Diallo")) is None
    _new_family(client)
    look_again(db)
    parent = db.scalar(select(User).where(User.name == "Awa Diallo"))
    assert (parent.phone, parent.email, parent.notify_by) == ("+33761223344", None, "sms")
    page = client.get(f"/admin/people/{parent.id}")
    html = page.get_data(as_text=True)
    assert 'value="07 61 22 33 44"' in html  # read back as typed on the phone
    response = client.post(f"/admin/people/{parent.id}", data={
        "name": "Awa Diallo", "email": "", "phone": "07 61 22 33 44", "notify_by": "sms", "locale": "en",
        "timezone": "Europe/Paris", "csrf_token": csrf_token(html)}, follow_redirects=True)
    assert "Les réglages de Awa Diallo sont enregistrés" in response.get_data(as_text=True)
    look_again(db)
    assert db.get(User, parent.id).locale == "en"


def test_a_sign_up_with_a_mobile_gets_sms(client, db, mail_server):
    page = client.get("/register")
    client.post("/register", data={
        "role": "parent", "name": "Fatima Haddou", "email": "fatima@example.org", "phone": "06 12 34 56 78",
        "password": "un-long-mot-de-passe", "confirm": "un-long-mot-de-passe", "locale": "fr",
        "csrf_token": csrf_token(page.get_data(as_text=True))})
    finish_sign_up(client, mail_server, "fatima@example.org")
    look_again(db)
    assert db.scalar(select(User).where(User.email == "fatima@example.org")).notify_by == "both"


def test_the_profile_refuses_a_channel_that_cannot_reach_and_a_landline_for_sms(client, db):
    parent, _ = make_family(db, "Fatima Haddou", "Adam Haddou")
    login(client, parent.email)
    page = client.get("/profile")
    data = {"name": "Fatima Haddou", "email": "", "phone": "01 42 34 56 78", "notify_by": "email", "locale": "fr",
            "timezone": "Europe/Paris", "csrf_token": csrf_token(page.get_data(as_text=True))}
    assert "Pour recevoir des e-mails, écrivez votre adresse e-mail." in client.post("/profile", data=data).get_data(as_text=True)
    data["notify_by"] = "sms"
    assert "il ne reçoit pas de SMS" in client.post("/profile", data=data).get_data(as_text=True)
    data["phone"] = "+33 6 12 34"
    html = client.post("/profile", data=data).get_data(as_text=True)
    assert "comme ceci : 06 12 34 56 78" in html
    look_again(db)
    assert db.get(User, parent.id).phone is None


def test_a_student_without_addresses_can_have_their_language_changed(client, db):
    _, [child] = make_family(db, "Fatima Haddou", "Adam Haddou")
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    page = client.get(f"/admin/people/{child.id}")
    response = client.post(f"/admin/people/{child.id}", data={
        "name": "Adam Haddou", "email": "", "phone": "", "notify_by": "email", "locale": "en",
        "timezone": "Europe/Paris", "csrf_token": csrf_token(page.get_data(as_text=True))}, follow_redirects=True)
    assert "Les réglages de Adam Haddou sont enregistrés" in response.get_data(as_text=True)


HOSTILE_PHONES = ["06 12 34", "\x00", "06\x0012345678", "0" * 5000, "+", "++33612345678", "<script>", "١٢٣٤٥٦٧٨٩٠",
                  "\u202e0612345678", "+999 123456789", "=1+1", "06 12 34 56 78 ext. 12", "💬"]


@pytest.mark.parametrize("value", HOSTILE_PHONES)
def test_every_phone_field_answers_a_hostile_number_without_a_500(client, db, mail_server, value):
    parent, [child] = make_family(db, "Fatima Haddou", "Adam Haddou")
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    forms = {
        "/admin/families/new": {"parent_name": "Awa Diallo", "parent_phone": value, "child_1": "Moussa Diallo"},
        "/admin/tutors/new": {"name": "Claire Martin", "email": "claire@example.org", "phone": value},
        f"/admin/people/{parent.id}": {"name": "Fatima Haddou", "email": "", "phone": value, "notify_by": "sms",
                                       "locale": "fr", "timezone": "Europe/Paris"},
    }
    for url, data in forms.items():
        page = client.get(url)
        response = client.post(url, data={**data, "csrf_token": csrf_token(page.get_data(as_text=True))})
        assert response.status_code < 500, url
    visitor = client.application.test_client()
    page = visitor.get("/register")
    response = visitor.post("/register", data={
        "role": "parent", "name": "Mariam Koné", "email": "mariam@example.org", "phone": value,
        "password": "un-long-mot-de-passe", "confirm": "un-long-mot-de-passe", "locale": "fr",
        "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code < 500
    if response.status_code == 302:  # accepted: the account comes with the link of the email
        assert finish_sign_up(visitor, mail_server, "mariam@example.org").status_code < 500
    look_again(db)
    saved = db.scalar(select(User.phone).where(User.email == "mariam@example.org"))
    assert saved is None or saved.startswith("+") and saved[1:].isdigit()  # refused, or a real number
