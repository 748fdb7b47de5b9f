"""The student's journey again, by keyboard alone: the skip link comes first and leads to the
content, every stop shows where focus is, and focus moves in reading order."""

import pytest
from factories import PASSWORD, make_person

from scheduler_app.services.booking import book_slot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("way", ["desktop-fr", "phone-en"])
def test_a_student_cancels_and_books_again_with_the_keyboard_only(db, karim, week, open_tab, way):
    yasmine = make_person(db, "student", "Yasmine Haddou", locale=way.split("-")[1])
    book_slot(db, karim.slots[14].id, yasmine, yasmine, "les fractions")
    tab = open_tab(way)
    keys = tab.page.keyboard

    tab.goto("/login")
    tab.arrive(tab.t("Se connecter"))
    tab.skip_to_main()
    tab.tab_to(tab.main.get_by_label(tab.t("Adresse e-mail")))
    keys.type(yasmine.email)
    tab.tab_to(tab.main.get_by_label(tab.t("Mot de passe"), exact=True))
    keys.type(PASSWORD)
    keys.press("Enter")

    tab.page.locator(f"html[lang={yasmine.locale}]").wait_for()
    tab.arrive(tab.t("Mes séances"))
    tab.skip_to_main()
    tab.tab_to(tab.main.get_by_role("link", name=f"{tab.t('Annuler')} — {week.when(14, tab.lang)}"))
    keys.press("Enter")
    tab.arrive(tab.t("Annuler la séance ?"))
    tab.skip_to_main()
    tab.tab_to(tab.main.get_by_role("button", name=tab.t("Oui, annuler la séance")))
    keys.press("Enter")

    tab.arrive(tab.t("Mes séances"))
    assert tab.t("La séance est annulée. La place est libre pour quelqu'un d'autre.") in tab.flash()
    tab.skip_to_main()
    tab.tab_to(tab.main.get_by_role("link", name=tab.t("Réserver une séance")))
    keys.press("Enter")

    tab.arrive(tab.t("Réserver une séance"))
    tab.skip_to_main()
    tab.tab_to(tab.main.get_by_role("link", name=f"{tab.t('Réserver')} — {week.when(15, tab.lang)}"))
    keys.press("Enter")

    tab.arrive(tab.t("Réserver"))
    tab.skip_to_main()
    tab.tab_to(tab.main.get_by_label(tab.t("Sur quoi avez-vous besoin d'aide ?")))
    keys.type("les fractions")
    tab.tab_to(tab.main.get_by_role("button", name=tab.t("Réserver"), exact=True))
    keys.press("Enter")

    tab.arrive(tab.t("C'est réservé !"))
    assert week.when(15, tab.lang) in tab.text()
