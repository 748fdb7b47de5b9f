"""Replies by SMS: a family answers ANNULER (cancel their next session) or OUI (they will come),
in French or in their own language.

Replies arrive through Twilio's incoming-message webhook: an application/x-www-form-urlencoded
POST (MessageSid, From, To, Body, …) signed in X-Twilio-Signature, the base64 HMAC-SHA1, keyed
with the account's auth token, of the webhook's full URL followed by every POST parameter's name
and value, sorted by name. Each message is kept once by its MessageSid, so a delivery made twice
changes nothing the second time. Lien answers in the webhook's own reply, as TwiML
(https://www.twilio.com/docs/messaging/twiml: <Response><Message><Body>…</Body></Message></Response>),
so the answer leaves from the number the family wrote to, through the provider that brought the
SMS; the answer is an outbox row like every SMS, for the coordinator's list.
"""

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from xml.sax.saxutils import escape

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from ..clock import now_utc
from ..db import write_transaction
from ..models import LIVE_BOOKING, Booking, Guardianship, InboundSms, Notification, User
from . import ServiceError, phones
from .booking import cancel_booking


@dataclass(frozen=True)
class Keywords:
    """The words that cancel and that confirm in one language; the first of each is the one the
    SMS asks for."""

    cancel: tuple[str, ...]
    yes: tuple[str, ...]


