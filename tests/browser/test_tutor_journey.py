"""A volunteer tutor says once when they are free each week, sees who booked and what they need,
enters the room as its moderator, then marks who came and leaves a note for the next tutor."""

from datetime import UTC
from urllib.parse import urlsplit

import pytest
from factories import PASSWORD, look_again, make_person, make_tutor
from sqlalchemy import select

from rooms import JitsiSettings, fragment_values, verify_token
from scheduler_app.clock import now_utc
from scheduler_app.models import Booking, Slot
from scheduler_app.services.booking import book_slot

pytestmark = pytest.mark.browser

DAYS = {"fr": "mercredi 13 janvier", "en": "Wednesday 13 January"}
HOURS = {"fr": "14 h 00 – 14 h 45", "en": "2:00 PM – 2:45 PM"}


def test_a_tutor_sets_weekly_availability_joins_as_moderator_and_marks_attendance(app, db, week, open_tab, way):
    tutor = make_tutor(db, "Karim Haddad")
    student = make_person(db, "student", "Yasmine Haddou")
    tab = open_tab(way)
    tab.log_in(tutor.email, PASSWORD)
    tab.arrive(tab.t("Mes créneaux"))

    if way.language == "en":  # the account's own setting, this time
        tab.page.get_by_role("navigation").get_by_role("link", name=tab.t("Mon compte")).click()
        tab.arrive(tab.t("Mon compte"))
        tab.main.get_by_label("English", exact=True).check()
        tab.main.get_by_role("button", name=tab.t("Enregistrer"), exact=True).click()
        tab.page.locator("html[lang=en]").wait_for()
        tab.arrive(tab.t("Mon compte"))
        assert tab.t("Vos réglages sont enregistrés.") in tab.flash()

    tab.page.get_by_role("navigation").get_by_role("link", name=tab.t("Mes disponibilités")).click()
    tab.arrive(tab.t("Mes disponibilités"))
    tab.main.get_by_role("link", name=tab.t("Ajouter des disponibilités")).click()

    tab.arrive(tab.t("Ajouter des disponibilités"))
    form = tab.main
    wednesday = {"fr": "Mercredi", "en": "Wednesday"}[tab.lang]
    form.get_by_label(wednesday, exact=True).check()
    form.get_by_label(tab.t("De (heure de début)")).fill("14:00")
    form.get_by_label(tab.t("À (heure de fin)")).fill("15:30")
    form.get_by_label(tab.t("Durée de chaque séance (minutes)")).fill("45")
    form.get_by_label(tab.t("Matière")).select_option("maths")
    form.get_by_role("button", name=tab.t("Enregistrer"), exact=True).click()

    tab.arrive(tab.t("Mes disponibilités"))
    assert tab.t("Vos disponibilités sont enregistrées.") in tab.flash()

    # A student books the first Wednesday session, saying what she needs.
    slot = db.scalar(select(Slot).where(Slot.tutor_id == tutor.id, Slot.starts_at == week.wednesday(14).astimezone(UTC)))
    assert slot is not None, "the weekly availability opened Wednesday at 14:00"
    booking = book_slot(db, slot.id, student, student, "les fractions")

    tab.page.get_by_role("navigation").get_by_role("link", name=tab.t("Mes créneaux")).click()
    tab.arrive(tab.t("Mes créneaux"))
    card = tab.main.locator(".card").filter(has_text="Yasmine Haddou")
    assert DAYS[tab.lang] in tab.text() and HOURS[tab.lang] in card.inner_text().replace("\u00a0", " ")
    assert "les fractions" in card.inner_text()
    tab.screenshot("tutor-sessions", until=card)
    # The session's own page: who comes and what they need, the calendar entry, cancelling.
    tab.click("link", f"{tab.t('Détails')} — {week.when(14, tab.lang)}")
    tab.arrive(tab.t("Séance du %(when)s", when=week.when(14, tab.lang)))
    assert "Yasmine Haddou" in tab.text() and "les fractions" in tab.text()
    assert tab.main.get_by_role("link", name=tab.t("Annuler ce créneau")).is_visible()
    tab.screenshot("tutor-session", until=tab.main.get_by_role("link", name=tab.t("Annuler ce créneau")))
    tab.click("link", tab.t("Revenir à mes créneaux"))
    tab.arrive(tab.t("Mes créneaux"))

    # Wednesday, 13:55: the tutor enters first, as the room's moderator.
    week.now_is(week.wednesday(13, 55))
    tab.page.reload()
    tab.arrive(tab.t("Mes créneaux"))
    tab.click("link", f"{tab.t('Rejoindre la séance')} — {week.when(14, tab.lang)}")
    tab.page.wait_for_url("https://meet.example.org/**")
    [room_url] = tab.jitsi
    parts = urlsplit(tab.page.url)
    assert "jwt" not in urlsplit(room_url).query  # the token travels in the fragment, never to a server
    claims = verify_token(JitsiSettings.from_mapping(app.config), fragment_values(tab.page.url)["jwt"],
                          parts.path.strip("/"), now=now_utc())
    assert claims["context"]["user"]["moderator"] is True
    assert claims["context"]["user"]["name"] == "Karim Haddad"

    # After the session: who came, and a note for whoever helps Yasmine next.
    week.now_is(week.wednesday(14, 50))
    tab.goto("/slots/mine")
    tab.arrive(tab.t("Mes créneaux"))
    tab.click("link", tab.t("Marquer les présences"))
    tab.arrive(tab.t("Présences et notes"))
    marking = tab.main.locator(f"#booking-{booking.id}")
    marking.get_by_label(tab.t("Présent"), exact=True).check()
    marking.get_by_label(tab.t("Note pour le prochain tuteur (privée)")).fill("Fractions vues ; revoir les divisions.")
    marking.get_by_role("button", name=tab.t("Enregistrer")).click()
    tab.arrive(tab.t("Présences et notes"))
    assert tab.t("Présence de %(name)s enregistrée.", name="Yasmine Haddou") in tab.flash()
    assert tab.t("Tout est marqué. Merci !") in tab.text()
    look_again(db)
    marked = db.get(Booking, booking.id)
    assert (marked.status, marked.tutor_note) == ("attended", "Fractions vues ; revoir les divisions.")
