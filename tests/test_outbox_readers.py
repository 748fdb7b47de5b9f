"""Every message right for the person who reads it, read back from a real SMTP server and the
SMS test gateway: identifiers no other copy of Lien reuses, calendars that stay in step, the
real time left, who cancelled and why, the reader's language, and logs without personal data."""

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from factories import HOMEWORK, look_again, make_family, make_slot, make_tutor, sqlite_copy
from sqlalchemy import select, update

from scheduler_app import create_app
from scheduler_app import db as database
from scheduler_app.models import Booking, Notification
from scheduler_app.services.booking import book_slot
from scheduler_app.worker import make_dispatcher

WEDNESDAY_14H = timedelta(days=2, hours=4)  # from Monday 11 January 2027, 9:00 UTC


@pytest.fixture
def smtp(app, mail_server):
    app.config["PUBLIC_URL"] = "https://lien.example.org"
    return mail_server


def tick(app):
    return make_dispatcher(app).tick()


def calendar_part(message: EmailMessage) -> str:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    content = part.get_content()
    return (content if isinstance(content, str) else content.decode()).replace("\r\n ", "")


def ics_value(ics: str, name: str) -> str:
    [value] = [line.split(":", 1)[1] for line in ics.splitlines() if line.split(";")[0].split(":")[0] == name]
    return value


def book_adam(db, frozen_clock):
    """Adam, booked by his mother Fatima, Wednesday 14:00 with Karim: booking id 1 on a new database."""
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    slot = make_slot(db, tutor, starts_in=WEDNESDAY_14H)
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    booking = book_slot(db, slot.id, adam, parent)
    return {"tutor": tutor, "slot": slot, "parent": parent, "student": adam, "booking": booking}


# 1. UIDs and Message-IDs ------------------------------------------------------------------------

def test_a_second_copy_of_lien_never_reuses_a_uid_or_a_message_id(app, db, smtp, frozen_clock,
                                                                 sqlite_template, tmp_path):
    first = book_adam(db, frozen_clock)
    tick(app)
    # A restored backup, a reset database or a second instance: the same ids again, from 1.
    (tmp_path / "second").mkdir()
    other = create_app({**app.config, "DATABASE_URL": sqlite_copy(sqlite_template, tmp_path / "second")})
    other_db = other.extensions["lien_sessions"]()
    try:
        second = book_adam(other_db, frozen_clock)
        assert (second["booking"].id, second["slot"].id) == (first["booking"].id, first["slot"].id)
        tick(other)
    finally:
        other_db.close()
        database.close(other)

    messages = smtp.mailbox.all_parsed()
    assert len(messages) == 4  # a confirmation to the mother and one to the tutor, twice
    ids = [message["Message-ID"] for message in messages]
    assert len(set(ids)) == 4
    uids = [ics_value(calendar_part(message), "UID") for message in messages]
    assert len(set(uids)) == 4  # the mothers' and the tutors' entries, on either copy
    assert all(uid.endswith("@centre.example.org") and "booking-" not in uid and "slot-" not in uid for uid in uids)


def test_a_session_keeps_its_uid_and_each_message_its_message_id_on_a_resend(app, db, smtp, frozen_clock):
    story = book_adam(db, frozen_clock)
    from scheduler_app.services.booking import cancel_booking

    tick(app)
    cancel_booking(db, story["booking"])
    tick(app)
    [booked, cancelled] = smtp.mailbox.to(story["parent"].email)
    assert ics_value(calendar_part(booked), "UID") == ics_value(calendar_part(cancelled), "UID")
    assert booked["Message-ID"] != cancelled["Message-ID"]
    look_again(db)
    row = db.scalars(select(Notification).where(Notification.kind == "booking_confirmed",
                                                Notification.channel == "email")).one()
    assert booked["Message-ID"] == f"<lien.{row.message_key}@centre.example.org>"


def test_a_booking_made_before_the_unique_ids_keeps_the_ones_calendars_already_hold(app, db, smtp, frozen_clock):
    from notifications import make_message_id

    story = book_adam(db, frozen_clock)
    # As migration 0012 leaves the rows it finds: no key, and the old identifiers are used.
    db.execute(update(Booking).values(calendar_uid=None))
    db.execute(update(Notification).values(message_key=None))
    db.commit()
    tick(app)
    [message] = smtp.mailbox.to(story["parent"].email)
    assert ics_value(calendar_part(message), "UID") == f"booking-{story['booking'].id}@centre.example.org"
    look_again(db)
    row = db.scalars(select(Notification).where(Notification.kind == "booking_confirmed",
                                                Notification.recipient_id == story["parent"].id)).one()
    assert message["Message-ID"] == make_message_id(row.dedupe_key, "centre.example.org")


