"""The coordinator's view of one family: children, bookings, every message sent, with its status
(the list of families and its search are in services/people.py)."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..clock import now_utc
from ..db import write_transaction
from ..models import Booking, Guardianship, JoinToken, Notification, Slot, User
from . import ServiceError, outbox
from .people import MAX_ID

MESSAGES_SHOWN = 50


@dataclass
class Family:
    parent: User
    children: Sequence[User]
    bookings: Sequence[Booking]  # the children's, soonest to come first, then the past
    links: dict[int, str]  # booking id -> the parent's short link token
    messages: Sequence[Notification]


def family(db: Session, parent_id: int) -> Family | None:
    if not 0 < parent_id <= MAX_ID:
        return None
    parent = db.scalar(select(User).where(User.id == parent_id, User.role == "parent", User.deleted_at.is_(None))
                       .options(selectinload(User.children)))
    if parent is None:
        return None
    child_ids = [child.id for child in parent.children]
    bookings = db.scalars(
        select(Booking).where(Booking.student_id.in_(child_ids)).options(
            joinedload(Booking.student), joinedload(Booking.slot).joinedload(Slot.tutor),
            joinedload(Booking.slot).joinedload(Slot.activity))
        .order_by(Booking.starts_at.desc(), Booking.id.desc()).limit(100)
    ).all() if child_ids else []
    links = dict(db.execute(select(JoinToken.booking_id, JoinToken.short).where(
        JoinToken.user_id == parent.id, JoinToken.booking_id.in_([b.id for b in bookings]))).all()) if bookings else {}
    messages = db.scalars(
        select(Notification).where(Notification.recipient_id.in_([parent.id, *child_ids]))
        .options(joinedload(Notification.recipient))
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(MESSAGES_SHOWN)
    ).all()
    return Family(parent=parent, children=parent.children, bookings=bookings, links=links, messages=messages)


def resend_link(db: Session, parent: User, booking_id: int) -> None:
    """Send the parent the session's confirmation again, with their personal link (a new copy:
    the first one may have been lost or deleted)."""
    if not 0 < booking_id <= MAX_ID:
        raise ServiceError(_l("Cette séance n'a plus de lien à envoyer."))
    with write_transaction(db):
        booking = db.scalar(select(Booking).join(Guardianship, Guardianship.student_id == Booking.student_id)
                            .where(Booking.id == booking_id, Guardianship.parent_id == parent.id))
        if booking is None or booking.status != "confirmed" or booking.ends_at <= now_utc():
            raise ServiceError(_l("Cette séance n'a plus de lien à envoyer."))
        if not (parent.phone or parent.email):
            raise ServiceError(_l("Cette famille n'a ni téléphone ni e-mail."))
        outbox.enqueue(db, "booking_confirmed", [parent], booking=booking, due_at=now_utc(),
                       version=f"again-{secrets.token_hex(4)}")
