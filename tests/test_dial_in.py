"""No internet, or no smartphone: when dial-in is configured, the join page, the reminder SMS and
the confirmation (with its invitation) say which number to call and which code to type, asked of
a local server that answers as Jitsi's dial-in services do; without it, nothing is said."""

from datetime import UTC, datetime, timedelta

import pytest
from dial_in_server import FakeDialIn
from factories import make_family, make_slot, make_tutor
from sqlalchemy import select

from notifications import sms_segments
from rooms.dialin import DialIn, dial_in
from scheduler_app.models import JoinToken
from scheduler_app.services.booking import book_slot
from scheduler_app.worker import make_dispatcher

ROOM = "abcdefghijklmnopqrstuvwxyz234567"
MUC = "conference.meet.example.org"


def test_the_code_and_a_free_french_number_come_from_the_two_services(dial_in_server):
    found = dial_in(dial_in_server.numbers_url, dial_in_server.code_url, ROOM, MUC, country="FR")
    assert found == DialIn(number="0 805 08 01 12", code=str(FakeDialIn.code_of(f"{ROOM}@{MUC}")))
    assert sorted(dial_in_server.requests) == [f"/conferenceMapper?conference={ROOM}@{MUC}",
                                               f"/phoneNumberList?conference={ROOM}@{MUC}"]
    assert dial_in(dial_in_server.numbers_url, dial_in_server.code_url, ROOM, MUC, country="us").number == \
        "+1 512 402 2718"


def test_the_older_numbers_format_is_read_too(dial_in_server):
    dial_in_server.numbers = {"message": "Phone numbers available.", "numbers": {"FR": ["+33 1 87 21 00 05"]},
                              "numbersEnabled": True}
    assert dial_in(dial_in_server.numbers_url, dial_in_server.code_url, ROOM, MUC).number == "+33 1 87 21 00 05"
    dial_in_server.numbers["numbersEnabled"] = False
    assert dial_in(dial_in_server.numbers_url, dial_in_server.code_url, ROOM, MUC) is None


@pytest.mark.parametrize("breakage", ["server error", "no number for the country", "unreachable"])
def test_a_service_that_fails_means_nothing_is_said_about_phones(dial_in_server, breakage):
    numbers_url = dial_in_server.numbers_url
    if breakage == "server error":
        dial_in_server.status = 500
    elif breakage == "no number for the country":
        dial_in_server.numbers = [{"countryCode": "us", "tollFree": False, "formattedNumber": "+1 512 402 2718"}]
    else:
        numbers_url = "http://127.0.0.1:9/phoneNumberList"
    assert dial_in(numbers_url, dial_in_server.code_url, ROOM, MUC, timeout=2) is None


@pytest.fixture
def family(app, db, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    slot = make_slot(db, make_tutor(db), starts_in=timedelta(days=2, hours=4))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    book_slot(db, slot.id, adam, parent, "")
    token = db.scalar(select(JoinToken.token).where(JoinToken.user_id == parent.id))
    return {"slot": slot, "parent": parent, "token": token}


def configure(app, server):
    app.config.update(JITSI_DIAL_IN_NUMBERS_URL=server.numbers_url, JITSI_DIAL_IN_CODE_URL=server.code_url)


def said(slot) -> str:
    code = FakeDialIn.code_of(f"{slot.room_name}@{MUC}")
    return f"Pas d'internet ? Appelez le 0 805 08 01 12 puis tapez le code {code}#"


def test_the_join_page_says_how_to_join_by_phone_only_when_configured(app, client, family, dial_in_server, frozen_clock):
    frozen_clock(family["slot"].starts_at - timedelta(hours=1))
    assert "Pas d'internet" not in client.get(f"/j/{family['token']}").get_data(as_text=True).replace("&#39;", "'")
    assert dial_in_server.requests == []
    configure(app, dial_in_server)
    html = client.get(f"/j/{family['token']}").get_data(as_text=True).replace("&#39;", "'")
    assert said(family["slot"]) in html


def test_the_confirmation_with_its_invitation_says_it(app, family, dial_in_server, mail_server):
    configure(app, dial_in_server)
    make_dispatcher(app).tick()
    [confirmation] = mail_server.mailbox.to(family["parent"].email)
    assert said(family["slot"]) in confirmation.get_body(("plain",)).get_content()
    [invitation] = [part for part in confirmation.walk() if part.get_content_type() == "text/calendar"]
    ics = invitation.get_content() if isinstance(invitation.get_content(), str) else invitation.get_content().decode()
    assert said(family["slot"]).replace(",", "\\,") in ics.replace("\r\n ", "")  # folded lines joined back


def test_the_reminder_sms_says_it_first_and_keeps_the_link_whole(app, db, dial_in_server, brevo, frozen_clock):
    configure(app, dial_in_server)
    app.config.update(brevo.settings(), CENTRE_PHONE="+33142345678")
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    slot = make_slot(db, make_tutor(db), starts_in=timedelta(days=2, hours=4))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou", phone="+33612345678")
    book_slot(db, slot.id, adam, parent, "")
    short = db.scalar(select(JoinToken.short).where(JoinToken.user_id == parent.id))
    make_dispatcher(app).tick()
    brevo.requests.clear()
    frozen_clock(slot.starts_at - timedelta(minutes=59))
    make_dispatcher(app).tick()
    day_before, reminder = [r["json"]["content"] for r in brevo.requests if r["json"]["recipient"] == "33612345678"]
    assert day_before.startswith(said(slot)) and reminder.startswith(said(slot))
    words = reminder.replace("\xa0", " ")
    assert "séance pour Adam Haddou dans 59 minutes, à 14 h" in words  # the child, the time really left
    assert "Pas besoin de mot de passe" in words and "Centre : 01 42 34 56 78." in words
    assert reminder.endswith(f"/s/{short}")  # the family's short link still whole at the end
    assert sms_segments(reminder) <= 2


def test_the_reminder_email_says_it_and_links_to_the_device_test(app, family, dial_in_server, mail_server,
                                                                 frozen_clock):
    configure(app, dial_in_server)
    frozen_clock(family["slot"].starts_at - timedelta(minutes=59))
    make_dispatcher(app).tick()
    reminder = mail_server.mailbox.to(family["parent"].email)[-1]
    text = reminder.get_body(("plain",)).get_content()
    assert "dans 59 minutes" in reminder["Subject"] and said(family["slot"]) in text
    assert "testez votre micro et votre caméra : " in text and "/tester" in text