def test_new_slots_and_bookings_each_get_their_own_uid(db, frozen_clock):
    story = book_adam(db, frozen_clock)
    other = make_slot(db, story["tutor"], starts_in=timedelta(days=3), activity_id=HOMEWORK)
    keys = {story["slot"].calendar_uid, story["booking"].calendar_uid, other.calendar_uid}
    assert len(keys) == 3 and all(len(key) == 32 for key in keys)


# 3. The tutor's calendar ------------------------------------------------------------------------

@pytest.fixture
def group(db, frozen_clock):
    """Karim's group slot of two, booked for Adam (by his mother) and for Léa (by her father)."""
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    slot = make_slot(db, tutor, starts_in=WEDNESDAY_14H, capacity=2)
    fatima, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    jean, [lea] = make_family(db, "Jean Petit", "Léa Petit")
    adams = book_slot(db, slot.id, adam, fatima)
    leas = book_slot(db, slot.id, lea, jean)
    return {"tutor": tutor, "slot": slot, "fatima": fatima, "jean": jean, "adams": adams, "leas": leas}


def test_when_a_student_cancels_the_tutor_gets_an_invitation_without_them_then_a_cancel(app, db, smtp, group):
    from scheduler_app.services.booking import cancel_booking

    tick(app)
    invitations = [calendar_part(m) for m in smtp.mailbox.to(group["tutor"].email)]
    uid = ics_value(invitations[-1], "UID")
    assert "Adam Haddou" in invitations[-1] and "Léa Petit" in invitations[-1]

    cancel_booking(db, group["adams"])
    tick(app)
    update_ics = calendar_part(smtp.mailbox.to(group["tutor"].email)[-1])
    assert ics_value(update_ics, "METHOD") == "REQUEST" and ics_value(update_ics, "UID") == uid
    assert int(ics_value(update_ics, "SEQUENCE")) > int(ics_value(invitations[-1], "SEQUENCE"))
    assert "Léa Petit" in update_ics and "Adam" not in update_ics

    cancel_booking(db, group["leas"])
    tick(app)
    last = calendar_part(smtp.mailbox.to(group["tutor"].email)[-1])
    assert ics_value(last, "METHOD") == "CANCEL" and ics_value(last, "UID") == uid
    assert int(ics_value(last, "SEQUENCE")) > int(ics_value(update_ics, "SEQUENCE"))


def test_a_tutor_who_cancels_their_own_slot_gets_a_cancel_for_their_calendar(app, db, smtp, group):
    from scheduler_app.services.slots import cancel_slot

    tick(app)
    uid = ics_value(calendar_part(smtp.mailbox.to(group["tutor"].email)[-1]), "UID")
    cancel_slot(db, group["slot"], by=group["tutor"])
    tick(app)
    cancel = smtp.mailbox.to(group["tutor"].email)[-1]
    ics = calendar_part(cancel)
    assert ics_value(ics, "METHOD") == "CANCEL" and ics_value(ics, "UID") == uid
    assert cancel["Subject"] == "Créneau annulé : mercredi 13 janvier à 14 h 00"
    assert "Vous avez annulé votre créneau" in cancel.get_body(("plain",)).get_content()
    for parent in (group["fatima"], group["jean"]):
        assert ics_value(calendar_part(smtp.mailbox.to(parent.email)[-1]), "METHOD") == "CANCEL"


def test_a_tutor_who_cancels_a_slot_nobody_booked_gets_no_message(app, db, smtp, frozen_clock):
    from scheduler_app.services.slots import cancel_slot

    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    cancel_slot(db, make_slot(db, tutor, starts_in=WEDNESDAY_14H), by=tutor)
    assert tick(app).sent == 0


# 4. Reminders say the real time left ------------------------------------------------------------

