"""The waitlist of a full slot: "Prévenez-moi si une place se libère".

When a place frees, the first student waiting is offered it by SMS or email, with a link that
holds the place for them (2 hours, less when the session is near). Not taken in time, it goes
to the next; nobody left waiting, it is free for all again.

Race-proof by the slot's counter: a held place is counted in slot.booked, so nobody else books
it (the guarded counter of services/booking.py), and every change of a slot's waitlist first
takes the slot's row (FOR UPDATE on PostgreSQL; SQLite's writers queue behind BEGIN
IMMEDIATE). Two cancellations at once therefore offer their places one after the other, each
to a different student, and an offer is taken at most once.
"""

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..clock import now_utc
from ..db import write_transaction
from ..models import LIVE_BOOKING, Booking, Slot, User, WaitlistEntry
from . import ServiceError, outbox
from .booking import add_booking, current_rules, may_act_for, refuse_without_consent
from .confidential import MEDIATION, kind_of_slot

HOLD = timedelta(hours=2)
# An offer shorter than this could not be read in time: the place is simply free again.
SHORTEST_HOLD = timedelta(minutes=10)


def hold_for(starts_at: datetime, now: datetime) -> timedelta | None:
    """How long a freed place is held for the person offered it: 2 hours, or half the time left
    before the session when it is near; None when too near to be worth holding."""
    hold = min(HOLD, (starts_at - now) / 2)
    return hold if hold >= SHORTEST_HOLD else None


def join_waitlist(db: Session, slot_id: int, student: User, added_by: User) -> WaitlistEntry:
    """Put the student on the slot's waitlist, or raise a ServiceError saying why not."""
    if student.role != "student":
        raise ServiceError(_l("Seul un élève peut réserver une place."))
    if not may_act_for(added_by, student, db):
        raise ServiceError(_l("Vous ne pouvez pas réserver pour cette personne."))
    if kind_of_slot(db, slot_id) == MEDIATION:
        raise ServiceError(_l("Un rendez-vous de médiation est pour un adulte, jamais pour un enfant."))
    refuse_without_consent(db, student, added_by)
    try:
        with write_transaction(db):
            slot = _locked_slot(db, slot_id)
            if slot is None or slot.status != "open" or slot.starts_at <= now_utc():
                raise ServiceError(_l("Cette séance n'est plus proposée."))
            if slot.booked < slot.capacity:
                raise ServiceError(_l("Il reste une place dans cette séance. Vous pouvez la réserver."))
            if db.scalar(select(Booking.id).where(Booking.slot_id == slot.id, Booking.student_id == student.id,
                                                  LIVE_BOOKING)):
                raise ServiceError(_l("Cet élève a déjà une place dans cette séance."))
            entry = WaitlistEntry(slot_id=slot.id, student_id=student.id, added_by_id=added_by.id)
            db.add(entry)
            db.flush()
    except IntegrityError:
        raise ServiceError(_l("Cet élève est déjà sur la liste d'attente de cette séance.")) from None
    return entry


