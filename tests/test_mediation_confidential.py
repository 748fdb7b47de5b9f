"""What a mediation says stays with its mediators: a unique marker written into a mediation's
reason and into the mediator's note is looked for everywhere a homework tutor, a parent linked
to the same child, the other party and a coordinator not marked for mediation can reach: pages,
emails (a real SMTP server), SMS (the provider's stand-in), invitations, feeds and exports. It is
found nowhere; the mediator and a coordinator marked for mediation do read it."""

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from factories import MEDIATION, login, look_again, make_family, make_person, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import Booking, Guardianship, Notification, User
from scheduler_app.services.attendance import mark
from scheduler_app.services.booking import book_slot
from scheduler_app.services.confidential import (
    HOMEWORK,
    NOTE,
    OUTSIDE,
    TOPIC,
    booking_texts,
    may_read,
)
from scheduler_app.services.confidential import (
    MEDIATION as MEDIATION_KIND,
)
from scheduler_app.services.feeds import feed_token
from scheduler_app.services.mediation import MediationPlan, plan_mediation
from scheduler_app.worker import make_dispatcher

REASON = "conflit-garde-" + uuid.uuid4().hex  # unique: found only where it was really copied
NOTE_TEXT = "pere-absent-" + uuid.uuid4().hex
HOMEWORK_TOPIC = "les-fractions-" + uuid.uuid4().hex
HOMEWORK_NOTE = "revoir-les-fractions-" + uuid.uuid4().hex


@pytest.fixture
def centre(app, db, mail_server, brevo, frozen_clock):
    """A mediation between Fatima (email) and Samir (email and SMS), Adam's parents, each also
    invited to separate sessions and a joint one; Adam's homework help with Karim; the mediator
    Ousmane; two coordinators, one marked for mediation."""
    app.config.update(brevo.settings(), PUBLIC_URL="https://lien.example.org")
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    ousmane = make_tutor(db, "Ousmane Diallo", mediator=True)
    karim = make_tutor(db, "Karim Haddad")
    nadia = make_person(db, "coordinator", "Nadia Benali")
    sonia = make_person(db, "coordinator", "Sonia Amrani", mediator=True)
    fatima, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    samir = make_person(db, "parent", "Samir Haddou", phone="+33612345678", notify_by="both")
    db.add(Guardianship(parent_id=samir.id, student_id=adam.id))  # linked to the child, by the family code
    db.commit()

    first = make_slot(db, ousmane, activity_id=MEDIATION, starts_in=timedelta(days=1), minutes=60, subject="",
                      level="")
    second = make_slot(db, ousmane, activity_id=MEDIATION, starts_in=timedelta(days=8), minutes=60, subject="",
                       level="")
    samirs = make_slot(db, ousmane, activity_id=MEDIATION, starts_in=timedelta(days=8, hours=2), minutes=60,
                       subject="", level="")
    homework = make_slot(db, karim, starts_in=timedelta(days=9))
    before = book_slot(db, first.id, fatima, fatima, topic=REASON)
    after = book_slot(db, second.id, fatima, fatima, topic=REASON)
    book_slot(db, samirs.id, samir, nadia, topic="")
    planned = plan_mediation(db, ousmane, MediationPlan(
        activity_id=MEDIATION, day=date(2027, 1, 21), start_time=time(14, 0), minutes=45,
        party_ids=(fatima.id, samir.id), separate=True, joint=True, reason=REASON), "Europe/Paris")
    lesson = book_slot(db, homework.id, adam, fatima, topic=HOMEWORK_TOPIC)
    frozen_clock(first.starts_at + timedelta(minutes=70))
    mark(db, before, present=True, note=NOTE_TEXT)
    return {"ousmane": ousmane, "karim": karim, "nadia": nadia, "sonia": sonia, "fatima": fatima, "adam": adam,
            "samir": samir, "planned": planned, "first": first, "second": second, "samirs": samirs,
            "homework": homework, "before": before, "after": after, "lesson": lesson}


def pages_of(app, email: str, urls: list[str]) -> str:
    """Everything these pages say to the person logged in with `email`, run together."""
    client = app.test_client()
    login(client, email)
    return "\n".join(client.get(url, follow_redirects=True).get_data(as_text=True) for url in urls)


def feed_of(app, db, person) -> str:
    look_again(db)
    return app.test_client().get(f"/calendar/{feed_token(db, person).secret}.ics").get_data(as_text=True)


def every_message(app, db, mail_server, brevo) -> str:
    """Every message the outbox holds, sent for real: emails with their invitations, and SMS."""
    look_again(db)
    for row in db.scalars(select(Notification).where(Notification.status == "pending")):
        row.due_at = datetime(2027, 1, 1, tzinfo=UTC)  # everything is due: reminders too
    db.commit()
    dispatcher = make_dispatcher(app)
    while dispatcher.tick().sent:
        pass
    look_again(db)
    assert db.scalar(select(Notification.id).where(Notification.status != "sent")) is None
    texts = []
    for message in mail_server.mailbox.all_parsed():
        texts.append(str(message["Subject"]))
        for part in message.walk():
            if not part.is_multipart():
                texts.append(part.get_content() if part.get_content_type().startswith("text/")
                             else part.get_payload(decode=True).decode("utf-8", "replace"))
    texts.extend(request["json"]["content"] for request in brevo.requests)
    assert mail_server.mailbox.messages and brevo.requests
    return "\n".join(texts)


