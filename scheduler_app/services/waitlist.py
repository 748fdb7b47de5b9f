"""The waitlist: "Prévenez-moi si une place se libère".

Two ways to wait, one way to be offered a place. A family waits for a place in one full slot, or
makes a wish: any slot of a subject, level and tutor's language that starts within some days.
When a place frees (a cancellation, an offer not taken) or a slot opens (a tutor's one-off slot,
weekly availability), the first in line for that slot, whichever way they joined, is offered it
by SMS or email, with a link that holds the place for them (2 hours, less when the session is
near). Not taken in time, it goes to the next; nobody left waiting, it is free for all again. A
wish ends with its offer (taken, left or expired), or when its last day has passed.

Race-proof by the slot's counter and row: a held place is counted in slot.booked, so nobody else
books it (the guarded counter of services/booking.py), and every change of a slot's waitlist
first takes the slot's row (FOR UPDATE on PostgreSQL; SQLite's writers queue behind BEGIN
IMMEDIATE). Two cancellations at once therefore offer their places one after the other, each
to a different student, and an offer is taken at most once. A waiting wish belongs to no slot
yet, so no slot's row guards it: it is claimed by an UPDATE guarded by its status, which only
one of two slots freeing places at once can win.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from ..catalogue import LANGUAGE_CODES, LEVELS, SUBJECTS
from ..clock import now_utc
from ..db import write_transaction
from ..models import LIVE_BOOKING, Booking, Slot, TutorProfile, User, WaitlistEntry
from . import ServiceError, outbox
from .booking import add_booking, current_rules, may_act_for, refuse_without_consent
from .confidential import MEDIATION, kind_of_slot
from .localtime import say_day

HOLD = timedelta(hours=2)
# An offer shorter than this could not be read in time: the place is simply free again.
SHORTEST_HOLD = timedelta(minutes=10)
# A wish waits at most this many days ahead: further, the family would rather book weekly.
WISH_DAYS = 60
# A family whose session is cancelled (its tutor is absent) waits for a session like it until
# this long after the cancelled one.
AFTER_ABSENCE = timedelta(days=7)
# Candidates a place is tried on before it is given back (each refusal is a concurrent claim).
OFFER_TRIES = 20
LIVE = ("waiting", "offered")


@dataclass(frozen=True)
class Wish:
    """What a family waits for: any slot of this subject, level and tutor's language ("" for any),
    starting from `starts_from` until `starts_until` (UTC)."""

    starts_from: datetime
    starts_until: datetime
    subject: str = ""
    level: str = ""
    language: str = ""


def wish_days(first_day: date, last_day: date, today: date, tz: str) -> tuple[datetime, datetime]:
    """The UTC moments a wish from `first_day` to `last_day` (local days, both included) covers,
    or a ServiceError naming the field to change."""
    if first_day < today:
        raise ServiceError(_l("Ce jour est déjà passé. Choisissez aujourd'hui ou plus tard."), field="first_day")
    if last_day < first_day:
        raise ServiceError(_l("Le dernier jour doit venir après le premier jour."), field="last_day")
    if last_day > today + timedelta(days=WISH_DAYS):
        raise ServiceError(_l("Choisissez un dernier jour avant le %(day)s.",
                              day=say_day(today + timedelta(days=WISH_DAYS + 1))), field="last_day")
    zone = ZoneInfo(tz)
    return (datetime.combine(first_day, time(), zone).astimezone(UTC),
            datetime.combine(last_day + timedelta(days=1), time(), zone).astimezone(UTC))


def hold_for(starts_at: datetime, now: datetime) -> timedelta | None:
    """How long a freed place is held for the person offered it: 2 hours, or half the time left
    before the session when it is near; None when too near to be worth holding."""
    hold = min(HOLD, (starts_at - now) / 2)
    return hold if hold >= SHORTEST_HOLD else None


def _check_may_wait(db: Session, student: User, added_by: User) -> None:
    if student.role != "student":
        raise ServiceError(_l("Seul un élève peut réserver une place."))
    if not may_act_for(added_by, student, db):
        raise ServiceError(_l("Vous ne pouvez pas réserver pour cette personne."))
    refuse_without_consent(db, student, added_by)


def join_waitlist(db: Session, slot_id: int, student: User, added_by: User) -> WaitlistEntry:
    """Put the student on the slot's waitlist, or raise a ServiceError saying why not."""
    _check_may_wait(db, student, added_by)
    if kind_of_slot(db, slot_id) == MEDIATION:
        raise ServiceError(_l("Un rendez-vous de médiation est pour un adulte, jamais pour un enfant."))
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


