"""Booking and cancelling: never past capacity, never twice, never two sessions at once.

The capacity rule is a guarded counter (`UPDATE slot SET booked = booked + 1 WHERE booked <
capacity`), which holds under any number of concurrent requests on both databases: on SQLite
because writers queue (BEGIN IMMEDIATE), on PostgreSQL because the UPDATE locks the slot's row
and re-checks the guard. The other two rules are a partial unique index and, on PostgreSQL, an
exclusion constraint; SQLite's queued writers make the checks below exact there.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..clock import now_utc
from ..db import write_transaction
from ..models import LIVE_BOOKING, Activity, Booking, EnrolmentOccurrence, Guardianship, JoinToken, Slot, User
from . import ServiceError, consent, outbox

TOPIC_MAX = 500


class SlotTaken(ServiceError):
    """Someone else took the last place first."""

    def __init__(self):
        super().__init__(_l("Quelqu'un d'autre vient de prendre cette séance."))


def may_act_for(actor: User, student: User, db: Session) -> bool:
    """A student acts for themself; a parent for their children; a coordinator for anyone."""
    if actor.role == "coordinator" or actor.id == student.id:
        return True
    if actor.role != "parent":
        return False
    link = db.get(Guardianship, (actor.id, student.id))
    return link is not None


DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE
DEADLOCK_ATTEMPTS = 5


def book_slot(db: Session, slot_id: int, student: User, booked_by: User, topic: str = "",
              rules: outbox.Rules | None = None, *, enrolment_id: int | None = None,
              confirm_by_email_only: bool = False) -> Booking:
    """Give the student a place in the slot, or raise a ServiceError that says why not.

    The confirmations and reminders are written in the same transaction; a week of an
    enrolment is linked to it there too. A mediation is for an adult party, never for a child:
    `student` is then the party."""
    mediation = _kind_of_slot(db, slot_id) == "mediation"
    if mediation and student.role != "parent":
        raise ServiceError(_l("Un rendez-vous de médiation est pour un adulte, jamais pour un enfant."))
    if not mediation and student.role != "student":
        raise ServiceError(_l("Seul un élève peut réserver une place."))
    if not may_act_for(booked_by, student, db):
        raise ServiceError(_l("Vous ne pouvez pas réserver pour cette personne."))
    refuse_without_consent(db, student, booked_by)
    topic = topic.strip()[:TOPIC_MAX]
    options = {"mediation": mediation, "enrolment_id": enrolment_id, "confirm_by_email_only": confirm_by_email_only}
    for _attempt in range(DEADLOCK_ATTEMPTS - 1):
        try:
            return _take_place(db, slot_id, student, booked_by, topic, rules, **options)
        except OperationalError as error:
            # Two overlapping bookings inserted at once each wait on the other's exclusion check
            # (PostgreSQL then aborts one): tried again, it meets the other's committed row.
            if getattr(error.orig, "sqlstate", None) != DEADLOCK_DETECTED:
                raise
    return _take_place(db, slot_id, student, booked_by, topic, rules, **options)


def _take_place(db: Session, slot_id: int, student: User, booked_by: User, topic: str, rules: outbox.Rules | None,
                **options) -> Booking:
    """book_slot's transaction: the guarded counter, then the booking and its messages."""
    try:
        with write_transaction(db):
            now = now_utc()
            taken = db.execute(
                update(Slot)
                .where(
                    Slot.id == slot_id,
                    Slot.status == "open",
                    Slot.starts_at > now,
                    Slot.booked < Slot.capacity,
                )
                # A new participant re-describes the tutor's calendar event (RFC 5545 SEQUENCE).
                .values(booked=Slot.booked + 1, sequence=Slot.sequence + 1)
                .execution_options(synchronize_session=False)
            )
            slot = db.get(Slot, slot_id, populate_existing=True)
            if taken.rowcount != 1:
                raise _why_not_bookable(slot, now)
            return add_booking(db, slot, student, booked_by, topic, rules, **options)
    except IntegrityError as error:
        # PostgreSQL's unique index or exclusion constraint caught a concurrent twin.
        raise ServiceError(_l("Cet élève a déjà une séance à ce moment-là.")) from error


def refuse_without_consent(db: Session, student: User, booked_by: User) -> None:
    """A ServiceError when the student still waits for a parent's approval (services/consent.py)."""
    if consent.needs_approval(db, student):
        if booked_by.id == student.id:
            raise ServiceError(_l("Avant de réserver, un parent doit donner son accord : voyez « Mes séances »."))
        raise ServiceError(_l("%(name)s a moins de 15 ans : un parent doit d'abord donner son accord sur Lien.",
                              name=student.name))


def _kind_of_slot(db: Session, slot_id: int) -> str | None:
    return db.scalar(select(Activity.kind).join(Slot, Slot.activity_id == Activity.id).where(Slot.id == slot_id))


