"""iCalendar bytes for Lien: invites and cancellations (iTIP, RFC 5546), feeds (RFC 7986).

Times are written as local wall-clock times with a TZID and the matching VTIMEZONE
(RFC 5545 §3.3.5 form #3), so a session at 14:00 in Paris reads 14:00 in every client.
"""

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from ._zones import vtimezone, zone_named
from .events import Event, Person

DEFAULT_TZ = "Europe/Paris"
DEFAULT_PRODID = "-//Lien//Lien//FR"
FEED_REFRESH = timedelta(hours=1)
# CANCEL has render_cancel; PUBLISH suits an "Add to my calendar" download, which invites nobody.
INVITE_METHODS = ("REQUEST", "PUBLISH")
# RSVP=FALSE: Lien reads no iMIP replies, so clients should not offer to send one.
ATTENDEE_PARAMETERS = {"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "FALSE"}


def render_invite(
    event: Event,
    *,
    tz: str = DEFAULT_TZ,
    method: str = "REQUEST",
    now: datetime,
    alarm_minutes: int | None = 15,
    alarm_text: str = "Rappel",
    prodid: str = DEFAULT_PRODID,
) -> bytes:
    """An invitation (METHOD:REQUEST) or a download (METHOD:PUBLISH) of one session, with a reminder."""
    method = method.upper()
    if method not in INVITE_METHODS:
        raise ValueError(f"method must be REQUEST or PUBLISH (see render_cancel), got {method!r}")
    if event.cancelled and method == "REQUEST":
        raise ValueError(f"event {event.uid} is cancelled: send it with render_cancel")
    if alarm_minutes is not None and alarm_minutes < 0:
        raise ValueError(f"alarm_minutes counts minutes before the start, got {alarm_minutes}")
    zone = zone_named(tz)
    # With a METHOD, DTSTAMP is when this message was created (RFC 5545 §3.8.7.2).
    vevent = _vevent(event, zone, dtstamp=_utc(now, "now"), scheduling=method == "REQUEST")
    if alarm_minutes is not None:
        vevent.add_component(_alarm(alarm_minutes, alarm_text))
    calendar = _calendar(prodid, zone, [event.starts_at, event.ends_at], [vevent], method=method)
    return calendar.to_ical()


def render_cancel(
    event: Event,
    *,
    tz: str = DEFAULT_TZ,
    now: datetime,
    prodid: str = DEFAULT_PRODID,
) -> bytes:
    """A cancellation (METHOD:CANCEL, STATUS:CANCELLED) of an invited session.

    The caller passes the event with its SEQUENCE already raised above the last invite's.
    """
    zone = zone_named(tz)
    # RFC 5546 §3.2.5: same UID, a higher SEQUENCE, the organizer and every attendee.
    cancelled = replace(event, cancelled=True)
    vevent = _vevent(cancelled, zone, dtstamp=_utc(now, "now"), scheduling=True)
    calendar = _calendar(prodid, zone, [event.starts_at, event.ends_at], [vevent], method="CANCEL")
    return calendar.to_ical()


def render_feed(
    events: Iterable[Event],
    *,
    name: str,
    tz: str = DEFAULT_TZ,
    now: datetime,
    prodid: str = DEFAULT_PRODID,
) -> bytes:
    """A subscription calendar with one entry per session; cancelled ones stay, marked CANCELLED.

    No METHOD: a feed is a plain calendar object, not an iTIP message (RFC 5545 §3.7.2). No VALARM
    either: Lien sends its own reminders. Given the same events (with `updated_at`), the bytes are
    the same whatever `now` is, which keeps an ETag stable.
    """
    zone = zone_named(tz)
    stamp_now = _utc(now, "now")
    events = list(events)
    seen: set[str] = set()
    vevents = []
    for event in events:
        # Two entries with one UID and no RECURRENCE-ID are one entry twice (RFC 5545 §3.8.4.7);
        # clients keep either one at random.
        if event.uid in seen:
            raise ValueError(f"UID {event.uid} appears twice in feed {name!r}")
        seen.add(event.uid)
        # Without a METHOD, DTSTAMP is the last revision of the entry (RFC 5545 §3.8.7.2).
        stamp = _utc(event.updated_at) if event.updated_at is not None else stamp_now
        vevents.append(_vevent(event, zone, dtstamp=stamp, scheduling=False))
    moments = [moment for event in events for moment in (event.starts_at, event.ends_at)]
    calendar = _calendar(prodid, zone, moments or [stamp_now], vevents)
    calendar.add("name", name)  # RFC 7986 §5.1
    calendar.add("x-wr-calname", name)  # what Apple, Google and Outlook actually read
    calendar.add("x-wr-timezone", zone.key)
    # RFC 7986 §5.7; X-PUBLISHED-TTL is the older spelling Outlook reads.
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", icalendar.vDuration(FEED_REFRESH))
    return calendar.to_ical()


def _vevent(event: Event, zone: ZoneInfo, *, dtstamp: datetime, scheduling: bool) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", dtstamp)
    vevent.add("dtstart", event.starts_at.astimezone(zone))
    vevent.add("dtend", event.ends_at.astimezone(zone))
    if event.updated_at is not None:
        vevent.add("last-modified", _utc(event.updated_at))
    vevent.add("summary", event.summary)
    if event.description:
        vevent.add("description", event.description)
    if event.url:
        vevent.add("url", event.url)
    # Phone calendars show LOCATION on the entry itself and make a link in it tappable.
    location = event.location if event.location is not None else event.url
    if location:
        vevent.add("location", location)
    _add_people(vevent, event, scheduling)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    if scheduling:
        # Busy time (OPAQUE is the default, RFC 5545 §3.8.2.7): said in invitations, which some
        # mail clients read strictly; left to the default in a feed, where each line costs.
        vevent.add("transp", "OPAQUE")
    return vevent


def _add_people(vevent: icalendar.Event, event: Event, scheduling: bool) -> None:
    # ORGANIZER and ATTENDEE are mailto: addresses (RFC 5545 §3.8.4.1, §3.8.4.3). An iTIP REQUEST or
    # CANCEL must name its organizer and a REQUEST at least one attendee (RFC 5546 §3.2.2, §3.2.5);
    # rather than invent an address, refuse, so the caller names the centre as organizer. Outside
    # scheduling, people without an email are simply left out.
    organizer = event.organizer
    if organizer is not None and organizer.email:
        vevent.add("organizer", _address(organizer))
    elif scheduling:
        raise ValueError(f"event {event.uid}: invites and cancellations need an organizer with an email")
    attendees = [person for person in event.attendees if person.email]
    if scheduling and not attendees and not event.cancelled:
        raise ValueError(f"event {event.uid}: an invite needs at least one attendee with an email")
    for person in attendees:
        vevent.add("attendee", _address(person, ATTENDEE_PARAMETERS))


def _address(person: Person, parameters: dict[str, str] | None = None) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{person.email}")
    # A parameter value cannot hold DQUOTE or control characters (RFC 5545 §3.1); RFC 6868 escapes
    # them, but few clients decode it, so a name keeps plain apostrophes and spaces instead.
    name = "".join(" " if ord(char) < 32 or char == "\x7f" else char for char in person.name)
    name = " ".join(name.replace('"', "'").split())
    if name:
        address.params["CN"] = name
    address.params.update(parameters or {})
    return address


def _alarm(minutes: int, text: str) -> icalendar.Alarm:
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", text)  # DISPLAY alarms must carry a DESCRIPTION (RFC 5545 §3.6.6)
    alarm.add("trigger", timedelta(minutes=-minutes))  # relative to DTSTART by default (§3.8.6.3)
    return alarm


def _calendar(
    prodid: str,
    zone: ZoneInfo,
    moments: list[datetime],
    vevents: list[icalendar.Event],
    *,
    method: str | None = None,
) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", prodid)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method is not None:
        calendar.add("method", method)
    timezone = _vtimezone(zone, moments)
    if timezone is not None:
        calendar.add_component(timezone)
    for vevent in vevents:
        calendar.add_component(vevent)
    return calendar


def _vtimezone(zone: ZoneInfo, moments: list[datetime]) -> icalendar.Timezone | None:
    """The one VTIMEZONE the entries' TZID needs (RFC 5545 §3.6.5), built once per calendar."""
    tzid = icalendar.vDatetime(datetime(2000, 1, 1, tzinfo=zone)).params.get("TZID")
    if tzid is None:
        return None  # UTC is written with a trailing Z and needs no VTIMEZONE (§3.3.5 form #2)
    years = {moment.astimezone(zone).year for moment in moments}
    return vtimezone(zone, tzid, min(years), max(years))


def _utc(moment: datetime, name: str = "updated_at") -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)

