"""The coordinator's view of every session the centre runs."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..models import Slot

CENTRE_LIMIT = 200


@dataclass(frozen=True)
class CentreFilter:
    day_start: datetime | None = None
    day_end: datetime | None = None
    tutor_id: int | None = None
    activity_id: int | None = None
    status: str = ""  # "", "open", "booked", "cancelled"


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
