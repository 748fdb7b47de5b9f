"""/s/<short>: the personal link every SMS carries. Without a password or JavaScript it shows
the session, joins it when the room is open, cancels it (after a confirmation), and books
another session of the same kind instead. It is the join link's short twin (JoinToken.short):
one per person and session, 72 random bits, and it works until the session ends."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..models import FREE_SLOT, LIVE_BOOKING, Booking, JoinToken, Slot, User
from . import ServiceError
from .booking import book_slot, cancel_booking

SHORT_FORMAT = re.compile(r"[A-Za-z0-9_-]{12}")
OFFERED = 5


@dataclass
class ShortLink:
    token: JoinToken
    booking: Booking
    slot: Slot
    student: User
    holder: User

    def state(self, now: datetime, opens_before: timedelta) -> str:
        """ended, cancelled, open (the room can be entered) or early."""
        if now >= self.slot.ends_at:
            return "ended"
        if self.booking.status == "cancelled" or self.slot.status == "cancelled":
            return "cancelled"
        if now >= self.slot.starts_at - opens_before:
            return "open"
        return "early"


def find(db: Session, short: str) -> ShortLink | None:
    if not SHORT_FORMAT.fullmatch(short or ""):
        return None
    token = db.scalar(select(JoinToken).where(JoinToken.short == short, JoinToken.booking_id.is_not(None)).options(
        joinedload(JoinToken.booking).joinedload(Booking.student), joinedload(JoinToken.user),
        joinedload(JoinToken.slot).joinedload(Slot.tutor), joinedload(JoinToken.slot).joinedload(Slot.activity)))
    if token is None:
        return None
    return ShortLink(token=token, booking=token.booking, slot=token.slot, student=token.booking.student,
                     holder=token.user)


def other_sessions(db: Session, link: ShortLink, now: datetime) -> list[Slot]:
    """A few free sessions of the same activity and subject, soonest first, that the child can take."""
    busy = select(Booking.id).where(Booking.student_id == link.student.id, LIVE_BOOKING,
                                    Booking.starts_at < Slot.ends_at, Booking.ends_at > Slot.starts_at)
    query = (select(Slot).where(FREE_SLOT, Slot.starts_at > now, Slot.id != link.slot.id,
                                Slot.activity_id == link.slot.activity_id, Slot.subject == link.slot.subject,
                                ~busy.exists())
             .options(joinedload(Slot.tutor), joinedload(Slot.activity))
             .order_by(Slot.starts_at, Slot.id).limit(OFFERED))
    return list(db.scalars(query))


def cancel(db: Session, link: ShortLink, now: datetime, reason: str = "") -> Booking:
    if now >= link.slot.ends_at:
        raise ServiceError(_l("Cette séance est terminée."))
    return cancel_booking(db, link.booking, by=link.holder, reason=reason)


def book_instead(db: Session, link: ShortLink, slot_id: int, now: datetime) -> JoinToken:
    """Book another session for the child, then give up this one if it still stands; returns
    the new session's link (the same person's)."""
    if now >= link.slot.ends_at:
        raise ServiceError(_l("Ce lien ne marche plus : la séance est terminée."))
    offered = {slot.id for slot in other_sessions(db, link, now)}
    if slot_id not in offered:
        raise ServiceError(_l("Cette séance n'est plus libre. Choisissez-en une autre."))
    booking = book_slot(db, slot_id, link.student, link.holder)
    if link.booking.status == "confirmed" and link.booking.starts_at > now:
        cancel_booking(db, link.booking, by=link.holder, reason=str(_l("A choisi une autre séance.")))
    return db.scalar(select(JoinToken).where(JoinToken.booking_id == booking.id, JoinToken.user_id == link.holder.id))
