"""Calendar subscriptions: each person's secret feed address, and what their feed lists.

A feed is fetched by calendar apps, with no login: the secret in its address is the only key.
It is random (192 bits), one live per person, and a reset revokes it at once.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from operator import itemgetter

from sqlalchemy import Integer, Row, Select, String, bindparam, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload

from ..clock import now_utc
from ..db import write_transaction
from ..models import LIVE_BOOKING, Activity, Booking, FeedToken, JoinToken, Slot, User
from .family import bookings_for, family_ids
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


_FEED_OWNER = (
    select(User.id, User.role, User.name, User.email, User.locale, User.timezone,
           FeedToken.created_at.label("token_created_at"))
    .join(FeedToken, FeedToken.user_id == User.id)
    .where(FeedToken.secret == bindparam("secret"), FeedToken.revoked_at.is_(None), User.active)
)


def feed_owner(db: Session, secret: str) -> Row | None:
    """Whose live feed address this is (an active person with a role that has a feed): their id,
    role, name, email, locale and timezone, and when the address was issued; None for an unknown
    or revoked address. Plain columns: a poll that ends in the cache needs no User object."""
    # The role is checked here: as an IN in the statement, its list was written out on every poll.
    owner = db.connection().execute(_FEED_OWNER, {"secret": secret}).one_or_none()
    return owner if owner is not None and owner.role in FEED_ROLES else None


def _live_token(db: Session, person: User) -> FeedToken | None:
    return db.scalar(select(FeedToken).where(FeedToken.user_id == person.id, FeedToken.revoked_at.is_(None)))


@dataclass(frozen=True)
class FeedVersion:
    """What a feed's body is made from, read as plain rows (cheap): equal versions, equal feeds
    (given the same person, site settings and FEED_FORMAT). It may hold more than the feed
    shows, never less: more only means a body rendered again."""

    rows: tuple
    last_change: datetime | None


def _text(column):
    """A time as the database writes it, in UTC (SQLite stores UTC; PostgreSQL's sessions run with
    TimeZone=UTC): the version only compares times, so none is turned into a datetime."""
    return cast(column, String)


def _from_text(value: str | None) -> datetime | None:
    """A time read by _text, as an aware UTC datetime (SQLite's text has no offset)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _slot_rows(extra_where) -> Select:
    """A slot a tutor's or the centre's feed shows, with who booked it and the viewer's own join
    link; everything an entry is made from (calendar_entries.session_entry)."""
    tutor = aliased(User, name="tutor")
    return (
        select(Slot.id, Slot.calendar_uid, Slot.sequence, _text(Slot.starts_at), _text(Slot.ends_at), Slot.subject,
               Slot.status, _text(Slot.updated_at).label("changed"), Activity.name, Activity.name_en, Activity.kind,
               tutor.name, _own_link(JoinToken.slot_id == Slot.id, JoinToken.booking_id.is_(None)), _participants())
        .join(Activity, Activity.id == Slot.activity_id)
        .join(tutor, tutor.id == Slot.tutor_id)
        .where(Slot.ends_at > bindparam("since"), *extra_where)
    )


def _participants():
    """The slot's live bookings as one text, each booking's id and its student's name, looked up
    per slot. As a join, PostgreSQL's plan read every live booking of the centre when it guessed
    a tutor had few slots. Any order will do: equal bookings have equal names and an equal order
    in the entry, and another order only means a body written again."""
    student = aliased(User, name="student")
    return (
        select(func.aggregate_strings(cast(Booking.id, String) + " " + student.name, "\n"))
        .join_from(Booking, student, student.id == Booking.student_id)
        .where(Booking.slot_id == Slot.id, LIVE_BOOKING)
        .scalar_subquery()
    )


def _own_link(*where):
    """The viewer's join token for an entry, looked up per row: as a join, PostgreSQL's generic plan
    guessed a person's links from the average (2, where a tutor has hundreds) and compared every
    slot with every link."""
    return select(func.min(JoinToken.token)).where(JoinToken.user_id == bindparam("person"), *where).scalar_subquery()


@cache
def _version_statement(shape: str) -> Select:
    if shape == "tutor":
        return _slot_rows([Slot.tutor_id == bindparam("person")])
    if shape.startswith("centre"):
        where = []
        if "activity" in shape:
            where.append(Slot.activity_id == bindparam("activity_id"))
        if "tutor" in shape:
            where.append(Slot.tutor_id == bindparam("tutor_id"))
        return _slot_rows(where)
    person = bindparam("person", type_=Integer)
    tutor, student = aliased(User, name="tutor"), aliased(User, name="student")
    return (
        select(Booking.id, Booking.calendar_uid, Booking.sequence, Booking.status,
               _text(Booking.updated_at).label("changed"), Booking.student_id, student.name, Slot.id,
               _text(Slot.starts_at), _text(Slot.ends_at), Slot.subject, Slot.status, _text(Slot.updated_at),
               Activity.name, Activity.name_en, Activity.kind, tutor.name,
               _own_link(JoinToken.booking_id == Booking.id))
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Activity, Activity.id == Slot.activity_id)
        .join(tutor, tutor.id == Slot.tutor_id)
        .join(student, student.id == Booking.student_id)
        .where(Booking.student_id.in_(family_ids(person)), Booking.ends_at > bindparam("since"))
    )


def feed_version(db: Session, person_id: int, role: str, now: datetime,
                 chosen: FeedFilter = FeedFilter()) -> FeedVersion:
    """The version of a person's feed (feed_sessions' sessions as plain rows), in one statement."""
    values = {"person": person_id, "since": now - timedelta(days=FEED_DAYS_BACK)}
    if role == "coordinator":
        shape = "centre"
        if chosen.activity_id is not None:
            shape, values["activity_id"] = shape + "-activity", chosen.activity_id
        if chosen.tutor_id is not None:
            shape, values["tutor_id"] = shape + "-tutor", chosen.tutor_id
    else:
        shape = "tutor" if role == "tutor" else "family"
    result = db.connection().execute(_version_statement(shape), values)
    changed = itemgetter(list(result.keys()).index("changed"))  # by name, read from plain tuples
    # Sorted here, by the entry's id (each row's first column, one row per entry): as an ORDER BY
    # it was a fifth of the statement's time on PostgreSQL.
    rows = tuple(sorted(map(tuple, result.all())))
    # As the entries say it: a family's entry changes with its booking, a slot's with the slot.
    # Texts of one format, in UTC, compare as their times do.
    return FeedVersion(rows=rows, last_change=_from_text(max(filter(None, map(changed, rows)), default=None)))
