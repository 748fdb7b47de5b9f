"""Every message a family reads in French is easy to read: short sentences (15 words at most) and
a French reading-ease score of at least 60 (Flesch's formula as Kandel and Moles adapted it to
French, computed by textstat). The messages are the real ones, read back from the SMTP server
and the SMS gateway after a family's booking, reminders, a move and a cancellation."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import textstat
from factories import make_family, make_person, make_slot, make_tutor

from scheduler_app.services.absences import cancel_for_absence, declare_absence
from scheduler_app.services.booking import book_slot, cancel_booking
from scheduler_app.services.slots import move_slot
from scheduler_app.worker import make_dispatcher

SENTENCE_WORDS = 15
READING_EASE = 60
URL = re.compile(r"https?://\S+")


def sentences(text: str) -> list[str]:
    """The text's sentences: cut at . ! ? : and line ends; addresses and times are not words."""
    text = URL.sub(" ", text).replace("\xa0", " ")
    return [part.strip() for part in re.split(r"[.!?:;]\s|\n|[.!?]$", text) if re.search(r"[^\W\d_]", part)]


def words(sentence: str) -> list[str]:
    return [word for word in sentence.split() if re.search(r"[^\W\d_]", word)]


@pytest.fixture
def family_messages(app, db, mail_server, brevo, frozen_clock):
    """What Fatima (email and SMS, French) received about Adam's sessions, as read on arrival."""
    app.config.update(PUBLIC_URL="https://lien.example.org", SMS_PROVIDER="brevo",
                      SMS_BREVO_BASE_URL=brevo.url, SMS_BREVO_API_KEY="xkeysib-test", SMS_SENDER="Lien")
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    parent.phone, parent.notify_by = "+33612345678", "both"
    db.commit()
    first = make_slot(db, tutor, starts_in=timedelta(days=2, hours=4))
    second = make_slot(db, tutor, starts_in=timedelta(days=3, hours=4))
    booking = book_slot(db, first.id, adam, parent, "les fractions")
    book_slot(db, second.id, adam, coordinator, "")
    make_dispatcher(app).tick()
    for before in (timedelta(hours=24), timedelta(minutes=59)):
        frozen_clock(first.starts_at - before)
        make_dispatcher(app).tick()
    move_slot(db, second, datetime(2027, 1, 15).date(), datetime(2027, 1, 15, 15, 0).time(), "Europe/Paris",
              by=coordinator)
    make_dispatcher(app).tick()
    cancel_booking(db, booking, by=coordinator)
    make_dispatcher(app).tick()
    # The tutor falls ill: the session is cancelled and Adam waits for one like it, then is offered one.
    third = make_slot(db, tutor, starts_in=timedelta(days=5))
    book_slot(db, third.id, adam, parent)
    [absence] = declare_absence(db, tutor, third.id, "malade")
    cancel_for_absence(db, absence.id, coordinator)
    make_dispatcher(app).tick()
    make_slot(db, make_tutor(db, "Claire Martin"), starts_in=timedelta(days=6))
    make_dispatcher(app).tick()
    texts = [message.get_body(("plain",)).get_content() for message in mail_server.mailbox.to(parent.email)]
    texts += [message["Subject"] for message in mail_server.mailbox.to(parent.email)]
    texts += [request["json"]["content"] for request in brevo.requests if request["json"]["recipient"] == "33612345678"]
    return texts


def test_a_familys_french_messages_are_easy_to_read(family_messages):
    assert len(family_messages) >= 10  # confirmations, reminders, a move, a cancellation: by email and SMS
    # ... a session cancelled for an absent tutor, with the waitlist, and the offer of a place.
    assert any("est sur la liste d'attente" in text for text in family_messages)
    assert any("Une place s'est libérée pour Adam Haddou" in text for text in family_messages)
    textstat.set_lang("fr")
    too_long, hard = [], []
    for text in family_messages:
        for sentence in sentences(text):
            if len(words(sentence)) > SENTENCE_WORDS:
                too_long.append(sentence)
        prose = " ".join(sentence + "." for sentence in sentences(text))
        if prose and textstat.flesch_reading_ease(prose) < READING_EASE:
            hard.append(f"{textstat.flesch_reading_ease(prose):.0f}: {prose[:200]}")
    assert not too_long, "sentences over 15 words:\n" + "\n".join(sorted(set(too_long)))
    assert not hard, "messages under the reading-ease score of 60:\n" + "\n".join(hard)


def test_the_checks_would_see_a_hard_text():
    textstat.set_lang("fr")
    hard = ("Conformément aux dispositions réglementaires applicables, l'établissement procède à "
            "l'annulation administrative de l'intervention pédagogique initialement programmée par "
            "l'équipe éducative.")
    assert len(words(sentences(hard)[0])) > SENTENCE_WORDS
    assert textstat.flesch_reading_ease(hard) < READING_EASE
    assert textstat.flesch_reading_ease("Votre séance est annulée. Appelez le centre.") >= READING_EASE
