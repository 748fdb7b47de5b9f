"""What Lien holds about a person: export it, delete it, and forget old data on schedule.

Deleting keeps the person's row, emptied ("Personne supprimée"), so the centre's attendance
counts stay true for its funders while nothing identifies them any more.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, or_, select, union, update
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
from . import ServiceError
from .booking import give_back_place
from .confidential import NOTE, OUTSIDE, TOPIC, shown
from .waitlist import offer_freed_place, withdraw_student

DELETED_NAME = "Personne supprimée"


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export(db: Session, person: User, viewer: User | None = None) -> dict:
    """Everything Lien holds about a person, as plain JSON-ready values."""
    bookings = db.scalars(
        select(Booking).where(or_(Booking.student_id == person.id, Booking.booked_by_id == person.id))
        .options(joinedload(Booking.slot).joinedload(Slot.tutor), joinedload(Booking.slot).joinedload(Slot.activity))
        .order_by(Booking.starts_at)
    ).all()
    links = db.execute(
        select(Guardianship.parent_id, Guardianship.student_id, Guardianship.approved_at)
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
            "last_login_at": _when(person.last_login_at), "birth_year": person.birth_year,
            "has_password": bool(person.password_hash),
        },
        "parents": [parent for parent, student, _approved in links if student == person.id],
        "children": [student for parent, student, _approved in links if parent == person.id],
        # When a parent agreed that the child uses Lien (services/consent.py).
        "approvals": [{"parent": parent, "child": student, "approved_at": _when(approved)}
                      for parent, student, approved in links if approved],
        "tutor_profile": None if profile is None else {
            "subjects": TutorProfile.unpack(profile.subjects), "levels": TutorProfile.unpack(profile.levels),
            "languages": TutorProfile.unpack(profile.languages), "bio": profile.bio,
        },
        "bookings": [
            {"id": b.id, "student_id": b.student_id, "booked_by_id": b.booked_by_id, "status": b.status,
             # A file leaves Lien: a mediation's reason and note stay with its mediator.
             "topic": shown(viewer, b, TOPIC, b.slot.activity.kind, where=OUTSIDE),
             "tutor_note": shown(viewer, b, NOTE, b.slot.activity.kind, where=OUTSIDE), "starts_at": _when(b.starts_at),
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


@dataclass
class ChildSessions:
    """A child's sessions to come, as deleting one of their parents finds them."""

    student: User
    bookings: list[Booking]
    other_parents: list[User]  # who stays linked to the child, and is told

    @property
    def may_keep(self) -> bool:
        return bool(self.other_parents)


CANCEL, KEEP = "cancel", "keep"


def children_sessions(db: Session, parent: User, now: datetime | None = None) -> list[ChildSessions]:
    """The confirmed sessions to come of a parent's children, child by child, each with the
    other parents who would remain."""
    now = now or now_utc()
    bookings = db.scalars(
        select(Booking).join(Guardianship, Guardianship.student_id == Booking.student_id)
        .where(Guardianship.parent_id == parent.id, Booking.status == "confirmed", Booking.starts_at > now)
        .options(joinedload(Booking.student)).order_by(Booking.starts_at, Booking.id)
    ).all()
    children: dict[int, ChildSessions] = {}
    for booking in bookings:
        children.setdefault(booking.student_id, ChildSessions(booking.student, [], [])).bookings.append(booking)
    if children:
        for student_id, other in db.execute(
            select(Guardianship.student_id, User).join(User, User.id == Guardianship.parent_id)
            .where(Guardianship.student_id.in_(children), Guardianship.parent_id != parent.id,
                   User.deleted_at.is_(None)).order_by(User.name)
        ).all():
            children[student_id].other_parents.append(other)
    return sorted(children.values(), key=lambda child: (child.student.name, child.student.id))


