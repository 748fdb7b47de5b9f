"""Calendar subscriptions: each person's secret feed address, and what their feed lists.

A feed is fetched by calendar apps, with no login: the secret in its address is the only key.
It is random (192 bits), one live per person, and a reset revokes it at once.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from ..clock import now_utc
from ..db import write_transaction
from ..models import Booking, FeedToken, Slot, User
from .family import bookings_for
from .join import links_for
from .tutor_sessions import bookings_of_slots, tutor_slots

FEED_DAYS_BACK = 30
FEED_ROLES = ("student", "parent", "tutor", "coordinator")


def feed_token(db: Session, person: User) -> FeedToken:
    """The person's live feed token, issued the first time it is asked for."""
    token = _live_token(db, person)
    if token is not None:
        return token
    try:
        with write_transaction(db):
            token = FeedToken(user_id=person.id)
            db.add(token)
    except IntegrityError:
        # Another request issued it first (one live token per person, by a unique index).
        token = _live_token(db, person)
        if token is None:
            raise
    return token


def reset_feed_token(db: Session, person: User) -> FeedToken:
    """Revoke the person's feed address (it stops working at once) and issue a new one."""
    with write_transaction(db):
        db.execute(
            update(FeedToken)
            .where(FeedToken.user_id == person.id, FeedToken.revoked_at.is_(None))
            .values(revoked_at=now_utc())
            .execution_options(synchronize_session=False)
        )
        token = FeedToken(user_id=person.id)
        db.add(token)
    return token


@dataclass(frozen=True)
class FeedSessions:
    """What a person's feed lists: a family's bookings, or a tutor's slots with who booked them,
    and the person's own join links (slot id, booking id or None) -> token."""

    bookings: Sequence[Booking] = ()
    slots: Sequence[Slot] = ()
    booked: dict[int, list[Booking]] = field(default_factory=dict)
    links: dict[tuple[int, int | None], str] = field(default_factory=dict)


@dataclass(frozen=True)
class FeedFilter:
    """Which of the centre's sessions a coordinator's feed lists (None: all)."""

    activity_id: int | None = None
    tutor_id: int | None = None


def feed_sessions(db: Session, person: User, now: datetime, chosen: FeedFilter = FeedFilter()) -> FeedSessions:
    """The sessions of a person's feed, from FEED_DAYS_BACK days ago onward, cancelled ones
    included; a constant number of queries however many sessions there are. A coordinator's
    lists every slot of the centre, or those of one activity and/or one tutor (`chosen`)."""
    since = now - timedelta(days=FEED_DAYS_BACK)
    if person.role == "coordinator":
        slots = centre_feed_slots(db, since, chosen)
        return FeedSessions(slots=slots, booked=bookings_of_slots(db, slots))
    if person.role == "tutor":
        slots = tutor_slots(db, person, since)
        return FeedSessions(
            slots=slots,
            booked=bookings_of_slots(db, slots),
            links=links_for(db, person, [slot.id for slot in slots]),
        )
    bookings = bookings_for(db, person, since)
    return FeedSessions(bookings=bookings, links=links_for(db, person, {booking.slot_id for booking in bookings}))


def centre_feed_slots(db: Session, since: datetime, chosen: FeedFilter) -> Sequence[Slot]:
    """Every slot of the centre ending after `since`, of the chosen activity and tutor, with its
    activity and tutor."""
    query = (
        select(Slot).where(Slot.ends_at > since)
        .options(joinedload(Slot.activity), joinedload(Slot.tutor))
        .order_by(Slot.starts_at, Slot.id)
    )
    if chosen.activity_id is not None:
        query = query.where(Slot.activity_id == chosen.activity_id)
    if chosen.tutor_id is not None:
        query = query.where(Slot.tutor_id == chosen.tutor_id)
    return db.scalars(query).all()


def feed_owner(db: Session, secret: str) -> tuple[User, FeedToken] | None:
    """The person whose live feed address this is (active, with a role that has a feed), and
    their token; None for an unknown or revoked address."""
    row = db.execute(
        select(User, FeedToken)
        .join(FeedToken, FeedToken.user_id == User.id)
        .where(FeedToken.secret == secret, FeedToken.revoked_at.is_(None), User.active, User.role.in_(FEED_ROLES))
    ).one_or_none()
    return None if row is None else (row.User, row.FeedToken)


def _live_token(db: Session, person: User) -> FeedToken | None:
    return db.scalar(select(FeedToken).where(FeedToken.user_id == person.id, FeedToken.revoked_at.is_(None)))
