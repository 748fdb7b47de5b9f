"""Replies by SMS (ANNULER, OUI, or their words in the family's language) through Twilio's
incoming-message webhook, posted by a local stand-in over HTTP to a live Lien: signed requests
only, each message acted on once, Lien's answer sent back through Twilio in the webhook's TwiML
(never through Brevo), and an answer Lien does not understand gets one SMS listing the possible
answers, in the reader's words."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from factories import look_again, make_family, make_slot, make_tutor
from sqlalchemy import select
from twilio_inbound import FakeTwilio, sent_back
from werkzeug.serving import make_server

from scheduler_app.catalogue import LANGUAGES
from scheduler_app.models import Booking, InboundSms, Notification
from scheduler_app.services import sms_replies
from scheduler_app.services.booking import book_slot
from scheduler_app.services.sms_replies import (
    CANCEL_WORDS,
    KEYWORDS,
    YES_WORDS,
    reply_words,
    twilio_signature,
    twiml,
    word,
)
from scheduler_app.worker import make_dispatcher

TOKEN = "twilio-test-auth-token"
NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


@pytest.fixture
def live(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    app.config.update(PUBLIC_URL=base, SMS_INBOUND_PROVIDER="twilio", TWILIO_AUTH_TOKEN=TOKEN)
    yield base
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def twilio(live):
    return FakeTwilio(webhook_url=f"{live}/sms/inbound/twilio", auth_token=TOKEN)


@pytest.fixture
def family(app, db, frozen_clock, brevo):
    app.config.update(brevo.settings(), CENTRE_PHONE="+33142345678")
    frozen_clock(NOW)
    tutor = make_tutor(db)
    first = make_slot(db, tutor, starts_in=timedelta(days=2))
    second = make_slot(db, tutor, starts_in=timedelta(days=3))
    parent, [adam] = make_family(db, "Awa Diallo", "Adam Diallo", phone="+33612345678")
    bookings = [book_slot(db, slot.id, adam, parent) for slot in (first, second)]
    make_dispatcher(app).tick()
    brevo.requests.clear()
    return {"parent": parent, "bookings": bookings}


def test_the_signature_is_twilios_documented_example():
    params = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
              ("From", "+12349013030"), ("To", "+18005551212")]
    assert twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params) == \
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def _to_family(brevo) -> list[str]:
    return [r["json"]["content"] for r in brevo.requests if r["json"]["recipient"] == "33612345678"]


def test_annuler_cancels_the_next_session_once_even_when_delivered_twice(app, db, brevo, twilio, family):
    [answer] = twilio.answers("+33612345678", "Annuler", message_sid="SM" + "a" * 32)
    assert "est annulée" in answer  # the cancellation's own SMS says it was done, back through Twilio
    assert twilio.answers("+33612345678", "Annuler", message_sid="SM" + "a" * 32) == []  # again: nothing
    look_again(db)
    first, second = (db.get(Booking, b.id) for b in family["bookings"])
    assert (first.status, second.status) == ("cancelled", "confirmed")
    assert db.scalar(select(InboundSms.outcome)) == "cancelled" and len(db.scalars(select(InboundSms)).all()) == 1
    make_dispatcher(app).tick()
    assert _to_family(brevo) == []  # the answer went back the way the SMS came, not through Brevo
    # The coordinator sees it among the family's messages, sent.
    [row] = db.scalars(select(Notification).where(Notification.kind == "booking_cancelled",
                                                  Notification.address == "+33612345678")).all()
    assert row.status == "sent" and row.sent_at is not None
    # ANNULER sent a second time (a new message) does not cancel the next session too.
    twilio.deliver("+33612345678", "ANNULER")
    look_again(db)
    assert db.get(Booking, family["bookings"][1].id).status == "confirmed"


def test_oui_confirms_and_says_thank_you(app, db, brevo, twilio, family):
    [answer] = twilio.answers("+33612345678", " oui !")
    assert "merci, c'est noté" in answer
    look_again(db)
    assert db.get(Booking, family["bookings"][0].id).family_confirmed_at is not None
    make_dispatcher(app).tick()
    assert _to_family(brevo) == []
    [row] = db.scalars(select(Notification).where(Notification.kind == "sms_reply_confirmed")).all()
    assert (row.status, row.claimed_by is not None, row.lease_until) == ("sent", True, None)


def test_an_answer_not_understood_gets_one_sms_with_the_possible_answers(app, db, brevo, twilio, family):
    [text] = twilio.answers("+33612345678", "Bonjour, c'est à quelle heure ?", message_sid="SM" + "b" * 32)
    assert twilio.answers("+33612345678", "Bonjour, c'est à quelle heure ?", message_sid="SM" + "b" * 32) == []
    assert "ANNULER" in text and "OUI" in text and "01 42 34 56 78" in text
    make_dispatcher(app).tick()
    assert _to_family(brevo) == []
    look_again(db)
    assert all(b.status == "confirmed" for b in db.scalars(select(Booking)))


def test_an_answer_lost_with_a_stopped_webhook_is_not_sent_again_by_the_outbox(app, db, brevo, family, frozen_clock):
    # The answer is written under the webhook's claim: had the process stopped before replying,
    # the outbox finds it "maybe sent" once the claim expires, and does not send it (at most once).
    handled = sms_replies.handle(db, "twilio", "SM" + "c" * 32, "+33612345678", "quoi ?")
    assert handled.outcome == "unknown_answer" and len(handled.replies) == 1
    make_dispatcher(app).tick()
    assert _to_family(brevo) == []  # still the webhook's, not the outbox's
    frozen_clock(NOW + sms_replies.REPLY_LEASE + timedelta(seconds=1))
    make_dispatcher(app).tick()
    assert _to_family(brevo) == []
    look_again(db)
    row = db.get(Notification, handled.replies[0])
    assert row.status == "failed" and "at most once" in row.last_error


@pytest.mark.parametrize(("locale", "cancel", "yes"), [
    ("fr", "annulée", "Oui"),
    ("en", "cancel", "YES"),
    ("ar", "الغاء", "نعم"),  # written without the hamza, as phones often do
    ("tr", "iptal", "Evet"),
    ("pt", "Cancelar", "sim"),
    ("uk", "скасувати", "Так"),
])
def test_a_family_answers_in_its_own_language(app, db, twilio, family, locale, cancel, yes):
    family["parent"].locale = locale
    db.commit()
    [confirmed] = twilio.answers("+33612345678", yes)
    [cancelled] = twilio.answers("+33612345678", cancel)
    look_again(db)
    first, second = (db.get(Booking, b.id) for b in family["bookings"])
    assert first.family_confirmed_at is not None and first.status == "cancelled" and second.status == "confirmed"
    assert confirmed and cancelled
    [help_text] = twilio.answers("+33612345678", "???")
    words = KEYWORDS[locale]
    assert words.cancel[0] in help_text and words.yes[0] in help_text  # named in the reader's words


@pytest.mark.parametrize("variant", ["İPTAL", "İptal", "ıptal", "IPTAL", "إلغاء", "ألغي", "CANCELAR", "Скасувати"])
def test_case_and_accents_do_not_matter(variant):
    assert word(variant) in CANCEL_WORDS


def test_every_language_has_reply_words_and_none_means_both():
    assert set(KEYWORDS) == set(LANGUAGES)
    assert not CANCEL_WORDS & YES_WORDS  # no language's "yes" is another's "cancel"
    for locale, keywords in KEYWORDS.items():
        shown = reply_words(locale)
        # The word an SMS names is one Lien reads back, as that answer; one word, no spaces.
        assert word(shown["cancel_word"]) in CANCEL_WORDS and word(shown["yes_word"]) in YES_WORDS
        assert " " not in shown["cancel_word"] + shown["yes_word"], locale
        assert shown == {"cancel_word": keywords.cancel[0], "yes_word": keywords.yes[0]}
    assert reply_words("xx") == reply_words("fr")


def test_the_twiml_answer_carries_any_text_safely():
    texts = ["Lien : a < b & c > d \"ok\" 'ok'", "ligne\nsuivante", "nul\x00 caractère"]
    assert sent_back(twiml(texts)) == ["Lien : a < b & c > d \"ok\" 'ok'", "ligne\nsuivante", "nul caractère"]
    assert sent_back(twiml([])) == []


def test_unsigned_forged_or_unknown_requests_change_nothing(app, db, brevo, twilio, family):
    params = twilio.message("+33612345678", "ANNULER")
    assert twilio.post(params, signature="")[0] == 403
    assert twilio.post(params, signature="0/KCTR6DLpKmkAf8muzZqo1nDgQ=")[0] == 403
    forged = FakeTwilio(twilio.webhook_url, "not-the-token")
    assert forged.deliver("+33612345678", "ANNULER")[0] == 403
    assert twilio.deliver("+33699999999", "ANNULER")[0] == 200  # a stranger: nothing, no answer
    look_again(db)
    assert all(b.status == "confirmed" for b in db.scalars(select(Booking)))
    assert db.scalar(select(Notification).where(Notification.kind.like("sms_reply%"))) is None
    app.config["SMS_INBOUND_PROVIDER"] = "none"
    assert twilio.deliver("+33612345678", "ANNULER")[0] == 404


def test_family_sms_say_they_can_answer_when_replies_reach_lien(app, db, brevo, live, frozen_clock):
    app.config.update(brevo.settings())
    frozen_clock(NOW)
    slot = make_slot(db, make_tutor(db), starts_in=timedelta(days=2))
    parent, [adam] = make_family(db, "Awa Diallo", "Adam Diallo", phone="+33612345678")
    book_slot(db, slot.id, adam, parent)
    make_dispatcher(app).tick()
    [text] = [r["json"]["content"] for r in brevo.requests if r["json"]["recipient"] == "33612345678"]
    assert "Répondez ANNULER pour annuler." in text or "Repondez ANNULER pour annuler." in text
    # In English, the word to answer is the English one.
    parent.locale = "en"
    db.commit()
    book_slot(db, make_slot(db, slot.tutor, starts_in=timedelta(days=4)).id, adam, parent)
    make_dispatcher(app).tick()
    assert "Answer CANCEL to cancel." in _to_family(brevo)[-1]


@pytest.mark.parametrize("body", ["", " ", "\x00", "ANNULER\x00", "é" * 2000, "😀", "OUI" * 600, "<script>",
                                  "ANNULER; DROP TABLE booking", "\u202eRELUNNA", "0" * 5000])
def test_hostile_replies_get_an_answer_not_a_500(app, db, twilio, family, body):
    status, _ = twilio.deliver("+33612345678", body)
    assert status == 200
    for sender, sid in (("", None), ("\x00", None), ("+" + "9" * 40, None), ("+33612345678", "x" * 65),
                        ("+33612345678", "")):
        params = twilio.message(sender, body, sid)
        assert twilio.post(params)[0] in (200, 400)


def test_a_reply_is_read_as_a_word():
    assert word(" Annulée !") == "ANNULEE" and word("oui.") == "OUI" and word("") == ""