def delete_person(db: Session, person: User, children_choices: Mapping[int, str] | None = None) -> list[Booking]:
    """Forget a person: their details, links, messages and tokens go; their own future bookings
    are cancelled (without messages) and their past ones stay, anonymous, for the reports.

    A parent's children's sessions to come are never left without a word: `children_choices`
    says, per child id, CANCEL (everyone concerned is told, as when a family cancels) or KEEP
    (only while another parent remains). A child whose sessions have no answer raises a
    ServiceError that asks, and nothing changes. Returns the children's bookings cancelled."""
    with write_transaction(db):
        return _forget(db, person, now_utc(), children_choices or {})


def _forget(db: Session, person: User, now: datetime, children_choices: Mapping[int, str]) -> list[Booking]:
    """delete_person's work, inside the caller's write transaction."""
    to_cancel = []
    for child in children_sessions(db, person, now):
        choice = children_choices.get(child.student.id)
        if choice == KEEP and not child.may_keep:
            raise ServiceError(_l("%(name)s n'aurait plus de parent sur Lien : ses séances à venir ne peuvent "
                                  "qu'être annulées.", name=child.student.name), field=f"child_{child.student.id}")
        if choice not in (CANCEL, KEEP):
            raise ServiceError(_l("Choisissez ce que deviennent les séances à venir de %(name)s.",
                                  name=child.student.name), field=f"child_{child.student.id}")
        if choice == CANCEL:
            to_cancel.extend(child.bookings)
    # Unlinked first: the cancellations below go to the other parents, the student and the
    # tutor, not to the person being forgotten.
    db.execute(delete(Guardianship).where(or_(Guardianship.parent_id == person.id,
                                              Guardianship.student_id == person.id)))
    withdraw_student(db, person.id, now)  # never offered a place again
    for booking in to_cancel:
        give_back_place(db, booking)
    future = db.scalars(select(Booking).where(
        Booking.student_id == person.id, Booking.status == "confirmed", Booking.starts_at > now)).all()
    for booking in future:
        booking.status, booking.cancelled_at = "cancelled", now
        db.execute(update(Slot).where(Slot.id == booking.slot_id, Slot.booked > 0)
                   .values(booked=Slot.booked - 1).execution_options(synchronize_session=False))
    # Each place freed goes to the first student waiting for it, if any (services/waitlist.py).
    for slot_id in sorted(booking.slot_id for booking in [*to_cancel, *future]):
        offer_freed_place(db, db.get(Slot, slot_id, populate_existing=True), now)
    db.execute(update(Booking).where(Booking.student_id == person.id)
               .values(topic="", tutor_note="", cancel_reason="").execution_options(synchronize_session=False))
    if person.role == "tutor":
        for slot in db.scalars(select(Slot).where(Slot.tutor_id == person.id, Slot.status == "open",
                                                  Slot.starts_at > now, Slot.booked == 0)):
            slot.status, slot.cancelled_at = "cancelled", now
        db.execute(update(AvailabilityRule).where(AvailabilityRule.tutor_id == person.id)
                   .values(active=False).execution_options(synchronize_session=False))
        db.execute(delete(TutorProfile).where(TutorProfile.user_id == person.id))
    for table, column in ((Notification, Notification.recipient_id), (JoinToken, JoinToken.user_id),
                          (FeedToken, FeedToken.user_id)):
        db.execute(delete(table).where(column == person.id))
    person.name, person.email, person.phone, person.password_hash = DELETED_NAME, None, None, None
    person.family_code, person.active, person.deleted_at = None, False, now
    person.birth_year, person.last_login_at = None, None
    person.login_key = new_secret()  # every session of theirs ends
    return to_cancel


@dataclass
class PurgePlan:
    """What a purge removes, or would remove: counts, and the ids (never names) of the people."""

    since: datetime
    sessions: int = 0  # old sessions whose topic and tutor's note are emptied
    messages: int = 0
    join_links: int = 0
    people: list[int] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"sessions": self.sessions, "messages": self.messages, "join_links": self.join_links,
                "people": len(self.people)}


