"""Tutors' weekly availability: "every Wednesday 14:00–17:00, 45-minute sessions, from <date> to
<date>, except <dates>", materialised as bookable slots some weeks ahead.

Running the materialisation twice, or twice at once, creates nothing twice. The schema holds at
most one slot per (rule, start); each rule is materialised while its row is locked (FOR UPDATE on
PostgreSQL; on SQLite writers queue behind BEGIN IMMEDIATE); and an insert that still collides
with a concurrent writer's is rolled back alone (a savepoint) and left out.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from calendars import expand_weekly, split_into_sessions
from rooms import new_room_name

from ..clock import now_utc
from ..db import write_transaction
from ..models import WEEKDAY_CODES, Activity, AvailabilityRule, Booking, JoinToken, Notification, Slot, User
from . import ServiceError
from .centre_calendar import closed_days
from .localtime import check_day
from .slots import check_may_run, check_session_minutes
from .waitlist import offer_new_slots

DEFAULT_WEEKS_AHEAD = 4
MAX_CAPACITY = 30

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class WeeklyPlan:
    """What a tutor fills in: days, a daily window cut into sessions, the dates it holds."""

    activity_id: int
    weekdays: tuple[str, ...]  # RFC 5545 BYDAY codes: "MO", "WE", …
    start_time: time
    end_time: time
    session_minutes: int
    valid_from: date
    valid_until: date | None = None
    skipped: tuple[date, ...] = ()
    capacity: int = 1
    subject: str = ""
    level: str = ""

    @property
    def rrule(self) -> str:
        days = [code for code in WEEKDAY_CODES if code in self.weekdays]
        return "FREQ=WEEKLY;BYDAY=" + ",".join(days)


@dataclass
class Materialised:
    """What a materialisation did: the slots it opened, and those it left out because the tutor
    already has a slot at that time (rule, start, end)."""

    created: list[Slot] = field(default_factory=list)
    overlapping: list[tuple[AvailabilityRule, datetime, datetime]] = field(default_factory=list)


@dataclass
class RuleChange:
    """A rule saved or ended: its future free slots removed, booked ones kept, new ones opened."""

    rule: AvailabilityRule
    removed: int = 0
    still_booked: list[Slot] = field(default_factory=list)
    created: list[Slot] = field(default_factory=list)
    overlapping: list[tuple[AvailabilityRule, datetime, datetime]] = field(default_factory=list)


def weeks_ahead() -> int:
    """How many weeks ahead slots are opened (AVAILABILITY_WEEKS_AHEAD; 4 outside an app)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config["AVAILABILITY_WEEKS_AHEAD"]
    return DEFAULT_WEEKS_AHEAD


def check_plan(plan: WeeklyPlan, today: date) -> None:
    """Raise a ServiceError naming the field to change, or return if the plan can be kept."""
    if not plan.weekdays or any(code not in WEEKDAY_CODES for code in plan.weekdays):
        raise ServiceError(_l("Cochez au moins un jour de la semaine."), field="weekdays")
    if plan.end_time <= plan.start_time:
        raise ServiceError(_l("L'heure de fin doit venir après l'heure de début."), field="end_time")
    check_session_minutes(plan.session_minutes, "session_minutes")
    if _window(plan.start_time, plan.end_time) < timedelta(minutes=plan.session_minutes):
        raise ServiceError(
            _l("Une séance de %(minutes)d minutes ne tient pas entre l'heure de début et l'heure de fin.",
               minutes=plan.session_minutes),
            field="session_minutes",
        )
    if not 1 <= plan.capacity <= MAX_CAPACITY:
        raise ServiceError(_l("Il faut entre 1 et 30 places."), field="capacity")
    check_day(plan.valid_from, today, "valid_from")
    if plan.valid_until is not None:
        check_day(plan.valid_until, today, "valid_until")
    for day in plan.skipped:
        check_day(day, today, "skipped_dates")
    if plan.valid_until is not None:
        if plan.valid_until < plan.valid_from:
            raise ServiceError(_l("La date de fin doit venir après la date de début."), field="valid_until")
        if plan.valid_until < today:
            raise ServiceError(_l("Cette date de fin est déjà passée."), field="valid_until")


