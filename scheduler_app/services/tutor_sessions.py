"""A tutor's side: their sessions to come, those to mark, one session's page, and the notes
earlier tutors left on who is coming."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple

from sqlalchemy import Row, Select, and_, bindparam, func, literal_column, select
from sqlalchemy.orm import Session, aliased, joinedload, with_expression

from ..models import LIVE_BOOKING, Activity, Booking, JoinToken, Slot, User
from ..paging import after_mark, literal_limit, mark_values
from .attendance import NOTES_SHOWN
from .confidential import NOTE, TOPIC, clearances, readable
from .family import LONGEST_SESSION

TUTOR_PAGE = 10  # a tutor's sessions per page, as a family's
MARK_SHOWN = 8  # past sessions offered for attendance at once
MARKING_DAYS = 14  # how long a past session stays offered for attendance
TUTOR, NOW, MARKING_SINCE = bindparam("tutor"), bindparam("now"), bindparam("marking_since")


class SlotRow(NamedTuple):
    """A slot as the tutor's pages show it."""

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
    """A booking as the tutor's pages show it."""

    id: int
    slot_id: int
    student_id: int
    student_name: str
    topic: str
    status: str
    tutor_note: str


@dataclass(frozen=True)
class TutorSlots:
    """Some of a tutor's slots, with who booked each."""

    slots: list[SlotRow]  # soonest first
    people: dict[int, list[BookingRow]]  # slot id -> its live bookings, first booked first
    to_mark: int  # past sessions (MARKING_DAYS) where a student is still to be marked
    more: bool = False  # whether more slots follow (a page of them)


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


def _to_mark_count():
    """How many past sessions the tutor has to mark."""
    past = aliased(Slot, name="past")
    return select(func.count(past.id)).where(*_to_mark(past)).scalar_subquery()


def _tutor_rows(extra, page=None) -> Select:
    """A tutor's slots, one row per live booking (or one for none), with the tutor's own join
    link, then `extra` (a value the same on every row): the slots whose ids `page` selects, or
    those of the caller's WHERE."""
    student = aliased(User, name="student")
    query = select(
        Slot.id.label("slot_id"), Slot.starts_at, Slot.ends_at, Slot.status, Activity.name.label("activity"),
        Slot.subject, Slot.level, Slot.booked, Slot.capacity, JoinToken.token,
        Booking.id.label("booking_id"), Booking.student_id, student.name.label("student_name"),
        readable(TOPIC).label("topic"), Booking.status.label("booking_status"), readable(NOTE).label("tutor_note"),
        extra.label("extra"),
    )
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


def _grouped(rows, extra=None) -> tuple[list[SlotRow], dict[int, list[BookingRow]], object]:
    """The slots of _tutor_rows' rows, their live bookings by slot id, and the extra column's
    value (`extra` when there is no row)."""
    slots: dict[int, SlotRow] = {}
    people: dict[int, list[BookingRow]] = {}
    for row in rows:
        if row.slot_id not in slots:
            slots[row.slot_id] = SlotRow(row.slot_id, row.starts_at, row.ends_at, row.status, row.activity,
                                         row.subject, row.level, row.booked, row.capacity, row.token)
            people[row.slot_id] = []
        if row.booking_id is not None:
            people[row.slot_id].append(BookingRow(row.booking_id, row.slot_id, row.student_id, row.student_name,
                                                  row.topic, row.booking_status, row.tutor_note))
        extra = row.extra
    return list(slots.values()), people, extra


@cache
def _coming_statement(paged: bool, limit: int) -> Select:
    page = (
        select(Slot.id)
        .where(Slot.tutor_id == TUTOR, Slot.starts_at > bindparam("started_since"), Slot.ends_at > NOW)
        .order_by(Slot.starts_at, Slot.id)
        .limit(literal_limit(limit + 1))
    )
    if paged:
        page = page.where(after_mark(Slot.starts_at, Slot.id))
    return _tutor_rows(_to_mark_count(), page.subquery())


@cache
def _to_mark_count_statement() -> Select:
    return select(_to_mark_count())


def tutor_sessions(db: Session, tutor: User, now: datetime, *, after: tuple[datetime, int] | None = None,
                   limit: int = TUTOR_PAGE) -> TutorSlots:
    """A page of a tutor's sessions not yet over, soonest first, after `after` (the start and id
    of the previous page's last one), with who booked them and the tutor's join links; and how
    many past sessions are to be marked. One query (two when there is nothing to come)."""
    values = {"tutor": tutor.id, "now": now, "started_since": now - LONGEST_SESSION,
              "marking_since": now - timedelta(days=MARKING_DAYS), **mark_values(after), **clearances(tutor)}
    connection = db.connection()
    slots, people, to_mark = _grouped(connection.execute(_coming_statement(after is not None, limit), values))
    if not slots:  # no row to carry the count
        to_mark = connection.execute(_to_mark_count_statement(), values).scalar_one()
    return TutorSlots(slots=slots[:limit], people=people, to_mark=to_mark, more=len(slots) > limit)


@cache
def _to_mark_statement() -> Select:
    page = select(Slot.id).where(*_to_mark(Slot)).order_by(Slot.starts_at.desc(), Slot.id.desc())
    return _tutor_rows(_to_mark_count(), page.limit(literal_limit(MARK_SHOWN)).subquery())


