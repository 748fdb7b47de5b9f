"""The activities the centre offers (homework help, family mediation, …), and the coordinator's changes to them."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import write_transaction
from ..models import Activity, Slot
from . import ServiceError
from .slots import check_session_minutes


@cache
def _active_statement() -> Select:
    return select(Activity.id, Activity.name, Activity.duration_minutes).where(Activity.active).order_by(Activity.id)


def active_activities(db: Session) -> tuple[Row, ...]:
    """The activities offered now, by id, as (id, name, duration_minutes) rows: what a slot can be for."""
    return tuple(db.connection().execute(_active_statement()))


def all_activities(db: Session) -> Sequence[Activity]:
    """Every activity, offered or not, by id: the coordinator's list and filter."""
    return db.scalars(select(Activity).order_by(Activity.id)).all()


@dataclass(frozen=True)
class ActivityChange:
    """What the coordinator's form sets on an activity."""

    name: str
    duration_minutes: int
    capacity: int
    active: bool
    kind: str = "homework"  # or "mediation" (models.ACTIVITY_KINDS)
    name_en: str = ""  # the name English readers see; empty: Lien's translation, else the name


def save_activity(db: Session, activity: Activity | None, change: ActivityChange) -> Activity:
    """Add an activity (`activity` None) or change one; a name another activity has is refused."""
    name = change.name.strip()
    if not name:
        raise ServiceError(_l("Écrivez le nom de l'activité."), field="name")
    check_session_minutes(change.duration_minutes, "duration_minutes")
    if change.capacity < 1:
        raise ServiceError(_l("Il faut au moins une place."), field="capacity")
    try:
        with write_transaction(db):
            target = activity or Activity()
            target.name, target.duration_minutes = name, change.duration_minutes
            target.capacity, target.active, target.kind = change.capacity, change.active, change.kind
            target.name_en = change.name_en.strip()
            db.add(target)
    except IntegrityError as error:  # the unique name: the only constraint the checks above leave
        raise ServiceError(_l("Une activité porte déjà ce nom. Choisissez-en un autre."), field="name") from error
    return target


def has_sessions(db: Session, activity: Activity) -> bool:
    """Whether any slot was opened for the activity (its kind then stays what it is)."""
    return db.scalar(select(Slot.id).where(Slot.activity_id == activity.id).limit(1)) is not None


def activities_run_by(db: Session, tutor) -> list[Activity]:
    """The active activities a tutor may open sessions of: mediations for mediators only."""
    query = select(Activity).where(Activity.active).order_by(Activity.id)
    if not tutor.mediator:
        query = query.where(Activity.kind != "mediation")
    return list(db.scalars(query))