def purge(db: Session, *, older_than: timedelta, apply: bool = False) -> PurgePlan:
    """Personal data older than the retention period: notes and topics of old sessions, old
    messages and join links, and the people whose whole family has done nothing since and has
    no session to come (inactive_people). Only said, unless `apply`: then removed."""
    now = now_utc()
    since = min(now - older_than, now)  # a session to come always counts, whatever the retention
    old_notes = and_(Booking.ends_at < since,
                     or_(Booking.topic != "", Booking.tutor_note != "", Booking.cancel_reason != ""))
    old_messages = Notification.created_at < since
    old_links = JoinToken.slot_id.in_(select(Slot.id).where(Slot.ends_at < since))
    if not apply:
        plan = PurgePlan(since, sessions=_count(db, Booking, old_notes), messages=_count(db, Notification, old_messages),
                         join_links=_count(db, JoinToken, old_links), people=inactive_people(db, since))
        db.rollback()  # the reads' snapshot, if any, ends here
        return plan
    plan = PurgePlan(since)
    with write_transaction(db):
        plan.sessions = db.execute(update(Booking).where(old_notes).values(topic="", tutor_note="", cancel_reason="")
                                   .execution_options(synchronize_session=False)).rowcount
        db.execute(update(Slot).where(Slot.ends_at < since, Slot.cancel_reason != "")
                   .values(cancel_reason="").execution_options(synchronize_session=False))
        plan.messages = db.execute(delete(Notification).where(old_messages)).rowcount
        plan.join_links = db.execute(delete(JoinToken).where(old_links)).rowcount
        candidates = inactive_people(db, since)
        if candidates:
            # Held until the commit: a booking, a link to a child, a login or a join link for one
            # of them (each writes or refers to their row) waits, and is seen by the second look.
            db.execute(select(User.id).where(User.id.in_(candidates)).with_for_update()).all()
            plan.people = inactive_people(db, since)
        for person in db.scalars(select(User).where(User.id.in_(plan.people)).order_by(User.id)):
            _forget(db, person, now, {})
    return plan


def _count(db: Session, model, condition) -> int:
    return db.scalar(select(func.count()).select_from(model).where(condition))


def inactive_people(db: Session, since: datetime) -> list[int]:
    """Ids of the people to forget: neither they nor anyone of their family (everyone linked to
    them by guardianship, however far) has done anything since `since`, nor has a session to
    come. Coordinators and people already deleted are left out."""
    active = set(db.scalars(union(*_activity_since(since))))
    family = _families(db)
    active_families = {family.get(person, person) for person in active}
    everyone = db.scalars(select(User.id).where(User.deleted_at.is_(None), User.role != "coordinator")
                          .order_by(User.id)).all()
    return [person for person in everyone
            if person not in active and family.get(person, person) not in active_families]


def _activity_since(since: datetime) -> list:
    """Who did something since `since`, or has a session to come (each a SELECT of user ids)."""
    recent_booking = or_(Booking.ends_at >= since, Booking.created_at >= since, Booking.cancelled_at >= since)
    return [
        select(User.id).where(or_(User.created_at >= since, User.last_login_at >= since)),
        select(Booking.student_id).where(recent_booking),
        select(Booking.booked_by_id).where(recent_booking),
        select(Slot.tutor_id).where(or_(Slot.ends_at >= since, Slot.created_at >= since)),
        # A weekly availability still running keeps opening slots.
        select(AvailabilityRule.tutor_id).where(AvailabilityRule.active, or_(
            AvailabilityRule.valid_until.is_(None), AvailabilityRule.valid_until >= since.date())),
        select(JoinToken.user_id).join(Slot, Slot.id == JoinToken.slot_id).where(Slot.ends_at >= since),
    ]


def _families(db: Session) -> dict[int, int]:
    """Each person linked by guardianship -> one member who stands for their whole family
    (parents and children, and the children's other parents, and so on)."""
    leader: dict[int, int] = {}

    def find(person: int) -> int:
        while leader.setdefault(person, person) != person:
            leader[person] = leader[leader[person]]
            person = leader[person]
        return person

    for parent, student in db.execute(select(Guardianship.parent_id, Guardianship.student_id)):
        leader[find(parent)] = find(student)
    return {person: find(person) for person in list(leader)}
