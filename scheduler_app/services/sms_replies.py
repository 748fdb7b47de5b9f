"""Replies by SMS: a family answers ANNULER (cancel their next session) or OUI (they will come).

Replies arrive through Twilio's incoming-message webhook: an application/x-www-form-urlencoded
POST (MessageSid, From, To, Body, …) signed in X-Twilio-Signature, the base64 HMAC-SHA1, keyed
with the account's auth token, of the webhook's full URL followed by every POST parameter's name
and value, sorted by name. Each message is kept once by its MessageSid, so a delivery made twice
changes nothing the second time. Lien's answers go out through the outbox, like every SMS.
"""

import base64
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..clock import now_utc
from ..db import write_transaction
from ..models import LIVE_BOOKING, Booking, Guardianship, InboundSms, Notification, User
from . import ServiceError, phones
from .booking import cancel_booking

CANCEL_WORDS = {"ANNULER", "ANNULE", "ANNULEE", "ANNULATION", "CANCEL", "STOP SEANCE"}
YES_WORDS = {"OUI", "OK", "YES", "CONFIRMER", "CONFIRME"}
BODY_MAX = 1600  # ten concatenated SMS: longer is not a reply


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
    """What a reply says, as a word: capitals, no accents, no punctuation ("Annulée !" -> ANNULEE)."""
    folded = unicodedata.normalize("NFKD", body or "")
    letters = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join("".join(ch if ch.isalnum() else " " for ch in letters.upper()).split())


@dataclass
class Handled:
    outcome: str
    duplicate: bool = False


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


def _answer(db: Session, person: User, phone: str, kind: str, booking: Booking | None = None) -> None:
    db.add(Notification(kind=kind, channel="sms", recipient_id=person.id, address=phone, locale=person.locale,
                        booking_id=booking.id if booking else None, slot_id=booking.slot_id if booking else None,
                        payload={}, due_at=now_utc(), dedupe_key=f"{kind}|{secrets.token_hex(8)}"))


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
            _answer(db, person, phone, "sms_reply_confirmed", booking)
        elif outcome == "nothing_to_do":
            _answer(db, person, phone, "sms_reply_nothing")
        elif outcome == "unknown_answer":
            _answer(db, person, phone, "sms_reply_help")
    return Handled(outcome)