def save_rule(db: Session, tutor: User, plan: WeeklyPlan, rule: AvailabilityRule | None = None,
              *, now: datetime | None = None) -> RuleChange:
    """Create a rule (or change `rule`) and open its slots now. A change first removes the rule's
    future free slots; booked ones are kept and listed in the answer."""
    now = now or now_utc()
    tz = tutor.timezone
    check_plan(plan, now.astimezone(ZoneInfo(tz)).date())
    with write_transaction(db):
        activity = db.get(Activity, plan.activity_id)
        check_may_run(activity, tutor)
        if activity.kind == "mediation" and plan.capacity != 1:
            raise ServiceError(_l("Un rendez-vous de médiation a une seule place."), field="capacity")
        if rule is None:
            rule = AvailabilityRule(tutor_id=tutor.id)
            db.add(rule)
            change = RuleChange(rule)
        else:
            rule = _locked(db, rule.id)
            change = _release_future_slots(db, rule, now)
        rule.activity_id = activity.id
        rule.subject, rule.level, rule.capacity = plan.subject, plan.level, plan.capacity
        rule.rrule = plan.rrule
        rule.start_time, rule.end_time = plan.start_time, plan.end_time
        rule.session_minutes = plan.session_minutes
        rule.timezone = tz
        rule.valid_from, rule.valid_until = plan.valid_from, plan.valid_until
        rule.skipped_dates = sorted({day.isoformat() for day in plan.skipped})
        rule.active = True
        db.flush()
        report = Materialised()
        horizon_end = now + timedelta(weeks=weeks_ahead())
        _materialise_rule(db, rule, now, horizon_end, report, _closed(db, now, horizon_end))
        offer_new_slots(db, report.created, now)
    change.created, change.overlapping = report.created, report.overlapping
    return change


def end_rule(db: Session, rule: AvailabilityRule, *, now: datetime | None = None) -> RuleChange:
    """Stop a rule: no more slots from it, its future free slots removed, booked ones kept."""
    now = now or now_utc()
    with write_transaction(db):
        rule = _locked(db, rule.id)
        change = _release_future_slots(db, rule, now)
        rule.active = False
    return change


def materialise(db: Session, now: datetime, *, weeks: int | None = None,
                rule_ids: list[int] | None = None) -> Materialised:
    """Open the slots of every active rule (or of `rule_ids`) from `now` to `weeks` ahead
    (AVAILABILITY_WEEKS_AHEAD by default). Run daily by the worker and on save; safe to repeat."""
    horizon_end = now + timedelta(weeks=weeks or weeks_ahead())
    query = (
        select(AvailabilityRule.id)
        .join(User, User.id == AvailabilityRule.tutor_id)
        .join(Activity, Activity.id == AvailabilityRule.activity_id)
        .where(AvailabilityRule.active, User.active, Activity.active)
        .order_by(AvailabilityRule.id)  # one order for every run: concurrent runs never deadlock
    )
    if rule_ids is not None:
        query = query.where(AvailabilityRule.id.in_(rule_ids))
    report = Materialised()
    closed = _closed(db, now, horizon_end)
    for rule_id in db.scalars(query).all():
        with write_transaction(db):
            rule = _locked(db, rule_id)
            if rule.active:  # it may have ended while this run waited for it
                opened_before = len(report.created)
                _materialise_rule(db, rule, now, horizon_end, report, closed)
                offer_new_slots(db, report.created[opened_before:], now)
    return report


def release_closed_days(db: Session, now: datetime) -> list[Slot]:
    """After the centre's calendar changed: remove the future free slots weekly availability
    opened on days now closed; return the booked ones, kept for the coordinator to decide."""
    with write_transaction(db):
        future = db.scalars(
            select(Slot).where(Slot.rule_id.is_not(None), Slot.status == "open", Slot.starts_at > now)
            .order_by(Slot.starts_at)
        ).all()
        if not future:
            return []
        zones = {rule.id: ZoneInfo(rule.timezone) for rule in db.scalars(
            select(AvailabilityRule).where(AvailabilityRule.id.in_({slot.rule_id for slot in future})))}
        closed = _closed(db, future[0].starts_at, future[-1].ends_at)
        on_closed_days = [slot for slot in future
                          if slot.starts_at.astimezone(zones[slot.rule_id]).date() in closed]
        still_booked = [slot for slot in on_closed_days if slot.booked > 0]
        _remove_free_slots(db, [slot for slot in on_closed_days if slot.booked == 0], now)
    return still_booked


def rule_sessions(rule: AvailabilityRule, now: datetime, horizon_end: datetime,
                  closed: frozenset[date] = frozenset()) -> list[Interval]:
    """The UTC sessions a rule asks for, from `now` until its windows start at `horizon_end`,
    leaving out its own skipped dates and the centre's `closed` days."""
    zone = ZoneInfo(rule.timezone)
    first_day = max(rule.valid_from, now.astimezone(zone).date())
    if rule.valid_until is not None and rule.valid_until < first_day:
        return []
    # The window is wall-clock (14:00 to 17:00 stays so in summer and winter): expand_weekly
    # anchors each day's start in the rule's zone, and split_into_sessions cuts elapsed time.
    windows = expand_weekly(
        rule.rrule,
        first_day=first_day,
        local_start=rule.start_time,
        duration=_window(rule.start_time, rule.end_time),
        tz=rule.timezone,
        until=rule.valid_until,
        skip=set(rule.skipped) | closed,
        horizon_end=horizon_end,
    )
    length = timedelta(minutes=rule.session_minutes)
    return [
        (start, end)
        for window_start, window_end in windows
        for start, end in split_into_sessions(window_start, window_end, length)
        if start > now
    ]