def offer_freed_place(db: Session, slot: Slot, now: datetime) -> WaitlistEntry | None:
    """Inside the transaction that freed a place of `slot` (holding its row): hold the place
    for the first student waiting and write them the offer."""
    if slot.status != "open" or hold_for(slot.starts_at, now) is None:
        return None
    taken = db.execute(
        update(Slot).where(Slot.id == slot.id, Slot.booked < Slot.capacity)
        .values(booked=Slot.booked + 1).execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return None
    entry = _offer_to_next(db, slot, now)
    if entry is None:  # nobody waiting: the place is free for all
        _give_back(db, slot)
    return entry


def find_offer(db: Session, token: str) -> WaitlistEntry | None:
    """The waitlist entry a message's link points at."""
    return db.scalar(select(WaitlistEntry).where(WaitlistEntry.token == token))


def take_offer(db: Session, token: str, *, now: datetime | None = None) -> Booking:
    """Book the place held by an offer, or raise a ServiceError (expired, used, withdrawn)."""
    now = now or now_utc()
    try:
        with write_transaction(db):
            entry = _locked_entry(db, token)
            if entry.status == "booked":
                raise ServiceError(_l("Cette place est déjà à vous : la séance est réservée."))
            if entry.status == "expired" or (entry.status == "offered" and entry.offer_expires_at <= now):
                raise ServiceError(_l("C'est trop tard. La place n'est plus gardée pour vous."))
            if entry.status != "offered":
                raise ServiceError(_l("Cette place n'est plus gardée pour vous."))
            slot = db.get(Slot, entry.slot_id)
            if slot.status != "open" or slot.starts_at <= now:
                raise ServiceError(_l("Cette séance n'est plus proposée."))
            # The place is already counted in slot.booked: the booking only takes it.
            db.execute(update(Slot).where(Slot.id == slot.id).values(sequence=Slot.sequence + 1)
                       .execution_options(synchronize_session=False))
            booking = add_booking(db, slot, entry.student, entry.added_by, "", current_rules())
            entry.status, entry.booking_id = "booked", booking.id
    except IntegrityError:
        raise ServiceError(_l("Cet élève a déjà une séance à ce moment-là.")) from None
    return booking


def leave_waitlist(db: Session, token: str, *, now: datetime | None = None) -> WaitlistEntry:
    """Take the student off the list; a place held for them goes to the next one waiting."""
    now = now or now_utc()
    with write_transaction(db):
        entry = _locked_entry(db, token)
        if entry.status not in ("waiting", "offered"):
            raise ServiceError(_l("Vous n'êtes plus sur la liste d'attente de cette séance."))
        held = entry.status == "offered"
        entry.status = "left"
        db.flush()
        if held:
            _pass_on(db, db.get(Slot, entry.slot_id), now)
    return entry


def expire_offers(db: Session, now: datetime) -> int:
    """Offers not taken in time: each held place goes to the next one waiting, or is freed.
    Run by the worker; safe to run in several processes at once."""
    due = db.scalars(select(WaitlistEntry.token).where(
        WaitlistEntry.status == "offered", WaitlistEntry.offer_expires_at <= now).order_by(WaitlistEntry.id)).all()
    expired = 0
    for token in due:
        with write_transaction(db):
            entry = _locked_entry(db, token)
            if entry.status != "offered" or entry.offer_expires_at > now:
                continue  # taken, or left, while this run waited
            entry.status = "expired"
            db.flush()
            _pass_on(db, db.get(Slot, entry.slot_id), now)
            expired += 1
    return expired


def withdraw_student(db: Session, student_id: int, now: datetime) -> None:
    """Inside the caller's write transaction (a person forgotten, services/privacy.py): the
    student leaves every waitlist; a place held for them goes to the next one waiting."""
    entries = db.scalars(select(WaitlistEntry).where(WaitlistEntry.student_id == student_id,
                                                     WaitlistEntry.status.in_(("waiting", "offered")))).all()
    for entry in entries:
        held = entry.status == "offered"
        entry.status = "left"
        db.flush()
        if held:
            _pass_on(db, _locked_slot(db, entry.slot_id), now)


def _pass_on(db: Session, slot: Slot, now: datetime) -> None:
    """A held place is given back: it moves to the next one waiting, or is free for all."""
    if slot.status != "open" or hold_for(slot.starts_at, now) is None or _offer_to_next(db, slot, now) is None:
        _give_back(db, slot)


def _offer_to_next(db: Session, slot: Slot, now: datetime) -> WaitlistEntry | None:
    entry = db.scalar(select(WaitlistEntry).where(WaitlistEntry.slot_id == slot.id, WaitlistEntry.status == "waiting")
                      .order_by(WaitlistEntry.created_at, WaitlistEntry.id).limit(1))
    if entry is None:
        return None
    entry.status, entry.offered_at = "offered", now
    entry.offer_expires_at = now + hold_for(slot.starts_at, now)
    db.flush()
    family = [entry.student, *outbox.parents_of(db, [entry.student_id])[entry.student_id]]
    outbox.enqueue(db, "waitlist_offer", family, slot=slot, due_at=now, version=f"w{entry.id}",
                   payload={"offer_path": f"/w/{entry.token}", "expires_at": entry.offer_expires_at.isoformat(),
                            "waiting_for": entry.student.name})
    return entry


def _give_back(db: Session, slot: Slot) -> None:
    db.execute(update(Slot).where(Slot.id == slot.id, Slot.booked > 0).values(booked=Slot.booked - 1)
               .execution_options(synchronize_session=False))


def _locked_slot(db: Session, slot_id: int) -> Slot | None:
    return db.scalar(select(Slot).where(Slot.id == slot_id).with_for_update()
                     .execution_options(populate_existing=True))


def _locked_entry(db: Session, token: str) -> WaitlistEntry:
    """The entry as it is now, its slot's row taken first (the order every waitlist change keeps)."""
    slot_id = db.scalar(select(WaitlistEntry.slot_id).where(WaitlistEntry.token == token))
    if slot_id is None:
        raise ServiceError(_l("Ce lien n'est pas valable."))
    _locked_slot(db, slot_id)
    return db.scalar(select(WaitlistEntry).where(WaitlistEntry.token == token)
                     .execution_options(populate_existing=True))
