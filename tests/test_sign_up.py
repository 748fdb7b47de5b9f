"""Signing up with an email gives nothing away: an address with an account and a new one get the
same answer ("look at your emails"), the same work and one email each, read back here from a real
SMTP server. The new address's email finishes the sign-up; the account owner's says someone tried,
with a way in, and nothing of their account changes. A new address written on one's own page is
answered the same way, and is the account's once the link sent to it is opened."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import textstat
from argon2 import PasswordHasher
from conftest import csrf_token
from factories import finish_sign_up, login, look_again, make_person
from sqlalchemy import func, select
from test_easy_read import READING_EASE, SENTENCE_WORDS, sentences, words
from test_login_by_sms import ask_code, received_code, send_code

from scheduler_app.models import Notification, User
from scheduler_app.worker import make_dispatcher

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
TYPED_PASSWORD = "un-long-mot-de-passe"
# Every form's CSRF token (the password form's is "pw-csrf_token"): each carries the second it was made.
TOKENS = re.compile(r'csrf_token"[^>]*value="[^"]+"')


@pytest.fixture
def mail(app, mail_server, frozen_clock):
    app.config["PUBLIC_URL"] = "https://lien.example.org"
    frozen_clock(NOW)
    return mail_server


def sign_up(client, email, **fields):
    page = client.get("/register")
    data = {"role": "parent", "name": "Claire Martin", "email": email, "phone": "", "password": TYPED_PASSWORD,
            "confirm": TYPED_PASSWORD, "locale": "fr", "csrf_token": csrf_token(page.get_data(as_text=True)),
            **fields}
    return client.post("/register", data=data)


def answer(client, email) -> tuple:
    """Everything the person signing up sees: the reply to the form and the page it leads to,
    with the typed address taken out."""
    response = sign_up(client, email)
    page = client.get(response.headers.get("Location", "/register"))
    return (response.status_code, response.headers.get("Location"), tuple(sorted(response.headers.keys())),
            response.get_data(as_text=True),
            page.status_code, TOKENS.sub("TOKEN", page.get_data(as_text=True).replace(email, "ADDRESS")))


def body(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def everyone(db) -> list[tuple]:
    look_again(db)
    return [tuple(row) for row in db.execute(select(User.id, User.name, User.email, User.role, User.password_hash,
                                                   User.login_key, User.phone, User.locale, User.active)
                                             .order_by(User.id))]


def test_an_address_with_an_account_and_a_new_one_get_the_same_answer(app, db, mail):
    make_person(db, "parent", "Fatima Haddou", email="fatima@example.org")
    taken = answer(app.test_client(), "fatima@example.org")
    new = answer(app.test_client(), "nouvelle@example.org")
    assert taken == new
    assert taken[1] == "/register/sent"
    assert "<h1>Regardez vos e-mails</h1>" in taken[5] and "Nous avons envoyé un e-mail à ADDRESS." in taken[5]
    assert "existe" not in taken[5]
    look_again(db)
    kinds = db.scalars(select(Notification.kind).order_by(Notification.id)).all()
    assert kinds == ["sign_up_taken", "sign_up"]  # one email each


def test_both_answers_do_the_same_work(app, db, mail, monkeypatch):
    # Counted, not timed: each hashes the typed password once and writes one outbox row.
    make_person(db, "parent", "Fatima Haddou", email="fatima@example.org")
    hashed = []
    real_hash = PasswordHasher.hash
    monkeypatch.setattr(PasswordHasher, "hash", lambda hasher, password, **kw: hashed.append(password)
                        or real_hash(hasher, password, **kw))
    for email in ("fatima@example.org", "nouvelle@example.org"):
        hashed.clear()
        before = db.scalar(select(func.count()).select_from(Notification))
        assert sign_up(app.test_client(), email).status_code == 302
        look_again(db)
        assert hashed == [TYPED_PASSWORD], email
        assert db.scalar(select(func.count()).select_from(Notification)) == before + 1, email


def test_the_account_owner_is_told_by_email_with_ways_in_and_nothing_changes(app, client, db, mail):
    owner = make_person(db, "parent", "Fatima Haddou", email="fatima@example.org", phone="+33612345678")
    before = everyone(db)
    assert sign_up(client, "Fatima@Example.org", name="Quelqu'un d'autre").status_code == 302
    assert make_dispatcher(app).tick().sent == 1
    [notice] = mail.mailbox.to("fatima@example.org")
    text = body(notice)
    assert notice["Subject"] == "Vous avez déjà un compte Lien"
    assert "Bonjour Fatima Haddou," in text and "Quelqu'un d'autre" not in text
    assert "Quelqu'un a voulu créer un compte Lien avec votre adresse e-mail." in text
    assert "Ce n'était pas vous ? Ne faites rien : votre compte ne change pas." in text
    assert "https://lien.example.org/login\n" in text and "https://lien.example.org/login/sms\n" in text
    assert "/register/finish/" not in text
    assert everyone(db) == before  # no account made, none changed
    assert "Adresse e-mail ou mot de passe incorrect" in login(client, "fatima@example.org",
                                                               TYPED_PASSWORD).get_data(as_text=True)
    # The reset link lets the owner choose a new password.
    reset = re.search(r"https://lien\.example\.org(/password/reset/\S+)", text).group(1)
    page = client.get(reset)
    assert "Compte de Fatima Haddou" in page.get_data(as_text=True)
    client.post(reset, data={"password": "un-nouveau-secret-du-jour", "confirm": "un-nouveau-secret-du-jour",
                             "csrf_token": csrf_token(page.get_data(as_text=True))})
    look_again(db)
    assert db.get(User, owner.id).check_password("un-nouveau-secret-du-jour")


def test_the_notice_speaks_the_owners_language_and_offers_sms_only_to_a_mobile(app, client, db, mail):
    make_person(db, "parent", "Jane Smith", email="jane@example.org", locale="en")
    sign_up(client, "jane@example.org")
    make_dispatcher(app).tick()
    [notice] = mail.mailbox.to("jane@example.org")
    assert notice["Subject"] == "You already have a Lien account"
    assert "/login/sms" not in body(notice)  # no mobile: no code by SMS


def test_a_new_address_finishes_signing_up_from_its_email(app, client, db, mail):
    assert sign_up(client, "claire@example.org", phone="06 12 34 56 78").headers["Location"] == "/register/sent"
    make_dispatcher(app).tick()
    [mail_sent] = mail.mailbox.to("claire@example.org")
    assert mail_sent["Subject"] == "Finissez de créer votre compte Lien"
    assert TYPED_PASSWORD not in mail_sent.as_string()
    link = re.search(r"https://lien\.example\.org(/register/finish/\S+)", body(mail_sent)).group(1)
    visitor = app.test_client()  # the email opened on another device
    page = visitor.get(link)  # opening the link (as a mail scanner does) creates nothing
    assert page.status_code == 200 and "Compte de Claire Martin" in page.get_data(as_text=True)
    assert everyone(db) == []
    response = visitor.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))}, follow_redirects=True)
    assert "Bienvenue sur Lien, Claire Martin" in response.get_data(as_text=True)
    look_again(db)
    [claire] = db.scalars(select(User)).all()
    assert (claire.email, claire.role, claire.phone, claire.notify_by) == ("claire@example.org", "parent",
                                                                           "+33612345678", "both")
    assert claire.check_password(TYPED_PASSWORD) and TYPED_PASSWORD not in claire.password_hash
    # The link again (a second click) makes no second account, and says to log in.
    again = app.test_client()
    page = again.get(link)
    response = again.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))}, follow_redirects=True)
    assert "Un compte existe déjà avec cette adresse" in response.get_data(as_text=True)
    assert "<h1>Se connecter</h1>" in response.get_data(as_text=True)
    look_again(db)
    assert db.scalar(select(func.count()).select_from(User)) == 1


def test_a_sign_up_link_lasts_24_hours_and_cannot_be_forged(app, client, db, mail, frozen_clock):
    sign_up(client, "claire@example.org")
    make_dispatcher(app).tick()
    link = re.search(r"https://lien\.example\.org(/register/finish/\S+)",
                     body(mail.mailbox.to("claire@example.org")[0])).group(1)
    frozen_clock(NOW + timedelta(hours=23))
    assert client.get(link).status_code == 200
    frozen_clock(NOW + timedelta(hours=24, seconds=1))
    expired = client.get(link)
    assert expired.status_code == 410 and "Recommencez l'inscription" in unescape(expired.get_data(as_text=True))
    frozen_clock(NOW)
    assert client.get(link[:-4] + "AAAA").status_code == 410
    assert client.get("/register/finish/not-a-token").status_code == 410


def test_a_closed_account_gets_no_email_and_the_same_answer(app, db, mail):
    make_person(db, "parent", "Fatima Haddou", email="fatima@example.org", active=False)
    closed = answer(app.test_client(), "fatima@example.org")
    assert closed == answer(app.test_client(), "nouvelle@example.org")
    make_dispatcher(app).tick()
    assert mail.mailbox.to("fatima@example.org") == []


def test_one_address_gets_at_most_three_sign_up_emails_an_hour(app, db, mail, frozen_clock):
    make_person(db, "parent", "Fatima Haddou", email="fatima@example.org")
    for email in ("fatima@example.org", "nouvelle@example.org"):
        answers = {answer(app.test_client(), email) for _ in range(4)}
        assert len(answers) == 1  # the fourth is answered like the others
    make_dispatcher(app).tick()
    assert len(mail.mailbox.to("fatima@example.org")) == 3
    assert len(mail.mailbox.to("nouvelle@example.org")) == 3
    frozen_clock(NOW + timedelta(hours=1))
    sign_up(app.test_client(), "fatima@example.org")
    make_dispatcher(app).tick()
    assert len(mail.mailbox.to("fatima@example.org")) == 4


def test_sign_up_is_throttled_like_login(app, client, db, mail):
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    codes = [sign_up(client, f"personne{n}@example.org").status_code for n in range(4)]
    assert codes == [302, 302, 302, 429]


def test_the_sign_up_emails_are_easy_to_read(app, client, db, mail):
    make_person(db, "parent", "Fatima Haddou", email="fatima@example.org", phone="+33612345678")
    sign_up(app.test_client(), "fatima@example.org")
    sign_up(app.test_client(), "claire@example.org")
    login(client, make_person(db, "parent", "Jean Petit").email)
    write_on_own_page(client, "fatima@example.org")
    write_on_own_page(client, "jean.nouveau@example.org")
    make_dispatcher(app).tick()
    messages = [*mail.mailbox.to("fatima@example.org"), *mail.mailbox.to("claire@example.org"),
                *mail.mailbox.to("jean.nouveau@example.org")]
    assert len(messages) == 4
    textstat.set_lang("fr")
    for message in messages:
        text = body(message) + "\n" + message["Subject"]
        for sentence in sentences(text):
            assert len(words(sentence)) <= SENTENCE_WORDS, sentence
        prose = " ".join(sentence + "." for sentence in sentences(text))
        assert textstat.flesch_reading_ease(prose) >= READING_EASE, prose


def test_the_sign_up_email_logs_in_a_student_who_then_sees_their_family_code(app, client, db, mail):
    sign_up(client, "adam@example.org", role="student", name="Adam Haddou", birth_year="2014")
    welcome = finish_sign_up(client, mail, "adam@example.org").get_data(as_text=True)
    assert "Bienvenue sur Lien, Adam Haddou" in welcome
    assert "Un parent doit d'abord donner son accord" in unescape(welcome)


def write_on_own_page(client, email, **fields):
    page = client.get("/profile")
    data = {"name": "Claire Martin", "email": email, "phone": "", "notify_by": "email", "locale": "fr",
            "timezone": "Europe/Paris", "csrf_token": csrf_token(page.get_data(as_text=True)), **fields}
    response = client.post("/profile", data=data)
    page = client.get(response.headers.get("Location", "/profile"))
    return response, page.get_data(as_text=True)


def test_an_address_written_on_ones_own_page_waits_for_its_link(app, client, db, mail):
    claire = make_person(db, "parent", "Claire Martin", email="claire@example.org")
    login(client, claire.email)
    response, page = write_on_own_page(client, "Claire.Nouvelle@example.org", name="Claire Martin-Diallo")
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    assert "Vos réglages sont enregistrés." in page
    assert "Pour changer d&#39;adresse e-mail, ouvrez le lien envoyé à claire.nouvelle@example.org." in page
    look_again(db)
    saved = db.get(User, claire.id)
    assert (saved.name, saved.email) == ("Claire Martin-Diallo", "claire@example.org")  # the rest is saved now
    make_dispatcher(app).tick()
    [message] = mail.mailbox.to("claire.nouvelle@example.org")
    assert message["Subject"] == "Confirmez votre nouvelle adresse e-mail"
    link = re.search(r"https://lien\.example\.org(/profile/email/\S+)", body(message)).group(1)
    elsewhere = app.test_client()  # the email read on another device, not logged in
    page = elsewhere.get(link)
    assert "Nouvelle adresse : claire.nouvelle@example.org" in page.get_data(as_text=True)
    look_again(db)
    assert db.get(User, claire.id).email == "claire@example.org"  # opening the link changes nothing
    response = elsewhere.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))},
                              follow_redirects=True)
    assert "votre adresse e-mail est changée" in response.get_data(as_text=True)
    look_again(db)
    assert db.get(User, claire.id).email == "claire.nouvelle@example.org"
    assert elsewhere.get(link).status_code == 410  # used once
    assert "<h1>Mes séances</h1>" in login(app.test_client(), "claire.nouvelle@example.org").get_data(as_text=True)


def test_an_address_with_an_account_on_ones_own_page_gets_the_same_answer_and_its_owner_is_told(app, client, db,
                                                                                                   mail):
    fatima = make_person(db, "parent", "Fatima Haddou", email="fatima@example.org")
    claire = make_person(db, "parent", "Claire Martin", email="claire@example.org")
    login(client, claire.email)
    before = everyone(db)
    taken = write_on_own_page(client, "fatima@example.org")
    new = write_on_own_page(client, "nouvelle@example.org")
    assert (taken[0].status_code, taken[0].headers["Location"]) == (new[0].status_code, new[0].headers["Location"])
    assert (TOKENS.sub("TOKEN", taken[1].replace("fatima@example.org", "ADDRESS"))
            == TOKENS.sub("TOKEN", new[1].replace("nouvelle@example.org", "ADDRESS")))
    assert "existe" not in taken[1]
    assert everyone(db) == before  # neither address is saved yet, nothing else changed
    make_dispatcher(app).tick()
    [notice] = mail.mailbox.to("fatima@example.org")
    assert notice["Subject"] == "Vous avez déjà un compte Lien"
    text = body(notice)
    assert "Bonjour Fatima Haddou," in text and "Claire" not in text
    assert "Quelqu'un a voulu mettre votre adresse e-mail sur un autre compte Lien." in text
    assert "/profile/email/" not in text
    look_again(db)
    assert db.get(User, fatima.id).email == "fatima@example.org"


def test_a_family_with_only_a_phone_adds_an_email_and_chooses_it(app, client, db, mail, brevo):
    app.config.update(brevo.settings())
    awa = make_person(db, "parent", "Awa Diallo", email=None, phone="+33612345678", notify_by="sms")
    ask_code(client, "06 12 34 56 78")
    send_code(client, received_code(app, brevo))  # logged in with the SMS code
    response, page = write_on_own_page(client, "awa@example.org", name="Awa Diallo", phone="06 12 34 56 78",
                                       notify_by="both")  # an email chosen with the address it waits for
    assert "Vos réglages sont enregistrés." in page
    make_dispatcher(app).tick()
    [message] = mail.mailbox.to("awa@example.org")
    link = re.search(r"https://lien\.example\.org(/profile/email/\S+)", body(message)).group(1)
    page = client.get(link)
    client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    look_again(db)
    saved = db.get(User, awa.id)
    assert (saved.email, saved.notify_by) == ("awa@example.org", "both")