def test_each_reminder_says_the_real_time_left_in_the_readers_language_and_zone(app, db, smtp, brevo, frozen_clock):
    from scheduler_app.config import reminder_offsets
    from scheduler_app.services.outbox import Rules

    app.config.update(brevo.settings())
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    slot = make_slot(db, make_tutor(db), starts_in=WEDNESDAY_14H)  # Wednesday 13 January, 14:00 in Paris
    fatima, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    john, [lea] = make_family(db, "John Smith", "Lea Smith")
    john.locale, john.timezone = "en", "Europe/London"
    fatima.phone, fatima.notify_by = "+33612345678", "both"
    adam.email = "adam.haddou@example.org"  # old enough for his own messages
    db.commit()
    rules = Rules(reminders=reminder_offsets("2d,24h,2h,15m"))
    book_slot(db, slot.id, adam, fatima, rules=rules)
    other = make_slot(db, make_tutor(db, "Inès Roux"), starts_in=WEDNESDAY_14H)
    book_slot(db, other.id, lea, john, rules=rules)
    tick(app)
    for offset in (timedelta(days=2), timedelta(hours=24), timedelta(hours=2), timedelta(minutes=15)):
        frozen_clock(slot.starts_at - offset + timedelta(seconds=20))  # the worker ticks a little late
        tick(app)

    assert [m["Subject"] for m in smtp.mailbox.to(adam.email)][1:] == [
        "Mercredi à 14 h : rappel de séance",
        "Demain à 14 h : rappel de séance",
        "Dans 2 heures : séance à 14 h",
        "Dans 15 minutes : séance à 14 h",
    ]
    assert [m["Subject"] for m in smtp.mailbox.to(fatima.email)][1:] == [  # a parent's subject names the child
        "Adam : séance mercredi à 14 h",
        "Adam : séance demain à 14 h",
        "Adam : séance dans 2 heures, à 14 h",
        "Adam : séance dans 15 minutes, à 14 h",
    ]
    assert [m["Subject"] for m in smtp.mailbox.to(john.email)][1:] == [  # London is an hour behind Paris
        "Lea: session Wednesday at 1 PM (London time)",
        "Lea: session tomorrow at 1 PM (London time)",
        "Lea: session in 2 hours, at 1 PM (London time)",
        "Lea: session in 15 minutes, at 1 PM (London time)",
    ]
    last = smtp.mailbox.to(adam.email)[-1].get_body(("plain",)).get_content()
    assert "La séance commence dans 15 minutes :" in last
    texts = [r["json"]["content"] for r in brevo.requests if r["json"]["recipient"] == "33612345678"]
    # A parent's SMS names the child and ends with the family's short link (no password needed).
    assert texts[-1].startswith("Lien : séance pour Adam Haddou dans 15 minutes, à 14 h. Pas besoin de mot de passe.")
    assert "https://lien.example.org/s/" in texts[-1] and "/j/" not in texts[-1]
    assert texts[1].startswith("Lien : rappel, séance pour Adam Haddou mercredi à 14 h.")


@pytest.mark.parametrize(("left", "said"), [
    (timedelta(minutes=-5), "maintenant"),
    (timedelta(minutes=1), "dans 1 minute"),
    (timedelta(minutes=59, seconds=30), "dans 1 heure"),
    (timedelta(hours=1), "dans 1 heure"),
    (timedelta(hours=1, minutes=30), "dans 1 h 30"),
    (timedelta(hours=3), "dans 3 heures"),
    (timedelta(hours=13), "aujourd'hui à 22 h 30"),
    (timedelta(days=6), "lundi à 9 h 30"),
    (timedelta(days=9), "le jeudi 14 janvier à 9 h 30"),
])
def test_the_time_left_is_said_as_people_say_it(left, said):
    from babel.support import Translations

    from notifications.rendering import time_left
    from scheduler_app import ROOT

    now = datetime(2027, 1, 5, 8, 30, tzinfo=UTC)  # Tuesday, 9:30 in Paris
    french = Translations.load(str(ROOT / "translations"), ["fr"])
    assert time_left(now + left, now, "fr", "Europe/Paris", french).text == said


# 5. Who cancelled and why -----------------------------------------------------------------------

