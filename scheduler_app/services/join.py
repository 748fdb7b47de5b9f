"""Personal join links: /j/<token> opens the room, without a password, around session time."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from rooms import JitsiSettings, Participant, sign_join_url
from rooms.dialin import DialIn, dial_in

from ..cache import LRUCache
from ..models import Activity, Booking, JoinToken, Slot, User
from .confidential import MEDIATION


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
    mediation: bool = False  # the mediator admits the parties (JoinOpening.before)
    token: str = ""
    capacity: int = 1

    @property
    def leads(self) -> bool:
        """The tutor (or mediator) of the session leads the room: moderator, and in first."""
        return self.user_id == self.tutor_id

    def waits_in_lobby(self, jitsi: JitsiSettings) -> bool:
        """A party to a mediation waits in the lobby, where the server has one, until the mediator
        lets them in: so that no party meets another without the mediator there."""
        return jitsi.lobby and self.mediation and not self.leads


@dataclass(frozen=True)
class JoinOpening:
    """How long before the start links open: the tutor's first, so that they arrive first."""

    tutor: timedelta = timedelta(minutes=15)
    family: timedelta = timedelta(minutes=5)

    @classmethod
    def from_config(cls, config) -> "JoinOpening":
        return cls(tutor=timedelta(minutes=config["JOIN_OPENS_MINUTES_TUTOR"]),
                   family=timedelta(minutes=config["JOIN_OPENS_MINUTES_FAMILY"]))

    def before(self, link: JoinLink, jitsi: JitsiSettings) -> timedelta:
        if link.leads:
            return self.tutor
        # The mediator admits the parties. Where they wait in the lobby, they may come at the usual
        # time; otherwise their link opens only at the start, once the mediator is in.
        if link.mediation and not link.waits_in_lobby(jitsi):
            return timedelta(0)
        return self.family


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
        Slot.capacity,
        JoinToken.token,
        Booking.status.label("booking_status"),
        Activity.kind,
    )
    .join(Slot, Slot.id == JoinToken.slot_id)
    .join(Activity, Activity.id == Slot.activity_id)
    .join(User, User.id == JoinToken.user_id)
    .outerjoin(Booking, Booking.id == JoinToken.booking_id)
    .where(JoinToken.token == bindparam("token"))
)


