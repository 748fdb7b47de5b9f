"""A student changes her mind: cancels a session and books another; and a student who reaches
a place that someone else took a moment before is offered the other free sessions."""

import pytest
from factories import PASSWORD, make_person

from scheduler_app.services.booking import book_slot

pytestmark = pytest.mark.browser


def book_on_this_page(tab, topic: str) -> None:
    tab.main.get_by_label(tab.t("Sur quoi avez-vous besoin d'aide ?")).fill(topic)
    tab.main.get_by_role("button", name=tab.t("Réserver"), exact=True).click()


def test_a_student_cancels_a_session_and_books_another(db, karim, week, open_tab, way):
    yasmine = make_person(db, "student", "Yasmine Haddou")
    book_slot(db, karim.slots[14].id, yasmine, yasmine, "les fractions")
    tab = open_tab(way)
    tab.log_in(yasmine.email, PASSWORD)
    tab.arrive(tab.t("Mes séances"))
    tab.choose_language()
    assert week.when(14, tab.lang) in tab.text()

    tab.click("link", f"{tab.t('Annuler')} — {week.when(14, tab.lang)}")
    tab.arrive(tab.t("Annuler la séance ?"))  # it asks first
    tab.click("button", tab.t("Oui, annuler la séance"))
    tab.arrive(tab.t("Mes séances"))
    assert tab.t("La séance est annulée. La place est libre pour quelqu'un d'autre.") in tab.flash()
    assert tab.t("Annulée") in tab.main.locator(".card.cancelled").inner_text()

    tab.main.get_by_role("link", name=tab.t("Réserver une séance")).click()
    tab.arrive(tab.t("Réserver une séance"))
    tab.click("link", f"{tab.t('Réserver')} — {week.when(15, tab.lang)}")
    tab.arrive(tab.t("Réserver"))
    book_on_this_page(tab, "les fractions, encore")
    tab.arrive(tab.t("C'est réservé !"))
    assert week.when(15, tab.lang) in tab.text()

    tab.page.get_by_role("navigation").get_by_role("link", name=tab.t("Mes séances")).click()
    tab.arrive(tab.t("Mes séances"))
    live = tab.main.locator(".card:not(.cancelled)")
    assert live.count() == 1 and week.when(15, tab.lang) in live.inner_text().replace("\u00a0", " ")


def test_a_student_whose_place_was_just_taken_is_offered_the_other_sessions(db, karim, week, open_tab, way):
    yasmine = make_person(db, "student", "Yasmine Haddou")
    lucas = make_person(db, "student", "Lucas Martin")
    tab = open_tab(way)
    tab.log_in(yasmine.email, PASSWORD)
    tab.arrive(tab.t("Mes séances"))
    tab.choose_language()
    tab.main.get_by_role("link", name=tab.t("Réserver une séance")).click()
    tab.arrive(tab.t("Réserver une séance"))
    tab.click("link", f"{tab.t('Réserver')} — {week.when(14, tab.lang)}")
    tab.arrive(tab.t("Réserver"))

    # While Yasmine types, Lucas takes the only place.
    book_slot(db, karim.slots[14].id, lucas, lucas, "la géométrie")
    book_on_this_page(tab, "les fractions")

    tab.arrive(tab.t("Cette séance est déjà prise"))
    assert tab.t("Voici d'autres séances libres.") in tab.text()
    assert week.when(15, tab.lang) in tab.text()
    tab.click("link", f"{tab.t('Réserver')} — {week.when(15, tab.lang)}")
    tab.arrive(tab.t("Réserver"))
    book_on_this_page(tab, "les fractions")
    tab.arrive(tab.t("C'est réservé !"))
    assert week.when(15, tab.lang) in tab.text()
