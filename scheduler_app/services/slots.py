"""Opening and cancelling slots: a tutor's times never overlap and never lie in the past."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rooms import new_room_name

from ..clock import now_utc
from ..db import write_transaction
from ..models import LIVE_BOOKING, Activity, AvailabilityRule, Booking, JoinToken, Slot, User
from . import ServiceError, outbox, waitlist
from .booking import clean_reason, current_rules
from .centre_calendar import refuse_closure_days
from .localtime import check_day, date_bounds, local_to_utc, say_day

MAX_SLOTS_AT_ONCE = 60


# How long a session lasts, in minutes, however it is opened (one-off slots, weekly
# availability): the lists of sessions to come rely on the longest (sessions.LONGEST_SESSION).
SESSION_MINUTES = (5, 240)


def check_session_minutes(minutes: int, field: str) -> None:
    """Raise a ServiceError naming `field` unless a session may last `minutes`."""
    low, high = SESSION_MINUTES
    if not low <= minutes <= high:
        raise ServiceError(_l("Une séance dure de %(low)d à %(high)d minutes.", low=low, high=high), field=field)


@dataclass(frozen=True)
class SlotPlan:
    """What a tutor asks for: one slot, several back to back, repeated some weeks."""

    activity_id: int
    day: date
    start_time: time
    duration_minutes: int
    capacity: int = 1
    subject: str = ""
    level: str = ""
    in_a_row: int = 1
    weeks: int = 1


def check_may_run(activity: Activity | None, tutor: User) -> None:
    """Raise a ServiceError unless the tutor may run sessions of this activity: an active one,
    and a mediation only for a mediator."""
    if activity is None or not activity.active:
        raise ServiceError(_l("Choisissez une activité de la liste."), field="activity_id")
    if activity.kind == "mediation" and not (tutor.mediator and tutor.role == "tutor"):
        raise ServiceError(_l("Seul un médiateur du centre peut proposer une médiation."), field="activity_id")


def plan_times(plan: SlotPlan, tz: str, now: datetime) -> list[tuple[datetime, datetime]]:
    """The UTC intervals a plan asks for, or a ServiceError saying what to change."""
    if plan.capacity < 1:
        raise ServiceError(_l("Il faut au moins une place."), field="capacity")
    check_session_minutes(plan.duration_minutes, "duration_minutes")
    if plan.in_a_row < 1 or plan.weeks < 1:
        raise ServiceError(_l("Indiquez au moins une séance."), field="in_a_row")
    if plan.in_a_row * plan.weeks > MAX_SLOTS_AT_ONCE:
        raise ServiceError(
            _l("Pas plus de %(count)s créneaux à la fois.", count=MAX_SLOTS_AT_ONCE), field="weeks"
        )
    today = now.astimezone(ZoneInfo(tz)).date()
    check_day(plan.day, today, "day")
    last_day = plan.day + timedelta(weeks=plan.weeks - 1)
    if last_day >= date_bounds(today)[1]:
        raise ServiceError(_l("La dernière séance serait le %(day)s : c'est trop loin. Choisissez moins de semaines.",
                              day=say_day(last_day)), field="weeks")
    length = timedelta(minutes=plan.duration_minutes)
    times = []
    for week in range(plan.weeks):
        first = local_to_utc(plan.day + timedelta(weeks=week), plan.start_time, tz)
        for index in range(plan.in_a_row):
            starts_at = first + index * length
            times.append((starts_at, starts_at + length))
    if times[0][0] <= now:
        raise ServiceError(_l("Ce moment est déjà passé : choisissez une date à venir."), field="day")
    return times


def open_slots(db: Session, tutor: User, plan: SlotPlan, tz: str) -> list[Slot]:
    """Open the slots of a plan for a tutor, all or none."""
    times = plan_times(plan, tz, now_utc())
    try:
        with write_transaction(db):
            activity = db.get(Activity, plan.activity_id)
            check_may_run(activity, tutor)
            if activity.kind == "mediation" and plan.capacity != 1:
                # Each party has their own session; a joint one is planned with the parties named.
                raise ServiceError(_l("Un rendez-vous de médiation a une seule place."), field="capacity")
            days = [starts_at.astimezone(ZoneInfo(tz)).date() for starts_at, _ends_at in times]
            refuse_closure_days(db, days, lambda day: "day" if day == days[0] else "weeks")
            if _overlaps(db, tutor.id, times):
                raise ServiceError(
                    _l("Vous avez déjà un créneau qui chevauche celui-ci."), field="start_time"
                )
            slots = [
                Slot(
                    tutor_id=tutor.id,
                    activity_id=activity.id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    capacity=plan.capacity,
                    subject=plan.subject,
                    level=plan.level,
                    room_name=new_room_name(),
                )
                for starts_at, ends_at in times
            ]
            db.add_all(slots)
            db.flush()
            db.add_all(JoinToken(slot_id=slot.id, user_id=tutor.id) for slot in slots)
            # A family waiting for a slot like one of these is offered its place first.
            waitlist.offer_new_slots(db, slots, now_utc())
    except IntegrityError as error:
        # PostgreSQL's exclusion constraint: another request opened an overlapping slot first.
        raise ServiceError(
            _l("Vous avez déjà un créneau qui chevauche celui-ci."), field="start_time"
        ) from error
    return slots


def _overlaps(db: Session, tutor_id: int, times) -> bool:
    """True when the times overlap each other or one of the tutor's open slots."""
    ordered = sorted(times)
    for (_, previous_end), (next_start, _) in zip(ordered, ordered[1:], strict=False):
        if next_start < previous_end:
            return True
    existing = db.scalars(
        select(Slot).where(
            Slot.tutor_id == tutor_id,
            Slot.status == "open",
            Slot.starts_at < ordered[-1][1],
            Slot.ends_at > ordered[0][0],
        )
    ).all()
    return any(
        slot.starts_at < end and start < slot.ends_at for slot in existing for start, end in times
    )


