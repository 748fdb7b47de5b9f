"""Calendar subscriptions: each person's secret feed address, and what their feed lists.

A feed is fetched by calendar apps, with no login: the secret in its address is the only key.
It is random (192 bits), one live per person, and a reset revokes it at once.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, reduce

from sqlalchemy import (
    Select,
    String,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    true,
    union,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from ..clock import now_utc
from ..db import write_transaction
from ..models import LIVE_BOOKING, Activity, Booking, FeedToken, Guardianship, JoinToken, Slot, User
from .sessions import bookings_for, bookings_of_slots, links_for, tutor_slots

FEED_DAYS_BACK = 30
FEED_ROLES = ("student", "parent", "tutor")


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


def feed_sessions(db: Session, person: User, now: datetime) -> FeedSessions:
    """The sessions of a person's feed, from FEED_DAYS_BACK days ago onward, cancelled ones
    included; a constant number of queries however many sessions there are."""
    since = now - timedelta(days=FEED_DAYS_BACK)
    if person.role == "tutor":
        slots = tutor_slots(db, person, since)
        return FeedSessions(
            slots=slots,
            booked=bookings_of_slots(db, slots),
            links=links_for(db, person, [slot.id for slot in slots]),
        )
    bookings = bookings_for(db, person, since)
    return FeedSessions(bookings=bookings, links=links_for(db, person, {booking.slot_id for booking in bookings}))


@dataclass(frozen=True)
class FeedVersion:
    """A live feed token's owner, and a fingerprint of everything the owner's feed shows now:
    equal fingerprints, equal feeds (given the same site settings and code)."""

    user_id: int
    fingerprint: str
    last_change: datetime  # the latest change of an entry, or the address's creation


def feed_version(db: Session, secret: str, now: datetime) -> FeedVersion | None:
    """The live token with this secret and a fingerprint of its owner's feed, in one statement
    that loads no ORM object: what a poll needs to be answered 304, or from a rendered copy.

    The fingerprint covers every input of the feed (see _version_statement) and the owner's
    name, email, role, locale and time zone.
    """
    statement = _version_statement(db.get_bind().dialect.name)
    values = {"secret": secret, "since": now - timedelta(days=FEED_DAYS_BACK)}
    row = db.connection().execute(statement, values).one_or_none()
    if row is None:
        return None
    created_at, *shown = row  # the token's id and secret, its owner's, then the summaries
    return FeedVersion(
        user_id=row.user_id,
        fingerprint=hashlib.sha256(repr(shown).encode()).hexdigest(),
        last_change=max(moment for moment in (created_at, row.slots_changed, row.bookings_changed) if moment),
    )


def feed_version_to_write(db: Session, secret: str, now: datetime, version: FeedVersion) -> FeedVersion | None:
    """The version of the feed that feed_sessions will read next, to keep the feed written under.

    On SQLite it is `version`: a request's reads are one transaction, which sees the database as
    it was at its first read. On PostgreSQL each statement may see a newer one, so the version
    is read again at the start of a REPEATABLE READ transaction, in which feed_sessions reads
    next: a feed kept is always the feed of its version. Only a feed to write pays for this.
    """
    if db.get_bind().dialect.name != "postgresql":
        return version
    db.commit()
    db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return feed_version(db, secret, now)


@cache
def _version_statement(dialect: str) -> Select:
    """feed_version's statement, built once (building it costs more than running it), with the
    parameters `secret` and `since`.

    It sums up what feed_sessions reads, in the same window, rather than fetching it:
    - slots and bookings: their count, the sum of their ids (rows in and out), of their SEQUENCE
      (which every change a calendar shows raises, RFC 5545 §3.8.7.4), their latest updated_at
      (which every UPDATE sets) and how many are cancelled;
    - join links, which are only ever added or deleted: their count and the sum of their ids;
    - names, which have no change marker: written out, for the people shown and the activities
      (a handful in a centre).
    Both shapes of feed are read, a tutor's slots and a family's bookings: the one that does not
    apply finds nothing through an index. Each summary is a one-row subquery joined ON true.
    """
    owner = select(FeedToken.user_id).where(FeedToken.secret == bindparam("secret")).scalar_subquery()
    since = bindparam("since", type_=Slot.ends_at.type)
    student, tutor = aliased(User), aliased(User)
    # A tutor's feed (tutor_slots, bookings_of_slots): their slots, and who booked each.
    slots = (Slot.tutor_id == owner, Slot.ends_at > since)
    # Who booked each (its live bookings' students, read slot by slot through the index of live
    # bookings: a join would let PostgreSQL scan every booking of the centre).
    booked = (
        select(_listing(dialect, Booking.id, student.id, _sized(student.name)))
        .select_from(Booking)
        .join(student, Booking.student_id == student.id)
        .where(Booking.slot_id == Slot.id, LIVE_BOOKING)
        .scalar_subquery()
    )
    # Only for the slots with a seat taken: Slot.booked counts their live bookings (booking and
    # cancelling change it), and a slot's listing is left out when nobody booked it anyway.
    tutor_slots = (
        select(*_changes(Slot, "slots"), _listing(dialect, Slot.id, case((Slot.booked > 0, booked))))
        .where(*slots)
        .subquery()
    )
    # A family's feed (bookings_for): the person's bookings, or their children's, with their slots.
    students = union(select(owner), select(Guardianship.student_id).where(Guardianship.parent_id == owner))
    bookings = (Booking.student_id.in_(students), Booking.ends_at > since)
    family = (
        select(*_changes(Booking, "bookings"), *_changes(Slot, "booked_slots"),
               _listing(dialect, Booking.id, student.id, _sized(student.name), tutor.id, _sized(tutor.name)))
        .join(Slot, Booking.slot_id == Slot.id)
        .join(student, Booking.student_id == student.id)
        .join(tutor, Slot.tutor_id == tutor.id)
        .where(*bookings)
        .subquery()
    )
    # The person's own join links (links_for) to the slots of either feed: what ends in the window.
    links = (
        select(func.count(JoinToken.id), func.sum(JoinToken.id))
        .join(Slot, JoinToken.slot_id == Slot.id)
        .outerjoin(Booking, JoinToken.booking_id == Booking.id)
        .where(JoinToken.user_id == owner, or_(Slot.ends_at > since, Booking.ends_at > since))
        .subquery()
    )
    activities = select(_listing(dialect, Activity.id, _sized(Activity.name))).subquery()
    statement = (
        select(FeedToken.created_at, FeedToken.id, FeedToken.secret, User.id.label("user_id"), User.role, User.name,
               User.email, User.locale, User.timezone, tutor_slots, family, links, activities)
        .join(User, User.id == FeedToken.user_id)
        .where(
            FeedToken.secret == bindparam("secret"),
            FeedToken.revoked_at.is_(None),
            User.active,
            User.role.in_(FEED_ROLES),
        )
    )
    for summary in (tutor_slots, family, links, activities):
        statement = statement.join(summary, true())
    return statement


def _changes(table, name: str) -> tuple:
    """What changes when rows of `table` are added, removed or changed (see _version_statement);
    the latest updated_at is <name>_changed."""
    cancelled = case((table.status == literal_column("'cancelled'"), 1), else_=0)
    return (func.count(table.id), func.sum(table.id), func.sum(table.sequence),
            func.max(table.updated_at).label(f"{name}_changed"), func.sum(cancelled))


def _listing(dialect: str, key, *values):
    """The rows' `key` and `values` as one text ("12:3:5:Adam;14:…"), a row's values apart by
    ":" (names, which may hold anything, through _sized). Ordered by `key` on PostgreSQL; on
    SQLite in the order the rows are read, the same each time (group_concat takes no ORDER BY
    before SQLite 3.44). A NULL value leaves its row out."""
    parts = [cast(value, String) for value in (key, *values)]
    line = reduce(lambda left, right: left + literal_column("':'") + right, parts)
    listing = func.aggregate_strings(line, ";")
    return listing.aggregate_order_by(key) if dialect == "postgresql" else listing


def _sized(text):
    """A text after its length ("5:Adam;"), so that no name can pass for the end of another."""
    return cast(func.length(text), String) + literal_column("':'") + text


def _live_token(db: Session, person: User) -> FeedToken | None:
    return db.scalar(select(FeedToken).where(FeedToken.user_id == person.id, FeedToken.revoked_at.is_(None)))
