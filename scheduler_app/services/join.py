"""Personal join links: /j/<token> opens the room, without a password, around session time."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from rooms import JitsiSettings, Participant, sign_join_url

from ..models import JoinToken


@dataclass(frozen=True)
class JoinAnswer:
    """What a join link leads to: too early, open (with the room URL), ended, or cancelled."""

    state: str
    link: JoinToken
    opens_at: datetime
    url: str | None = None


def find_link(db: Session, token: str) -> JoinToken | None:
    """The join link with this token, with everything its page shows, in one query."""
    return db.scalar(
        select(JoinToken)
        .where(JoinToken.token == token)
        .options(
            joinedload(JoinToken.slot),
            joinedload(JoinToken.booking),
            joinedload(JoinToken.user),
        )
    )


def answer(link: JoinToken, *, now: datetime, opens_before: timedelta, jitsi: JitsiSettings) -> JoinAnswer:
    """Decide what the link does now; in the window, mint a fresh signed room URL."""
    slot = link.slot
    opens_at = slot.starts_at - opens_before
    cancelled = slot.status == "cancelled" or (
        link.booking is not None and link.booking.status == "cancelled"
    )
    if cancelled:
        return JoinAnswer("cancelled", link, opens_at)
    if now >= slot.ends_at:
        return JoinAnswer("ended", link, opens_at)
    if now < opens_at:
        return JoinAnswer("early", link, opens_at)
    is_tutor = link.user_id == slot.tutor_id
    url = sign_join_url(
        jitsi,
        slot.room_name,
        Participant(name=link.user.name, moderator=is_tutor, user_id=str(link.user_id)),
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        now=now,
    )
    return JoinAnswer("open", link, opens_at, url)