def cancel_slot(db: Session, slot: Slot, by: User | None = None, reason: str = "", *,
                wait_for_similar: bool = False) -> list[Booking]:
    """Cancel a slot that has not started; its bookings are cancelled with it (returned), and
    everyone booked is told who cancelled (`by`: the centre when not given) and why (`reason`).
    `wait_for_similar`: each booked student also waits for a session like it (its tutor is
    absent), and their message says so."""
    reason = clean_reason(reason)
    with write_transaction(db):
        db.refresh(slot)
        if slot.status != "open":
            raise ServiceError(_l("Ce créneau est déjà annulé."))
        if slot.starts_at <= now_utc():
            raise ServiceError(_l("Ce créneau a déjà commencé : il ne peut plus être annulé."))
        now = now_utc()
        bookings = db.scalars(
            select(Booking).where(Booking.slot_id == slot.id, Booking.status == "confirmed")
        ).all()
        for booking in bookings:
            booking.status = "cancelled"
            booking.cancelled_at = now
            booking.cancel_reason = reason
            booking.sequence += 1
        slot.status = "cancelled"
        slot.cancelled_at = now
        slot.cancel_reason = reason
        slot.booked = 0
        slot.sequence += 1
        waitlist.slot_withdrawn(db, slot.id)
        waiting = {}
        if wait_for_similar and slot.activity.kind != "mediation":
            for booking in bookings:
                waiting[booking.id] = waitlist.wait_for_similar(db, booking, slot, by or booking.booked_by, now)
        outbox.slot_cancelled(db, slot, list(bookings), current_rules(), by=by, reason=reason, waiting=waiting)
    return list(bookings)


def move_slot(db: Session, slot: Slot, day: date, start_time: time, tz: str, by: User | None = None) -> list[Booking]:
    """Move a slot (and its bookings) to another day or time, same length; everyone booked is
    told, with an updated invitation, and reminders follow the new time."""
    length = slot.ends_at - slot.starts_at
    check_day(day, now_utc().astimezone(ZoneInfo(tz)).date(), "day")
    starts_at = local_to_utc(day, start_time, tz)
    ends_at = starts_at + length
    if starts_at <= now_utc():
        raise ServiceError(_l("Ce moment est déjà passé : choisissez une date à venir."), field="day")
    try:
        with write_transaction(db):
            db.refresh(slot)
            if slot.status != "open" or slot.starts_at <= now_utc():
                raise ServiceError(_l("Seul un créneau ouvert et à venir peut être déplacé."))
            old_starts_at = slot.starts_at
            others = db.scalars(
                select(Slot).where(Slot.tutor_id == slot.tutor_id, Slot.status == "open", Slot.id != slot.id,
                                   Slot.starts_at < ends_at, Slot.ends_at > starts_at)
            ).first()
            if others is not None:
                raise ServiceError(_l("Le tuteur a déjà un créneau qui chevauche ce nouvel horaire."), field="start_time")
            bookings = db.scalars(
                select(Booking).where(Booking.slot_id == slot.id, Booking.status == "confirmed")
            ).all()
            for booking in bookings:
                busy = db.scalar(
                    select(Booking.id).where(Booking.student_id == booking.student_id, Booking.id != booking.id,
                                             LIVE_BOOKING, Booking.starts_at < ends_at,
                                             Booking.ends_at > starts_at)
                )
                if busy is not None:
                    raise ServiceError(
                        _l("%(name)s a déjà une séance à ce nouvel horaire.", name=booking.student.name),
                        field="start_time",
                    )
            if slot.rule_id is not None:
                _leave_rule(db, slot)
            slot.starts_at, slot.ends_at = starts_at, ends_at
            slot.sequence += 1
            for booking in bookings:
                booking.starts_at, booking.ends_at = starts_at, ends_at
                booking.sequence += 1
            db.flush()
            outbox.slot_moved(db, slot, list(bookings), current_rules(), old_starts_at=old_starts_at, by=by)
    except IntegrityError as error:
        raise ServiceError(_l("Ce nouvel horaire chevauche une autre séance."), field="start_time") from error
    return list(bookings)


def _leave_rule(db: Session, slot: Slot) -> None:
    """A slot moved away from its weekly rule stops belonging to it, and the rule skips the
    original day, so that the next materialisation does not open the old time again."""
    rule = db.get(AvailabilityRule, slot.rule_id)
    day = slot.starts_at.astimezone(ZoneInfo(rule.timezone)).date().isoformat()
    if day not in rule.skipped_dates:
        rule.skipped_dates = sorted([*rule.skipped_dates, day])
    slot.rule_id = None
