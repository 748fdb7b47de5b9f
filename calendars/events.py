"""The plain values the calendar renderers take: a session and the people in it."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Person:
    """Someone shown in a calendar entry; without an email they cannot be an ORGANIZER or ATTENDEE."""

    name: str
    email: str | None = None

    def __post_init__(self) -> None:
        # ORGANIZER and ATTENDEE values are mailto: URIs (RFC 5545 §3.3.3); an address with
        # spaces or no "@" would make the whole calendar unreadable for some clients.
        if self.email is not None and ("@" not in self.email or _has_space(self.email)):
            raise ValueError(f"not an email address: {self.email!r}")


@dataclass(frozen=True)
class Event:
    """One session as a calendar entry; `url` is the person's own join link, never a room token."""

    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    summary: str
    description: str = ""
    url: str | None = None
    location: str | None = None
    organizer: Person | None = None
    attendees: tuple[Person, ...] = ()
    cancelled: bool = False
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.uid or _has_space(self.uid):
            raise ValueError(f"a UID must be a non-empty string without spaces, got {self.uid!r}")
        if self.sequence < 0:
            raise ValueError(f"SEQUENCE starts at 0 (RFC 5545 §3.8.7.4), got {self.sequence}")
        for field in ("starts_at", "ends_at", "updated_at"):
            value = getattr(self, field)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"{field} must be timezone-aware, got {value!r}")
        if self.ends_at <= self.starts_at:
            raise ValueError("an event must end after it starts")
        if not isinstance(self.attendees, tuple):
            raise TypeError("attendees must be a tuple, so that an Event stays hashable")


def _has_space(text: str) -> bool:
    return any(char.isspace() for char in text)
