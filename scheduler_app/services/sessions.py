"""What each person sees of their sessions, loaded in a constant number of queries."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple

from sqlalchemy import Integer, Row, Select, Text, and_, bindparam, cast, func, literal_column, or_, select, union_all
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from .. import db as database
from ..models import FREE_SLOT, LIVE_BOOKING, Activity, Booking, Guardianship, JoinToken, Slot, TutorProfile, User
from .attendance import NOTES_SHOWN
from .slots import SESSION_MINUTES

BROWSE_LIMIT = 60  # slots offered beside a taken one, or on a tutor's profile
BROWSE_PAGE = 10  # slots on a page of the browser: a phone screen or two, and a link to the next


@dataclass(frozen=True)
class SlotFilter:
    activity_id: int | None = None
    subject: str = ""
    level: str = ""
    language: str = ""
    tutor_id: int | None = None
    day_start: datetime | None = None  # the chosen day, as a UTC interval in the viewer's zone
    day_end: datetime | None = None


# The list pages' queries are built once per shape and their values bound at each execution:
# building a SQLAlchemy statement (columns, joins, aliases) costs more than running it. They
# select plain columns and run on the session's connection (its transaction), not through the
# ORM's execution path: rows are all the pages need.
NOW, AFTER_START, AFTER_ID = bindparam("now"), bindparam("after_start"), bindparam("after_id")


def _literal(number: int):
    """A LIMIT written into the statement: bound, PostgreSQL's one plan per statement (see
    scheduler_app/db.py) would not know it, and would not pick the index that reads just that
    many rows in order."""
    return literal_column(str(int(number)))


def _after(starts_at, row_id):
    """Rows after the previous page's last one, in (start, id) order (its values bound as
    after_start and after_id): a page mark that ties in start time loses nothing."""
    return or_(starts_at > AFTER_START, and_(starts_at == AFTER_START, row_id > AFTER_ID))


def _filter_values(chosen: SlotFilter) -> dict:
    """The chosen filters as values to bind (their keys say which conditions apply)."""
    values: dict = {}
    if chosen.activity_id:
        values["activity_id"] = chosen.activity_id
    if chosen.tutor_id:
        values["tutor_id"] = chosen.tutor_id
    if chosen.subject:
        values["subject"] = chosen.subject
    if chosen.level:
        values["level"] = chosen.level
    if chosen.language:
        values["language"] = f",{chosen.language},"
    if chosen.day_start and chosen.day_end:
        values["day_start"], values["day_end"] = chosen.day_start, chosen.day_end
    return values


# The slot's tutor's languages, asked of each slot rather than of the joined profile: given a
# condition on the profile, PostgreSQL's plan started from every tutor speaking the language
# (718 index probes at bench scale 100) instead of reading the day's slots in order up to the
# page's end (migration 0008 says more).
_PROFILE = aliased(TutorProfile, name="profile")
_TUTOR_LANGUAGES = (select(_PROFILE.languages).where(_PROFILE.user_id == Slot.tutor_id)
                    .correlate(Slot).scalar_subquery())


def _free_slot_conditions(applied: frozenset[str]) -> list:
    """Future open slots with a free place, by an active tutor, and the filters in `applied`
    (over Slot joined to its tutor, User, and TutorProfile)."""
    conditions = [FREE_SLOT, Slot.starts_at > NOW, User.active]
    if "activity_id" in applied:
        conditions.append(Slot.activity_id == bindparam("activity_id"))
    if "tutor_id" in applied:
        conditions.append(Slot.tutor_id == bindparam("tutor_id"))
    if "subject" in applied:
        conditions.append(Slot.subject == bindparam("subject"))
    if "level" in applied:
        conditions.append(Slot.level == bindparam("level"))
    if "language" in applied:
        conditions.append(_TUTOR_LANGUAGES.contains(bindparam("language")))
    if "day_start" in applied:
        conditions += [Slot.starts_at >= bindparam("day_start"), Slot.starts_at < bindparam("day_end")]
    return conditions


@cache
def _browse_statement(applied: frozenset[str]) -> Select:
    return (
        select(Slot)
        .join(Slot.tutor)
        .join(Slot.activity)
        .outerjoin(TutorProfile, TutorProfile.user_id == User.id)
        .options(contains_eager(Slot.tutor).joinedload(User.tutor_profile), contains_eager(Slot.activity))
        .where(*_free_slot_conditions(applied))
        .order_by(Slot.starts_at, Slot.id)
        .limit(_literal(BROWSE_LIMIT))
    )


def browse_slots(db: Session, now: datetime, chosen: SlotFilter) -> Sequence[Slot]:
    """Future open slots with a free place, soonest first, matching the filters."""
    values = _filter_values(chosen)
    return db.scalars(_browse_statement(frozenset(values)), {"now": now, **values}).unique().all()


@cache
def _free_slot_rows_statement(applied: frozenset[str], paged: bool, limit: int) -> Select:
    query = (
        select(
            Slot.id, Slot.starts_at, Slot.ends_at, Activity.name.label("activity"), Slot.subject, Slot.level,
            Slot.tutor_id, User.name.label("tutor_name"), TutorProfile.languages,
            (Slot.capacity - Slot.booked).label("places_left"),
        )
        .join(User, User.id == Slot.tutor_id)
        .join(Activity, Activity.id == Slot.activity_id)
        .outerjoin(TutorProfile, TutorProfile.user_id == User.id)
        .where(*_free_slot_conditions(applied))
        .order_by(Slot.starts_at, Slot.id)
        .limit(_literal(limit + 1))
    )
    if paged:
        query = query.where(_after(Slot.starts_at, Slot.id))
    return query


def free_slot_rows(db: Session, now: datetime, chosen: SlotFilter, *, after: tuple[datetime, int] | None = None,
                   limit: int = BROWSE_PAGE) -> tuple[list, bool]:
    """A page of the slot browser: the free slots that come after `after` (the start and id of
    the previous page's last one), soonest first, as rows of exactly what a card shows (see
    templates/bookings/_free_slot.html); and whether more follow."""
    values = {"now": now, **_filter_values(chosen)}
    if after is not None:
        values["after_start"], values["after_id"] = after
    statement = _free_slot_rows_statement(frozenset(values) - {"now", "after_start", "after_id"}, after is not None,
                                          limit)
    rows = database.rows(db, statement, values)
    return rows[:limit], len(rows) > limit


def students_in_care(db: Session, person: User) -> list[User]:
    """The students a person may book for: themself, or a parent's children."""
    if person.role == "student":
        return [person]
    if person.role == "parent":
        return list(
            db.scalars(
                select(User)
                .join(Guardianship, Guardianship.student_id == User.id)
                .where(Guardianship.parent_id == person.id)
                .order_by(User.name)
            )
        )
    return []


