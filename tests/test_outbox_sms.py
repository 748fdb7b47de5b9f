"""SMS for families who read their phone, not their email: the join link in at most two
segments, through the provider's documented API, and never sent twice."""

from datetime import UTC, datetime, timedelta

import pytest
from factories import look_again, make_family, make_slot, make_tutor
from sqlalchemy import select

from notifications import sms_segments
from scheduler_app.clock import set_now
from scheduler_app.models import JoinToken, Notification
from scheduler_app.services.booking import book_slot
from scheduler_app.worker import make_dispatcher


@pytest.fixture
def sms_family(app, db, brevo, frozen_clock):
    """A mother who chose SMS, booking for her son; SMS go to the local Brevo stand-in."""
    app.config.update(brevo.settings(), PUBLIC_URL="https://lien.example.org")
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db, email=None, phone="+33600000001", notify_by="sms")
    slot = make_slot(db, tutor, starts_in=timedelta(days=2, hours=4))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou", phone="+33612345678")
    booking = book_slot(db, slot.id, adam, parent)
    return {"parent": parent, "slot": slot, "booking": booking}


def test_a_family_that_chose_sms_gets_the_confirmation_with_their_join_link(app, db, brevo, sms_family):
    report = make_dispatcher(app).tick()
    assert report.sent == 2  # the mother and the tutor, both by SMS
    [to_parent] = [r for r in brevo.requests if r["json"]["recipient"] == "33612345678"]
    short = db.scalar(select(JoinToken.short).where(JoinToken.user_id == sms_family["parent"].id))
    content = to_parent["json"]["content"]
    assert to_parent["path"] == "/v3/transactionalSMS/send"
    assert to_parent["headers"]["api-key"] == "xkeysib-test"
    assert to_parent["json"]["sender"] == "Lien" and to_parent["json"]["type"] == "transactional"
    assert content.endswith(f"https://lien.example.org/s/{short}")  # the short personal link
    assert "13 janvier" in content
    assert sms_segments(content) <= 2


def test_an_sms_whose_sender_died_while_sending_is_not_sent_again(app, db, brevo, sms_family):
    crashed = make_dispatcher(app)
    ids = crashed.claim()
    rows = db.scalars(select(Notification).where(Notification.id.in_(ids), Notification.channel == "sms")).all()
    for row in rows:
        crashed._mark_attempt(db, row)  # the provider call began… and the process died
    set_now(datetime(2027, 1, 11, 9, 10, tzinfo=UTC))  # its lease has run out
    report = make_dispatcher(app).tick()
    assert report.sent == 0 and brevo.requests == []
    look_again(db)
    for row in db.scalars(select(Notification).where(Notification.id.in_(ids))):
        assert row.status == "failed" and "at most once" in row.last_error


def test_an_sms_claimed_but_not_yet_attempted_by_a_dead_worker_is_sent_by_another(app, db, brevo, sms_family):
    make_dispatcher(app).claim()  # claimed, then the process died before sending anything
    set_now(datetime(2027, 1, 11, 9, 10, tzinfo=UTC))
    assert make_dispatcher(app).tick().sent == 2
    assert len(brevo.requests) == 2


def test_a_gateway_that_may_have_accepted_is_not_retried(app, db, brevo, sms_family):
    brevo.delay = 1.0  # the answer never comes in time
    from notifications import BrevoSmsChannel

    dispatcher = make_dispatcher(app)
    dispatcher.sms_channel = BrevoSmsChannel("xkeysib-test", "Lien", base_url=brevo.url, timeout=0.2)
    report = dispatcher.tick()
    assert report.failed == 2 and report.retried == 0
    set_now(datetime(2027, 1, 11, 10, 0, tzinfo=UTC))
    brevo.delay = 0
    assert make_dispatcher(app).tick().sent == 0
