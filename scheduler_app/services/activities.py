"""The activities the centre offers, as the slot browser's filter lists them."""

from functools import cache

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from ..models import Activity, Slot


@cache
def _offered_statement() -> Select:
    return select(Activity.id, Activity.name).where(Activity.active).order_by(Activity.id)


def offered_activities(db: Session) -> tuple[Row, ...]:
    """The active activities, as (id, name) rows, by id."""
    return tuple(db.connection().execute(_offered_statement()))


def has_sessions(db: Session, activity: Activity) -> bool:
    """Whether any slot was opened for the activity (its kind then stays what it is)."""
    return db.scalar(select(Slot.id).where(Slot.activity_id == activity.id).limit(1)) is not None


def activities_run_by(db: Session, tutor) -> list[Activity]:
    """The active activities a tutor may open sessions of: mediations for mediators only."""
    query = select(Activity).where(Activity.active).order_by(Activity.id)
    if not tutor.mediator:
        query = query.where(Activity.kind != "mediation")
    return list(db.scalars(query))
