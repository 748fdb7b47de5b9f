"""In a real browser: a tutor opens a slot, a student books it, and the student's join link
takes them into the signed Jitsi room."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from factories import PASSWORD, make_person, make_tutor

from rooms import JitsiSettings, fragment_values, verify_token

pytestmark = pytest.mark.browser


def test_a_slot_opened_by_a_tutor_is_booked_and_joined_by_a_student(app, db, open_tab):
    tutor = make_tutor(db, "Karim Haddad")
    student = make_person(db, "student", "Yasmine Haddou")
    # A session starting in about ten minutes: the centre opens families' links 15 minutes before.
    app.config["JOIN_OPENS_MINUTES_FAMILY"] = 15
    start = (datetime.now(UTC) + timedelta(minutes=15)).astimezone(ZoneInfo("Europe/Paris"))
    start = start.replace(minute=start.minute - start.minute % 5, second=0, microsecond=0)
    tab = open_tab("phone-fr")
    phone = tab.page

    tab.log_in(tutor.email, PASSWORD)
    tab.arrive("Mes créneaux")
    phone.get_by_role("link", name="Ouvrir un créneau").first.click()
    tab.arrive("Ouvrir un créneau")
    phone.get_by_label("Date").fill(start.date().isoformat())
    phone.get_by_label("Heure de début").fill(start.strftime("%H:%M"))
    phone.get_by_label("Matière").select_option("maths")
    phone.get_by_role("button", name="Ouvrir").click()
    tab.arrive("Mes créneaux")
    assert "1 créneau ouvert." in tab.flash()
    phone.get_by_role("button", name="Se déconnecter").click()
    tab.arrive("Gardons le lien")

    tab.log_in(student.email, PASSWORD)
    tab.arrive("Mes séances")
    phone.get_by_role("link", name="Réserver", exact=True).first.click()
    tab.arrive("Réserver une séance")
    assert phone.get_by_text("Avec Karim Haddad").is_visible()
    phone.get_by_role("link", name="Réserver").nth(1).click()
    tab.arrive("Réserver")
    phone.get_by_label("Sur quoi avez-vous besoin d'aide ?").fill("Les fractions")
    phone.get_by_role("button", name="Réserver").click()
    tab.arrive("C'est réservé !")

    phone.get_by_role("link", name="Rejoindre la séance").click()
    phone.wait_for_url("https://meet.example.org/**")
    [url] = tab.jitsi
    assert "jwt" not in urlsplit(url).query  # the token travels in the fragment, never to a server
    parts = urlsplit(tab.page.url)
    room = parts.path.strip("/")
    claims = verify_token(JitsiSettings.from_mapping(app.config), fragment_values(tab.page.url)["jwt"], room)
    assert claims["context"]["user"]["name"] == "Yasmine Haddou"
    assert claims["context"]["user"]["moderator"] is False
