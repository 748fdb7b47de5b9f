"""Personal join links: /j/<token> opens the room, without a password, around session time."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from rooms import JitsiSettings, Participant, sign_join_url

from ..models import Booking, JoinToken, Slot, User


@dataclass(frozen=True)
class JoinLink:
    """A join link with what deciding about it needs: its holder, its session, whether cancelled."""

    slot_id: int
    user_id: int
    holder_name: str
    holder_locale: str
    holder_timezone: str
    tutor_id: int
    room_name: str
    starts_at: datetime
    ends_at: datetime
    cancelled: bool


@dataclass(frozen=True)
class JoinAnswer:
    """What a join link leads to: too early, open (with the room URL), ended, or cancelled."""

    state: str
    link: JoinLink
    opens_at: datetime
    url: str | None = None


# Built once: the redirect is the busiest path in the app, and it needs only these columns.
_FIND_LINK = (
    select(
        JoinToken.slot_id,
        JoinToken.user_id,
        User.name.label("holder_name"),
        User.locale.label("holder_locale"),
        User.timezone.label("holder_timezone"),
        Slot.tutor_id,
        Slot.room_name,
        Slot.starts_at,
        Slot.ends_at,
        Slot.status.label("slot_status"),
        Booking.status.label("booking_status"),
    )
    .join(Slot, Slot.id == JoinToken.slot_id)
    .join(User, User.id == JoinToken.user_id)
    .outerjoin(Booking, Booking.id == JoinToken.booking_id)
    .where(JoinToken.token == bindparam("token"))
)


def find_link(db: Session, token: str) -> JoinLink | None:
    """The join link with this token and what deciding about it needs, in one statement."""
    row = db.connection().execute(_FIND_LINK, {"token": token}).one_or_none()
    if row is None:
        return None
    return JoinLink(
        slot_id=row.slot_id, user_id=row.user_id, holder_name=row.holder_name, holder_locale=row.holder_locale,
        holder_timezone=row.holder_timezone, tutor_id=row.tutor_id, room_name=row.room_name,
        starts_at=row.starts_at, ends_at=row.ends_at,
        cancelled=row.slot_status == "cancelled" or row.booking_status == "cancelled",
    )


def links_for(db: Session, person: User, slot_ids) -> dict[tuple[int, int | None], str]:
    """The person's join tokens for these slots, by (slot id, booking id or None)."""
    if not slot_ids:
        return {}
    rows = db.execute(
        select(JoinToken.slot_id, JoinToken.booking_id, JoinToken.token).where(
            JoinToken.user_id == person.id, JoinToken.slot_id.in_(list(slot_ids))
        )
    )
    return {(row.slot_id, row.booking_id): row.token for row in rows}


def slot_shown(db: Session, slot_id: int) -> Slot:
    """The session as the waiting page describes it (activity, tutor and their languages)."""
    return db.scalars(
        select(Slot)
        .where(Slot.id == slot_id)
        .options(joinedload(Slot.activity), joinedload(Slot.tutor).joinedload(User.tutor_profile))
    ).one()


def answer(link: JoinLink, *, now: datetime, opens_before: timedelta, jitsi: JitsiSettings) -> JoinAnswer:
    """Decide what the link does now; in the window, mint a fresh signed room URL."""
    opens_at = link.starts_at - opens_before
    if link.cancelled:
        return JoinAnswer("cancelled", link, opens_at)
    if now >= link.ends_at:
        return JoinAnswer("ended", link, opens_at)
    if now < opens_at:
        return JoinAnswer("early", link, opens_at)
    url = sign_join_url(
        jitsi,
        link.room_name,
        Participant(name=link.holder_name, moderator=link.user_id == link.tutor_id, user_id=str(link.user_id)),
        starts_at=link.starts_at,
        ends_at=link.ends_at,
        now=now,
    )
    return JoinAnswer("open", link, opens_at, url)


def family_links(db: Session, booking: Booking) -> list[tuple[User, str]]:
    """The parents of a booking's student, each with their short link to it (the student's own
    when no parent is linked)."""
    rows = db.execute(
        select(User, JoinToken.short).join(JoinToken, JoinToken.user_id == User.id)
        .where(JoinToken.booking_id == booking.id, JoinToken.short.is_not(None))
        .order_by((User.role == "student").asc(), User.name)
    ).all()
    parents = [(user, short) for user, short in rows if user.role == "parent"]
    return parents or [(user, short) for user, short in rows]