def join_wish(db: Session, student: User, added_by: User, wish: Wish, *, now: datetime | None = None) -> WaitlistEntry:
    """Put the student on the waitlist for any slot like `wish`, or raise a ServiceError."""
    now = now or now_utc()
    _check_may_wait(db, student, added_by)
    if wish.subject and wish.subject not in SUBJECTS:
        raise ServiceError(_l("Choisissez une matière de la liste."), field="subject")
    if wish.level and wish.level not in LEVELS:
        raise ServiceError(_l("Choisissez un niveau de la liste."), field="level")
    if wish.language and wish.language not in LANGUAGE_CODES:
        raise ServiceError(_l("Choisissez une langue de la liste."), field="language")
    if wish.starts_until <= max(now, wish.starts_from):
        raise ServiceError(_l("Ce jour est déjà passé. Choisissez aujourd'hui ou plus tard."), field="last_day")
    try:
        with write_transaction(db):
            entry = _new_wish(student, added_by, wish)
            db.add(entry)
            db.flush()
    except IntegrityError:
        raise ServiceError(_l("%(name)s attend déjà une séance de ce genre. Pour changer les jours, quittez "
                              "d'abord la liste.", name=student.name)) from None
    return entry


def wait_for_similar(db: Session, booking: Booking, slot: Slot, added_by: User, now: datetime) -> WaitlistEntry:
    """Inside the caller's write transaction (a session cancelled for its tutor's absence): the
    booked student waits for a session like it (same subject and level, a tutor speaking the
    family's language if it was shared) until AFTER_ABSENCE past it; an identical wish already
    waiting is kept instead."""
    student = db.get(User, booking.student_id)
    zone = ZoneInfo(db.get(User, slot.tutor_id).timezone)
    last_day = (slot.starts_at + AFTER_ABSENCE).astimezone(zone).date()
    wish = Wish(starts_from=now, starts_until=datetime.combine(last_day + timedelta(days=1), time(), zone),
                subject=slot.subject, level=slot.level, language=_shared_language(db, slot, student))
    try:
        with db.begin_nested():
            entry = _new_wish(student, added_by, wish)
            db.add(entry)
            db.flush()
    except IntegrityError:
        entry = db.scalar(select(WaitlistEntry).where(
            WaitlistEntry.student_id == student.id, WaitlistEntry.status == "waiting",
            WaitlistEntry.slot_id.is_(None), WaitlistEntry.subject == wish.subject,
            WaitlistEntry.level == wish.level, WaitlistEntry.language == wish.language))
    return entry


def _shared_language(db: Session, slot: Slot, student: User) -> str:
    """The family's own language when it is not French and the tutor spoke it, else "" (any):
    French is every tutor's, and asking more would only make the wait longer."""
    spoken = set(_tutor_languages(db, slot.tutor_id))
    family = [student, *outbox.parents_of(db, [student.id])[student.id]]
    return next((person.locale for person in family if person.locale != "fr" and person.locale in spoken), "")


def _new_wish(student: User, added_by: User, wish: Wish) -> WaitlistEntry:
    return WaitlistEntry(student_id=student.id, added_by_id=added_by.id, subject=wish.subject, level=wish.level,
                         language=wish.language, wish_from=wish.starts_from, wish_until=wish.starts_until)


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