@cache
def _children_statement() -> Select:
    return (
        select(User.id, User.name)
        .join(Guardianship, Guardianship.student_id == User.id)
        .where(Guardianship.parent_id == bindparam("parent"))
        .order_by(User.name, User.id)
    )


def children_of(db: Session, parent: User) -> list[Row]:
    """A parent's children, as (id, name) rows, by name."""
    return list(db.connection().execute(_children_statement(), {"parent": parent.id}))


def bookings_for(db: Session, person: User, since: datetime) -> Sequence[Booking]:
    """The bookings a student or parent sees (their own, or their children's) from `since`."""
    # The students' ids first, as a list: "student_id = ? OR student_id IN (subquery)" made
    # PostgreSQL scan every booking, and the page slowed down as the centre grew.
    students = [person.id]
    if person.role == "parent":
        students += db.scalars(select(Guardianship.student_id).where(Guardianship.parent_id == person.id))
    return db.scalars(
        select(Booking)
        .where(Booking.student_id.in_(students), Booking.ends_at > since)
        .options(
            # The tutor's languages are on every card (slot_summary): one query, not one per tutor.
            joinedload(Booking.slot).joinedload(Slot.tutor).joinedload(User.tutor_profile),
            joinedload(Booking.slot).joinedload(Slot.activity),
            joinedload(Booking.student),
        )
        .order_by(Booking.starts_at, Booking.id)
    ).all()


