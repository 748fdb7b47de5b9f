"""The coordinator's day and week: each session with its tutor, its families, who is marked
present, the messages that failed and the tutors' absences; and a week's planning per tutor."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..models import Booking, Notification, Slot, TutorAbsence, User

# A day's or a week's sessions: bounded, as every page of the centre's.
MOST_SESSIONS = 500


@dataclass
class BoardRow:
    slot: Slot
    bookings: list[Booking] = field(default_factory=list)
    failed: int = 0
    absence: TutorAbsence | None = None


def day_board(db: Session, day: date, zone: ZoneInfo) -> list[BoardRow]:
    """Every session starting on `day` (in `zone`), with its people, failures and absence."""
    rows = [BoardRow(slot) for slot in _slots(db, day, day + timedelta(days=1), zone)]
    ids = [row.slot.id for row in rows]
    if not ids:
        return rows
    by_slot = {row.slot.id: row for row in rows}
    for booking in db.scalars(select(Booking).where(Booking.slot_id.in_(ids), Booking.status != "cancelled")
                              .options(joinedload(Booking.student)).order_by(Booking.id)):
        by_slot[booking.slot_id].bookings.append(booking)
    for slot_id in db.scalars(select(Notification.slot_id).where(Notification.slot_id.in_(ids),
                                                                  Notification.status == "failed")):
        by_slot[slot_id].failed += 1
    for absence in db.scalars(select(TutorAbsence).where(TutorAbsence.slot_id.in_(ids))
                              .order_by(TutorAbsence.id)):
        by_slot[absence.slot_id].absence = absence
    return rows


def week_planning(db: Session, monday: date, zone: ZoneInfo, tutor_id: int | None = None
                  ) -> dict[User, dict[date, list[Slot]]]:
    """The week from `monday`: per tutor (by name), per day, their sessions (cancelled ones left out)."""
    planning: dict[User, dict[date, list[Slot]]] = defaultdict(lambda: defaultdict(list))
    for slot in _slots(db, monday, monday + timedelta(days=7), zone, tutor_id):
        if slot.status == "open":
            planning[slot.tutor][slot.starts_at.astimezone(zone).date()].append(slot)
    return {tutor: dict(days) for tutor, days in sorted(planning.items(), key=lambda item: item[0].name)}


def _slots(db: Session, first: date, end: date, zone: ZoneInfo, tutor_id: int | None = None) -> list[Slot]:
    query = (select(Slot).options(joinedload(Slot.tutor), joinedload(Slot.activity))
             .where(Slot.starts_at >= datetime.combine(first, datetime.min.time(), zone),
                    Slot.starts_at < datetime.combine(end, datetime.min.time(), zone))
             .order_by(Slot.starts_at, Slot.id).limit(MOST_SESSIONS))
    if tutor_id:
        query = query.where(Slot.tutor_id == tutor_id)
    return list(db.scalars(query))
