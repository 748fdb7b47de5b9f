"""Beyond the journeys: every other page each role can reach, and forms sent empty (their error
messages), pass the same checks at phone and desktop width — axe, weight, width, requests."""

from datetime import timedelta

import pytest
from factories import PASSWORD, make_family, make_person
from sqlalchemy import select

from scheduler_app.models import JoinToken
from scheduler_app.services.booking import book_slot, cancel_booking
from scheduler_app.services.waitlist import Wish, join_wish

pytestmark = pytest.mark.browser


def visit(tab, path: str, heading: str) -> None:
    tab.goto(path)
    tab.arrive(heading)


def send_empty(tab, button: str, heading: str) -> None:
    """Send the page's form as it is: the errors show next to their fields and on top."""
    tab.main.get_by_role("button", name=button, exact=True).first.click()
    tab.arrive(heading)
    assert tab.page.locator("#error-summary").is_visible()


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_every_page_of_every_role_passes_the_checks(db, karim, week, open_tab, device):
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    booking = book_slot(db, karim.slots[14].id, adam, parent, "les fractions")
    student = make_person(db, "student", "Yasmine Haddou")
    coordinator = make_person(db, "coordinator", "Nadia Belkacem")
    way = f"{device}-fr"

    visitor = open_tab(way)
    visit(visitor, "/", "Gardons le lien")
    visit(visitor, "/login", "Se connecter")
    send_empty(visitor, "Se connecter", "Se connecter")
    visit(visitor, "/register", "Créer un compte")
    send_empty(visitor, "Créer mon compte", "Créer un compte")
    visit(visitor, "/register/sent", "Regardez vos e-mails")
    visit(visitor, "/register/finish/not-a-real-link", "Ce lien ne marche plus")
    visit(visitor, "/profile/email/not-a-real-link", "Ce lien ne marche plus")
    visit(visitor, "/password/forgot", "Mot de passe oublié")
    visit(visitor, "/tester", "Tester mon micro et ma caméra")
    visit(visitor, "/password/reset/not-a-real-link", "Ce lien ne marche plus")
    visit(visitor, "/nowhere", "Page introuvable")

    pupil = open_tab(way)
    pupil.log_in(student.email, PASSWORD)
    pupil.arrive("Mes séances")
    visit(pupil, "/slots?subject=maths", "Réserver une séance")
    visit(pupil, f"/tutors/{karim.tutor.id}", "Karim Haddad")
    visit(pupil, "/agenda", "Mon agenda")
    visit(pupil, "/profile", "Mon compte")
    visit(pupil, "/admin/", "Accès refusé")

    mother = open_tab(way)
    mother.log_in(parent.email, PASSWORD)
    mother.arrive("Mes séances")
    visit(mother, f"/sessions/{booking.id}", "Votre séance")
    visit(mother, "/children/link", "Relier mon enfant avec un code")
    send_empty(mother, "Relier", "Relier mon enfant avec un code")
    visit(mother, f"/slots/{karim.slots[15].id}/book", "Réserver")
    visit(mother, "/waitlist/new?subject=maths", "Prévenez-moi si une place se libère")
    wish = join_wish(db, adam, parent, Wish(starts_from=week.wednesday(9), starts_until=week.wednesday(9) + timedelta(days=7),
                                            subject="francais"))
    visit(visitor, f"/w/{wish.token}", "Liste d'attente")

    tutor = open_tab(way)
    tutor.log_in(karim.tutor.email, PASSWORD)
    tutor.arrive("Mes créneaux")
    visit(tutor, "/slots/new", "Ouvrir un créneau")
    send_empty(tutor, "Ouvrir", "Ouvrir un créneau")
    visit(tutor, "/availability/new", "Ajouter des disponibilités")
    send_empty(tutor, "Enregistrer", "Ajouter des disponibilités")

    centre = open_tab(way)
    centre.log_in(coordinator.email, PASSWORD)
    centre.arrive("Personnes")
    visit(centre, "/admin/?q=Haddou", "Personnes")
    visit(centre, "/admin/families/new", "Nouvelle famille")
    send_empty(centre, "Enregistrer la famille", "Nouvelle famille")
    visit(centre, "/admin/tutors/new", "Nouveau tuteur")
    send_empty(centre, "Enregistrer le tuteur", "Nouveau tuteur")
    visit(centre, f"/admin/tutors/{karim.tutor.id}", "Karim Haddad")
    visit(centre, f"/admin/people/{parent.id}", "Fatima Haddou")
    visit(centre, f"/admin/people/{parent.id}/delete", "Supprimer Fatima Haddou ?")
    visit(centre, "/admin/sessions?status=open", "Toutes les séances")
    visit(centre, f"/admin/slots/{karim.slots[14].id}/move", "Déplacer une séance")
    visit(centre, "/admin/activities", "Activités")
    visit(centre, "/admin/activities/new", "Nouvelle activité")
    visit(centre, "/admin/messages", "Messages")
    visit(centre, "/admin/messages?status=failed", "Messages")
    visit(centre, f"/agenda?tutor={karim.tutor.id}", "Agenda du centre")
    visit(centre, "/admin/reports", "Présences")
    visit(centre, f"/sessions/{booking.id}", "Votre séance")
    visit(centre, f"/waitlist/new?for={adam.id}", "Prévenez-moi si une place se libère")

    # A join link once its booking is cancelled, and once the session is over.
    link = db.scalar(select(JoinToken.token).where(JoinToken.user_id == parent.id))
    cancel_booking(db, booking)
    visit(visitor, f"/j/{link}", "Cette séance est annulée")
    tutor_link = db.scalar(select(JoinToken.token).where(JoinToken.user_id == karim.tutor.id,
                                                         JoinToken.slot_id == karim.slots[15].id))
    week.now_is(week.wednesday(16))
    visit(visitor, f"/j/{tutor_link}", "Cette séance est terminée")
