"""A family with only a phone, on a 360 px screen in French (without JavaScript, and with it for
the accessibility checks): the coordinator creates it during a call, the SMS comes through the
local Brevo stand-in, and the short link in it is all the family needs to cancel (with a
confirmation), take another session and join at the time. A second family signs up and logs in
with a code by SMS."""

import re

import pytest
from factories import PASSWORD, look_again, make_person
from sqlalchemy import select

from scheduler_app.models import Booking, User
from scheduler_app.worker import make_dispatcher

pytestmark = pytest.mark.browser

PHONE_WAYS = ["phone-fr-nojs", "phone-fr"]


@pytest.fixture
def sms_gateway(app, brevo):
    app.config.update(brevo.settings(), CENTRE_PHONE="+33142345678")
    return brevo


def last_sms(app, brevo, number: str) -> str:
    make_dispatcher(app).tick()
    texts = [r["json"]["content"] for r in brevo.requests if r["json"]["recipient"] == number]
    assert texts, f"no SMS to {number}"
    return texts[-1]


@pytest.mark.parametrize("way", PHONE_WAYS)
def test_a_family_with_only_a_phone_cancels_takes_another_session_and_joins(app, db, karim, week, open_tab,
                                                                           sms_gateway, way):
    coordinator = make_person(db, "coordinator", "Nadia Belkacem")
    desk = open_tab(way)
    desk.log_in(coordinator.email, PASSWORD)
    desk.arrive("Personnes")
    desk.main.get_by_role("link", name="Nouvelle famille").click()
    desk.arrive("Nouvelle famille")
    desk.main.get_by_label("Parent : prénom et nom").fill("Awa Diallo")
    desk.main.get_by_label("Parent : téléphone portable").fill("07 61 22 33 44")
    desk.main.get_by_label("Enfant : prénom et nom").fill("Moussa Diallo")
    desk.main.get_by_role("button", name="Enregistrer la famille").click()
    desk.arrive("Réserver pour Moussa Diallo")  # straight on to booking
    desk.click("link", f"Réserver — {week.when(14, 'fr')}")
    desk.arrive("Réserver pour Moussa Diallo")
    desk.main.get_by_role("button", name="Réserver", exact=True).click()
    desk.arrive("C'est réservé !")
    assert "Le lien de la famille" in desk.text()
    desk.click("link", "Voir la famille de Awa Diallo")
    desk.arrive("Famille de Awa Diallo")
    assert "Moussa Diallo" in desk.text() and "07 61 22 33 44" in desk.text()

    # The SMS: the child, no password, the centre's number, and the short link.
    sms = last_sms(app, sms_gateway, "33761223344")
    assert "Moussa Diallo" in sms and "Pas besoin de mot de passe" in sms and "01 42 34 56 78" in sms
    link = re.search(r"http://\S+/s/\S+$", sms).group(0)

    family = open_tab(way)
    family.goto(link)  # tap 1: the link in the SMS
    family.arrive("Votre séance")
    assert "Moussa Diallo" in family.text() and week.when(14, "fr").split(",")[0] in family.text()
    family.click("link", "Annuler la séance")  # tap 2
    family.arrive("Annuler la séance ?")
    family.main.get_by_label(re.compile("Pourquoi")).fill("Moussa a une sortie scolaire")
    family.click("button", "Oui, annuler la séance")  # tap 3: cancelled, after a confirmation
    family.arrive("Cette séance est annulée")
    assert "C'est annulé" in family.flash()
    family.click("button", f"Prendre cette séance — {week.when(15, 'fr')}")  # one tap: another session
    family.arrive("Votre séance")
    assert "C'est réservé" in family.flash() and week.when(15, "fr") in family.text()
    new_link = family.page.url

    look_again(db)
    parent = db.scalar(select(User).where(User.name == "Awa Diallo"))
    assert (parent.email, parent.notify_by) == (None, "sms")
    statuses = dict(db.execute(select(Booking.starts_at, Booking.status)).all())
    assert sorted(statuses.values()) == ["cancelled", "confirmed"]

    week.now_is(week.wednesday(14, 56))  # at the time: a family's link opens 5 minutes before
    family.goto(new_link)  # tap 1: the link again
    family.arrive("Votre séance")
    family.click("link", "Rejoindre")  # tap 2: in the room
    family.page.wait_for_url(re.compile("meet.example.org"))
    assert family.jitsi and "meet.example.org" in family.jitsi[-1]


@pytest.mark.parametrize("way", PHONE_WAYS)
def test_a_second_family_signs_up_and_logs_in_with_a_code_by_sms(app, db, week, open_tab, sms_gateway, way):
    tab = open_tab(way)
    tab.goto("/login")
    tab.arrive("Se connecter")
    tab.click("link", "Pas d'e-mail ? Entrer avec un code par SMS")
    tab.arrive("Entrer avec mon portable")
    tab.main.get_by_label("Votre numéro de téléphone portable").fill("06 12 34")
    tab.click("button", "Recevoir un code par SMS")
    tab.arrive("Entrer avec mon portable")
    assert "comme ceci : 06 12 34 56 78" in tab.text()
    tab.main.get_by_label("Votre numéro de téléphone portable").fill("06 12 34 56 78")
    tab.click("button", "Recevoir un code par SMS")
    tab.arrive("Écrivez le code")
    code = re.search(r"\d{6}", last_sms(app, sms_gateway, "33612345678")).group(0)
    tab.main.get_by_label("Le code à 6 chiffres reçu par SMS").fill(code)
    tab.click("button", "Entrer")
    tab.arrive("Créer un compte")
    tab.main.get_by_label("Parent").check()
    tab.main.get_by_label("Prénom et nom").fill("Mariam Koné")
    tab.click("button", "Créer mon compte")
    tab.arrive("Mes séances")
    assert "Bienvenue sur Lien, Mariam Koné" in tab.flash()
    tab.page.get_by_role("button", name="Se déconnecter").click()
    tab.arrive("Gardons le lien")

    tab.goto("/login/sms")
    tab.arrive("Entrer avec mon portable")
    tab.main.get_by_label("Votre numéro de téléphone portable").fill("0612345678")
    tab.click("button", "Recevoir un code par SMS")
    tab.arrive("Écrivez le code")
    code = re.search(r"\d{6}", last_sms(app, sms_gateway, "33612345678")).group(0)
    tab.main.get_by_label("Le code à 6 chiffres reçu par SMS").fill(code)
    tab.click("button", "Entrer")
    tab.arrive("Mes séances")
    look_again(db)
    assert db.scalar(select(User.phone).where(User.name == "Mariam Koné")) == "+33612345678"