def offer_new_slots(db: Session, slots: list[Slot], now: datetime) -> list[WaitlistEntry]:
    """Inside the transaction that opened `slots`: each place goes to the first wish waiting
    for a slot like it, if any. One query when nobody waits."""
    if not slots or db.scalar(select(WaitlistEntry.id).where(WaitlistEntry.status == "waiting",
                                                             WaitlistEntry.slot_id.is_(None)).limit(1)) is None:
        return []
    offered = []
    for slot in slots:
        db.refresh(slot)
        for _place in range(slot.capacity - slot.booked):
            entry = offer_freed_place(db, slot, now)
            if entry is None:
                break
            offered.append(entry)
    return offered


def slot_withdrawn(db: Session, slot_id: int) -> None:
    """Inside the transaction that cancels a slot (holding its row): a wish offered a place in
    it waits again, in its place in line, for another slot like it (unless the family has made
    the same wish again meanwhile: that one waits)."""
    again = aliased(WaitlistEntry)
    made_again = select(again.id).where(
        again.student_id == WaitlistEntry.student_id, again.subject == WaitlistEntry.subject,
        again.level == WaitlistEntry.level, again.language == WaitlistEntry.language,
        again.status == "waiting", again.slot_id.is_(None)).exists()
    db.execute(update(WaitlistEntry).where(WaitlistEntry.slot_id == slot_id, WaitlistEntry.status == "offered",
                                           WaitlistEntry.wish_until.is_not(None), ~made_again)
               .values(status="waiting", slot_id=None, offered_at=None, offer_expires_at=None)
               .execution_options(synchronize_session=False))


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
        return _leave(db, token, now)


def _leave(db: Session, token: str, now: datetime) -> WaitlistEntry:
    entry = _locked_entry(db, token)
    if entry.status == "waiting" and entry.slot_id is None:
        # A wish still waiting: left unless a slot claims it at this very moment.
        left = db.execute(update(WaitlistEntry).where(WaitlistEntry.id == entry.id, WaitlistEntry.status == "waiting",
                                                      WaitlistEntry.slot_id.is_(None))
                          .values(status="left").execution_options(synchronize_session=False))
        if left.rowcount == 1:
            db.refresh(entry)
            return entry
        entry = _locked_entry(db, token)  # claimed: now held in its slot, left as below
    if entry.status not in LIVE:
        raise ServiceError(_l("Vous n'êtes plus sur la liste d'attente.") if entry.is_wish
                           else _l("Vous n'êtes plus sur la liste d'attente de cette séance."))
    held = entry.status == "offered"
    entry.status = "left"
    db.flush()
    if held:
        _pass_on(db, db.get(Slot, entry.slot_id), now)
    return entry


def expire_offers(db: Session, now: datetime) -> int:
    """Offers not taken in time: each held place goes to the next one waiting, or is freed.
    Wishes whose last day has passed end. Run by the worker; safe to run in several processes
    at once."""
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
    with write_transaction(db):
        db.execute(update(WaitlistEntry).where(WaitlistEntry.status == "waiting", WaitlistEntry.slot_id.is_(None),
                                               WaitlistEntry.wish_until <= now)
                   .values(status="expired").execution_options(synchronize_session=False))
    return expired


def withdraw_student(db: Session, student_id: int, now: datetime) -> None:
    """Inside the caller's write transaction (a person forgotten, services/privacy.py): the
    student leaves every waitlist; a place held for them goes to the next one waiting."""
    tokens = db.scalars(select(WaitlistEntry.token).where(WaitlistEntry.student_id == student_id,
                                                          WaitlistEntry.status.in_(LIVE))
                        .order_by(WaitlistEntry.id)).all()
    for token in tokens:
        try:
            _leave(db, token, now)
        except ServiceError:
            continue  # taken or expired meanwhile


def _pass_on(db: Session, slot: Slot, now: datetime) -> None:
    """A held place is given back: it moves to the next one waiting, or is free for all."""
    if slot.status != "open" or hold_for(slot.starts_at, now) is None or _offer_to_next(db, slot, now) is None:
        _give_back(db, slot)