SESSIONS_PAGE = 10  # a family's sessions per page
# The longest a session lasts: one that began earlier is over, so the lists of sessions to come
# (a family's, a tutor's) read their index by start from there rather than from the first
# session ever booked.
LONGEST_SESSION = timedelta(minutes=SESSION_MINUTES[1])


class Child(NamedTuple):
    id: int
    name: str


class SessionRow(NamedTuple):
    """A family's session as its card shows it (templates/bookings/_session_card.html)."""

    id: int  # the booking's
    status: str
    starts_at: datetime
    slot_id: int
    ends_at: datetime
    activity: str
    subject: str
    level: str
    tutor_id: int
    tutor_name: str
    languages: str | None
    student_name: str
    token: str | None  # the viewer's own join link


@cache
def _session_rows_statement(dialect: str, family: bool, paged: bool, limit: int) -> Select:
    person = bindparam("person", type_=Integer)
    if family:
        # The parent and their children, found by the statement itself: no ids to read first.
        students = union_all(select(person), select(Guardianship.student_id).where(Guardianship.parent_id == person))
        whose = Booking.student_id.in_(students)
    else:
        whose = Booking.student_id == person
    # The page's bookings first, through the index of each student's bookings by start; then
    # what their cards show, joined to those few rows only (joined first, then cut to a page,
    # PostgreSQL built every card of the family's and threw most away).
    page = (
        select(Booking.id)
        .where(whose, Booking.starts_at > bindparam("started_since"), Booking.ends_at > bindparam("since"))
        .order_by(Booking.starts_at, Booking.id)
        .limit(_literal(limit + 1))
    )
    if paged:
        page = page.where(_after(Booking.starts_at, Booking.id))
    page = page.subquery()
    tutor, student = aliased(User, name="tutor"), aliased(User, name="student")
    columns = [
        Booking.id, Booking.status, Booking.starts_at, Booking.slot_id, Slot.ends_at,
        Activity.name.label("activity"), Slot.subject, Slot.level, Slot.tutor_id,
        tutor.name.label("tutor_name"), TutorProfile.languages, student.name.label("student_name"),
        JoinToken.token,
    ]
    if family:  # the parent's children, on each row (a parent has a few)
        child = aliased(User, name="child")
        # As text, read once from the first row (psycopg would parse JSON on every row)
        pairs = (cast(func.json_agg(func.json_build_array(child.id, child.name)), Text) if dialect == "postgresql"
                 else func.json_group_array(func.json_array(child.id, child.name)))
        columns.append(
            select(pairs).select_from(Guardianship).join(child, child.id == Guardianship.student_id)
            .where(Guardianship.parent_id == person).scalar_subquery().label("children")
        )
    return (
        select(*columns)
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
                 limit: int = SESSIONS_PAGE) -> tuple[list[SessionRow], bool, list[Child]]:
    """A page of the sessions of a student, or of a parent and their children, ending after
    `since`, soonest first, after `after` (the start and booking id the previous page ended on):
    rows of what a card shows (templates/bookings/_session_card.html), with `person`'s own join
    link; whether more follow; and a parent's children, by name. One query (a second for a
    parent's children when the page is empty)."""
    family = person.role == "parent"
    values = {"person": person.id, "since": since, "started_since": since - LONGEST_SESSION}
    if after is not None:
        values["after_start"], values["after_id"] = after
    statement = _session_rows_statement(db.get_bind().dialect.name, family, after is not None, limit)
    rows = database.rows(db, statement, values)
    children: list[Child] = []
    if family and rows:
        pairs = json.loads(rows[0].children or "[]")
        children = sorted((Child(*pair) for pair in pairs), key=lambda child: (child.name, child.id))
    elif family:
        children = [Child(*row) for row in children_of(db, person)]
    return [SessionRow(*row[:13]) for row in rows[:limit]], len(rows) > limit, children


