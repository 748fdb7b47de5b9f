"""The activities the centre offers, as the slot browser's filter lists them.

A coordinator changes them a few times a year, and the browser, the busiest page, would read
them on every request. Each process keeps the list for ACTIVITIES_KEPT_SECONDS; a change made
through this process is seen at once (forget_offered_activities), one made through another
within that time.
"""

import time
from functools import cache

from flask import current_app
from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from ..models import Activity

ACTIVITIES_KEPT_SECONDS = 60


@cache
def _offered_statement() -> Select:
    return select(Activity.id, Activity.name).where(Activity.active).order_by(Activity.id)


def offered_activities(db: Session) -> tuple[Row, ...]:
    """The active activities, as (id, name) rows, by id."""
    kept = current_app.extensions.get("lien_activities")
    if kept is not None and kept[0] > time.monotonic():
        return kept[1]
    rows = tuple(db.connection().execute(_offered_statement()))
    seconds = current_app.config.get("ACTIVITIES_KEPT_SECONDS", ACTIVITIES_KEPT_SECONDS)
    current_app.extensions["lien_activities"] = (time.monotonic() + seconds, rows)
    return rows


def forget_offered_activities() -> None:
    """After a change to the activities: the next request reads them again."""
    current_app.extensions.pop("lien_activities", None)
