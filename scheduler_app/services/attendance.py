"""After a session: the tutor marks each student present or absent and leaves a short private
note, which the student's next tutor can read."""

from collections import defaultdict
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..clock import now_utc
from ..db import write_transaction
from ..models import Booking, Slot
from . import ServiceError

NOTE_MAX = 1000
NOTES_SHOWN = 3


def mark(db: Session, booking: Booking, *, present: bool, note: str = "") -> Booking:
    """Record whether the student came, once the session has started (it can be corrected)."""
    with write_transaction(db):
        db.refresh(booking)
        if booking.status == "cancelled":
            raise ServiceError(_l("Cette réservation a été annulée."))
        if booking.starts_at > now_utc():
            raise ServiceError(_l("La séance n'a pas encore commencé : vous pourrez noter la présence ensuite."))
        booking.status = "attended" if present else "absent"
        booking.tutor_note = note.strip()[:NOTE_MAX]
    return booking


def earlier_notes(db: Session, student_ids: Iterable[int], before) -> dict[int, list[Booking]]:
    """The latest tutors' notes on each student before a moment, in one query."""
    ids = list(set(student_ids))
    found: dict[int, list[Booking]] = defaultdict(list)
    if not ids:
        return found
    rows = db.scalars(
        select(Booking)
        .where(Booking.student_id.in_(ids), Booking.tutor_note != "", Booking.starts_at < before)
        .options(joinedload(Booking.slot).joinedload(Slot.tutor))
        .order_by(Booking.starts_at.desc())
    )
    for booking in rows:
        if len(found[booking.student_id]) < NOTES_SHOWN:
            found[booking.student_id].append(booking)
    return found
