"""A mediator plans a mediation with adult parties: separate sessions (one room per party, one
after the other) and/or a joint session where they meet. Each party is booked on their own,
with their own link and invitation, so neither learns the other's name, phone or email unless
the mediator chose a joint session."""

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
from ..models import LIVE_BOOKING, Activity, Booking, JoinToken, Slot, User
from . import ServiceError, outbox
from .booking import TOPIC_MAX, current_rules
from .centre_calendar import refuse_closure_days
from .localtime import local_to_utc
from .slots import _overlaps, check_may_run, check_session_minutes

MAX_PARTIES = 6


@dataclass(frozen=True)
class MediationPlan:
    activity_id: int
    day: date
    start_time: time
    minutes: int  # each session's length
    party_ids: tuple[int, ...]
    separate: bool  # one session per party, one after the other
    joint: bool  # then one session with every party
    reason: str = ""  # confidential: read by mediators only (services/confidential.py)


def _times(plan: MediationPlan, tz: str) -> list[tuple[datetime, datetime, tuple[int, ...], bool]]:
    """(start, end, parties, joint) of each session, back to back: the separate ones, then the
    joint one."""
    check_session_minutes(plan.minutes, "minutes")
    if not plan.party_ids:
        raise ServiceError(_l("Choisissez au moins une personne."), field="parties")
    if len(plan.party_ids) > MAX_PARTIES:
        raise ServiceError(_l("Pas plus de %(count)d personnes.", count=MAX_PARTIES), field="parties")
    if not (plan.separate or plan.joint):
        raise ServiceError(_l("Choisissez des séances séparées, une séance commune, ou les deux."), field="sessions")
    groups = [((party,), False) for party in plan.party_ids] if plan.separate else []
    if plan.joint:
        groups.append((tuple(plan.party_ids), True))
    length = timedelta(minutes=plan.minutes)
    first = local_to_utc(plan.day, plan.start_time, tz)
    if first <= now_utc():
        raise ServiceError(_l("Ce moment est déjà passé : choisissez une date à venir."), field="day")
    return [(first + index * length, first + (index + 1) * length, group, joint)
            for index, (group, joint) in enumerate(groups)]


def plan_mediation(db: Session, mediator: User, plan: MediationPlan, tz: str) -> list[Slot]:
    """Open the plan's sessions for the mediator and book each party into theirs, all or none;
    each party gets their own link, confirmation and reminders."""
    times = _times(plan, tz)
    reason = plan.reason.strip()[:TOPIC_MAX]
    try:
        with write_transaction(db):
            activity = db.get(Activity, plan.activity_id)
            check_may_run(activity, mediator)
            if activity.kind != "mediation":
                raise ServiceError(_l("Choisissez une activité de médiation."), field="activity_id")
            parties = {person.id: person for person in db.scalars(select(User).where(User.id.in_(plan.party_ids)))}
            if len(parties) != len(set(plan.party_ids)) or any(
                    person.role != "parent" or not person.active for person in parties.values()):
                raise ServiceError(_l("Un rendez-vous de médiation est pour un adulte, jamais pour un enfant."),
                                   field="parties")
            zone = ZoneInfo(tz)
            refuse_closure_days(db, [start.astimezone(zone).date() for start, _end, _group, _joint in times], "day")
            if _overlaps(db, mediator.id, [(start, end) for start, end, _group, _joint in times]):
                raise ServiceError(_l("Vous avez déjà un créneau qui chevauche celui-ci."), field="start_time")
            slots = []
            for starts_at, ends_at, group, joint in times:
                slot = Slot(tutor_id=mediator.id, activity_id=activity.id, starts_at=starts_at, ends_at=ends_at,
                            capacity=len(group), booked=len(group), joint=joint, room_name=new_room_name())
                db.add(slot)
                db.flush()
                db.add(JoinToken(slot_id=slot.id, user_id=mediator.id))
                for party_id in group:
                    _book(db, slot, parties[party_id], mediator, reason)
                slots.append(slot)
    except IntegrityError as error:
        # PostgreSQL's exclusion constraints: a concurrent session took the time first.
        raise ServiceError(_l("Ce moment chevauche une autre séance."), field="start_time") from error
    return slots


def _book(db: Session, slot: Slot, party: User, mediator: User, reason: str) -> Booking:
    busy = db.scalar(select(Booking.id).where(Booking.student_id == party.id, LIVE_BOOKING,
                                              Booking.starts_at < slot.ends_at, Booking.ends_at > slot.starts_at))
    if busy is not None:
        raise ServiceError(_l("%(name)s a déjà une séance à ce moment-là.", name=party.name), field="parties")
    booking = Booking(slot_id=slot.id, student_id=party.id, booked_by_id=mediator.id, topic=reason,
                      starts_at=slot.starts_at, ends_at=slot.ends_at)
    db.add(booking)
    db.flush()
    db.add(JoinToken(slot_id=slot.id, booking_id=booking.id, user_id=party.id))
    outbox.booking_confirmed(db, booking, slot, current_rules())
    return booking


def parties_to_choose(db: Session) -> list[User]:
    """The adults a mediation can be planned with (families' grown-ups and phone-only contacts)."""
    return list(db.scalars(select(User).where(User.role == "parent", User.active, User.deleted_at.is_(None))
                           .order_by(User.name, User.id)))
