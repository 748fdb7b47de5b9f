"""A family reads Lien in its own language: Arabic (right to left) and Ukrainian on a 360 px
phone, Turkish and Portuguese too. Each family page passes axe-core, the weight budget and the
phone's width in that language, and the messages' language stays the one the account chose."""

import pytest
from factories import PASSWORD, make_family
from sqlalchemy import select

from scheduler_app.models import Booking, JoinToken, User
from scheduler_app.services.booking import book_slot

pytestmark = pytest.mark.browser

NATIVE = {"ar": "العربية", "uk": "Українська", "tr": "Türkçe", "pt": "Português"}


@pytest.mark.parametrize("language", ["ar", "uk", "tr", "pt"])
def test_a_parent_uses_lien_in_their_own_language_on_a_phone(db, karim, week, open_tab, language):
    parent, [child] = make_family(db, "Fatima Haddou", "Adam Haddou")
    booking = book_slot(db, karim.slots[14].id, child, parent, "les fractions")
    link = db.scalar(select(JoinToken.token).where(JoinToken.user_id == parent.id))

    tab = open_tab(f"phone-{language}")
    tab.goto("/")
    tab.arrive("Gardons le lien")  # French first, the browser being set to French
    tab.page.get_by_role("contentinfo").get_by_role("link", name=NATIVE[language]).click()
    tab.arrive(tab.t("Gardons le lien"))
    assert tab.page.locator("html").get_attribute("lang") == language
    assert tab.page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")

    tab.log_in(parent.email, PASSWORD)
    tab.arrive(tab.t("Mes séances"))
    for address, heading in (("/slots", "Réserver une séance"), (f"/sessions/{booking.id}", "Votre séance"),
                             ("/children/new", "Ajouter un enfant"), ("/profile", "Mon compte"),
                             (f"/j/{link}", "La séance n'a pas encore commencé")):
        tab.goto(address)
        tab.arrive(tab.t(heading))
    # The page's language is a choice of its own: her messages stay in French.
    db.expire_all()
    assert db.get(User, parent.id).locale == "fr"
    assert db.get(Booking, booking.id).status == "confirmed"
