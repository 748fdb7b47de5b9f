"""Families are told, without anyone at the centre lifting a finger: confirmations with an
invitation, reminders 24 h and 1 h before, cancellations — each exactly once, read back from a
real SMTP server."""

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from factories import look_again, make_family, make_person, make_slot, make_tutor
from sqlalchemy import func, select

from scheduler_app.dispatch import retry
from scheduler_app.models import JoinToken, Notification
from scheduler_app.services.booking import book_slot, cancel_booking
from scheduler_app.worker import make_dispatcher


@pytest.fixture
def smtp(app, mail_server):
    """A real SMTP server, and the app set to send through it, links on the public address."""
    app.config["PUBLIC_URL"] = "https://lien.example.org"
    return mail_server


@pytest.fixture
def family_booking(db, frozen_clock):
    """Adam (no email of his own) booked by his mother for Wednesday 14:00 with Karim."""
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    slot = make_slot(db, tutor, starts_in=timedelta(days=2, hours=4))  # Wed 13 Jan 13:00 UTC
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    booking = book_slot(db, slot.id, adam, parent, "les fractions")
    return {"tutor": tutor, "slot": slot, "parent": parent, "student": adam, "booking": booking}


def tick(app):
    return make_dispatcher(app).tick()


def link_of(db, user, slot):
    return db.scalar(select(JoinToken.token).where(JoinToken.user_id == user.id, JoinToken.slot_id == slot.id))


def calendar_part(message: EmailMessage) -> str:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return part.get_content() if isinstance(part.get_content(), str) else part.get_content().decode()


def test_a_booking_sends_each_person_a_confirmation_with_an_invitation_and_their_own_link(app, db, smtp, family_booking):
    report = tick(app)
    assert report.sent == 2  # the parent and the tutor (Adam has neither email nor phone)
    parent, tutor, slot = family_booking["parent"], family_booking["tutor"], family_booking["slot"]
    [to_parent] = smtp.mailbox.to(parent.email)
    assert to_parent["Subject"] == "Adam : séance réservée le mercredi 13 janvier à 14 h 00"
    text = to_parent.get_body(("plain",)).get_content()
    html = to_parent.get_body(("html",)).get_content()
    parent_link = f"https://lien.example.org/j/{link_of(db, parent, slot)}"
    assert "La séance d'Adam Haddou est réservée." in text and parent_link in text
    assert parent_link in html and "les fractions" in html
    ics = calendar_part(to_parent)
    assert "METHOD:REQUEST" in ics and f"UID:{family_booking['booking'].calendar_uid}@centre.example.org" in ics
    assert "TZID=Europe/Paris" in ics and "20270113T140000" in ics
    assert parent_link in ics.replace("\r\n ", "")  # folded lines joined back
    assert 'method="REQUEST"' in to_parent.get_body(("calendar",)).get("Content-Type", "") or "method=REQUEST" in str(to_parent)
    [to_tutor] = smtp.mailbox.to(tutor.email)
    assert "Adam Haddou a réservé votre créneau" in to_tutor.get_body(("plain",)).get_content()
    assert f"/j/{link_of(db, tutor, slot)}" in to_tutor.get_body(("plain",)).get_content()
    # Each is told when their own link opens: the tutor's first.
    assert "ouvrez ce lien (5 minutes avant au plus tôt)" in text and "s'ouvre 5 minutes avant" in html.replace("&#39;", "'")
    assert "s'ouvre 15 minutes avant" in to_tutor.get_body(("html",)).get_content().replace("&#39;", "'")
    assert "testez votre micro et votre caméra : https://lien.example.org/tester" in text
    assert 'href="https://lien.example.org/tester"' in html
    assert tick(app).sent == 0  # nothing is sent twice


def test_reminders_go_out_24_hours_and_1_hour_before_each_exactly_once(app, db, smtp, family_booking, frozen_clock):
    tick(app)
    starts_at = family_booking["slot"].starts_at
    frozen_clock(starts_at - timedelta(hours=25))
    assert tick(app).sent == 0
    frozen_clock(starts_at - timedelta(hours=24))
    assert tick(app).sent == 2
    assert tick(app).sent == 0
    frozen_clock(starts_at - timedelta(minutes=59))
    assert tick(app).sent == 2
    subjects = [m["Subject"] for m in smtp.mailbox.to(family_booking["parent"].email)]
    assert subjects == ["Adam : séance réservée le mercredi 13 janvier à 14 h 00",
                        "Adam : séance demain à 14 h",
                        "Adam : séance dans 59 minutes, à 14 h"]
    assert tick(app).sent == 0