def add_booking(db: Session, slot: Slot, student: User, booked_by: User, topic: str, rules: outbox.Rules | None,
                *, mediation: bool = False, enrolment_id: int | None = None,
                confirm_by_email_only: bool = False) -> Booking:
    """Inside a write transaction, once the place is counted in slot.booked: the booking, its
    join links and its messages, or a ServiceError (rolled back with the transaction)."""
    if _holds_place(db, slot, student):
        raise ServiceError(_l("Cet élève a déjà une place dans cette séance."))
    if _has_session_during(db, slot, student):
        raise ServiceError(_l("Cet élève a déjà une séance à ce moment-là."))
    booking = Booking(
        slot_id=slot.id,
        student_id=student.id,
        booked_by_id=booked_by.id,
        topic=topic,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
    )
    db.add(booking)
    db.flush()
    # Each party holds their own link; a child's parents hold one too.
    db.add_all(
        JoinToken(slot_id=slot.id, booking_id=booking.id, user_id=person.id)
        for person in ([student] if mediation else [student, *_parents_of(db, student)])
    )
    if enrolment_id is not None:
        db.add(EnrolmentOccurrence(booking_id=booking.id, enrolment_id=enrolment_id))
    outbox.booking_confirmed(db, booking, slot, rules or current_rules(), email_only=confirm_by_email_only)
    return booking


def _why_not_bookable(slot: Slot | None, now) -> ServiceError:
    if slot is None or slot.status != "open":
        return ServiceError(_l("Cette séance n'est plus proposée."))
    if slot.starts_at <= now:
        return ServiceError(_l("Cette séance a déjà commencé."))
    return SlotTaken()


def _holds_place(db: Session, slot: Slot, student: User) -> bool:
    return db.scalar(
        select(Booking.id).where(
            Booking.slot_id == slot.id,
            Booking.student_id == student.id,
            LIVE_BOOKING,
        )
    ) is not None


def _has_session_during(db: Session, slot: Slot, student: User) -> bool:
    return db.scalar(
        select(Booking.id).where(
            Booking.student_id == student.id,
            LIVE_BOOKING,
            Booking.starts_at < slot.ends_at,
            Booking.ends_at > slot.starts_at,
        )
    ) is not None


def _parents_of(db: Session, student: User) -> list[User]:
    return list(
        db.scalars(
            select(User)
            .join(Guardianship, Guardianship.parent_id == User.id)
            .where(Guardianship.student_id == student.id)
        )
    )


def current_rules() -> outbox.Rules:
    """The messaging rules of the running app (the defaults outside one)."""
    from flask import current_app, has_app_context

    return outbox.Rules.from_config(current_app.config) if has_app_context() else outbox.Rules()


REASON_MAX = 500


def clean_reason(reason: str | None) -> str:
    """A cancellation's reason as one line of plain text, at most REASON_MAX characters: control
    characters (a NUL breaks PostgreSQL) and runs of spaces go."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in reason or "").split())[:REASON_MAX]


def cancel_booking(db: Session, booking: Booking, rules: outbox.Rules | None = None, *, by: User | None = None,
                   reason: str = "") -> Booking:
    """Cancel a booking before its session starts; the place becomes free again, pending
    reminders are withdrawn and everyone concerned is told who cancelled (`by`: the family
    when not given) and why (`reason`, optional, which the coordinator reads on the family's page)."""
    reason = clean_reason(reason)
    with write_transaction(db):
        db.refresh(booking)
        if booking.status != "confirmed":
            raise ServiceError(_l("Cette séance est déjà annulée."))
        if booking.starts_at <= now_utc():
            raise ServiceError(_l("Cette séance a déjà commencé : elle ne peut plus être annulée."))
        give_back_place(db, booking, rules, by=by, reason=reason)
        # The freed place goes to the first student waiting for it, if any (services/waitlist.py).
        from .waitlist import offer_freed_place

        offer_freed_place(db, db.get(Slot, booking.slot_id), now_utc())
    return booking


def give_back_place(db: Session, booking: Booking, rules: outbox.Rules | None = None, *, by: User | None = None,
                    reason: str = "") -> None:
    """Cancel a confirmed booking inside the caller's write transaction: the place is free
    again, its reminders are withdrawn, and the student, their parents and the tutor are told
    who cancelled (`by`; the family when not given) and why."""
    booking.status = "cancelled"
    booking.cancelled_at = now_utc()
    booking.cancel_reason = reason
    booking.sequence += 1
    db.execute(
        update(Slot)
        .where(Slot.id == booking.slot_id, Slot.booked > 0)
        .values(booked=Slot.booked - 1, sequence=Slot.sequence + 1)
        .execution_options(synchronize_session=False)
    )
    slot = db.get(Slot, booking.slot_id, populate_existing=True)
    outbox.booking_cancelled(db, booking, slot, rules or current_rules(), slot_now_empty=slot.booked == 0,
                             cancelled_by=outbox.who_cancelled(by, slot), reason=reason)
