"""A tutor falls ill: "Je ne peux pas assurer cette séance"; the coordinator is alerted and
gives the session to another tutor (everyone follows) or cancels it (families told)."""

from datetime import UTC, datetime, timedelta

import pytest
from calendar_reading import both_parsers
from conftest import csrf_token
from factories import MEDIATION, login, look_again, make_family, make_person, make_slot, make_tutor
from sqlalchemy import func, select

from scheduler_app.models import Booking, JoinToken, Notification, Slot, TutorAbsence, WaitlistEntry
from scheduler_app.services import ServiceError
from scheduler_app.services.absences import cancel_for_absence, declare_absence, give_to_tutor
from scheduler_app.services.booking import book_slot
from scheduler_app.worker import make_dispatcher

MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(db, frozen_clock):
    frozen_clock(MONDAY)
    karim = make_tutor(db, "Karim Haddad")
    claire = make_tutor(db, "Claire Martin")
    slot = make_slot(db, karim, starts_in=timedelta(days=2))
    later = make_slot(db, karim, starts_in=timedelta(days=3))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    booking = book_slot(db, slot.id, adam, parent)
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    return {"karim": karim, "claire": claire, "slot": slot, "later": later, "parent": parent, "adam": adam,
            "booking": booking, "coordinator": coordinator}


def test_a_tutor_declares_an_absence_for_two_sessions_and_the_coordinator_is_alerted(db, session):
    absences = declare_absence(db, session["karim"], session["slot"].id, "malade", sessions=2)

    assert [absence.slot_id for absence in absences] == [session["slot"].id, session["later"].id]
    alerts = db.scalars(select(Notification).where(Notification.kind == "tutor_absence")).all()
    assert {(alert.recipient_id, alert.slot_id) for alert in alerts} == {
        (session["coordinator"].id, session["slot"].id), (session["coordinator"].id, session["later"].id)}
    # The reason is the centre's: no family message carries it.
    family = db.scalars(select(Notification).where(Notification.recipient_id == session["parent"].id)).all()
    assert all("malade" not in str(message.payload) for message in family)
    with pytest.raises(ServiceError, match="déjà prévenu"):
        declare_absence(db, session["karim"], session["slot"].id, "toujours malade")


def test_an_absence_for_a_session_already_started_is_refused_and_changes_nothing(db, session, frozen_clock):
    frozen_clock(session["slot"].starts_at + timedelta(minutes=1))
    with pytest.raises(ServiceError, match="déjà commencé"):
        declare_absence(db, session["karim"], session["slot"].id, "panne de réveil")
    with pytest.raises(ServiceError, match="pourquoi"):
        declare_absence(db, session["karim"], session["later"].id, "   ")
    look_again(db)
    assert db.scalars(select(TutorAbsence)).all() == []
    assert db.scalars(select(Notification).where(Notification.kind == "tutor_absence")).all() == []


