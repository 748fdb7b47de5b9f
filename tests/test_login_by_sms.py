"""Logging in and signing up with a mobile and a 6-digit code by SMS (through the local Brevo
stand-in): the same answer whether the number has an account, codes kept hashed, 10 minutes and
5 attempts, only to mobiles of the allowed countries, throttled, and within a daily SMS budget."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from conftest import csrf_token
from factories import login, look_again, make_person
from sqlalchemy import select

from scheduler_app.models import LoginCode, Notification, User
from scheduler_app.worker import make_dispatcher

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


@pytest.fixture
def sms(app, brevo, frozen_clock):
    app.config.update(brevo.settings(), PUBLIC_URL="https://lien.example.org")
    frozen_clock(NOW)
    return brevo


def ask_code(client, phone, path="/login/sms"):
    page = client.get(path)
    return client.post(path, data={"phone": phone, "csrf_token": csrf_token(page.get_data(as_text=True))})


def send_code(client, code, follow=True):
    page = client.get("/login/sms/code")
    return client.post("/login/sms/code", data={"code": code, "csrf_token": csrf_token(page.get_data(as_text=True))},
                       follow_redirects=follow)


def received_code(app, brevo, number="33612345678") -> str:
    make_dispatcher(app).tick()
    [message] = [r for r in brevo.requests if r["json"]["recipient"] == number][-1:]
    return re.search(r"\b(\d{6})\b", message["json"]["content"]).group(1)


def _parent_with_only_a_phone(db):
    return make_person(db, "parent", "Awa Diallo", email=None, phone="+33612345678", notify_by="sms")


def test_a_family_with_only_a_phone_logs_in_with_a_code(app, client, db, sms):
    _parent_with_only_a_phone(db)
    response = ask_code(client, "06 12 34 56 78")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login/sms/code")
    html = client.get("/login/sms/code").get_data(as_text=True)
    assert "Nous avons envoyé un code par SMS au 06 12 34 56 78" in html
    code = received_code(app, sms)
    assert "Il marche 10 minutes" in sms.requests[-1]["json"]["content"]
    assert "<h1>Mes séances</h1>" in send_code(client, code).get_data(as_text=True)


def test_the_page_gives_nothing_away_and_a_new_number_signs_up_after_its_code(app, client, db, sms):
    _parent_with_only_a_phone(db)
    known = ask_code(app.test_client(), "06 12 34 56 78")
    unknown = ask_code(client, "07 61 22 33 44")
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    assert len(sms.requests) == 0 and make_dispatcher(app).tick().sent == 2  # a code to both
    code = received_code(app, sms, "33761223344")
    response = send_code(client, code, follow=False)
    assert response.headers["Location"] == "/register/phone"
    page = client.get("/register/phone")
    assert "Votre numéro 07 61 22 33 44 est vérifié" in page.get_data(as_text=True)
    response = client.post("/register/phone", data={
        "role": "parent", "name": "Mariam Koné", "locale": "fr", "csrf_token": csrf_token(page.get_data(as_text=True))},
        follow_redirects=True)
    assert "Bienvenue sur Lien, Mariam Koné" in response.get_data(as_text=True)
    look_again(db)
    person = db.scalar(select(User).where(User.name == "Mariam Koné"))
    assert (person.phone, person.email, person.notify_by, person.password_hash) == ("+33761223344", None, "sms", None)
    assert client.get("/register/phone").status_code == 302  # the verified number is used up


def test_sign_up_by_phone_needs_a_right_code_first(client, db, sms):
    assert client.get("/register/phone").headers["Location"] == "/login/sms"
    assert client.get("/login/sms/code").headers["Location"] == "/login/sms"


def test_a_wrong_code_uses_an_attempt_and_says_how_many_are_left(app, client, db, sms):
    _parent_with_only_a_phone(db)
    ask_code(client, "06 12 34 56 78")
    code = received_code(app, sms)
    wrong = "000000" if code != "000000" else "111111"
    assert "Il vous reste 4 essais." in send_code(client, wrong).get_data(as_text=True)
    for _ in range(2):
        send_code(client, wrong)
    assert "Il vous reste 1 essai." in send_code(client, wrong).get_data(as_text=True)
    html = send_code(client, code[:3] + " " + code[3:]).get_data(as_text=True)  # typed with a space
    assert "<h1>Mes séances</h1>" in html  # the fifth attempt, right


def test_five_wrong_codes_end_the_code(app, client, db, sms):
    _parent_with_only_a_phone(db)
    ask_code(client, "06 12 34 56 78")
    code = received_code(app, sms)
    wrong = "000000" if code != "000000" else "111111"
    answers = [send_code(client, wrong).get_data(as_text=True) for _ in range(5)]
    assert "Il vous reste 1 essai." in answers[3]
    assert "c&#39;était le dernier essai" in answers[4]
    assert "Ce code ne marche plus" in send_code(client, code).get_data(as_text=True)
    assert "<h1>Mes séances</h1>" not in client.get("/", follow_redirects=True).get_data(as_text=True)


def test_a_code_lasts_ten_minutes_and_is_kept_only_hashed(app, client, db, sms, frozen_clock):
    _parent_with_only_a_phone(db)
    ask_code(client, "06 12 34 56 78")
    look_again(db)
    row = db.scalar(select(LoginCode))
    notification = db.scalar(select(Notification).where(Notification.kind == "login_code"))
    code = received_code(app, sms)
    assert code not in row.code_hash and code not in str(notification.payload)
    frozen_clock(NOW + timedelta(minutes=10, seconds=1))
    assert "Ce code ne marche plus" in send_code(client, code).get_data(as_text=True)


@pytest.mark.parametrize("phone, says", [
    ("+212 6 12 34 56 78", "seulement aux téléphones portables de France et d&#39;outre-mer"),
    ("01 42 34 56 78", "seulement aux téléphones portables"),
    ("06 12 34", "comme ceci : 06 12 34 56 78"),
])
def test_codes_go_only_to_mobiles_of_the_allowed_countries(app, client, db, sms, phone, says):
    html = ask_code(client, phone).get_data(as_text=True)
    assert says in html and f'value="{phone}"' in html
    assert make_dispatcher(app).tick().sent == 0


def test_an_overseas_mobile_gets_its_code(app, client, db, sms):
    ask_code(client, "0692 12 34 56")
    assert received_code(app, sms, "262692123456")


def test_codes_are_throttled_per_number_and_per_address(app, client, db, sms):
    for _ in range(3):
        assert ask_code(app.test_client(), "06 12 34 56 78").status_code == 302
    assert "Trop de codes demandés pour ce numéro" in ask_code(client, "06 12 34 56 78").get_data(as_text=True)
    app.config["RATELIMIT_SMS_CODE"] = "2 per hour"
    other = app.test_client()
    codes = [ask_code(other, number).status_code for number in ("07 61 00 00 01", "07 61 00 00 02", "07 61 00 00 03")]
    assert codes[-1] == 429


def test_past_the_daily_budget_no_code_is_sent_and_coordinators_see_an_alert(app, client, db, sms):
    app.config["SMS_DAILY_BUDGET"] = 1
    ask_code(app.test_client(), "06 12 34 56 78")
    for number in ("07 61 00 00 01", "07 61 00 00 02"):
        html = ask_code(app.test_client(), number).get_data(as_text=True)
        assert "Nous ne pouvons pas envoyer de code aujourd&#39;hui" in html
    assert make_dispatcher(app).tick().sent == 1
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    html = client.get("/admin/messages").get_data(as_text=True)
    assert html.count("le budget de SMS du jour est atteint") == 1


HOSTILE = ["", " ", "0" * 5000, "\x00", "06\x0012345678", "+33 6 12 34 56 78\n", "<script>alert(1)</script>",
           "١٢٣٤٥٦", "１２３４５６", "+", "++33612345678", "' OR 1=1 --", "%00", "\u202e123456", "9" * 25, "-1",
           "1e6", "123 456", "１２３456"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_phones_and_codes_get_a_page_not_a_500(app, client, db, sms, value):
    app.config["RATELIMIT_SMS_CODE"] = "1000 per hour"
    app.config["RATELIMIT_LOGIN"] = "1000 per minute"
    # No form of Lien's takes a NUL (security.refuse_hostile_input): a 400 before any code goes.
    answered = (400,) if "\x00" in value else (200, 302)
    assert ask_code(client, value).status_code in answered
    ask_code(client, "06 12 34 56 78")
    assert send_code(client, value, follow=False).status_code in answered
    page = client.get("/login/sms")
    assert client.post("/login/sms/code", data={"code": [value, value],
                                                "csrf_token": csrf_token(page.get_data(as_text=True))}).status_code < 500