def tutor_slots(db: Session, tutor: User, since: datetime) -> Sequence[Slot]:
    """A tutor's slots from `since`, each with its bookings and their students."""
    return db.scalars(
        select(Slot)
        .where(Slot.tutor_id == tutor.id, Slot.ends_at > since)
        .options(joinedload(Slot.activity))
        .order_by(Slot.starts_at, Slot.id)
    ).all()


def bookings_of_slots(db: Session, slots: Sequence[Slot]) -> dict[int, list[Booking]]:
    """The live bookings of these slots, by slot id, in one query."""
    grouped: dict[int, list[Booking]] = {slot.id: [] for slot in slots}
    if not slots:
        return grouped
    rows = db.scalars(
        select(Booking)
        .where(Booking.slot_id.in_(grouped), LIVE_BOOKING)
        .options(joinedload(Booking.student))
        .order_by(Booking.created_at)
    )
    for booking in rows:
        grouped[booking.slot_id].append(booking)
    return grouped


def links_for(db: Session, person: User, slot_ids) -> dict[tuple[int, int | None], str]:
    """The person's join tokens for these slots, by (slot id, booking id)."""
    if not slot_ids:
        return {}
    rows = db.execute(
        select(JoinToken.slot_id, JoinToken.booking_id, JoinToken.token).where(
            JoinToken.user_id == person.id, JoinToken.slot_id.in_(list(slot_ids))
        )
    )
    return {(slot_id, booking_id): token for slot_id, booking_id, token in rows}


@dataclass(frozen=True)
class CentreFilter:
    day_start: datetime | None = None
    day_end: datetime | None = None
    tutor_id: int | None = None
    activity_id: int | None = None
    status: str = ""  # "", "open", "booked", "cancelled"


CENTRE_LIMIT = 200


def centre_slots(db: Session, since: datetime, chosen: CentreFilter) -> Sequence[Slot]:
    """Every session the centre runs from `since` (or on the chosen day), soonest first."""
    query = (
        select(Slot)
        .options(joinedload(Slot.tutor), joinedload(Slot.activity))
        .order_by(Slot.starts_at, Slot.id)
        .limit(CENTRE_LIMIT)
    )
    if chosen.day_start and chosen.day_end:
        query = query.where(Slot.starts_at >= chosen.day_start, Slot.starts_at < chosen.day_end)
    else:
        query = query.where(Slot.ends_at > since)
    if chosen.tutor_id:
        query = query.where(Slot.tutor_id == chosen.tutor_id)
    if chosen.activity_id:
        query = query.where(Slot.activity_id == chosen.activity_id)
    if chosen.status == "open":
        query = query.where(Slot.status == "open", Slot.booked < Slot.capacity)
    elif chosen.status == "booked":
        query = query.where(Slot.status == "open", Slot.booked > 0)
    elif chosen.status == "cancelled":
        query = query.where(Slot.status == "cancelled")
    return db.scalars(query).all()


class SlotRow(NamedTuple):
    """A slot as the tutor's page shows it."""

    id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    activity: str
    subject: str
    level: str
    booked: int
    capacity: int
    token: str | None  # the tutor's own join link


class BookingRow(NamedTuple):
    """A booking as the tutor's page shows it."""

    id: int
    slot_id: int
    student_id: int
    student_name: str
    topic: str
    status: str
    tutor_note: str


@dataclass(frozen=True)
class TutorSlots:
    """Some of a tutor's slots, as plain rows, with who booked each."""

    slots: list[SlotRow]  # soonest first
    people: dict[int, list[BookingRow]]  # slot id -> its live bookings, first booked first
    to_mark: int  # past sessions (MARKING_DAYS) where a student is still to be marked
    more: bool = False  # whether more slots follow (a page of them)


TUTOR_PAGE = 10  # a tutor's sessions per page, as a family's
MARK_SHOWN = 8  # past sessions offered for attendance at once
MARKING_DAYS = 14  # how long a past session stays offered for attendance
TUTOR, MARKING_SINCE = bindparam("tutor"), bindparam("marking_since")