def test_one_rule_decides_who_reads_a_reason_or_a_note():
    mediator = User(role="tutor", mediator=True)
    volunteer = User(role="tutor", mediator=False)
    coordinator = User(role="coordinator", mediator=False)
    mediation_coordinator = User(role="coordinator", mediator=True)
    parent = User(role="parent", mediator=False)
    for item in (TOPIC, NOTE):
        assert may_read(mediator, item, MEDIATION_KIND) and may_read(mediation_coordinator, item, MEDIATION_KIND)
        for other in (volunteer, coordinator, parent, None):
            assert not may_read(other, item, MEDIATION_KIND)
        for anyone in (mediator, mediation_coordinator):  # never in what leaves Lien
            assert not may_read(anyone, item, MEDIATION_KIND, where=OUTSIDE)
    assert may_read(parent, TOPIC, HOMEWORK) and not may_read(parent, NOTE, HOMEWORK)
    assert may_read(volunteer, NOTE, HOMEWORK) and may_read(coordinator, NOTE, HOMEWORK)


def test_the_query_gives_the_reason_to_mediators_only(db, centre):
    booking = centre["after"].id
    assert booking_texts(db, centre["ousmane"], booking) == (REASON, "")
    assert booking_texts(db, centre["sonia"], booking) == (REASON, "")
    for other in ("karim", "nadia", "fatima", "samir"):
        assert booking_texts(db, centre[other], booking) == ("", ""), other
    assert booking_texts(db, centre["ousmane"], centre["before"].id) == (REASON, NOTE_TEXT)
    assert booking_texts(db, centre["nadia"], centre["lesson"].id) == (HOMEWORK_TOPIC, "")


def test_a_mediations_reason_and_note_are_found_nowhere_but_with_its_mediators(app, db, centre, mail_server, brevo):
    c = centre
    slots = [c["first"].id, c["second"].id, c["samirs"].id, c["homework"].id, *(s.id for s in c["planned"])]
    look_again(db)
    bookings = [*db.scalars(select(Booking.id))]
    anywhere = [*(f"/slots/{s}" for s in slots), *(f"/sessions/{b}" for b in bookings),
                *(f"/slots/{s}/calendar.ics" for s in slots), *(f"/sessions/{b}/calendar.ics" for b in bookings),
                "/", "/sessions", "/agenda", "/profile", "/slots"]
    seen = {
        "the homework tutor": pages_of(app, "karim.haddad@example.org",
                                       [*anywhere, "/slots/mine", "/slots/to-mark", "/availability"])
        + feed_of(app, db, c["karim"]),
        "a parent linked to the child, the other party": pages_of(app, "samir.haddou@example.org", anywhere)
        + feed_of(app, db, c["samir"]),
        "a coordinator not marked for mediation": pages_of(app, "nadia.benali@example.org", [
            *anywhere, "/admin/", "/admin/sessions", "/admin/messages", f"/admin/people/{c['fatima'].id}",
            f"/admin/people/{c['fatima'].id}/export.json", f"/admin/people/{c['samir'].id}/export.json",
            *(f"/admin/reports?grouping={g}&start=2027-01-01&end=2027-01-31"
              for g in ("month", "activity", "tutor", "student")),
            *(f"/admin/reports.csv?grouping={g}&start=2027-01-01&end=2027-01-31"
              for g in ("month", "activity", "tutor", "student"))]),
        "every message and invitation, to anyone": every_message(app, db, mail_server, brevo),
        "the party's own pages and feed": pages_of(app, "fatima.haddou@example.org", anywhere)
        + feed_of(app, db, c["fatima"]),
    }
    for who, text in seen.items():
        assert REASON not in text and NOTE_TEXT not in text, who
    # The homework help is still there for those who help with it, and the walk saw real pages.
    assert HOMEWORK_TOPIC in seen["the homework tutor"] and HOMEWORK_TOPIC in seen["a coordinator not marked for mediation"]
    assert "Rendez-vous au centre social" in seen["every message and invitation, to anyone"]
    assert "Élève" not in seen["every message and invitation, to anyone"]
    # Each party invited alone: the other party's name, phone and email reach neither.
    to_samir = "\n".join(m.get_body(("plain",)).get_content() for m in mail_server.mailbox.to(c["samir"].email))
    to_samir += "\n".join(r["json"]["content"] for r in brevo.requests if r["json"]["recipient"] == "33612345678")
    to_fatima = "\n".join(m.get_body(("plain",)).get_content() for m in mail_server.mailbox.to(c["fatima"].email))
    assert "Rendez-vous au centre social" in to_samir and "Rendez-vous au centre social" in to_fatima
    assert "Fatima" not in to_samir and c["fatima"].email not in to_samir
    assert "Samir" not in to_fatima and c["samir"].email not in to_fatima and "612345678" not in to_fatima

    mediator = pages_of(app, "ousmane.diallo@example.org", [f"/slots/{c['second'].id}", "/slots/mine"])
    assert REASON in mediator and NOTE_TEXT in mediator
    coordinator = pages_of(app, "sonia.amrani@example.org", ["/admin/sessions", f"/slots/{c['second'].id}",
                                                               f"/sessions/{c['after'].id}"])
    assert REASON in coordinator and NOTE_TEXT in coordinator