def _offer_to_next(db: Session, slot: Slot, now: datetime) -> WaitlistEntry | None:
    """Offer the place held in `slot` to the first in line for it, by the time they joined:
    waiting for this slot, or wishing for one like it; nobody with a session then."""
    expires_at = now + hold_for(slot.starts_at, now)
    tried: list[int] = []
    for _try in range(OFFER_TRIES):
        entry = _next_in_line(db, slot, tried)
        if entry is None:
            return None
        claimed = db.execute(
            update(WaitlistEntry).where(WaitlistEntry.id == entry.id, WaitlistEntry.status == "waiting")
            .values(status="offered", slot_id=slot.id, offered_at=now, offer_expires_at=expires_at)
            .execution_options(synchronize_session=False))
        if claimed.rowcount == 1:
            break
        tried.append(entry.id)  # a wish another slot offered a place to first
    else:
        return None
    db.refresh(entry)
    family = [entry.student, *outbox.parents_of(db, [entry.student_id])[entry.student_id]]
    outbox.enqueue(db, "waitlist_offer", family, slot=slot, due_at=now, version=f"w{entry.id}",
                   payload={"offer_path": f"/w/{entry.token}", "expires_at": entry.offer_expires_at.isoformat(),
                            "waiting_for": entry.student.name})
    return entry


def _next_in_line(db: Session, slot: Slot, tried: list[int]) -> WaitlistEntry | None:
    ways = [WaitlistEntry.slot_id == slot.id]
    if slot.activity.kind != MEDIATION:
        here = aliased(WaitlistEntry)
        ways.append(and_(
            WaitlistEntry.slot_id.is_(None),
            WaitlistEntry.subject.in_(["", slot.subject]),
            WaitlistEntry.level.in_(["", slot.level]),
            WaitlistEntry.language.in_(["", *_tutor_languages(db, slot.tutor_id)]),
            WaitlistEntry.wish_from <= slot.starts_at,
            WaitlistEntry.wish_until > slot.starts_at,
            # Waiting for this very slot too: that entry keeps its own place in line.
            ~select(here.id).where(here.slot_id == slot.id, here.student_id == WaitlistEntry.student_id,
                                   here.status.in_(LIVE)).exists(),
        ))
    busy = select(Booking.id).where(Booking.student_id == WaitlistEntry.student_id, LIVE_BOOKING,
                                    Booking.starts_at < slot.ends_at, Booking.ends_at > slot.starts_at).exists()
    query = select(WaitlistEntry).where(WaitlistEntry.status == "waiting", or_(*ways), ~busy)
    if tried:
        query = query.where(WaitlistEntry.id.not_in(tried))
    return db.scalar(query.order_by(WaitlistEntry.created_at, WaitlistEntry.id).limit(1))


def _tutor_languages(db: Session, tutor_id: int) -> list[str]:
    packed = db.scalar(select(TutorProfile.languages).where(TutorProfile.user_id == tutor_id))
    return TutorProfile.unpack(packed or ",")


def _give_back(db: Session, slot: Slot) -> None:
    db.execute(update(Slot).where(Slot.id == slot.id, Slot.booked > 0).values(booked=Slot.booked - 1)
               .execution_options(synchronize_session=False))


def _locked_slot(db: Session, slot_id: int) -> Slot | None:
    return db.scalar(select(Slot).where(Slot.id == slot_id).with_for_update()
                     .execution_options(populate_existing=True))


def _locked_entry(db: Session, token: str) -> WaitlistEntry:
    """The entry as it is now, its slot's row taken first (the order every waitlist change keeps).
    A wish still waiting has no slot: it changes only by updates guarded by its status."""
    locked = None
    while True:  # twice at most: a wish's slot is set once, when it is offered a place
        entry = db.scalar(select(WaitlistEntry).where(WaitlistEntry.token == token)
                          .execution_options(populate_existing=True))
        if entry is None:
            raise ServiceError(_l("Ce lien n'est pas valable."))
        if entry.slot_id is None or entry.slot_id == locked:
            return entry
        _locked_slot(db, entry.slot_id)
        locked = entry.slot_id
