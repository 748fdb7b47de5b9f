"""Lien's sessions as calendar entries (`calendars.Event`), built one way for every calendar Lien
writes: the invitations that go with emails, "Add to my calendar" downloads and feeds.

Texts come out in the current locale: callers wrap the call in `force_locale` for a recipient.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from flask_babel import gettext as _

from calendars import Event, Person

from .catalogue import activity_name, subject_name
from .models import Booking, Slot, User


@dataclass(frozen=True)
class Centre:
    """The centre as calendars name it: the ORGANIZER of every session, and the domain of UIDs."""

    organizer: Person
    domain: str

    @classmethod
    def from_config(cls, config) -> "Centre":
        """The centre of MAIL_FROM ("Centre social <lien@centre.example.org>")."""
        name, address = parseaddr(config["MAIL_FROM"])
        return cls(
            organizer=Person(name=name or "Lien", email=address or None),
            domain=address.rpartition("@")[2] or "lien.localhost",
        )


def calendar_uid(item: Slot | Booking, centre: Centre) -> str:
    """The UID of a slot's or a booking's calendar entry: its random key at the centre's domain.

    Made before migration 0012, it has none and keeps the UID its calendars already hold."""
    if item.calendar_uid:
        return f"{item.calendar_uid}@{centre.domain}"
    prefix = "slot" if isinstance(item, Slot) else "booking"
    return f"{prefix}-{item.id}@{centre.domain}"


def session_entry(
    slot: Slot,
    booking: Booking | None,
    recipient: User,
    *,
    centre: Centre,
    join_url: str | None,
    participants: Sequence[str] = (),
    cancelled: bool = False,
    updated_at: datetime | None = None,
    dial_in=None,
    tutor_named: bool = False,
) -> Event:
    """One session as `recipient` sees it in a calendar.

    With a booking, the family's entry: the booking's UID and SEQUENCE. Without, the tutor's
    entry for the slot: the slot's UID and SEQUENCE, and who booked (`participants`).
    `join_url` is the recipient's own /j/ link, never a room token. `tutor_named` puts the
    tutor in the slot's summary (the centre's calendar, where sessions of every tutor meet).
    """
    activity = activity_name(slot.activity)
    subject = subject_name(slot.subject) if slot.subject else ""
    lines = []
    if slot.activity.kind == "mediation":
        # Where and when only: a calendar is read by others (shared agendas, phone lock screens).
        uid, sequence = ((calendar_uid(slot, centre), slot.sequence) if booking is None
                         else (calendar_uid(booking, centre), booking.sequence))
        summary = _("Rendez-vous au centre social")
    elif booking is None:
        uid, sequence = calendar_uid(slot, centre), slot.sequence
        if tutor_named:
            summary = _with_tutor(activity, subject, slot.tutor.name)
        else:
            summary = _("%(activity)s — %(subject)s", activity=activity, subject=subject) if subject else activity
        if participants:
            lines.append(_("Participants : %(names)s", names=", ".join(participants)))
    else:
        uid, sequence = calendar_uid(booking, centre), booking.sequence
        summary = _with_tutor(activity, subject, slot.tutor.name)
        if booking.student_id != recipient.id:  # a parent's calendar says which child
            lines.append(_("Pour %(name)s", name=booking.student.name))
    if join_url:
        lines.append(_("Pour rejoindre la séance : %(url)s", url=join_url))
    if dial_in is not None:  # rooms.dialin.DialIn: joining by phone, when the server has dial-in
        lines.append(_("Pas d'internet ? Appelez le %(number)s puis tapez le code %(code)s#",
                       number=dial_in.number, code=dial_in.code))
    return Event(
        uid=uid,
        sequence=sequence,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        summary=summary,
        description="\n".join(lines),
        url=join_url,
        organizer=centre.organizer,
        attendees=(Person(recipient.name, recipient.email),) if recipient.email else (),
        cancelled=cancelled,
        updated_at=updated_at,
    )


def _with_tutor(activity: str, subject: str, tutor: str) -> str:
    if subject:
        return _("%(activity)s — %(subject)s avec %(tutor)s", activity=activity, subject=subject, tutor=tutor)
    return _("%(activity)s avec %(tutor)s", activity=activity, tutor=tutor)
