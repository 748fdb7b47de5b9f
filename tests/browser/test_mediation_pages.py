"""The mediation pages pass the same checks as every other (axe, weight, width, requests), at
phone and desktop width, with their forms sent empty and a party's own pages."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from factories import MEDIATION, PASSWORD, make_person, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import JoinToken
from scheduler_app.services.booking import book_slot

pytestmark = pytest.mark.browser

MONDAY = datetime(2027, 1, 11, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))  # the browser tests' "now"


def visit(tab, path: str, heading: str) -> None:
    tab.goto(path)
    tab.arrive(heading)


def send_empty(tab, button: str, heading: str) -> None:
    tab.main.get_by_role("button", name=button, exact=True).first.click()
    tab.arrive(heading)
    assert tab.page.locator("#error-summary").is_visible()


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_mediation_pages_pass_the_checks(db, week, open_tab, device):
    ousmane = make_tutor(db, "Ousmane Diallo", mediator=True, subjects=(), levels=())
    slot = make_slot(db, ousmane, activity_id=MEDIATION, subject="", level="",
                     starts_in=week.wednesday(14) - MONDAY, minutes=60)
    fatima = make_person(db, "parent", "Fatima Haddou")
    booking = book_slot(db, slot.id, fatima, fatima, "un dossier")
    coordinator = make_person(db, "coordinator", "Sonia Amrani", mediator=True)
    way = f"{device}-fr"

    mediator = open_tab(way)
    mediator.log_in(ousmane.email, PASSWORD)
    mediator.arrive("Mes créneaux")
    visit(mediator, "/slots/mediation/new", "Prévoir une médiation")
    send_empty(mediator, "Prévoir", "Prévoir une médiation")
    visit(mediator, f"/slots/{slot.id}", "Séance du mercredi 13 janvier, 14 h 00")

    party = open_tab(way)
    party.log_in(fatima.email, PASSWORD)
    party.arrive("Mes séances")
    visit(party, f"/sessions/{booking.id}", "Votre séance")
    link = db.scalar(select(JoinToken.token).where(JoinToken.user_id == fatima.id))
    visit(party, f"/j/{link}", "La séance n'a pas encore commencé")

    centre = open_tab(way)
    centre.log_in(coordinator.email, PASSWORD)
    centre.arrive("Personnes")
    visit(centre, "/admin/contacts/new", "Nouveau contact pour une médiation")
    send_empty(centre, "Enregistrer", "Nouveau contact pour une médiation")
    visit(centre, "/admin/activities/2", "Médiation familiale")