def _materialise_rule(db: Session, rule: AvailabilityRule, now: datetime, horizon_end: datetime,
                      report: Materialised, closed: frozenset[date]) -> None:
    """Inside a write transaction that holds the rule: open its missing slots."""
    wanted = rule_sessions(rule, now, horizon_end, closed)
    if not wanted:
        return
    first, last = wanted[0][0], wanted[-1][1]
    # Any slot the rule already made at that start counts, cancelled ones too: a session the
    # tutor cancelled by hand does not come back the next day.
    # One statement, so one snapshot: the rule's own slots and the tutor's open ones read apart
    # could straddle a concurrent run's commit and take that run's slots for someone else's.
    nearby = db.scalars(
        select(Slot).where(
            Slot.tutor_id == rule.tutor_id, Slot.starts_at < last, Slot.ends_at > first,
            or_(Slot.rule_id == rule.id, Slot.status == "open"),
        )
    ).all()
    made = {slot.starts_at for slot in nearby if slot.rule_id == rule.id}
    busy = [(slot.starts_at, slot.ends_at) for slot in nearby if slot.status == "open"]
    for start, end in wanted:
        if start in made:
            continue
        if any(taken_start < end and start < taken_end for taken_start, taken_end in busy):
            report.overlapping.append((rule, start, end))
            continue
        slot = Slot(
            tutor_id=rule.tutor_id, activity_id=rule.activity_id, starts_at=start, ends_at=end,
            capacity=rule.capacity, subject=rule.subject, level=rule.level, room_name=new_room_name(),
            rule_id=rule.id,
        )
        try:
            with db.begin_nested():
                db.add(slot)
                db.flush()
                db.add(JoinToken(slot_id=slot.id, user_id=rule.tutor_id))
                db.flush()
        except IntegrityError:
            # A concurrent writer got there first: this rule's twin of the slot (unique
            # rule_id, starts_at), or on PostgreSQL an overlapping slot (exclusion constraint).
            twin = db.scalar(select(Slot.id).where(Slot.rule_id == rule.id, Slot.starts_at == start))
            if twin is None:
                report.overlapping.append((rule, start, end))
            continue
        busy.append((start, end))
        report.created.append(slot)


def _release_future_slots(db: Session, rule: AvailabilityRule, now: datetime) -> RuleChange:
    """Take away the rule's future open slots nobody booked; keep and list the booked ones.

    A slot that never had a booking or a message is deleted; one that did (a booking since
    cancelled) is cancelled and detached from the rule, so that history stays whole and the
    rule may open a slot at that time again.
    """
    future = db.scalars(
        select(Slot).where(Slot.rule_id == rule.id, Slot.status == "open", Slot.starts_at > now)
        .order_by(Slot.starts_at)
    ).all()
    free = [slot for slot in future if slot.booked == 0]
    change = RuleChange(rule, removed=len(free), still_booked=[slot for slot in future if slot.booked > 0])
    _remove_free_slots(db, free, now)
    return change


def _remove_free_slots(db: Session, free: list[Slot], now: datetime) -> None:
    """Delete free slots that never had a booking or a message; cancel and detach the others."""
    if not free:
        return
    free_ids = [slot.id for slot in free]
    with_history = set(db.scalars(select(Booking.slot_id).where(Booking.slot_id.in_(free_ids))))
    with_history |= set(db.scalars(select(Notification.slot_id).where(Notification.slot_id.in_(free_ids))))
    for slot in free:
        if slot.id in with_history:
            slot.status, slot.cancelled_at, slot.rule_id = "cancelled", now, None
            slot.sequence += 1
    clean = [slot_id for slot_id in free_ids if slot_id not in with_history]
    if clean:
        db.execute(delete(JoinToken).where(JoinToken.slot_id.in_(clean)).execution_options(synchronize_session=False))
        for slot in free:
            if slot.id not in with_history:
                db.expunge(slot)
        db.execute(delete(Slot).where(Slot.id.in_(clean)).execution_options(synchronize_session=False))
    db.flush()


def _closed(db: Session, first: datetime, last: datetime) -> frozenset[date]:
    """The centre's closed days around first..last (a day wider each side: rules' zones differ)."""
    return frozenset(closed_days(db, first.date() - timedelta(days=1), last.date() + timedelta(days=1)))


def _locked(db: Session, rule_id: int) -> AvailabilityRule:
    """The rule as it is now, its row locked until the transaction ends (PostgreSQL)."""
    return db.scalars(
        select(AvailabilityRule).where(AvailabilityRule.id == rule_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _window(start: time, end: time) -> timedelta:
    return datetime.combine(date.min, end) - datetime.combine(date.min, start)
