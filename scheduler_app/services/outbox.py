"""Writing messages into the outbox, in the same transaction as the change that causes them.

What is sent, to whom, and when (every rule configurable through NOTIFY_* settings):
booking confirmed or cancelled -> the student, their parents, the tutor; slot cancelled ->
everyone booked and their parents; reminders before the session (24 h and 1 h by default) ->
student, parents, tutor. Each person gets each message on the channels they chose.
Every message is listed for the coordinator with its status (services/message_log.py).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..clock import now_utc
from ..models import Booking, Guardianship, Notification, Slot, User, WaitlistEntry


@dataclass(frozen=True)
class Rules:
    """Which messages Lien writes; the defaults are the centre's promise to families."""

    confirmations: bool = True
    cancellations: bool = True
    reminders: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))

    @classmethod
    def from_config(cls, config) -> "Rules":
        """The rules set by NOTIFY_CONFIRMATIONS, NOTIFY_CANCELLATIONS and NOTIFY_REMINDERS."""
        return cls(
            confirmations=config["NOTIFY_CONFIRMATIONS"],
            cancellations=config["NOTIFY_CANCELLATIONS"],
            reminders=tuple(config["NOTIFY_REMINDERS"]),
        )


def reminder_kind(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    return f"reminder_{minutes // 60}h" if minutes % 60 == 0 else f"reminder_{minutes}m"


def channels_for(person: User) -> list[tuple[str, str]]:
    """(channel, address) pairs for a person: what they chose, else whatever reaches them."""
    reachable = {"email": person.email, "sms": person.phone}
    wanted = {"email": ["email"], "sms": ["sms"], "both": ["email", "sms"]}[person.notify_by]
    chosen = [(channel, reachable[channel]) for channel in wanted if reachable[channel]]
    if not chosen:  # a choice that cannot reach them (no phone yet): use what can
        chosen = [(channel, address) for channel, address in reachable.items() if address][:1]
    return chosen


def _key(kind, booking_id, slot_id, user_id, channel, version) -> str:
    return f"{kind}|b{booking_id or '-'}|s{slot_id or '-'}|u{user_id}|{channel}|{version}"


def enqueue(db: Session, kind: str, people: Iterable[User], *, due_at: datetime,
            booking: Booking | None = None, slot: Slot | None = None, version: int | str = 0,
            payload: dict | None = None, email_only: bool = False) -> list[Notification]:
    """Write one message per person and channel. A message already written (same key) is not
    written twice; one that was withdrawn (cancelled) comes back to life instead."""
    slot_id = slot.id if slot is not None else (booking.slot_id if booking is not None else None)
    rows = {}
    for person in people:
        channels = [("email", person.email)] if email_only and person.email else channels_for(person)
        for channel, address in channels:
            key = _key(kind, booking.id if booking else None, slot_id, person.id, channel, version)
            rows[key] = Notification(
                kind=kind, channel=channel, recipient_id=person.id, address=address,
                locale=person.locale, booking_id=booking.id if booking else None, slot_id=slot_id,
                payload=payload or {}, due_at=due_at, dedupe_key=key,
            )
    if not rows:
        return []
    existing = {row.dedupe_key: row for row in db.scalars(select(Notification).where(Notification.dedupe_key.in_(rows)))}
    for old in existing.values():
        if old.status == "cancelled":
            old.status, old.due_at, old.attempts, old.last_error = "pending", due_at, 0, ""
    fresh = [row for key, row in rows.items() if key not in existing]
    db.add_all(fresh)
    return fresh


def parents_of(db: Session, student_ids: Iterable[int]) -> dict[int, list[User]]:
    """Each student's parents, in one query."""
    ids = list(student_ids)
    found: dict[int, list[User]] = {student_id: [] for student_id in ids}
    if ids:
        rows = db.execute(
            select(Guardianship.student_id, User)
            .join(User, User.id == Guardianship.parent_id)
            .where(Guardianship.student_id.in_(ids))
        )
        for student_id, parent in rows:
            found[student_id].append(parent)
    return found


def family_of(db: Session, booking: Booking, slot: Slot, parents: dict[int, list[User]] | None = None) -> list[User]:
    """Who hears about a booking besides the tutor: the student and their parents; for a
    mediation, the party alone (a mediation is never told to anyone linked to them)."""
    if slot.activity.kind == "mediation":
        return [booking.student]
    parents = parents if parents is not None else parents_of(db, [booking.student_id])
    return [booking.student, *parents[booking.student_id]]


def booking_confirmed(db: Session, booking: Booking, slot: Slot, rules: Rules, *, email_only: bool = False) -> None:
    """A place is taken: confirmations now, reminders before the session. `email_only`: the
    confirmations (with their invitations) by email only, and to those with an email, for the
    weeks of an enrolment after the first: a phone does not get thirty texts at once, and the
    reminders still go to every channel."""
    now = now_utc()
    family = family_of(db, booking, slot)
    tutor = db.get(User, slot.tutor_id)
    if rules.confirmations:
        told = [person for person in family if person.email] if email_only else family
        enqueue(db, "booking_confirmed", told, booking=booking, due_at=now, version=booking.sequence,
                email_only=email_only)
        enqueue(db, "tutor_booking_confirmed", [tutor] if tutor.email or not email_only else [], booking=booking,
                due_at=now, version=booking.sequence, email_only=email_only)

    for offset in rules.reminders:
        due_at = slot.starts_at - offset
        if due_at > now:
            kind = reminder_kind(offset)
            enqueue(db, kind, family, booking=booking, due_at=due_at, version=booking.sequence)
            # The tutor is reminded once per slot, however many students booked it.
            enqueue(db, kind, [tutor], slot=slot, due_at=due_at)


def cancel_pending(db: Session, *, booking_ids: Iterable[int] = (), slot_id: int | None = None) -> None:
    """Messages still waiting about these bookings (or this slot) will not go out."""
    conditions = []
    ids = list(booking_ids)
    if ids:
        conditions.append(Notification.booking_id.in_(ids))
    if slot_id is not None:
        conditions.append(Notification.slot_id == slot_id)
    for condition in conditions:
        db.execute(
            update(Notification)
            .where(condition, Notification.status == "pending", Notification.kind.like("reminder_%"))
            .values(status="cancelled", last_error="")
            .execution_options(synchronize_session=False)
        )


def who_cancelled(by: User | None, slot: Slot, *, default: str = "family") -> str:
    """Who the messages say cancelled: "coordinator" (the centre), "tutor" or "family"."""
    if by is None:
        return default
    if by.role == "coordinator":
        return "coordinator"
    return "tutor" if by.id == slot.tutor_id else "family"


def booking_cancelled(db: Session, booking: Booking, slot: Slot, rules: Rules, *, slot_now_empty: bool,
                      cancelled_by: str = "family", reason: str = "") -> None:
    """A place is given back: no reminders for it, and everyone concerned is told who cancelled
    and why."""
    cancel_pending(db, booking_ids=[booking.id])
    if slot_now_empty:
        cancel_pending(db, slot_id=slot.id)
    if rules.cancellations:
        payload = {"cancelled_by": cancelled_by, "reason": reason}
        family = family_of(db, booking, slot)
        enqueue(db, "booking_cancelled", family, booking=booking, due_at=now_utc(), version=booking.sequence,
                payload=payload)
        enqueue(db, "tutor_booking_cancelled", [db.get(User, slot.tutor_id)], booking=booking,
                due_at=now_utc(), version=booking.sequence, payload=payload)


def slot_cancelled(db: Session, slot: Slot, bookings: list[Booking], rules: Rules, *, by: User | None,
                   reason: str = "", waiting: dict[int, WaitlistEntry] | None = None) -> None:
    """A slot is withdrawn: every booked family is told who did it and why (and, for the
    bookings in `waiting`, that they wait for a session like it), and the tutor if someone
    else did it."""
    cancel_pending(db, booking_ids=[booking.id for booking in bookings], slot_id=slot.id)
    if not rules.cancellations:
        return
    payload = {"cancelled_by": who_cancelled(by, slot, default="coordinator"), "reason": reason}
    parents = parents_of(db, [booking.student_id for booking in bookings])
    for booking in bookings:
        entry = (waiting or {}).get(booking.id)
        wait = {"waitlist_path": f"/w/{entry.token}", "waiting_until": entry.wish_until.isoformat()} if entry else {}
        enqueue(db, "booking_cancelled", family_of(db, booking, slot, parents), booking=booking,
                due_at=now_utc(), version=booking.sequence, payload={**payload, **wait})
    tutor = db.get(User, slot.tutor_id)
    if by is None or by.id != slot.tutor_id:
        enqueue(db, "slot_cancelled", [tutor], slot=slot, due_at=now_utc(), version=slot.sequence, payload=payload)
    elif bookings and tutor.email:
        # The tutor did it: no news for them, but their calendar holds the session (it came with
        # the bookings' invitations) and only a CANCEL takes it out.
        enqueue(db, "slot_cancelled", [tutor], slot=slot, due_at=now_utc(), version=slot.sequence,
                payload={"by_self": True}, email_only=True)


def slot_moved(db: Session, slot: Slot, bookings: list[Booking], rules: Rules, *, old_starts_at: datetime,
               by: User | None) -> None:
    """A session moved: reminders follow the new time, and everyone gets the new time with an
    updated invitation (same UID, higher SEQUENCE)."""
    cancel_pending(db, booking_ids=[booking.id for booking in bookings], slot_id=slot.id)
    payload = {"old_starts_at": old_starts_at.isoformat()}
    parents = parents_of(db, [booking.student_id for booking in bookings])
    tutor = db.get(User, slot.tutor_id)
    now = now_utc()
    for booking in bookings:
        family = family_of(db, booking, slot, parents)
        if rules.confirmations:
            enqueue(db, "session_moved", family, booking=booking, due_at=now, version=booking.sequence,
                    payload=payload)
        for offset in rules.reminders:
            if slot.starts_at - offset > now:
                kind = reminder_kind(offset)
                enqueue(db, kind, family, booking=booking, due_at=slot.starts_at - offset, version=booking.sequence)
                enqueue(db, kind, [tutor], slot=slot, due_at=slot.starts_at - offset)
    if rules.confirmations and (by is None or by.id != slot.tutor_id):
        enqueue(db, "tutor_session_moved", [tutor], slot=slot, due_at=now, version=slot.sequence, payload=payload)


def tutor_absent(db: Session, absence_id: int, slot: Slot, tutor_name: str, reason: str) -> None:
    """A tutor cannot hold a session: every active coordinator is alerted, by email (the reason
    is for the centre only: no family's message carries it)."""
    coordinators = db.scalars(select(User).where(User.role == "coordinator", User.active,
                                                 User.deleted_at.is_(None))).all()
    enqueue(db, "tutor_absence", coordinators, slot=slot, due_at=now_utc(), version=f"a{absence_id}",
            email_only=True, payload={"absent_tutor": tutor_name, "reason": reason})


def tutor_changed(db: Session, slot: Slot, bookings: list[Booking], rules: Rules, *, old_tutor: User) -> None:
    """A session given to another tutor: the families get the updated invitation, the new tutor
    an invitation, the old one its cancellation; reminders follow the new tutor."""
    cancel_pending(db, booking_ids=[booking.id for booking in bookings], slot_id=slot.id)
    parents = parents_of(db, [booking.student_id for booking in bookings])
    tutor = db.get(User, slot.tutor_id)
    now = now_utc()
    payload = {"old_tutor_name": old_tutor.name}
    for booking in bookings:
        family = family_of(db, booking, slot, parents)
        enqueue(db, "tutor_changed", family, booking=booking, due_at=now, version=booking.sequence, payload=payload)
        for offset in rules.reminders:
            if slot.starts_at - offset > now:
                enqueue(db, reminder_kind(offset), family, booking=booking, due_at=slot.starts_at - offset,
                        version=booking.sequence)
    enqueue(db, "tutor_session_given", [tutor], slot=slot, due_at=now, version=slot.sequence)
    enqueue(db, "tutor_session_withdrawn", [old_tutor], slot=slot, due_at=now, version=slot.sequence)
    if bookings:
        for offset in rules.reminders:
            if slot.starts_at - offset > now:
                enqueue(db, reminder_kind(offset), [tutor], slot=slot, due_at=slot.starts_at - offset,
                        version=f"t{tutor.id}")
