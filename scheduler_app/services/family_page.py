"""The coordinator's view of families: a page of them at a time, found as a family says it on the
phone, and one family's page (children, bookings, every message sent, with its status)."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..clock import now_utc
from ..db import write_transaction
from ..models import Booking, Guardianship, JoinToken, Notification, Slot, User
from . import ServiceError, outbox

PER_PAGE = 20
SEARCH_LENGTH = 100  # longer than any name; SQLite refuses a LIKE pattern of tens of thousands
PHONE_DIGITS = 4  # fewer digits than this would match most numbers
MESSAGES_SHOWN = 50
MAX_ID = 2**31 - 1


@dataclass
class FamiliesPage:
    parents: Sequence[User]
    next_after: int | None  # the id of the last parent shown, when there are more


def families_page(db: Session, search: str = "", after: int | None = None) -> FamiliesPage:
    """Parents by name (then id) with their children, PER_PAGE at a time after the parent `after`.
    A search matches the parent's name, a child's name, or four digits or more of the number."""
    query = select(User).where(User.role == "parent", User.deleted_at.is_(None)).options(
        selectinload(User.children)).order_by(User.name, User.id)
    search = (search or "").strip()[:SEARCH_LENGTH]
    if search:
        like = f"%{search.lower()}%"
        children = select(Guardianship.parent_id).join(User, User.id == Guardianship.student_id).where(
            func.lower(User.name).like(like))
        conditions = [func.lower(User.name).like(like), User.id.in_(children)]
        digits = "".join(ch for ch in search if ch in "0123456789")
        if len(digits) >= PHONE_DIGITS:
            # Stored as +33761223344: "07 61" is looked for without its leading 0.
            conditions.append(User.phone.like(f"%{digits.lstrip('0')}%"))
        query = query.where(or_(*conditions))
    if after is not None and 0 < after <= MAX_ID:
        last = db.get(User, after)
        if last is not None:
            query = query.where(or_(User.name > last.name, and_(User.name == last.name, User.id > last.id)))
    parents = db.scalars(query.limit(PER_PAGE + 1)).all()
    more = len(parents) > PER_PAGE
    parents = parents[:PER_PAGE]
    return FamiliesPage(parents=parents, next_after=parents[-1].id if more else None)


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