def test_the_coordinator_gives_the_session_to_another_tutor_and_everyone_follows(app, db, session, mail_server):
    [absence] = declare_absence(db, session["karim"], session["slot"].id, "malade")
    old_link = db.scalar(select(JoinToken.token).where(JoinToken.slot_id == session["slot"].id,
                                                       JoinToken.booking_id.is_(None)))
    make_dispatcher(app).tick()
    [alert] = mail_server.mailbox.to(session["coordinator"].email)
    assert alert["Subject"].startswith("Tuteur absent")
    text = alert.get_body(("plain",)).get_content()
    assert "Karim Haddad ne peut pas assurer la séance" in text and "Raison : malade" in text
    assert "/admin/absences" in text

    moved = give_to_tutor(db, absence.id, session["claire"].id)

    look_again(db)
    slot = db.get(Slot, session["slot"].id)
    assert slot.tutor_id == session["claire"].id and [b.id for b in moved] == [session["booking"].id]
    tutor_link = db.scalar(select(JoinToken).where(JoinToken.slot_id == slot.id, JoinToken.booking_id.is_(None)))
    assert tutor_link.user_id == session["claire"].id and tutor_link.token != old_link
    assert db.get(TutorAbsence, absence.id).status == "reassigned"
    make_dispatcher(app).tick()
    family_mail = mail_server.mailbox.to(session["parent"].email)[-1]
    assert family_mail["Subject"].startswith("Nouveau tuteur pour votre séance")
    assert "avec Claire Martin" in family_mail.get_body(("plain",)).get_content()
    given = mail_server.mailbox.to(session["claire"].email)[-1]
    withdrawn = mail_server.mailbox.to(session["karim"].email)[-1]
    methods = {}
    for name, message in (("family", family_mail), ("claire", given), ("karim", withdrawn)):
        [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        ical, _ = both_parsers(part.get_payload(decode=True))
        methods[name] = str(ical["METHOD"])
    assert methods == {"family": "REQUEST", "claire": "REQUEST", "karim": "CANCEL"}
    # Reminders follow the new tutor.
    reminders = db.scalars(select(Notification.recipient_id).where(
        Notification.slot_id == slot.id, Notification.kind == "reminder_24h", Notification.status == "pending",
        Notification.booking_id.is_(None))).all()
    assert reminders == [session["claire"].id]


def test_a_session_cannot_go_to_a_tutor_busy_then(db, session):
    [absence] = declare_absence(db, session["karim"], session["slot"].id, "malade")
    make_slot(db, session["claire"], starts_in=timedelta(days=2, minutes=15))
    with pytest.raises(ServiceError, match="Claire Martin a déjà une séance"):
        give_to_tutor(db, absence.id, session["claire"].id)
    look_again(db)
    assert db.get(Slot, session["slot"].id).tutor_id == session["karim"].id
    assert db.get(TutorAbsence, absence.id).status == "open"


def test_the_coordinator_cancels_the_session_and_the_families_wait_for_one_like_it(app, db, session, mail_server,
                                                                                    brevo):
    app.config.update(brevo.settings(), PUBLIC_URL="https://lien.example.org")
    session["parent"].phone, session["parent"].notify_by = "+33612345678", "both"
    db.commit()
    [absence] = declare_absence(db, session["karim"], session["slot"].id, "malade")

    cancelled = cancel_for_absence(db, absence.id, session["coordinator"])

    look_again(db)
    assert [b.id for b in cancelled] == [session["booking"].id]
    assert db.get(Booking, session["booking"].id).status == "cancelled"
    [wish] = db.scalars(select(WaitlistEntry)).all()
    assert (wish.student_id, wish.added_by_id, wish.status, wish.slot_id) == (
        session["adam"].id, session["coordinator"].id, "waiting", None)
    assert (wish.subject, wish.level, wish.language) == ("maths", "college", "")  # a French-speaking family
    # From now until the same day a week after the cancelled session (Wednesday 3 March), Paris time.
    assert (wish.wish_from, wish.wish_until) == (MONDAY, datetime(2027, 3, 10, 23, 0, tzinfo=UTC))
    told = db.scalar(select(Notification).where(Notification.kind == "booking_cancelled",
                                               Notification.recipient_id == session["parent"].id))
    # The absence reason stays with the centre; the family's message says they wait.
    assert told.payload == {"cancelled_by": "coordinator", "reason": "", "waitlist_path": f"/w/{wish.token}",
                            "waiting_until": "2027-03-11T00:00:00+01:00"}
    make_dispatcher(app).tick()
    email = mail_server.mailbox.to(session["parent"].email)[-1].get_body(("plain",)).get_content()
    assert "Adam Haddou est sur la liste d'attente pour une séance comme celle-ci." in email
    assert "d'ici le mercredi 10 mars" in email.replace("\xa0", " ")
    assert f"https://lien.example.org/w/{wish.token}" in email and "malade" not in email
    [sms] = [r["json"]["content"] for r in brevo.requests if r["json"]["recipient"] == "33612345678"
             and "annulé" in r["json"]["content"]]
    assert "sur la liste d'attente : nous vous écrirons si une place se libère" in sms
    with pytest.raises(ServiceError, match="déjà réglée"):
        cancel_for_absence(db, absence.id, session["coordinator"])

    # Claire opens a session like it on Friday: Adam's family is offered it first.
    friday = make_slot(db, session["claire"], starts_in=timedelta(days=4))
    look_again(db)
    assert (db.get(WaitlistEntry, wish.id).status, db.get(WaitlistEntry, wish.id).slot_id) == ("offered", friday.id)


def test_a_family_that_shared_its_language_with_the_absent_tutor_waits_for_a_tutor_who_speaks_it(db, session):
    session["parent"].locale = "ar"
    db.commit()
    [absence] = declare_absence(db, session["karim"], session["slot"].id, "malade")
    cancel_for_absence(db, absence.id, session["coordinator"])
    look_again(db)
    [wish] = db.scalars(select(WaitlistEntry)).all()
    assert wish.language == "ar"  # Karim speaks Arabic; Claire (French and Arabic too, by default) may take it
    mediator = make_tutor(db, "Ousmane Diallo", mediator=True)
    mediation = make_slot(db, mediator, activity_id=MEDIATION, subject="", level="")
    book_slot(db, mediation.id, session["parent"], session["parent"])
    [absence] = declare_absence(db, mediator, mediation.id, "malade")
    cancel_for_absence(db, absence.id, session["coordinator"])
    look_again(db)
    assert db.scalar(select(func.count()).select_from(WaitlistEntry)) == 1  # no waitlist for a mediation


def test_the_tutor_and_the_coordinator_use_the_pages(client, db, session):
    login(client, session["karim"].email)
    page = client.get(f"/slots/{session['slot'].id}").get_data(as_text=True)
    assert "Je ne peux pas assurer cette séance" in page
    form = client.get(f"/slots/{session['slot'].id}/absence").get_data(as_text=True)
    response = client.post(f"/slots/{session['slot'].id}/absence",
                           data={"reason": "", "sessions": "1", "csrf_token": csrf_token(form)})
    assert response.status_code == 200 and "Dites en quelques mots pourquoi" in response.get_data(as_text=True)
    response = client.post(f"/slots/{session['slot'].id}/absence", follow_redirects=True,
                           data={"reason": "malade", "sessions": "1", "csrf_token": csrf_token(form)})
    assert "Le centre est prévenu pour 1 séance" in response.get_data(as_text=True)

    coordinator = make_person(db, "coordinator", "Samia Ali")
    other = client.application.test_client()
    login(other, coordinator.email)
    page = other.get("/admin/absences").get_data(as_text=True)
    assert "Karim Haddad ne peut pas venir." in page and "malade" in page
    [absence] = db.scalars(select(TutorAbsence))
    response = other.post(f"/admin/absences/{absence.id}/give", follow_redirects=True,
                          data={"tutor_id": str(session["claire"].id), "csrf_token": csrf_token(page)})
    assert "Séance confiée. 1 famille prévenue" in response.get_data(as_text=True)
    assert "Aucune absence à régler." in response.get_data(as_text=True)


def test_the_coordinator_cancels_from_the_absences_page_and_is_told_the_families_wait(client, db, session):
    declare_absence(db, session["karim"], session["slot"].id, "malade")
    login(client, session["coordinator"].email)
    page = client.get("/admin/absences").get_data(as_text=True)
    [absence] = db.scalars(select(TutorAbsence))
    response = client.post(f"/admin/absences/{absence.id}/cancel", data={"csrf_token": csrf_token(page)},
                           follow_redirects=True)
    assert "Séance annulée. 1 famille prévenue et mise sur la liste d&#39;attente." in response.get_data(as_text=True)
