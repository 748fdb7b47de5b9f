"""After a session: the tutor marks each student present or absent and leaves a short private
note, which the student's next tutor can read."""

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..clock import now_utc
from ..db import write_transaction
from ..models import Booking
from . import ServiceError

NOTE_MAX = 1000
NOTES_SHOWN = 3  # earlier tutors' notes shown beside a student


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
