"""A family's side: a parent's children, and the sessions a student or parent sees."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Integer, Row, Select, and_, bindparam, literal, select, union_all
from sqlalchemy.orm import Session, aliased, joinedload

from ..clock import now_utc
from ..models import Activity, Booking, Guardianship, JoinToken, Slot, TutorProfile, User
from ..paging import after_mark, literal_limit, mark_values
from .confidential import family_sees
from .consent import awaits_approval, born_since
from .slots import SESSION_MINUTES

SESSIONS_PAGE = 10  # a family's sessions per page
# The longest a session lasts: one that began earlier is over, so the lists of sessions to come
# read their index by start from there rather than from the first session ever booked.
LONGEST_SESSION = timedelta(minutes=SESSION_MINUTES[1])


def children_ids(parent) -> Select:
    """The ids of a parent's children (`parent`: an id or a column): the one statement every
    "a parent's children" reads through."""
    return select(Guardianship.student_id).where(Guardianship.parent_id == parent)


def family_ids(person) -> Select:
    """The person's id and their children's: whose bookings a student or parent sees."""
    return union_all(select(person), children_ids(person))


@cache
def _children_statement() -> Select:
    return (
        select(User.id, User.name, awaits_approval(User, bindparam("born_since")).label("awaiting"))
        .where(User.id.in_(children_ids(bindparam("parent"))))
        .order_by(User.name, User.id)
    )


def children_of(db: Session, parent: User) -> list[Row]:
    """A parent's children, as (id, name, awaiting) rows, by name: `awaiting` while the child
    waits for a parent's approval before being booked (services/consent.py)."""
    values = {"parent": parent.id, "born_since": born_since(now_utc().date())}
    return db.connection().execute(_children_statement(), values).all()


def students_in_care(db: Session, person: User) -> list[User]:
    """The students a person may book for: themself, or a parent's children."""
    if person.role == "student":
        return [person]
    if person.role == "parent":
        return list(db.scalars(select(User).where(User.id.in_(children_ids(person.id))).order_by(User.name)))
    return []


def bookings_for(db: Session, person: User, since: datetime) -> Sequence[Booking]:
    """The bookings a student or parent sees (their own, or their children's) ending after
    `since`, with their slots, tutors and students, in one query (a calendar feed)."""
    return db.scalars(
        select(Booking)
        .where(Booking.student_id.in_(family_ids(literal(person.id, Integer))), Booking.ends_at > since,
               family_sees(literal(person.id, Integer)))
        .options(
            joinedload(Booking.slot).joinedload(Slot.tutor).joinedload(User.tutor_profile),
            joinedload(Booking.slot).joinedload(Slot.activity),
            joinedload(Booking.student),
        )
        .order_by(Booking.starts_at, Booking.id)
    ).all()


@cache
def _session_rows_statement(family: bool, paged: bool, limit: int) -> Select:
    person = bindparam("person", type_=Integer)
    # A parent's children's bookings, but no mediation someone else booked.
    whose = and_(Booking.student_id.in_(family_ids(person)), family_sees(person)) if family \
        else Booking.student_id == person
    # The page's bookings first, through the index of each student's bookings by start; then
    # what their cards show, joined to those few rows only.
    page = (
        select(Booking.id)
        .where(whose, Booking.starts_at > bindparam("started_since"), Booking.ends_at > bindparam("since"))
        .order_by(Booking.starts_at, Booking.id)
        .limit(literal_limit(limit + 1))
    )
    if paged:
        page = page.where(after_mark(Booking.starts_at, Booking.id))
    page = page.subquery()
    tutor, student = aliased(User, name="tutor"), aliased(User, name="student")
    return (
        select(
            Booking.id, Booking.status, Booking.starts_at, Booking.slot_id, Slot.ends_at,
            Activity.name.label("activity"), Slot.subject, Slot.level, Slot.tutor_id,
            tutor.name.label("tutor_name"), TutorProfile.languages, student.name.label("student_name"),
            JoinToken.token,
        )
        .join(page, page.c.id == Booking.id)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Activity, Activity.id == Slot.activity_id)
        .join(tutor, tutor.id == Slot.tutor_id)
        .outerjoin(TutorProfile, TutorProfile.user_id == Slot.tutor_id)
        .join(student, student.id == Booking.student_id)
        .outerjoin(JoinToken, and_(JoinToken.booking_id == Booking.id, JoinToken.user_id == person))
        .order_by(Booking.starts_at, Booking.id)
    )


def session_rows(db: Session, person: User, since: datetime, *, after: tuple[datetime, int] | None = None,
                 limit: int = SESSIONS_PAGE) -> tuple[list[Row], bool, list[Row]]:
    """A page of the sessions of a student, or of a parent and their children, ending after
    `since`, soonest first, after `after` (the start and booking id the previous page ended on):
    rows of what a card shows (templates/bookings/_session_card.html), with `person`'s own join
    link as `token`; whether more follow; and a parent's children, by name."""
    family = person.role == "parent"
    values = {"person": person.id, "since": since, "started_since": since - LONGEST_SESSION, **mark_values(after)}
    rows = db.connection().execute(_session_rows_statement(family, after is not None, limit), values).all()
    children = children_of(db, person) if family else []
    return rows[:limit], len(rows) > limit, children
