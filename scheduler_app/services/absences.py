"""Tutor absences: "Je ne peux pas assurer cette séance", then the coordinator gives the session
to another tutor (bookings, links and invitations follow) or cancels it."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..clock import now_utc
from ..db import write_transaction
from ..models import Booking, JoinToken, Slot, TutorAbsence, User, new_secret
from . import ServiceError, outbox
from .booking import current_rules
from .confidential import MEDIATION
from .slots import _leave_rule, cancel_slot

REASON_MAX = 300
MOST_SESSIONS = 10


def declare_absence(db: Session, tutor: User, slot_id: int, reason: str, sessions: int = 1,
                    *, now: datetime | None = None) -> list[TutorAbsence]:
    """The tutor cannot hold this session (and their next ones, `sessions` in all): the
    coordinators are alerted. A session already started is refused, and nothing changes."""
    now = now or now_utc()
    reason = reason.strip()[:REASON_MAX]
    if not reason:
        raise ServiceError(_l("Dites en quelques mots pourquoi, pour le centre."), field="reason")
    if not 1 <= sessions <= MOST_SESSIONS:
        raise ServiceError(_l("Choisissez entre 1 et 10 séances."), field="sessions")
    try:
        with write_transaction(db):
            slot = db.get(Slot, slot_id, populate_existing=True)
            if slot is None or slot.tutor_id != tutor.id or slot.status != "open":
                raise ServiceError(_l("Cette séance n'est plus la vôtre, ou elle est annulée."))
            if slot.starts_at <= now:
                raise ServiceError(_l("Cette séance a déjà commencé : appelez le centre."))
            slots = db.scalars(select(Slot).where(Slot.tutor_id == tutor.id, Slot.status == "open",
                                                  Slot.starts_at >= slot.starts_at)
                               .order_by(Slot.starts_at).limit(sessions)).all()
            open_already = set(db.scalars(select(TutorAbsence.slot_id).where(
                TutorAbsence.slot_id.in_([s.id for s in slots]), TutorAbsence.status == "open")))
            absences = []
            for each in slots:
                if each.id in open_already:
                    continue
                absence = TutorAbsence(slot_id=each.id, tutor_id=tutor.id, reason=reason)
                db.add(absence)
                db.flush()
                outbox.tutor_absent(db, absence.id, each, tutor.name, reason)
                absences.append(absence)
            if not absences:
                raise ServiceError(_l("Le centre est déjà prévenu pour cette séance."))
    except IntegrityError:
        raise ServiceError(_l("Le centre est déjà prévenu pour cette séance.")) from None
    return absences


def open_absences(db: Session) -> list[TutorAbsence]:
    """The absences the coordinator has still to settle, the soonest session first."""
    return list(db.scalars(select(TutorAbsence).join(Slot, Slot.id == TutorAbsence.slot_id)
                           .where(TutorAbsence.status == "open").order_by(Slot.starts_at, TutorAbsence.id)))


def give_to_tutor(db: Session, absence_id: int, new_tutor_id: int, *, now: datetime | None = None) -> list[Booking]:
    """Give the session to another tutor: the bookings follow, the tutor's join link is the new
    tutor's (the old one's stops), and everyone is told with an updated invitation."""
    now = now or now_utc()
    try:
        with write_transaction(db):
            absence = _open_absence(db, absence_id)
            slot = db.get(Slot, absence.slot_id, populate_existing=True)
            if slot.status != "open" or slot.starts_at <= now:
                raise ServiceError(_l("Cette séance a déjà commencé, ou elle est annulée."))
            new_tutor = db.get(User, new_tutor_id)
            if new_tutor is None or new_tutor.role != "tutor" or not new_tutor.active or new_tutor.id == slot.tutor_id:
                raise ServiceError(_l("Choisissez un autre tuteur de la liste."), field="tutor_id")
            if slot.activity.kind == MEDIATION and not new_tutor.mediator:
                raise ServiceError(_l("Seul un médiateur du centre peut proposer une médiation."), field="tutor_id")
            busy = db.scalar(select(Slot.id).where(Slot.tutor_id == new_tutor.id, Slot.status == "open",
                                                   Slot.starts_at < slot.ends_at, Slot.ends_at > slot.starts_at))
            if busy is not None:
                raise ServiceError(_l("%(name)s a déjà une séance à ce moment-là.", name=new_tutor.name),
                                   field="tutor_id")
            old_tutor = db.get(User, slot.tutor_id)
            if slot.rule_id is not None:
                _leave_rule(db, slot)  # the old tutor's weekly availability must not take it back
            slot.tutor_id = new_tutor.id
            slot.sequence += 1
            db.execute(update(JoinToken).where(JoinToken.slot_id == slot.id, JoinToken.booking_id.is_(None))
                       .values(user_id=new_tutor.id, token=new_secret()).execution_options(synchronize_session=False))
            bookings = db.scalars(select(Booking).where(Booking.slot_id == slot.id,
                                                        Booking.status == "confirmed")).all()
            for booking in bookings:
                booking.sequence += 1
            absence.status, absence.new_tutor_id, absence.resolved_at = "reassigned", new_tutor.id, now
            db.flush()
            outbox.tutor_changed(db, slot, list(bookings), current_rules(), old_tutor=old_tutor)
    except IntegrityError:
        # PostgreSQL's exclusion constraint: the new tutor was given another session meanwhile.
        raise ServiceError(_l("Ce tuteur a déjà une séance à ce moment-là."), field="tutor_id") from None
    return list(bookings)


def cancel_for_absence(db: Session, absence_id: int, by: User, *, now: datetime | None = None) -> list[Booking]:
    """Cancel the session: the families are told, pointed to other sessions, and put on the
    waitlist for a session like it in the days that follow (cancel_slot)."""
    with write_transaction(db):
        absence = _open_absence(db, absence_id)
        slot = db.get(Slot, absence.slot_id)
    bookings = cancel_slot(db, slot, by=by, wait_for_similar=True)
    with write_transaction(db):
        absence = db.get(TutorAbsence, absence_id, populate_existing=True)
        absence.status, absence.resolved_at = "cancelled", now or now_utc()
    return bookings


def _open_absence(db: Session, absence_id: int) -> TutorAbsence:
    absence = db.scalar(select(TutorAbsence).where(TutorAbsence.id == absence_id).with_for_update()
                        .execution_options(populate_existing=True))
    if absence is None or absence.status != "open":
        raise ServiceError(_l("Cette absence est déjà réglée."))
    return absence
