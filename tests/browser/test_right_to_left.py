"""Right to left: an Arabic page (Lien's own Arabic catalogue) turns its layout around and still
fits a 360 px phone; and an Arabic name reads right inside a French page."""

import pytest
from factories import PASSWORD, make_person, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.clock import now_utc
from scheduler_app.models import JoinToken
from scheduler_app.services.booking import book_slot

pytestmark = pytest.mark.browser

YOUSSEF = "يوسف"


def assert_right_to_left(tab) -> None:
    page = tab.page
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.querySelector('main')).direction") == "rtl"
    # The layout turns around: the name of the site sits on the right, where reading starts.
    brand = page.locator(".brand").bounding_box()
    assert brand["x"] + brand["width"] > 360 - 40, brand
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_an_arabic_page_turns_right_to_left_and_fits_a_phone(db, week, open_tab, browser, live_server):
    tutor = make_tutor(db, "كريم حداد")
    student = make_person(db, "student", YOUSSEF, email="youssef@example.org")
    slot = make_slot(db, tutor, starts_in=week.wednesday(14) - now_utc())
    book_slot(db, slot.id, student, student, "الكسور")
    link = db.scalar(select(JoinToken.token).where(JoinToken.user_id == student.id))

    tab = open_tab("phone-ar")
    tab.goto("/")
    tab.arrive("Gardons le lien")  # French first, the browser being set to French
    tab.page.get_by_role("contentinfo").get_by_role("link", name="العربية").click()
    tab.arrive(tab.t("Gardons le lien"))
    assert tab.page.locator("html").get_attribute("lang") == "ar"
    assert_right_to_left(tab)

    tab.main.get_by_role("link", name=tab.t("Créer un compte")).click()
    tab.arrive(tab.t("Créer un compte"))
    assert_right_to_left(tab)

    tab.goto(f"/j/{link}")
    tab.arrive(tab.t("La séance n'a pas encore commencé"))
    assert_right_to_left(tab)
    assert tab.main.get_by_text(tab.t("Avec %(name)s", name="كريم حداد")).is_visible()


def test_an_arabic_name_and_words_read_right_in_a_french_page(db, karim, week, open_tab):
    student = make_person(db, "student", YOUSSEF, email="youssef@example.org")
    book_slot(db, karim.slots[14].id, student, student, "الكسور")
    tab = open_tab("phone-fr")
    tab.goto("/register")
    tab.arrive(tab.t("Créer un compte"))
    name = tab.main.get_by_label(tab.t("Prénom et nom"))
    name.fill(YOUSSEF)  # typed right to left, even in a French form
    assert name.evaluate("input => getComputedStyle(input).direction") == "rtl"

    tab.log_in(karim.tutor.email, PASSWORD)
    tab.arrive(tab.t("Mes créneaux"))
    assert tab.page.locator("html").get_attribute("dir") == "ltr"
    entry = tab.main.locator(".people li").filter(has_text=YOUSSEF)
    name, topic = entry.get_by_text(YOUSSEF), entry.get_by_text("الكسور")
    for piece in (name, topic):
        box = piece.bounding_box()
        assert piece.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= 360
        # Isolated, so the name's direction does not reorder the French around it.
        assert piece.evaluate("element => getComputedStyle(element).unicodeBidi") in ("isolate", "plaintext")
    # Reading order: the name, then what the student needs help with.
    assert entry.inner_text().index(YOUSSEF) < entry.inner_text().index("الكسور")