def tutor_to_mark(db: Session, tutor: User, now: datetime) -> TutorSlots:
    """The latest MARK_SHOWN past sessions of a tutor's (MARKING_DAYS back) where a student is
    still to be marked present or absent, oldest first, with all their live bookings; and how
    many such sessions there are in all. One query."""
    values = {"tutor": tutor.id, "now": now, "marking_since": now - timedelta(days=MARKING_DAYS),
              **clearances(tutor)}
    slots, people, to_mark = _grouped(db.connection().execute(_to_mark_statement(), values), 0)
    return TutorSlots(slots=slots, people=people, to_mark=to_mark)


@dataclass(frozen=True)
class SlotPage:
    """One of a tutor's slots as its page shows it."""

    slot: SlotRow
    tutor_id: int  # whose it is, for the page to check
    people: list[BookingRow]  # its live bookings, first booked first
    notes: dict[int, list[Row]]  # student id -> earlier tutors' latest notes, before the slot


@cache
def _slot_page_statement() -> Select:
    return _tutor_rows(Slot.tutor_id).where(Slot.id == bindparam("slot"))


def tutor_slot_page(db: Session, slot_id: int, viewer: User) -> SlotPage | None:
    """A slot with its tutor's own join link and who booked it, in one query; then the notes
    earlier tutors left on them before it, in a second (none if nobody booked); topics and
    notes as `viewer` may read them."""
    values = {"slot": slot_id, **clearances(viewer)}
    slots, people, tutor_id = _grouped(db.connection().execute(_slot_page_statement(), values))
    if not slots:
        return None
    [slot] = slots
    notes = latest_notes(db, slot, viewer) if people[slot.id] else {}
    return SlotPage(slot=slot, tutor_id=tutor_id, people=people[slot.id], notes=notes)


def tutor_booking_row(db: Session, booking_id: int, viewer: User) -> BookingRow:
    """One booking as the tutor's page shows it (for a form shown again with its errors)."""
    row = db.execute(
        select(Booking.id, Booking.slot_id, Booking.student_id, User.name.label("student_name"), readable(TOPIC),
               Booking.status, readable(NOTE))
        .join(User, User.id == Booking.student_id)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Activity, Activity.id == Slot.activity_id)
        .where(Booking.id == booking_id),
        clearances(viewer),
    ).one()
    return BookingRow(*row)


@cache
def _latest_notes_statement() -> Select:
    tutor, booked = aliased(User, name="tutor"), aliased(Booking, name="booked")
    here, here_activity = aliased(Slot, name="here"), aliased(Activity, name="here_activity")
    students = select(booked.student_id).where(booked.slot_id == bindparam("slot"),
                                               booked.status != literal_column("'cancelled'"))
    # Notes of this slot's kind only: a mediator's never reach a homework page, nor the reverse.
    kind_here = (select(here_activity.kind).join(here, here.activity_id == here_activity.id)
                 .where(here.id == bindparam("slot")).scalar_subquery())
    note = readable(NOTE)
    ranked = (
        select(Booking.student_id, Booking.starts_at, tutor.name.label("tutor_name"), note.label("tutor_note"),
               func.row_number().over(partition_by=Booking.student_id,
                                      order_by=(Booking.starts_at.desc(), Booking.id.desc())).label("rank"))
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Activity, Activity.id == Slot.activity_id)
        .join(tutor, tutor.id == Slot.tutor_id)
        .where(Booking.student_id.in_(students), note != "", Activity.kind == kind_here,
               Booking.starts_at < bindparam("before"))
        .subquery()
    )
    return select(ranked).where(ranked.c.rank <= NOTES_SHOWN).order_by(ranked.c.student_id, ranked.c.starts_at.desc())


def latest_notes(db: Session, slot: SlotRow, viewer: User) -> dict[int, list[Row]]:
    """The latest NOTES_SHOWN notes that `viewer` may read, left before the slot in sessions of
    its kind, on each student who booked it, in one query."""
    found: dict[int, list[Row]] = {}
    values = {"slot": slot.id, "before": slot.starts_at, **clearances(viewer)}
    for note in db.connection().execute(_latest_notes_statement(), values):
        found.setdefault(note.student_id, []).append(note)
    return found


def tutor_slots(db: Session, tutor: User, since: datetime) -> Sequence[Slot]:
    """A tutor's slots ending after `since`, with their activities (a calendar feed)."""
    return db.scalars(
        select(Slot)
        .where(Slot.tutor_id == tutor.id, Slot.ends_at > since)
        .options(joinedload(Slot.activity))
        .order_by(Slot.starts_at, Slot.id)
    ).all()


def bookings_of_slots(db: Session, slots: Sequence[Slot], viewer: User | None = None) -> dict[int, list[Booking]]:
    """The live bookings of these slots, by slot id, with their students, in one query; each
    booking's `shown_topic` is its topic as `viewer` may read it ("" without a viewer)."""
    grouped: dict[int, list[Booking]] = {slot.id: [] for slot in slots}
    if not slots:
        return grouped
    rows = db.scalars(
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Activity, Activity.id == Slot.activity_id)
        .where(Booking.slot_id.in_(grouped), LIVE_BOOKING)
        .options(joinedload(Booking.student), with_expression(Booking.shown_topic, readable(TOPIC)))
        .order_by(Booking.created_at, Booking.id)
        .execution_options(populate_existing=True),
        clearances(viewer),
    )
    for booking in rows:
        grouped[booking.slot_id].append(booking)
    return grouped
