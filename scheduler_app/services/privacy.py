"""What Lien holds about a person: export it, delete it, and forget old data on schedule.

Deleting keeps the person's row, emptied ("Personne supprimée"), so the centre's attendance
counts stay true for its funders while nothing identifies them any more.
"""

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, joinedload

from ..clock import now_utc
from ..db import write_transaction
from ..models import (
    AvailabilityRule,
    Booking,
    FeedToken,
    Guardianship,
    JoinToken,
    Notification,
    Slot,
    TutorProfile,
    User,
    new_secret,
)

DELETED_NAME = "Personne supprimée"


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export(db: Session, person: User) -> dict:
    """Everything Lien holds about a person, as plain JSON-ready values."""
    bookings = db.scalars(
        select(Booking).where(or_(Booking.student_id == person.id, Booking.booked_by_id == person.id))
        .options(joinedload(Booking.slot).joinedload(Slot.tutor), joinedload(Booking.slot).joinedload(Slot.activity))
        .order_by(Booking.starts_at)
    ).all()
    links = db.execute(
        select(Guardianship.parent_id, Guardianship.student_id)
        .where(or_(Guardianship.parent_id == person.id, Guardianship.student_id == person.id))
    ).all()
    messages = db.scalars(select(Notification).where(Notification.recipient_id == person.id)
                          .order_by(Notification.created_at)).all()
    profile = db.get(TutorProfile, person.id)
    slots = db.scalars(select(Slot).where(Slot.tutor_id == person.id).order_by(Slot.starts_at)).all()
    return {
        "exported_at": now_utc().isoformat(),
        "person": {
            "id": person.id, "name": person.name, "email": person.email, "phone": person.phone,
            "role": person.role, "locale": person.locale, "timezone": person.timezone, "active": person.active,
            "notify_by": person.notify_by, "created_at": _when(person.created_at),
            "has_password": bool(person.password_hash),
        },
        "parents": [parent for parent, student in links if student == person.id],
        "children": [student for parent, student in links if parent == person.id],
        "tutor_profile": None if profile is None else {
            "subjects": TutorProfile.unpack(profile.subjects), "levels": TutorProfile.unpack(profile.levels),
            "languages": TutorProfile.unpack(profile.languages), "bio": profile.bio,
        },
        "bookings": [
            {"id": b.id, "student_id": b.student_id, "booked_by_id": b.booked_by_id, "status": b.status,
             "topic": b.topic, "tutor_note": b.tutor_note, "starts_at": _when(b.starts_at),
             "ends_at": _when(b.ends_at), "activity": b.slot.activity.name, "tutor": b.slot.tutor.name,
             "created_at": _when(b.created_at), "cancelled_at": _when(b.cancelled_at)}
            for b in bookings
        ],
        "slots_as_tutor": [
            {"id": s.id, "starts_at": _when(s.starts_at), "ends_at": _when(s.ends_at), "status": s.status,
             "subject": s.subject, "level": s.level, "capacity": s.capacity} for s in slots
        ],
        "messages": [
            {"kind": m.kind, "channel": m.channel, "address": m.address, "status": m.status,
             "due_at": _when(m.due_at), "sent_at": _when(m.sent_at)} for m in messages
        ],
    }


def delete_person(db: Session, person: User) -> None:
    """Forget a person: their details, links, messages and tokens go; their future bookings are
    cancelled (without messages) and their past ones stay, anonymous, for the reports."""
    now = now_utc()
    with write_transaction(db):
        future = db.scalars(select(Booking).where(
            Booking.student_id == person.id, Booking.status == "confirmed", Booking.starts_at > now)).all()
        for booking in future:
            booking.status, booking.cancelled_at = "cancelled", now
            db.execute(update(Slot).where(Slot.id == booking.slot_id, Slot.booked > 0)
                       .values(booked=Slot.booked - 1).execution_options(synchronize_session=False))
        db.execute(update(Booking).where(Booking.student_id == person.id)
                   .values(topic="", tutor_note="", cancel_reason="").execution_options(synchronize_session=False))
        if person.role == "tutor":
            db.execute(update(Slot).where(Slot.tutor_id == person.id, Slot.cancel_reason != "")
                       .values(cancel_reason="").execution_options(synchronize_session=False))
            for slot in db.scalars(select(Slot).where(Slot.tutor_id == person.id, Slot.status == "open",
                                                      Slot.starts_at > now, Slot.booked == 0)):
                slot.status, slot.cancelled_at = "cancelled", now
            db.execute(update(AvailabilityRule).where(AvailabilityRule.tutor_id == person.id)
                       .values(active=False).execution_options(synchronize_session=False))
            db.execute(delete(TutorProfile).where(TutorProfile.user_id == person.id))
        for table, column in ((Notification, Notification.recipient_id), (JoinToken, JoinToken.user_id),
                              (FeedToken, FeedToken.user_id)):
            db.execute(delete(table).where(column == person.id))
        db.execute(delete(Guardianship).where(or_(Guardianship.parent_id == person.id,
                                                  Guardianship.student_id == person.id)))
        person.name, person.email, person.phone, person.password_hash = DELETED_NAME, None, None, None
        person.family_code, person.active, person.deleted_at = None, False, now
        person.login_key = new_secret()  # every session of theirs ends


def purge(db: Session, *, older_than: timedelta) -> dict[str, int]:
    """Remove personal data older than the retention period: notes, topics and cancellation reasons of old sessions,
    old messages and join links, and people who have not booked or logged anything since."""
    limit = now_utc() - older_than
    counts = {}
    with write_transaction(db):
        counts["sessions"] = db.execute(
            update(Booking).where(Booking.ends_at < limit, or_(Booking.topic != "", Booking.tutor_note != "",
                                                               Booking.cancel_reason != ""))
            .values(topic="", tutor_note="", cancel_reason="").execution_options(synchronize_session=False)).rowcount
        db.execute(update(Slot).where(Slot.ends_at < limit, Slot.cancel_reason != "")
                   .values(cancel_reason="").execution_options(synchronize_session=False))
        counts["messages"] = db.execute(delete(Notification).where(Notification.created_at < limit)).rowcount
        old_slots = select(Slot.id).where(Slot.ends_at < limit)
        counts["join_links"] = db.execute(delete(JoinToken).where(JoinToken.slot_id.in_(old_slots))).rowcount
    recent_students = select(Booking.student_id).where(Booking.ends_at >= limit)
    recent_bookers = select(Booking.booked_by_id).where(Booking.ends_at >= limit)
    recent_tutors = select(Slot.tutor_id).where(Slot.ends_at >= limit)
    stale = db.scalars(select(User).where(
        User.deleted_at.is_(None), User.role != "coordinator", User.created_at < limit,
        User.id.not_in(recent_students), User.id.not_in(recent_bookers), User.id.not_in(recent_tutors),
    )).all()
    for person in stale:
        delete_person(db, person)
    counts["people"] = len(stale)
    return counts
