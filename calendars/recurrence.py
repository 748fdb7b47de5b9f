"""Weekly availability: a weekly RRULE at a local wall-clock time, expanded into UTC intervals.

The wall-clock time is what stays fixed: 14:00 in Paris is 14:00 in Paris in March and in
November, so the UTC hour moves with summer time (as for RFC 5545 §3.3.10 rules anchored on a
DTSTART with a TZID). Two days a year the local time may not map to exactly one instant:

- in a spring-forward gap (02:30 in Paris on 28 March 2027) the time does not exist: that
  occurrence is left out, as no session can start at a time no clock shows;
- in an autumn overlap (02:30 in Paris on 31 October 2027) it happens twice: the first one
  (``fold=0``, still summer time) is taken.

Durations are elapsed time, so a 45-minute session lasts 45 minutes even across a change.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ._zones import zone_named

WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
# Bounds come from expand_weekly's own arguments: UNTIL, COUNT and EXDATE would say the same
# thing twice, and BYHOUR/BYMINUTE would contradict local_start.
SUPPORTED_PARTS = frozenset({"FREQ", "INTERVAL", "BYDAY", "WKST"})

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class _WeeklyRule:
    interval: int
    weekdays: tuple[int, ...]  # empty: the weekday of the first day (RFC 5545 §3.3.10)
    week_start: int


def expand_weekly(
    rrule: str,
    *,
    first_day: date,
    local_start: time,
    duration: timedelta,
    tz: str,
    until: date | None = None,
    skip: Iterable[date] = (),
    horizon_end: datetime | None = None,
) -> list[Interval]:
    """The (start, end) UTC intervals of a weekly pattern from `first_day` to `until` (inclusive).

    Occurrences on a date in `skip`, or starting at or after `horizon_end`, are left out; see the
    module docstring for the two DST days.
    """
    rule = _parse_weekly(rrule)
    if until is None and horizon_end is None:
        raise ValueError("a weekly pattern needs an end: pass until or horizon_end")
    if duration <= timedelta(0):
        raise ValueError(f"duration must be positive, got {duration}")
    if local_start.tzinfo is not None:
        raise ValueError("local_start is a wall-clock time; its zone is given by tz")
    zone = zone_named(tz)
    last_days = [] if until is None else [until]
    if horizon_end is not None:
        if horizon_end.utcoffset() is None:
            raise ValueError(f"horizon_end must be timezone-aware, got {horizon_end!r}")
        last_days.append(horizon_end.astimezone(zone).date())
    skipped = set(skip)
    intervals = []
    for day in _days(rule, first_day, min(last_days)):
        if day in skipped:
            continue
        start = _to_utc(datetime.combine(day, local_start), zone)
        if start is None or (horizon_end is not None and start >= horizon_end):
            continue
        intervals.append((start, start + duration))
    return intervals


def split_into_sessions(start: datetime, end: datetime, length: timedelta) -> list[Interval]:
    """Back-to-back sessions of `length` filling start..end; a tail shorter than `length` is dropped.

    Sessions are returned in the zone of `start`.
    """
    if start.utcoffset() is None or end.utcoffset() is None:
        raise ValueError("start and end must be timezone-aware")
    if length <= timedelta(0):
        raise ValueError(f"length must be positive, got {length}")
    zone = start.tzinfo
    # Arithmetic in UTC: adding to an aware datetime adds wall-clock time, which would stretch or
    # shrink a session that crosses a DST change.
    cursor, stop = start.astimezone(UTC), end.astimezone(UTC)
    sessions = []
    while cursor + length <= stop:
        sessions.append((cursor.astimezone(zone), (cursor + length).astimezone(zone)))
        cursor += length
    return sessions


def _parse_weekly(rrule: str) -> _WeeklyRule:
    text = rrule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    parts: dict[str, str] = {}
    for item in filter(None, text.split(";")):
        name, equals, value = item.partition("=")
        name, value = name.strip().upper(), value.strip().upper()
        if not equals or not name or not value:
            raise ValueError(f"malformed RRULE part {item!r} in {rrule!r}")
        if name in parts:  # "MUST NOT occur more than once" (RFC 5545 §3.3.10)
            raise ValueError(f"RRULE part {name} given twice in {rrule!r}")
        parts[name] = value
    if parts.get("FREQ") != "WEEKLY":
        raise ValueError(f"only weekly rules (FREQ=WEEKLY) are supported, got {rrule!r}")
    unsupported = sorted(parts.keys() - SUPPORTED_PARTS)
    if unsupported:
        raise ValueError(
            f"unsupported RRULE part(s) {', '.join(unsupported)} in {rrule!r}: give the time as "
            "local_start and the bounds as first_day, until and skip"
        )
    interval = parts.get("INTERVAL", "1")
    if not interval.isdigit() or int(interval) < 1:
        raise ValueError(f"INTERVAL must be a positive integer, got {interval!r}")
    # With FREQ=WEEKLY, BYDAY takes bare weekdays: "1MO" is not allowed (RFC 5545 §3.3.10).
    days = parts["BYDAY"].split(",") if "BYDAY" in parts else []
    week_start = parts.get("WKST", "MO")
    for day in (*days, week_start):
        if day not in WEEKDAYS:
            raise ValueError(f"{day!r} is not a weekday (MO, TU, WE, TH, FR, SA, SU) in {rrule!r}")
    weekdays = tuple(sorted({WEEKDAYS[day] for day in days}))
    return _WeeklyRule(int(interval), weekdays, WEEKDAYS[week_start])


def _days(rule: _WeeklyRule, first_day: date, last_day: date) -> Iterator[date]:
    # Weeks are counted from the one holding first_day, starting on WKST: with INTERVAL=2 that
    # week is "on", the next "off" (WKST matters only then, RFC 5545 §3.3.10).
    week = first_day - timedelta(days=(first_day.weekday() - rule.week_start) % 7)
    weekdays = rule.weekdays or (first_day.weekday(),)
    offsets = sorted((weekday - rule.week_start) % 7 for weekday in weekdays)
    while week <= last_day:
        for offset in offsets:
            day = week + timedelta(days=offset)
            if first_day <= day <= last_day:
                yield day
        week += timedelta(weeks=rule.interval)


def _to_utc(wall_time: datetime, zone: ZoneInfo) -> datetime | None:
    """The instant a clock in `zone` shows `wall_time`: the first if twice, None if never."""
    instant = wall_time.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall_time:
        return None  # in the gap: the clock jumped over this time
    return instant

