"""The slot browser: future open slots with a free place, a page at a time, filtered."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, aliased, contains_eager

from ..models import FREE_SLOT, Activity, Slot, TutorProfile, User
from ..paging import after_mark, literal_limit, mark_values

BROWSE_LIMIT = 60  # slots offered beside a taken one, or on a tutor's profile
BROWSE_PAGE = 10  # slots on a page of the browser: a phone screen or two, and a link to the next


@dataclass(frozen=True)
class SlotFilter:
    activity_id: int | None = None
    subject: str = ""
    level: str = ""
    language: str = ""
    tutor_id: int | None = None
    day_start: datetime | None = None  # the chosen day, as a UTC interval in the viewer's zone
    day_end: datetime | None = None
    kind: str = ""  # an activity kind: students see homework help, mediation is for adults

    def values(self) -> dict:
        """The chosen filters as values to bind; their keys say which conditions apply."""
        values: dict = {}
        if self.activity_id:
            values["activity_id"] = self.activity_id
        if self.tutor_id:
            values["tutor_id"] = self.tutor_id
        if self.subject:
            values["subject"] = self.subject
        if self.level:
            values["level"] = self.level
        if self.language:
            values["language"] = f",{self.language},"
        if self.day_start and self.day_end:
            values["day_start"], values["day_end"] = self.day_start, self.day_end
        if self.kind:
            values["kind"] = self.kind
        return values


# The tutor's languages, read per slot: a join from TutorProfile let PostgreSQL start from every
# tutor who speaks the language and fetch each one's slots (3,426 buffers at scale 100, against
# 460 reading the free slots of the day in order through ix_slot_free_subject_level_starts_at_id).
_PROFILE = aliased(TutorProfile, name="profile")
_TUTOR_LANGUAGES = (
    select(_PROFILE.languages).where(_PROFILE.user_id == Slot.tutor_id).correlate(Slot).scalar_subquery()
)


def _free_slot_conditions(applied: frozenset[str]) -> list:
    """Future open slots with a free place, by an active tutor, and the filters in `applied`
    (over Slot joined to its tutor, User, its Activity, and TutorProfile)."""
    conditions = [FREE_SLOT, Slot.starts_at > bindparam("now"), User.active]
    if "activity_id" in applied:
        conditions.append(Slot.activity_id == bindparam("activity_id"))
    if "tutor_id" in applied:
        conditions.append(Slot.tutor_id == bindparam("tutor_id"))
    if "subject" in applied:
        conditions.append(Slot.subject == bindparam("subject"))
    if "level" in applied:
        conditions.append(Slot.level == bindparam("level"))
    if "language" in applied:
        conditions.append(_TUTOR_LANGUAGES.contains(bindparam("language")))
    if "day_start" in applied:
        conditions += [Slot.starts_at >= bindparam("day_start"), Slot.starts_at < bindparam("day_end")]
    if "kind" in applied:
        conditions.append(Activity.kind == bindparam("kind"))
    return conditions


# Statements are built once per shape (which filters apply, whether paged) and their values bound
# at each run: building a statement costs more than running it.
@cache
def _free_slots_statement(applied: frozenset[str], paged: bool, limit: int) -> Select:
    query = (
        select(
            Slot.id, Slot.starts_at, Slot.ends_at, Activity.name.label("activity"), Slot.subject, Slot.level,
            Slot.tutor_id, User.name.label("tutor_name"), TutorProfile.languages,
            (Slot.capacity - Slot.booked).label("places_left"),
        )
        .join(User, User.id == Slot.tutor_id)
        .join(Activity, Activity.id == Slot.activity_id)
        .outerjoin(TutorProfile, TutorProfile.user_id == User.id)
        .where(*_free_slot_conditions(applied))
        .order_by(Slot.starts_at, Slot.id)
        .limit(literal_limit(limit + 1))
    )
    if paged:
        query = query.where(after_mark(Slot.starts_at, Slot.id))
    return query


def free_slot_rows(db: Session, now: datetime, chosen: SlotFilter, *, after: tuple[datetime, int] | None = None,
                   limit: int = BROWSE_PAGE) -> tuple[list, bool]:
    """A page of the slot browser: the free slots after `after` (the start and id of the
    previous page's last one), soonest first, as rows of exactly what a card shows
    (templates/bookings/_free_slot.html); and whether more follow."""
    filters = chosen.values()
    statement = _free_slots_statement(frozenset(filters), after is not None, limit)
    rows = db.connection().execute(statement, {"now": now, **filters, **mark_values(after)}).all()
    return rows[:limit], len(rows) > limit


@cache
def _browse_statement(applied: frozenset[str]) -> Select:
    return (
        select(Slot)
        .join(Slot.tutor)
        .join(Slot.activity)
        .options(contains_eager(Slot.tutor).joinedload(User.tutor_profile), contains_eager(Slot.activity))
        .where(*_free_slot_conditions(applied))
        .order_by(Slot.starts_at, Slot.id)
        .limit(literal_limit(BROWSE_LIMIT))
    )


def browse_slots(db: Session, now: datetime, chosen: SlotFilter) -> Sequence[Slot]:
    """Future open slots with a free place, soonest first, matching the filters, as Slot objects
    (a tutor's profile, the slots offered beside a taken one)."""
    filters = chosen.values()
    return db.scalars(_browse_statement(frozenset(filters)), {"now": now, **filters}).unique().all()