# What new_secret() makes (URL-safe base64), within the column's 64 characters. Anything else
# (a NUL byte that PostgreSQL would refuse, a mangled paste) is simply not a link.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def find_link(db: Session, token: str) -> JoinLink | None:
    """The join link with this token and what deciding about it needs, in one statement."""
    if not _TOKEN_SHAPE.fullmatch(token):
        return None
    row = db.connection().execute(_FIND_LINK, {"token": token}).one_or_none()
    if row is None:
        return None
    return JoinLink(
        slot_id=row.slot_id, user_id=row.user_id, holder_name=row.holder_name, holder_locale=row.holder_locale,
        holder_timezone=row.holder_timezone, tutor_id=row.tutor_id, room_name=row.room_name,
        starts_at=row.starts_at, ends_at=row.ends_at,
        cancelled=row.slot_status == "cancelled" or row.booking_status == "cancelled",
        mediation=row.kind == "mediation",
        token=row.token, capacity=row.capacity,
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


def who_moderates(jitsi: JitsiSettings, *, moderator_from_token: bool) -> str:
    """Who leads the rooms as this Jitsi is set up: "nobody" (public, unsigned links), "first"
    (a self-hosted Jitsi that ignores the token's moderator flag: the first to arrive), or "tutor"."""
    if jitsi.mode == "public":
        return "nobody"
    if jitsi.mode == "hs256" and not moderator_from_token:
        return "first"
    return "tutor"


# A weak connection: sound only at first, and if the camera is turned on, a small picture.
WEAK_CONNECTION = {"startAudioOnly": True, "resolution": 180, "constraints.video.height": {"ideal": 180, "max": 180}}


def shown_name(link: JoinLink) -> str:
    """The name Jitsi shows: in a group, other families see a given name and an initial only."""
    words = link.holder_name.split()
    if link.capacity <= 1 or link.leads or len(words) < 2:
        return link.holder_name
    return f"{words[0]} {words[-1][0]}."


def jitsi_id(link: JoinLink) -> str:
    """The person's id for Jitsi: from their link's own random token, so it says nothing about
    Lien's database and differs from one session to the next (one-way: it does not give the link)."""
    return hashlib.sha256(f"lien-jitsi-id:{link.token}".encode()).hexdigest()[:24]


def answer(link: JoinLink, *, now: datetime, opening: JoinOpening, jitsi: JitsiSettings,
           weak_connection: bool = False) -> JoinAnswer:
    """Decide what the link does now; in the window, mint a fresh signed room URL.

    The window runs from the opening until the end plus Jitsi's grace period, the token's own
    expiry, so that someone who drops out near the end can come back."""
    opens_at = link.starts_at - opening.before(link, jitsi)
    if link.cancelled:
        return JoinAnswer("cancelled", link, opens_at)
    if now >= link.ends_at + jitsi.grace:
        return JoinAnswer("ended", link, opens_at)
    if now < opens_at:
        return JoinAnswer("early", link, opens_at)
    url = sign_join_url(
        jitsi,
        link.room_name,
        Participant(name=shown_name(link), moderator=link.leads, user_id=jitsi_id(link),
                    waits_in_lobby=link.waits_in_lobby(jitsi)),
        starts_at=link.starts_at,
        ends_at=link.ends_at,
        now=now,
        overrides=WEAK_CONNECTION if weak_connection else None,
    )
    return JoinAnswer("open", link, opens_at, url)


def coordinator_can_enter(slot: Slot, *, now: datetime, zone, grace: timedelta) -> bool:
    """A coordinator may step into any session of the day (in their time zone) that is not
    cancelled, until its links close, to help a family that is stuck."""
    if slot.status == "cancelled" or now >= slot.ends_at + grace:
        return False
    return slot.starts_at.astimezone(zone).date() == now.astimezone(zone).date()


def coordinator_entry(slot: Slot, name: str, *, now: datetime, zone, jitsi: JitsiSettings) -> str | None:
    """The room URL for a coordinator helping in this session, never as moderator; None when
    the session is not one they may enter now."""
    if not coordinator_can_enter(slot, now=now, zone=zone, grace=jitsi.grace):
        return None
    # A fresh id for each entry: nothing ties it to the coordinator's account. In a mediation's
    # room they too wait in the lobby, where there is one, for the mediator to let them in.
    helper = Participant(name=name, moderator=False, user_id=secrets.token_hex(12),
                         waits_in_lobby=jitsi.lobby and slot.activity.kind == MEDIATION)
    return sign_join_url(jitsi, slot.room_name, helper, starts_at=slot.starts_at, ends_at=slot.ends_at, now=now)


# A room's code and number, asked once an hour at most (a failed answer too, as False).
_DIAL_IN = LRUCache(1024)


def dial_in_for(config, room: str, now: datetime) -> DialIn | None:
    """How to join this room by phone, when dial-in is configured and its services answer."""
    numbers_url, code_url = config.get("JITSI_DIAL_IN_NUMBERS_URL"), config.get("JITSI_DIAL_IN_CODE_URL")
    if not (numbers_url and code_url):
        return None
    domain = JitsiSettings.from_mapping(config).domain
    country = config.get("JITSI_DIAL_IN_COUNTRY") or "FR"
    key = (numbers_url, code_url, country, domain, room, now.strftime("%Y%m%d%H"))
    found = _DIAL_IN.get_or_make(
        key, lambda: dial_in(numbers_url, code_url, room, f"conference.{domain}", country=country, timeout=3) or False)
    return found or None


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
