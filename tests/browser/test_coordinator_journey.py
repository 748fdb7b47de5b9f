"""The centre's coordinator, on the phone with a mother who has no account: creates the family
and books her daughter's session in under a minute, then cancels a session and sees that
everyone is told."""

import time

import pytest
from factories import PASSWORD, look_again, make_person
from sqlalchemy import select

from scheduler_app.models import Notification, User

pytestmark = pytest.mark.browser

ON_THE_PHONE = 60  # seconds: the family must not wait longer than this on the line


def test_a_coordinator_creates_a_family_on_the_phone_books_for_them_then_cancels(db, karim, week, open_tab, way):
    coordinator = make_person(db, "coordinator", "Nadia Belkacem")
    tab = open_tab(way)
    tab.log_in(coordinator.email, PASSWORD)
    tab.arrive(tab.t("Personnes"))
    tab.choose_language()

    started = time.monotonic()
    tab.main.get_by_role("link", name=tab.t("Nouvelle famille")).click()
    tab.arrive(tab.t("Nouvelle famille"))
    tab.main.get_by_label(tab.t("Parent : prénom et nom")).fill("Samira Benali")
    tab.main.get_by_label(tab.t("Parent : téléphone portable")).fill("06 98 76 54 32")
    tab.main.get_by_label(tab.t("Enfant : prénom et nom")).fill("Inès Benali")
    tab.main.get_by_role("button", name=tab.t("Enregistrer la famille")).click()

    for_ines = tab.t("Réserver pour %(name)s", name="Inès Benali")
    tab.arrive(for_ines)  # straight on to booking for her
    assert tab.t("La famille de %(name)s est enregistrée.", name="Samira Benali") in tab.flash()
    tab.click("link", f"{tab.t('Réserver')} — {week.when(14, tab.lang)}")
    tab.arrive(for_ines)
    tab.main.get_by_label(tab.t("Sur quoi avez-vous besoin d'aide ?")).fill("Un exposé sur les volcans")
    tab.main.get_by_role("button", name=tab.t("Réserver"), exact=True).click()

    tab.arrive(tab.t("C'est réservé !"))
    on_the_phone = time.monotonic() - started
    assert tab.t("Élève : %(name)s", name="Inès Benali") in tab.text()
    assert tab.t("Réservé par %(name)s", name="Nadia Belkacem") in tab.text()
    assert on_the_phone < ON_THE_PHONE, f"creating the family and booking took {on_the_phone:.0f} s"
    assert tab.t("Le lien de la famille") in tab.text() and "/s/" in tab.text()  # to read out

    # Karim cannot come on Wednesday: the coordinator cancels the session.
    tab.page.get_by_role("navigation").get_by_role("link", name=tab.t("Séances")).click()
    tab.arrive(tab.t("Toutes les séances"))
    tab.click("link", f"{tab.t('Annuler la séance')} — {week.when(14, tab.lang)}")
    tab.arrive(tab.t("Annuler la séance ?"))
    tab.main.get_by_label(tab.t("Pourquoi ? (si vous voulez)")).fill("Karim est malade")
    tab.click("button", tab.t("Oui, annuler la séance"))
    tab.arrive(tab.t("Toutes les séances"))
    told = tab.tn("Séance annulée : %(num)d famille prévenue, ainsi que le tuteur.",
                  "Séance annulée : %(num)d familles prévenues, ainsi que le tuteur.", 1)
    assert told in tab.flash()

    look_again(db)
    parent = db.scalar(select(User).where(User.name == "Samira Benali"))
    messages = db.execute(select(Notification.kind, Notification.channel).where(Notification.recipient_id == parent.id)).all()
    assert ("booking_confirmed", "sms") in messages and ("booking_cancelled", "sms") in messages
    tutor_told = db.scalars(select(Notification.kind).where(Notification.recipient_id == karim.tutor.id)).all()
    assert "slot_cancelled" in tutor_told