def _to_mark(slot) -> tuple:
    """A past session of the tutor's, since marking_since, with a student not yet marked."""
    unmarked = aliased(Booking, name="unmarked")
    return (
        slot.tutor_id == TUTOR, slot.starts_at >= MARKING_SINCE, slot.starts_at <= NOW,
        slot.status == literal_column("'open'"), slot.booked > 0,
        # "not cancelled" too, for SQLite to see the partial index of live bookings
        select(unmarked.id).where(unmarked.slot_id == slot.id, unmarked.status != literal_column("'cancelled'"),
                                  unmarked.status == literal_column("'confirmed'")).exists(),
    )


def _tutor_rows(extra, page=None) -> Select:
    """A tutor's slots, one row per live booking (or one for none), with the tutor's own join
    link, then `extra` (a value the same on every row): the slots whose ids `page` selects, or
    those of the caller's WHERE."""
    student = aliased(User, name="student")
    query = select(Slot.id, Slot.starts_at, Slot.ends_at, Slot.status, Activity.name, Slot.subject, Slot.level,
                   Slot.booked, Slot.capacity, JoinToken.token,
                   Booking.id, Booking.student_id, student.name, Booking.topic, Booking.status, Booking.tutor_note,
                   extra)
    if page is not None:
        query = query.join(page, page.c.id == Slot.id)
    return (
        query
        .join(Activity, Activity.id == Slot.activity_id)
        .outerjoin(JoinToken, and_(JoinToken.slot_id == Slot.id, JoinToken.user_id == Slot.tutor_id,
                                   JoinToken.booking_id.is_(None)))  # the tutor's own link
        .outerjoin(Booking, and_(Booking.slot_id == Slot.id, LIVE_BOOKING))
        .outerjoin(student, student.id == Booking.student_id)
        .order_by(Slot.starts_at, Slot.id, Booking.created_at, Booking.id)
    )


def _to_mark_count():
    """How many past sessions the tutor has to mark (counted once, whatever the rows)."""
    past = aliased(Slot, name="past")
    return select(func.count(past.id)).where(*_to_mark(past)).scalar_subquery()


@cache
def _coming_statement(paged: bool, limit: int) -> Select:
    page = (
        select(Slot.id)
        .where(Slot.tutor_id == TUTOR, Slot.starts_at > bindparam("started_since"), Slot.ends_at > NOW)
        .order_by(Slot.starts_at, Slot.id)
        .limit(_literal(limit + 1))
    )
    if paged:
        page = page.where(_after(Slot.starts_at, Slot.id))
    return _tutor_rows(_to_mark_count(), page.subquery())


@cache
def _to_mark_statement() -> Select:
    page = select(Slot.id).where(*_to_mark(Slot)).order_by(Slot.starts_at.desc(), Slot.id.desc())
    return _tutor_rows(_to_mark_count(), page.limit(_literal(MARK_SHOWN)).subquery())


def _tutor_slots(rows, extra=None) -> tuple[list[SlotRow], dict[int, list[BookingRow]], object]:
    """The slots of _tutor_rows' rows, their live bookings by slot id, and the extra column's
    value (`extra` when there is no row)."""
    slots: dict[int, SlotRow] = {}
    people: dict[int, list[BookingRow]] = {}
    for row in rows:
        if row[0] not in slots:
            slots[row[0]] = SlotRow(*row[:10])
            people[row[0]] = []
        if row[10] is not None:
            people[row[0]].append(BookingRow(row[10], row[0], *row[11:16]))
        extra = row[16]
    return list(slots.values()), people, extra


def tutor_sessions(db: Session, tutor: User, now: datetime, *, after: tuple[datetime, int] | None = None,
                   limit: int = TUTOR_PAGE) -> TutorSlots:
    """A page of a tutor's sessions not yet over, soonest first, after `after` (the start and id
    of the previous page's last one), with who booked them and the tutor's join links; and how
    many past sessions are to be marked. One query, whatever the centre's size."""
    values = {"tutor": tutor.id, "now": now, "started_since": now - LONGEST_SESSION,
              "marking_since": now - timedelta(days=MARKING_DAYS)}
    if after is not None:
        values["after_start"], values["after_id"] = after
    slots, people, to_mark = _tutor_slots(database.rows(db, _coming_statement(after is not None, limit), values))
    if not slots:  # no row to carry the count
        to_mark = db.connection().execute(_to_mark_count_statement(), values).scalar_one()
    return TutorSlots(slots=slots[:limit], people=people, to_mark=to_mark, more=len(slots) > limit)


