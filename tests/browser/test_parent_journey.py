"""A parent who has never booked anything online: signs up, adds her son, books homework help
for him, and on Wednesday opens the link from her email to join the session."""

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from rooms import JitsiSettings, fragment_values, verify_token
from scheduler_app.clock import now_utc
from scheduler_app.models import User
from scheduler_app.worker import make_dispatcher

pytestmark = pytest.mark.browser

SUBJECTS = {"fr": "Adam : séance réservée le mercredi 13 janvier à 14 h 00",
            "en": "Adam: session booked for Wednesday 13 January"}


def test_a_parent_signs_up_adds_her_child_books_and_joins_from_the_email(app, db, mail_server, karim, week,
                                                                          open_tab, way):
    tab = open_tab(way)
    tab.goto("/")
    tab.arrive(tab.t("Gardons le lien"))
    tab.choose_language()
    tab.main.get_by_role("link", name=tab.t("Créer un compte")).click()

    tab.arrive(tab.t("Créer un compte"))
    form = tab.main
    form.get_by_label(tab.t("Parent"), exact=True).check()
    form.get_by_label(tab.t("Prénom et nom")).fill("Fatima Haddou")
    form.get_by_label(tab.t("Adresse e-mail")).fill("fatima@example.org")
    form.get_by_label(tab.t("Mot de passe"), exact=True).fill("un-mot-de-passe-long")
    form.get_by_label(tab.t("Le même mot de passe, encore une fois")).fill("un-mot-de-passe-long")
    language = "English" if way.language == "en" else "Français"
    assert form.get_by_label(language, exact=True).is_checked(), "messages come in the page's language"
    form.get_by_role("button", name=tab.t("Créer mon compte")).click()

    # The same answer whether or not the address has an account: the email finishes the sign-up.
    tab.arrive(tab.t("Regardez vos e-mails"))
    assert make_dispatcher(app).tick().sent == 1
    [welcome] = mail_server.mailbox.to("fatima@example.org")
    [finish] = re.findall(r"http://127\.0\.0\.1:\d+/register/finish/\S+", welcome.get_body(("plain",)).get_content())
    tab.goto(finish)
    tab.arrive(tab.t("Dernière étape"))
    tab.main.get_by_role("button", name=tab.t("Créer mon compte")).click()

    tab.arrive(tab.t("Mes séances"))
    assert tab.t("Bienvenue sur Lien, %(name)s !", name="Fatima Haddou") in tab.flash()
    tab.main.get_by_role("link", name=tab.t("Ajouter un enfant")).click()

    tab.arrive(tab.t("Ajouter un enfant"))
    tab.main.get_by_label(tab.t("Prénom et nom de l'enfant")).fill("Adam Haddou")
    tab.main.get_by_role("button", name=tab.t("Ajouter"), exact=True).click()

    tab.arrive(tab.t("Réserver une séance"))
    assert tab.t("%(name)s est ajouté à votre famille.", name="Adam Haddou") in tab.flash()
    assert week.when(14, way.language) in tab.text()  # dates as people say them
    tab.screenshot("slot-browser", until=tab.main.locator(".card .button").first)
    tab.click("link", f"{tab.t('Réserver')} — {week.when(14, way.language)}")

    tab.arrive(tab.t("Réserver"))
    assert tab.main.get_by_label(tab.t("Pour qui ?")).input_value() != ""
    tab.main.get_by_label(tab.t("Sur quoi avez-vous besoin d'aide ?")).fill("Les fractions")
    tab.main.get_by_role("button", name=tab.t("Réserver"), exact=True).click()

    tab.arrive(tab.t("C'est réservé !"))
    assert tab.t("Élève : %(name)s", name="Adam Haddou") in tab.text()
    assert week.when(14, way.language) in tab.text()
    tab.screenshot("booking-confirmation", until=tab.main.get_by_role("link", name=tab.t("Rejoindre la séance")))

    # The worker sends the confirmation: read it back from the test's SMTP server.
    assert make_dispatcher(app).tick().sent >= 1
    [_, email] = mail_server.mailbox.to("fatima@example.org")
    assert SUBJECTS[way.language] in email["Subject"].replace("\u00a0", " ")
    [link] = re.findall(r"http://127\.0\.0\.1:\d+/j/[\w-]+", email.get_body(("plain",)).get_content())

    # Monday: too early; the page says when the room opens, and counts down.
    if way.javascript:  # the browser's clock at Lien's, so the countdown (and its picture) holds still
        tab.page.clock.set_fixed_time(now_utc())
    tab.read_email(email)
    tab.click("link", tab.t("Rejoindre la séance"))
    assert tab.page.url == link
    tab.arrive(tab.t("La séance n'a pas encore commencé"))
    opens = {"fr": "13 h 55", "en": "1:55 PM"}[way.language]  # a family's link opens 5 minutes before
    assert tab.t("Vous pourrez entrer à partir de %(time)s.", time=opens) in tab.text()
    tab.screenshot("join-countdown", until=tab.main.get_by_role("link", name=tab.t("Rejoindre la séance")))

    # Wednesday, 13:55: the same link goes straight into the room.
    week.now_is(week.wednesday(13, 55))
    tab.read_email(email)
    tab.click("link", tab.t("Rejoindre la séance"))
    tab.page.wait_for_url("https://meet.example.org/**")
    [room_url] = tab.jitsi
    parts = urlsplit(tab.page.url)
    assert "jwt" not in urlsplit(room_url).query  # the token travels in the fragment, never to a server
    claims = verify_token(JitsiSettings.from_mapping(app.config), fragment_values(tab.page.url)["jwt"],
                          parts.path.strip("/"), now=now_utc())
    assert claims["context"]["user"]["name"] == "Fatima Haddou"
    assert claims["context"]["user"]["moderator"] is False
    parent = db.scalar(select(User).where(User.email == "fatima@example.org"))
    assert parent.locale == way.language
