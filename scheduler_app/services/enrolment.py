"""Enrolments ("inscriptions"): a student booked every week at the same time with the same tutor,
until the end of the term or of the school year, in one step.

Each week is an ordinary booking (its own join links, reminders and invitation), taken from the
tutor's weekly availability at that time. A week that cannot be booked (school holiday, public
holiday, closure, full, a clash, no session that day) is reported with its reason, never skipped
in silence. Invitations stay one event per week, with its own UID and SEQUENCE: calendar apps
cancel or move one event of their own cleanly, while a RECURRENCE-ID override of a recurring
event is where their handling differs most.
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now_utc
from ..db import write_transaction
from ..models import LIVE_BOOKING, AvailabilityRule, Booking, Enrolment, EnrolmentOccurrence, Slot, User
from . import ServiceError
from .availability import materialise
from .booking import book_slot, cancel_booking, may_act_for, refuse_without_consent
from .centre_calendar import centre_calendar, closed_days, school_year, term_end
from .confidential import MEDIATION, kind_of_slot
from .localtime import say_day


@dataclass(frozen=True)
class Bounds:
    """Where a weekly enrolment starting on `first_day` may end."""

    first_day: date
    term_end: date
    year_end: date


@dataclass
class Missed:
    day: date
    reason: str


@dataclass
class EnrolmentResult:
    enrolment: Enrolment | None
    booked: list[Booking] = field(default_factory=list)
    missed: list[Missed] = field(default_factory=list)


def weekly_rule_of(db: Session, slot: Slot) -> AvailabilityRule:
    """The weekly availability a slot comes from, or a ServiceError if it is a one-off."""
    rule = db.get(AvailabilityRule, slot.rule_id) if slot.rule_id else None
    if rule is None or not rule.active:
        raise ServiceError(_l("Cette séance ne revient pas chaque semaine : réservez-la seule."))
    return rule


def bounds_for(db: Session, slot: Slot, now: datetime) -> Bounds:
    """The first week (the slot's) and the ends a family may choose: the term's, the year's."""
    zone = centre_calendar(db).holiday_zone
    if zone is None:
        raise ServiceError(_l("Le centre n'a pas encore choisi sa zone de vacances scolaires. "
                              "Appelez le centre pour vous inscrire chaque semaine."))
    rule = weekly_rule_of(db, slot)
    first_day = slot.starts_at.astimezone(ZoneInfo(rule.timezone)).date()
    year_end = school_year(zone, first_day)[1]
    return Bounds(first_day, min(term_end(zone, first_day), year_end), year_end)


def enrol(db: Session, slot_id: int, student: User, booked_by: User, last_day: date, topic: str = "",
          *, now: datetime | None = None) -> EnrolmentResult:
    """Book `student` every week at the time of `slot`, with its tutor, from the slot's day to
    `last_day`. Refuses bad bounds before changing anything; then books week by week."""
    now = now or now_utc()
    slot = db.get(Slot, slot_id)
    if slot is None:
        raise ServiceError(_l("Cette séance n'est plus proposée."))
    if student.role != "student":
        raise ServiceError(_l("Seul un élève peut réserver une place."))
    if not may_act_for(booked_by, student, db):
        raise ServiceError(_l("Vous ne pouvez pas réserver pour cette personne."))
    if kind_of_slot(db, slot_id) == MEDIATION:
        raise ServiceError(_l("Un rendez-vous de médiation est pour un adulte, jamais pour un enfant."))
    refuse_without_consent(db, student, booked_by)
    bounds = bounds_for(db, slot, now)
    rule = weekly_rule_of(db, slot)
    if last_day < bounds.first_day:
        raise ServiceError(_l("La date de fin doit venir après la première séance, le %(day)s.",
                              day=say_day(bounds.first_day)), field="last_day")
    if last_day > bounds.year_end:
        raise ServiceError(_l("L'année scolaire finit le %(day)s. Choisissez une date de fin avant.",
                              day=say_day(bounds.year_end)), field="last_day")
    zone = ZoneInfo(rule.timezone)
    local_start = slot.starts_at.astimezone(zone)
    start_time = local_start.time().replace(tzinfo=None)
    # The tutor's sessions up to the last week: the usual horizon is a few weeks only.
    weeks = max(1, math.ceil((last_day - now.astimezone(zone).date()).days / 7) + 1)
    materialise(db, now, weeks=weeks, rule_ids=[rule.id])

    with write_transaction(db):
        enrolment = Enrolment(student_id=student.id, booked_by_id=booked_by.id, rule_id=rule.id,
                              start_time=start_time, first_day=bounds.first_day, last_day=last_day)
        db.add(enrolment)
    result = EnrolmentResult(enrolment)
    closed = closed_days(db, bounds.first_day, last_day)
    day = bounds.first_day
    while day <= last_day:
        _book_week(db, result, rule, day, start_time, zone, closed, student, booked_by, topic)
        day += timedelta(weeks=1)
    if not result.booked:
        with write_transaction(db):
            enrolment = db.get(Enrolment, enrolment.id)
            enrolment.cancelled_at = now
    return result


def _book_week(db: Session, result: EnrolmentResult, rule: AvailabilityRule, day: date, start_time: time,
               zone: ZoneInfo, closed, student: User, booked_by: User, topic: str) -> None:
    if day in closed:
        result.missed.append(Missed(day, str(_l("Le centre est fermé : %(why)s.",
                                                 why=closed[day].name or _l("fermeture")))))
        return
    starts_at = datetime.combine(day, start_time, zone)
    slot_id = db.scalar(select(Slot.id).where(Slot.rule_id == rule.id, Slot.starts_at == starts_at,
                                              Slot.status == "open"))
    if slot_id is None:
        result.missed.append(Missed(day, str(_l("Le tuteur n'a pas de séance ce jour-là."))))
        return
    try:
        booking = book_slot(db, slot_id, student, booked_by, topic, enrolment_id=result.enrolment.id,
                            confirm_by_email_only=bool(result.booked))
    except ServiceError as error:
        result.missed.append(Missed(day, str(error.message)))
    else:
        result.booked.append(booking)


def enrolment_of(db: Session, booking_id: int) -> Enrolment | None:
    """The enrolment a booking is a week of, if any."""
    return db.scalar(select(Enrolment).join(EnrolmentOccurrence, EnrolmentOccurrence.enrolment_id == Enrolment.id)
                     .where(EnrolmentOccurrence.booking_id == booking_id))


def weeks_of(db: Session, enrolment: Enrolment) -> list[Booking]:
    """The bookings of an enrolment, the earliest first (cancelled ones too)."""
    return list(db.scalars(
        select(Booking).join(EnrolmentOccurrence, EnrolmentOccurrence.booking_id == Booking.id)
        .where(EnrolmentOccurrence.enrolment_id == enrolment.id).order_by(Booking.starts_at)))


def cancel_weeks_to_come(db: Session, enrolment: Enrolment, *, now: datetime | None = None,
                         by: User | None = None) -> list[Booking]:
    """Cancel every week of the enrolment that has not started; started ones are kept. `by`
    is who cancels, as in cancel_booking."""
    now = now or now_utc()
    to_come = list(db.scalars(
        select(Booking).join(EnrolmentOccurrence, EnrolmentOccurrence.booking_id == Booking.id)
        .where(EnrolmentOccurrence.enrolment_id == enrolment.id, LIVE_BOOKING, Booking.status == "confirmed",
               Booking.starts_at > now).order_by(Booking.starts_at)))
    if not to_come:
        raise ServiceError(_l("Il n'y a plus de séance à venir dans cette inscription."))
    cancelled = []
    for booking in to_come:
        try:
            cancelled.append(cancel_booking(db, booking, by=by))
        except ServiceError:
            continue  # cancelled meanwhile, or just started: nothing left to do for that week
    with write_transaction(db):
        enrolment = db.get(Enrolment, enrolment.id)
        enrolment.cancelled_at = now
    return cancelled