def test_an_english_speaking_parent_gets_english_in_their_own_time_zone(app, db, smtp, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    slot = make_slot(db, make_tutor(db), starts_in=timedelta(days=2, hours=4))  # Wed 13 Jan 13:00 UTC
    parent, [lea] = make_family(db, "Jean Petit", "Léa Petit")
    parent.locale, parent.timezone = "en", "Europe/London"
    db.commit()
    book_slot(db, slot.id, lea, parent)
    tick(app)
    [message] = smtp.mailbox.to(parent.email)
    assert "Wednesday 13 January" in message["Subject"] and "1:00" in message["Subject"]  # London: UTC+0
    text = message.get_body(("plain",)).get_content()
    assert "Séance" not in text and "Léa Petit" in text
    assert "TZID=Europe/London" in calendar_part(message)


def test_a_cancelled_booking_sends_a_cancellation_and_no_reminder(app, db, smtp, family_booking, frozen_clock):
    tick(app)
    cancel_booking(db, family_booking["booking"])
    assert tick(app).sent == 2
    [_, cancellation] = smtp.mailbox.to(family_booking["parent"].email)
    assert cancellation["Subject"] == "Adam : séance du mercredi 13 janvier à 14 h 00 annulée"
    ics = calendar_part(cancellation)
    assert "METHOD:CANCEL" in ics and "STATUS:CANCELLED" in ics and "SEQUENCE:1" in ics
    for hours in (24, 1):
        frozen_clock(family_booking["slot"].starts_at - timedelta(hours=hours))
        assert tick(app).sent == 0
    look_again(db)
    statuses = db.execute(select(Notification.kind, Notification.status).where(Notification.kind.like("reminder_%"))).all()
    assert statuses and {status for _, status in statuses} == {"cancelled"}


def test_an_smtp_server_that_is_down_then_up_loses_nothing(app, db, start_smtp, family_booking, frozen_clock):
    from smtp_sink import free_port

    port = free_port()
    app.config.update(MAIL_PROVIDER="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port, MAIL_FROM="lien@centre.example.org")
    report = tick(app)
    assert (report.sent, report.retried) == (0, 2)
    look_again(db)
    waiting = db.scalars(select(Notification).where(Notification.kind.like("%confirmed"))).all()
    assert {row.status for row in waiting} == {"pending"} and all(row.last_error for row in waiting)
    server = start_smtp(port=port)
    assert tick(app).sent == 0  # not before the back-off
    frozen_clock(datetime(2027, 1, 11, 9, 2, tzinfo=UTC))
    assert tick(app).sent == 2
    assert len(server.mailbox.messages) == 2


def test_a_refused_address_fails_shows_to_coordinators_and_can_be_retried(app, db, client, smtp, family_booking):
    from conftest import csrf_token
    from factories import login

    smtp.mailbox.refuse[family_booking["parent"].email] = "550 5.1.1 No such mailbox"
    assert tick(app).failed == 1
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    login(client, coordinator.email)
    page = client.get("/admin/messages")
    html = page.get_data(as_text=True)
    assert "No such mailbox" in html and family_booking["parent"].email in html
    [failed] = db.scalars(select(Notification).where(Notification.status == "failed")).all()
    del smtp.mailbox.refuse[family_booking["parent"].email]
    response = client.post(f"/admin/messages/{failed.id}/retry", data={"csrf_token": csrf_token(html)},
                           follow_redirects=True)
    assert response.status_code == 200
    assert tick(app).sent == 1
    assert len(smtp.mailbox.to(family_booking["parent"].email)) == 1


def test_nobody_but_a_coordinator_sees_failed_messages(client, db):
    from factories import login

    login(client, make_person(db, "parent", "Fatima Haddou").email)
    assert client.get("/admin/messages").status_code == 403


def test_the_retry_of_a_message_that_has_not_failed_changes_nothing(db, family_booking):
    row = db.scalars(select(Notification)).first()
    assert retry(db, row.id) is False
    look_again(db)
    assert db.get(Notification, row.id).status == "pending"


def test_a_slot_cancelled_by_the_tutor_tells_the_family(app, db, smtp, family_booking):
    from scheduler_app.services.slots import cancel_slot

    tick(app)
    cancel_slot(db, family_booking["slot"], by=family_booking["tutor"])
    assert tick(app).sent == 2  # the parent, and the tutor's calendar gets its CANCEL
    [_, told] = smtp.mailbox.to(family_booking["parent"].email)
    assert "Karim Haddad ne peut pas assurer cette séance" in told.get_body(("plain",)).get_content()
    assert db.scalar(select(func.count()).select_from(Notification).where(Notification.status == "pending")) == 0