@cache
def _to_mark_count_statement() -> Select:
    return select(_to_mark_count())


def tutor_to_mark(db: Session, tutor: User, now: datetime) -> TutorSlots:
    """The latest MARK_SHOWN past sessions of a tutor's (MARKING_DAYS back) where a student is
    still to be marked present or absent, oldest first, with all their live bookings; and how
    many such sessions there are in all. One query."""
    values = {"tutor": tutor.id, "now": now, "marking_since": now - timedelta(days=MARKING_DAYS)}
    slots, people, to_mark = _tutor_slots(database.rows(db, _to_mark_statement(), values), 0)
    return TutorSlots(slots=slots, people=people, to_mark=to_mark)


@dataclass(frozen=True)
class SlotPage:
    """One of a tutor's slots as its page shows it."""

    slot: SlotRow
    tutor_id: int  # whose it is, for the page to check
    people: list[BookingRow]  # its live bookings, first booked first
    notes: dict[int, list[Row]]  # student id -> earlier tutors' latest notes, before the slot


def tutor_slot_page(db: Session, slot_id: int) -> SlotPage | None:
    """A slot with its tutor's own join link and who booked it, in one query; then the notes
    earlier tutors left on them before it, in a second (none if nobody booked)."""
    slots, people, tutor_id = _tutor_slots(database.rows(db, _slot_page_statement(), {"slot": slot_id}))
    if not slots:
        return None
    [slot] = slots
    notes = latest_notes(db, slot) if people[slot.id] else {}
    return SlotPage(slot=slot, tutor_id=tutor_id, people=people[slot.id], notes=notes)


@cache
def _slot_page_statement() -> Select:
    return _tutor_rows(Slot.tutor_id).where(Slot.id == bindparam("slot"))


def _booking_rows() -> Select:
    return (
        select(Booking.id, Booking.slot_id, Booking.student_id, User.name.label("student_name"), Booking.topic,
               Booking.status, Booking.tutor_note)
        .join(User, User.id == Booking.student_id)
    )


def tutor_booking_row(db: Session, booking_id: int) -> Row:
    """One booking as the tutor's page shows it (for a form shown again with its errors)."""
    return db.execute(_booking_rows().where(Booking.id == booking_id)).one()


@cache
def _latest_notes_statement() -> Select:
    tutor, booked = aliased(User, name="tutor"), aliased(Booking, name="booked")
    # the students of the slot's live bookings, found by the statement itself: no list to
    # bind (an expanding IN), so that it runs as the pages' other reads do (db.rows)
    students = select(booked.student_id).where(booked.slot_id == bindparam("slot"),
                                               booked.status != literal_column("'cancelled'"))
    ranked = (
        select(Booking.student_id, Booking.starts_at, tutor.name.label("tutor_name"), Booking.tutor_note,
               func.row_number().over(partition_by=Booking.student_id,
                                      order_by=(Booking.starts_at.desc(), Booking.id.desc())).label("rank"))
        .join(Slot, Slot.id == Booking.slot_id)
        .join(tutor, tutor.id == Slot.tutor_id)
        .where(Booking.student_id.in_(students), Booking.tutor_note != "", Booking.starts_at < bindparam("before"))
        .subquery()
    )
    return select(ranked).where(ranked.c.rank <= NOTES_SHOWN).order_by(ranked.c.student_id, ranked.c.starts_at.desc())


def latest_notes(db: Session, slot: SlotRow) -> dict[int, list[Row]]:
    """The latest NOTES_SHOWN tutors' notes, before the slot, on each student who booked it, in
    one query."""
    found: dict[int, list[Row]] = {}
    for note in database.rows(db, _latest_notes_statement(), {"slot": slot.id, "before": slot.starts_at}):
        found.setdefault(note.student_id, []).append(note)
    return found