# A table in code rather than translatable strings: these words are what Lien reads back, so the
# word an SMS names must be one it accepts, and no language's "yes" may be another's "cancel";
# tests/test_sms_replies.py proves both for every language. Any language's words are accepted
# from anyone (a family may answer in French whatever their language), compared without case or
# accents ("İptal", "iptal" and "IPTAL" are the same answer).
KEYWORDS = {
    "fr": Keywords(cancel=("ANNULER", "ANNULE", "ANNULEE", "ANNULATION", "STOP SEANCE"),
                   yes=("OUI", "OK", "CONFIRMER", "CONFIRME")),
    "en": Keywords(cancel=("CANCEL",), yes=("YES", "CONFIRM")),
    "ar": Keywords(cancel=("إلغاء", "ألغي"), yes=("نعم",)),
    "tr": Keywords(cancel=("İPTAL",), yes=("EVET", "TAMAM")),
    "pt": Keywords(cancel=("CANCELAR", "CANCELA"), yes=("SIM", "CONFIRMAR", "CONFIRMO")),
    "uk": Keywords(cancel=("СКАСУВАТИ", "СКАСУВАННЯ"), yes=("ТАК",)),
}
BODY_MAX = 1600  # ten concatenated SMS: longer is not a reply
# An answer written in the webhook's reply is handed over with it: if the process stops before
# recording it, the outbox finds it "maybe sent" after this lease and does not send it again.
REPLY_LEASE = timedelta(minutes=5)
# Characters XML 1.0 cannot carry, even escaped.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def reply_words(locale: str) -> dict[str, str]:
    """The words an SMS in `locale` asks the family to answer, for the message templates."""
    keywords = KEYWORDS.get(locale, KEYWORDS["fr"])
    return {"cancel_word": keywords.cancel[0], "yes_word": keywords.yes[0]}


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The X-Twilio-Signature of a form POST to `url` (Twilio's documented scheme)."""
    data = url + "".join(name + value for name, value in sorted(params, key=lambda item: item[0]))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_genuine(auth_token: str | None, url: str, params: list[tuple[str, str]], signature: str | None) -> bool:
    if not auth_token or not signature:
        return False
    return hmac.compare_digest(twilio_signature(auth_token, url, params), signature)


def word(body: str) -> str:
    """What a reply says, as a word: capitals, no accents, no punctuation ("Annulée !" -> ANNULEE,
    "İptal" -> IPTAL, "إلغاء" -> "الغاء")."""
    folded = unicodedata.normalize("NFKD", body or "")
    letters = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join("".join(ch if ch.isalnum() else " " for ch in letters.upper()).split())


CANCEL_WORDS = frozenset(word(said) for keywords in KEYWORDS.values() for said in keywords.cancel)
YES_WORDS = frozenset(word(said) for keywords in KEYWORDS.values() for said in keywords.yes)


@dataclass
class Handled:
    outcome: str
    duplicate: bool = False
    claim: str = ""  # the claim the answers carried by the webhook's reply are written under
    replies: list[int] = field(default_factory=list)  # those answers' outbox rows


def _next_booking(db: Session, people: list[User]) -> Booking | None:
    """The soonest session to come of these people or of the children they look after."""
    ids = {person.id for person in people}
    children = db.scalars(select(Guardianship.student_id).where(Guardianship.parent_id.in_(ids))).all()
    return db.scalar(select(Booking).where(Booking.student_id.in_(ids | set(children)), LIVE_BOOKING,
                                           Booking.status == "confirmed", Booking.starts_at > now_utc())
                     .order_by(Booking.starts_at, Booking.id).limit(1))


def _cancelled_lately(db: Session, phone: str, this_id: int) -> bool:
    return db.scalar(select(InboundSms.id).where(
        InboundSms.phone == phone, InboundSms.outcome == "cancelled", InboundSms.id != this_id,
        InboundSms.created_at > now_utc() - timedelta(hours=12)).limit(1)) is not None


def _in_reply(claim: str) -> dict:
    """An outbox row's claim by the webhook that will carry it in its reply, and no worker."""
    now = now_utc()
    return {"status": "sending", "claimed_by": claim, "lease_until": now + REPLY_LEASE, "attempted_at": now}


def _answer(db: Session, person: User, phone: str, kind: str, claim: str, booking: Booking | None = None) -> None:
    db.add(Notification(kind=kind, channel="sms", recipient_id=person.id, address=phone, locale=person.locale,
                        booking_id=booking.id if booking else None, slot_id=booking.slot_id if booking else None,
                        payload={}, due_at=now_utc(), dedupe_key=f"{kind}|{secrets.token_hex(8)}", attempts=1,
                        **_in_reply(claim)))


def _take_cancellation_sms(db: Session, booking: Booking, phone: str, claim: str) -> None:
    """The cancellation's SMS to this phone answers ANNULER: it goes in the webhook's reply
    unless a worker already took it (then it goes through the outbox, and the reply is empty)."""
    db.execute(
        update(Notification)
        .where(Notification.booking_id == booking.id, Notification.kind == "booking_cancelled",
               Notification.channel == "sms", Notification.address == phone, Notification.status == "pending")
        .values(attempts=Notification.attempts + 1, **_in_reply(claim))
        .execution_options(synchronize_session=False)
    )


def handle(db: Session, provider: str, message_id: str, from_number: str, body: str) -> Handled:
    """Act on one reply, once per provider message id."""
    if not (message_id and len(message_id) <= 64 and message_id.isascii() and message_id.isalnum()):
        raise ServiceError("a reply without a message id")
    # Kept as sent when it is no number (a short code, a name): printable characters only.
    phone = phones.e164(from_number) or "".join(ch for ch in from_number or "" if ch.isprintable())[:20]
    body = "".join(ch for ch in (body or "")[:BODY_MAX] if ch.isprintable() or ch in "\n ")
    try:
        with write_transaction(db):
            row = InboundSms(provider=provider, message_id=message_id, phone=phone, body=body, outcome="received")
            db.add(row)
            db.flush()
    except IntegrityError:
        db.rollback()
        return Handled("duplicate", duplicate=True)
    people = list(db.scalars(select(User).where(User.phone == phone, User.active, User.deleted_at.is_(None))
                             .order_by(User.id))) if phones.e164(from_number) else []
    said = word(body)
    claim = f"reply-{provider}-{row.id}"
    outcome, booking = "unknown_number", None
    if people:
        booking = _next_booking(db, people)
        person = people[0]
        if said in CANCEL_WORDS and _cancelled_lately(db, phone, row.id):
            booking = None  # ANNULER sent twice cancels one session, not the next one too
        if said in CANCEL_WORDS or said in YES_WORDS:
            if booking is None:
                outcome = "nothing_to_do"
            elif said in CANCEL_WORDS:
                try:
                    cancel_booking(db, booking, by=person, reason="ANNULER (SMS)")
                    outcome = "cancelled"  # the cancellation message itself answers the family
                except ServiceError:
                    outcome = "nothing_to_do"
            else:
                outcome = "confirmed"
        else:
            outcome = "unknown_answer"
    with write_transaction(db):
        row = db.get(InboundSms, row.id)
        row.outcome, row.booking_id = outcome, booking.id if booking else None
        if outcome == "confirmed":
            db.get(Booking, booking.id).family_confirmed_at = now_utc()
            _answer(db, person, phone, "sms_reply_confirmed", claim, booking)
        elif outcome == "cancelled":
            _take_cancellation_sms(db, booking, phone, claim)
        elif outcome == "nothing_to_do":
            _answer(db, person, phone, "sms_reply_nothing", claim)
        elif outcome == "unknown_answer":
            _answer(db, person, phone, "sms_reply_help", claim)
    replies = db.scalars(select(Notification.id).where(Notification.claimed_by == claim)
                         .order_by(Notification.id)).all()
    return Handled(outcome, claim=claim, replies=list(replies))


def answer_in_reply(db: Session, handled: Handled, compose: Callable) -> list[str]:
    """The texts of the answers the webhook's reply carries, recorded as sent: handing them to
    the provider in the reply is sending them. `compose` is the outbox's (messages.Composer)."""
    if not handled.replies:
        return []
    rows = db.scalars(select(Notification).where(Notification.id.in_(handled.replies),
                                                 Notification.claimed_by == handled.claim)
                      .options(joinedload(Notification.recipient)).order_by(Notification.id)).all()
    composed = compose(db, list(rows))
    db.rollback()
    texts, sent, failed = [], [], []
    for row in rows:
        message = composed.get(row.id)
        if message is not None and not isinstance(message, Exception):
            texts.append(message.text)
            sent.append(row.id)
        else:
            failed.append(row.id)
    mine = (Notification.claimed_by == handled.claim, Notification.status == "sending")
    with write_transaction(db):
        if sent:
            db.execute(update(Notification).where(Notification.id.in_(sent), *mine)
                       .values(status="sent", sent_at=now_utc(), lease_until=None, last_error="")
                       .execution_options(synchronize_session=False))
        if failed:
            db.execute(update(Notification).where(Notification.id.in_(failed), *mine)
                       .values(status="failed", lease_until=None, claimed_by=None,
                               last_error="the answer to the family's SMS could not be composed")
                       .execution_options(synchronize_session=False))
    return texts


def twiml(texts: Iterable[str]) -> str:
    """Twilio's TwiML reply sending each text back to the sender; empty, it sends nothing."""
    messages = "".join(f"<Message><Body>{escape(_NOT_XML.sub('', text))}</Body></Message>" for text in texts)
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{messages}</Response>'

