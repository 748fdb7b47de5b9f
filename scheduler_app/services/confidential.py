"""Who may read what a session says: a booking's topic (a mediation's reason) and the note its
tutor (or mediator) left. One rule, `may_read`; every read of those two columns goes through it,
in Python (`may_read`, `shown`) or in SQL (`readable`, whose bound values `clearances` computes
with `may_read` itself), so a page, a message or an export cannot show more than it allows.

- Mediation: only mediators (staff marked so) and coordinators marked for mediation, and only on
  a page; nothing that leaves Lien (email, SMS, calendar file, feed, export) carries it.
- Homework help: the topic to the family, tutors and coordinators; the note to tutors and
  coordinators. Who sees which booking at all is the caller's query (a tutor their slots, a
  family their bookings).
"""

from sqlalchemy import Boolean, ColumnElement, and_, bindparam, case, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from ..models import Activity, Booking, Slot, User

HOMEWORK, MEDIATION = "homework", "mediation"
TOPIC, NOTE = "topic", "note"
PAGE, OUTSIDE = "page", "outside"  # read on a page of Lien's, or sent out of it


def may_read(viewer: User | None, item: str, kind: str, *, where: str = PAGE) -> bool:
    """Whether `viewer` may read a booking's `item` (TOPIC or NOTE) in an activity of `kind`,
    on a page (PAGE) or in something sent out (OUTSIDE: a message, a calendar file, an export)."""
    if viewer is None:
        return False
    if kind == MEDIATION:
        return where == PAGE and viewer.mediator and viewer.role in ("tutor", "coordinator")
    if item == TOPIC:
        return viewer.role in ("student", "parent", "tutor", "coordinator")
    return viewer.role in ("tutor", "coordinator")


def shown(viewer: User | None, booking: Booking, item: str, kind: str, *, where: str = PAGE) -> str:
    """The booking's topic or note as `viewer` may read it: the text, or "" (a loaded booking)."""
    if not may_read(viewer, item, kind, where=where):
        return ""
    return booking.topic if item == TOPIC else booking.tutor_note


def _parameter(item: str, kind: str):
    return bindparam(f"may_read_{item}_{kind}", type_=Boolean)


def readable(item: str, kind_column=None) -> ColumnElement:
    """The booking's topic or note in a statement, "" for a viewer who may not read it: the
    statement's values must include `clearances(viewer)`. `kind_column` is the activity's kind
    (Activity.kind unless the statement names it otherwise)."""
    column = Booking.topic if item == TOPIC else Booking.tutor_note
    kind_column = Activity.kind if kind_column is None else kind_column
    return case(
        (and_(kind_column == literal_column(f"'{MEDIATION}'"), _parameter(item, MEDIATION)), column),
        (and_(kind_column != literal_column(f"'{MEDIATION}'"), _parameter(item, HOMEWORK)), column),
        else_=literal(""),
    )


def clearances(viewer: User | None, *, where: str = PAGE) -> dict[str, bool]:
    """The values `readable` columns need, decided by `may_read` for this viewer."""
    return {f"may_read_{item}_{kind}": may_read(viewer, item, kind, where=where)
            for item in (TOPIC, NOTE) for kind in (HOMEWORK, MEDIATION)}


def booking_texts(db: Session, viewer: User | None, booking_id: int) -> tuple[str, str]:
    """(topic, note) of one booking as `viewer` may read them on a page."""
    row = db.execute(
        select(readable(TOPIC).label("topic"), readable(NOTE).label("note"))
        .select_from(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Activity, Activity.id == Slot.activity_id)
        .where(Booking.id == booking_id),
        clearances(viewer),
    ).one()
    return row.topic, row.note


def family_sees(person) -> ColumnElement:
    """Among a family's bookings, those `person` (an id, a column or a parameter) sees: a
    mediation only when it is theirs or they booked it; a parent linked to the same child never
    sees one that someone else booked."""
    mediation = (select(Slot.id).join(Activity, Activity.id == Slot.activity_id)
                 .where(Slot.id == Booking.slot_id, Activity.kind == literal_column(f"'{MEDIATION}'")).exists())
    return or_(Booking.student_id == person, Booking.booked_by_id == person, ~mediation)


def family_may_see(viewer: User, booking: Booking) -> bool:
    """`family_sees` for one loaded booking (its slot's activity loaded or loadable)."""
    return (booking.student_id == viewer.id or booking.booked_by_id == viewer.id
            or booking.slot.activity.kind != MEDIATION)


def kind_of_slot(db: Session, slot_id: int) -> str:
    """The kind of the activity a slot is for."""
    return db.scalar(select(Activity.kind).join(Slot, Slot.activity_id == Activity.id).where(Slot.id == slot_id))
