"""The activities the centre offers, as the slot browser's filter lists them."""

from functools import cache

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from ..models import Activity


@cache
def _offered_statement() -> Select:
    return select(Activity.id, Activity.name).where(Activity.active).order_by(Activity.id)


def offered_activities(db: Session) -> tuple[Row, ...]:
    """The active activities, as (id, name) rows, by id."""
    return tuple(db.connection().execute(_offered_statement()))
