"""In a real browser: a tutor opens a slot, a student books it, and the student's join link
takes them into the signed Jitsi room."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from factories import PASSWORD, make_person, make_tutor
from rooms import JitsiSettings, verify_token

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parent.parent / "screenshots"


def log_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_a_slot_opened_by_a_tutor_is_booked_and_joined_by_a_student(app, db, live_server, phone):
    tutor = make_tutor(db, "Karim Haddad")
    student = make_person(db, "student", "Yasmine Haddou")
    # A session starting in about ten minutes: its join link is already open (15 minutes before).
    start = (datetime.now(UTC) + timedelta(minutes=15)).astimezone(ZoneInfo("Europe/Paris"))
    start = start.replace(minute=start.minute - start.minute % 5, second=0, microsecond=0)

    log_in(phone, live_server, tutor.email)
    phone.get_by_role("link", name="Ouvrir un créneau").first.click()
    phone.get_by_label("Date").fill(start.date().isoformat())
    phone.get_by_label("Heure de début").fill(start.strftime("%H:%M"))
    phone.get_by_label("Matière").select_option("maths")
    phone.get_by_role("button", name="Ouvrir").click()
    assert phone.get_by_text("1 créneau ouvert.").is_visible()
    phone.get_by_role("button", name="Se déconnecter").click()

    log_in(phone, live_server, student.email)
    phone.get_by_role("link", name="Réserver", exact=True).first.click()
    assert phone.get_by_text("Avec Karim Haddad").is_visible()
    SHOTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(SHOTS / "slot-browser.png"), full_page=True)
    phone.get_by_role("link", name="Réserver").nth(1).click()
    phone.get_by_label("Sur quoi avez-vous besoin d'aide ?").fill("Les fractions")
    phone.get_by_role("button", name="Réserver").click()
    assert phone.get_by_role("heading", name="C'est réservé !").is_visible()
    phone.screenshot(path=str(SHOTS / "booking-confirmation.png"), full_page=True)
    scroll_width = phone.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 360, "the page must fit a 360 px screen without sideways scrolling"

    jitsi_requests = []
    phone.route("https://meet.example.org/**", lambda route: (jitsi_requests.append(route.request.url),
                                                              route.fulfill(body="Jitsi", content_type="text/plain")))
    phone.get_by_role("link", name="Rejoindre la séance").click()
    phone.wait_for_url("https://meet.example.org/**")
    [url] = jitsi_requests
    parts = urlsplit(url)
    room = parts.path.strip("/")
    claims = verify_token(JitsiSettings.from_mapping(app.config), parse_qs(parts.query)["jwt"][0], room)
    assert claims["context"]["user"]["name"] == "Yasmine Haddou"
    assert claims["context"]["user"]["moderator"] is False