def plain(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_slot_the_coordinator_cancels_says_the_centre_did_it_and_why(app, db, smtp, frozen_clock):
    from factories import make_person

    from scheduler_app.models import Slot
    from scheduler_app.services.slots import cancel_slot

    story = book_adam(db, frozen_clock)
    tick(app)
    nadia = make_person(db, "coordinator", "Nadia Benali")
    cancel_slot(db, story["slot"], by=nadia, reason="  Le centre est fermé ce jour-là (travaux). ")
    tick(app)
    to_family = plain(smtp.mailbox.to(story["parent"].email)[-1])
    assert "Le centre social a annulé cette séance." in to_family
    assert "Raison donnée : Le centre est fermé ce jour-là (travaux)." in to_family
    assert "ne peut pas assurer" not in to_family
    to_tutor = plain(smtp.mailbox.to(story["tutor"].email)[-1])
    assert "Le centre a annulé votre créneau" in to_tutor and "travaux" in to_tutor
    look_again(db)
    assert db.get(Slot, story["slot"].id).cancel_reason == "Le centre est fermé ce jour-là (travaux)."


def test_a_slot_the_tutor_cancels_names_the_tutor_to_the_family(app, db, smtp, frozen_clock):
    from scheduler_app.services.slots import cancel_slot

    story = book_adam(db, frozen_clock)
    tick(app)
    cancel_slot(db, story["slot"], by=story["tutor"], reason="Je suis malade.")
    tick(app)
    to_family = plain(smtp.mailbox.to(story["parent"].email)[-1])
    assert "Karim Haddad ne peut pas assurer cette séance : elle est annulée." in to_family
    assert "Raison donnée : Je suis malade." in to_family


def test_a_booking_the_coordinator_cancels_tells_the_family_and_the_tutor_who_and_why(app, db, smtp, frozen_clock):
    from factories import make_person

    from scheduler_app.services.booking import cancel_booking

    story = book_adam(db, frozen_clock)
    tick(app)
    nadia = make_person(db, "coordinator", "Nadia Benali")
    cancel_booking(db, story["booking"], by=nadia, reason="La famille a appelé le centre.")
    tick(app)
    to_family = plain(smtp.mailbox.to(story["parent"].email)[-1])
    assert "Le centre social a annulé cette séance." in to_family
    assert "Raison donnée : La famille a appelé le centre." in to_family
    to_tutor = plain(smtp.mailbox.to(story["tutor"].email)[-1])
    assert "Le centre social a annulé la place" in to_tutor and "Raison donnée : La famille a appelé" in to_tutor
    look_again(db)
    assert db.get(Booking, story["booking"].id).cancel_reason == "La famille a appelé le centre."


def test_a_family_that_cancels_is_named_to_the_tutor_with_its_reason(app, db, smtp, frozen_clock):
    from scheduler_app.services.booking import cancel_booking

    story = book_adam(db, frozen_clock)
    tick(app)
    cancel_booking(db, story["booking"], by=story["parent"], reason="Adam a un rendez-vous médical.")
    tick(app)
    to_tutor = plain(smtp.mailbox.to(story["tutor"].email)[-1])
    assert "Adam Haddou a annulé sa place" in to_tutor and "Raison donnée : Adam a un rendez-vous médical." in to_tutor
    to_family = plain(smtp.mailbox.to(story["parent"].email)[-1])
    assert "Le centre social" not in to_family and "ne peut pas assurer" not in to_family


def test_a_cancellation_sms_leads_to_other_sessions_of_the_same_kind(app, db, brevo, frozen_clock):
    from scheduler_app.services.slots import cancel_slot

    app.config.update(brevo.settings(), PUBLIC_URL="https://lien.example.org")
    story = book_adam(db, frozen_clock)
    story["parent"].email, story["parent"].phone, story["parent"].notify_by = None, "+33612345678", "sms"
    db.commit()
    cancel_slot(db, story["slot"], by=story["tutor"])
    tick(app)
    [sms] = [r["json"]["content"] for r in brevo.requests if r["json"]["recipient"] == "33612345678"]
    assert sms.startswith("Lien : Karim Haddad a annulé la séance du mercredi 13 janvier à 14 h 00.")
    assert sms.endswith(f"https://lien.example.org/slots?activity={HOMEWORK}&subject=maths")
    assert "/j/" not in sms


# 6. French grammar, the child's name, the centre, the zone ----------------------------------------

def test_a_parent_of_two_gets_each_childs_name_in_the_subject_with_the_right_elision(app, db, smtp, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    fatima, [adam, yasmine] = make_family(db, "Fatima Haddou", "Adam Haddou", "Yasmine Haddou")
    book_slot(db, make_slot(db, tutor, starts_in=WEDNESDAY_14H).id, adam, fatima)
    book_slot(db, make_slot(db, tutor, starts_in=WEDNESDAY_14H + timedelta(hours=1)).id, yasmine, fatima)
    tick(app)
    [for_adam, for_yasmine] = smtp.mailbox.to(fatima.email)
    assert for_adam["Subject"] == "Adam : séance réservée le mercredi 13 janvier à 14 h 00"
    assert for_yasmine["Subject"] == "Yasmine : séance réservée le mercredi 13 janvier à 15 h 00"
    assert "La séance d'Adam Haddou est réservée." in plain(for_adam)
    assert "La séance de Yasmine Haddou est réservée." in plain(for_yasmine)
    assert "La séance d'Adam Haddou est réservée." in for_adam.get_body(("html",)).get_content()


def test_a_booking_the_centre_made_says_so_by_email_and_sms(app, db, smtp, brevo, frozen_clock):
    from factories import make_person

    app.config.update(brevo.settings())
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    slot = make_slot(db, make_tutor(db), starts_in=WEDNESDAY_14H)
    fatima, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    fatima.phone, fatima.notify_by = "+33612345678", "both"
    db.commit()
    book_slot(db, slot.id, adam, make_person(db, "coordinator", "Nadia Benali"))
    tick(app)
    [email] = smtp.mailbox.to(fatima.email)
    assert "Le centre social a réservé pour vous. La séance d'Adam Haddou est réservée." in plain(email)
    [sms] = [r["json"]["content"] for r in brevo.requests if r["json"]["recipient"] == "33612345678"]
    assert sms.startswith("Lien : le centre social a réservé pour Adam Haddou. Séance le mercredi 13 janvier")


def test_times_name_their_zone_only_for_a_reader_outside_the_centres(app, db, smtp, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    slot = make_slot(db, make_tutor(db), starts_in=WEDNESDAY_14H)
    aicha, [ali] = make_family(db, "Aïcha Koné", "Ali Koné")
    aicha.email, aicha.timezone = "aicha.kone@example.org", "Africa/Abidjan"  # UTC all year
    db.commit()
    book_slot(db, slot.id, ali, aicha)
    tick(app)
    [to_aicha] = smtp.mailbox.to(aicha.email)
    assert to_aicha["Subject"] == "Ali : séance réservée le mercredi 13 janvier à 13 h 00 (heure d'Abidjan)"
    [to_tutor] = smtp.mailbox.to("karim.haddad@example.org")
    assert "(heure" not in to_tutor["Subject"] and "14 h 00" in to_tutor["Subject"]


# 7. English emails are English ------------------------------------------------------------------

def test_an_english_reader_gets_activities_and_subjects_in_english_by_email_and_calendar(app, db, smtp, frozen_clock):
    from scheduler_app.models import Activity

    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    workshop = Activity(name="Atelier numérique", name_en="Digital workshop", duration_minutes=60, capacity=4)
    db.add(workshop)
    db.commit()
    tutor = make_tutor(db)
    homework = make_slot(db, tutor, starts_in=WEDNESDAY_14H)
    digital = make_slot(db, tutor, starts_in=WEDNESDAY_14H + timedelta(hours=2), activity_id=workshop.id, capacity=4,
                        subject="numerique")
    john, [lea] = make_family(db, "John Smith", "Lea Smith")
    john.locale = "en"
    fatima, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    db.commit()
    book_slot(db, homework.id, lea, john)
    book_slot(db, digital.id, adam, fatima)
    book_slot(db, digital.id, lea, john)
    tick(app)

    [homework_mail, digital_mail] = smtp.mailbox.to(john.email)
    assert "Homework help · Maths" in plain(homework_mail)
    assert "Homework help — Maths with Karim Haddad" in calendar_part(homework_mail)
    assert "Digital workshop · Help with computers and forms" in plain(digital_mail)
    for message in (homework_mail, digital_mail):
        text = plain(message) + message.get_body(("html",)).get_content() + calendar_part(message)
        assert "Aide aux devoirs" not in text and "Atelier" not in text and "Mathématiques" not in text
    [to_fatima] = smtp.mailbox.to(fatima.email)
    assert "Atelier numérique · Aide numérique et démarches" in plain(to_fatima)  # French readers keep French


def test_a_coordinator_gives_an_activity_its_english_name(app, db, client):
    from conftest import csrf_token
    from factories import login, make_person

    from scheduler_app.models import Activity

    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    page = client.get("/admin/activities/new").get_data(as_text=True)
    response = client.post("/admin/activities/new", data={
        "csrf_token": csrf_token(page), "name": "Atelier numérique", "name_en": " Digital workshop ",
        "duration_minutes": "60", "capacity": "4", "active": "y"}, follow_redirects=True)
    assert response.status_code == 200
    look_again(db)
    assert db.scalars(select(Activity).where(Activity.name == "Atelier numérique")).one().name_en == "Digital workshop"


# 8. Logs hold no personal data ------------------------------------------------------------------

def test_the_logs_of_a_send_hold_ids_and_no_phone_name_email_or_join_link(app, db, frozen_clock, caplog, tmp_path):
    import logging

    from scheduler_app.models import JoinToken

    app.config.update(MAIL_PROVIDER="console", SMS_PROVIDER="console", PUBLIC_URL="https://lien.example.org",
                      CONSOLE_MESSAGES_DIR=str(tmp_path / "messages"))
    story = book_adam(db, frozen_clock)
    story["parent"].phone, story["parent"].notify_by = "+33612345678", "both"
    db.commit()
    from scheduler_app.services.booking import cancel_booking

    with caplog.at_level(logging.DEBUG):
        assert tick(app).sent == 2
        cancel_booking(db, story["booking"], by=story["parent"], reason="Adam est malade")
        tick(app)
    logged = caplog.text
    tokens = db.scalars(select(JoinToken.token)).all()
    secrets = ["612345678", "Fatima", "Haddou", "Adam", "Karim", "fatima.haddou@example.org",
               "karim.haddad@example.org", "/j/", "malade", *tokens]
    assert [secret for secret in secrets if secret in logged] == []
    look_again(db)
    keys = db.scalars(select(Notification.message_key).where(Notification.channel == "email",
                                                            Notification.status == "sent")).all()
    assert keys and all(key in logged for key in keys)  # what was sent can be followed by its id
    kept = "".join(path.read_text(errors="replace") for path in (tmp_path / "messages").iterdir())
    assert "+33612345678" in kept  # a developer still reads the messages, outside the log


# 9. Coordinators' tools -------------------------------------------------------------------------

def test_coordinators_page_through_every_message_with_its_status(app, db, client, smtp, frozen_clock):
    import re

    from factories import login, make_person

    book_adam(db, frozen_clock)
    smtp.mailbox.refuse["karim.haddad@example.org"] = "550 5.1.1 No such mailbox"
    tick(app)  # the mother's confirmation is sent, the tutor's fails; the reminders wait
    from scheduler_app.services import passwords

    with app.test_request_context():
        for number in range(55):  # enough for a second page
            passwords.send_link(db, make_person(db, "parent", f"Parent {number}", email=f"parent{number}@example.org"),
                                "invitation")
    login(client, make_person(db, "coordinator", "Nadia Benali").email)

    first = client.get("/admin/messages").get_data(as_text=True)
    assert first.count('class="card"') == 50 and "parent54@example.org" in first
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(older).get_data(as_text=True)
    assert "fatima.haddou@example.org" in second and "Envoyé" in second  # sent, not only failures
    assert "No such mailbox" in second and "En attente" in second
    assert 'rel="next"' not in second
    shown = {m for page in (first, second) for m in re.findall(r"parent\d+@example\.org", page)}
    assert len(shown) == 55  # none lost nor shown twice between the pages

    failed = client.get("/admin/messages?status=failed").get_data(as_text=True)
    assert failed.count('class="card"') == 1 and "karim.haddad@example.org" in failed
    assert client.get("/admin/messages?status=nonsense&before=abc").status_code == 200


def test_a_reason_is_forgotten_with_the_person_and_after_the_retention(db, frozen_clock):
    from scheduler_app.models import Slot
    from scheduler_app.services.booking import cancel_booking
    from scheduler_app.services.privacy import delete_person, purge
    from scheduler_app.services.slots import cancel_slot

    story = book_adam(db, frozen_clock)
    cancel_booking(db, story["booking"], by=story["parent"], reason="Adam est malade")
    other = make_slot(db, story["tutor"], starts_in=timedelta(days=5))
    cancel_slot(db, other, by=story["tutor"], reason="Rendez-vous à l'hôpital")
    delete_person(db, story["student"])
    look_again(db)
    assert db.get(Booking, story["booking"].id).cancel_reason == ""
    assert db.get(Slot, other.id).cancel_reason == "Rendez-vous à l'hôpital"
    frozen_clock(datetime(2029, 6, 1, tzinfo=UTC))
    purge(db, older_than=timedelta(days=730), apply=True)
    look_again(db)
    assert db.get(Slot, other.id).cancel_reason == ""
