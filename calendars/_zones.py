"""Time zones: IANA names in, VTIMEZONE components out (RFC 5545 §3.6.5)."""

import calendar
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Enough years to tell "last Sunday" from "fourth Sunday" before trusting a yearly rule.
RULE_CHECK_YEARS = 5


class _Onset(NamedTuple):
    """When one observance starts in one year: local wall time in the offset it replaces."""

    wall_time: datetime
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool


def zone_named(tz: str) -> ZoneInfo:
    """The IANA zone called `tz`, or ValueError with its name."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {tz!r}") from error


def vtimezone(zone: ZoneInfo, tzid: str, first_year: int, last_year: int) -> icalendar.Timezone:
    """A VTIMEZONE for `zone` that holds for local times from `first_year` to `last_year`.

    Written as Outlook, Google and Apple write theirs: one STANDARD and one DAYLIGHT with a yearly
    RRULE, since Outlook reads only TZID, DTSTART, RRULE, TZOFFSETFROM and TZOFFSETTO there
    ([MS-STANOICAL] §2.2.47). A zone no yearly rule describes (Morocco's Ramadan hour) gets one
    dated observance per change instead.
    """
    # A year early, so that January, before the year's first change, is covered too.
    years = range(first_year - 1, max(last_year, first_year + RULE_CHECK_YEARS) + 1)
    onsets = [_onsets(zone, year) for year in years]
    timezone = icalendar.Timezone()
    timezone.add("tzid", tzid)
    same_count = all(len(year) == len(onsets[0]) for year in onsets)
    rules = [_yearly_rule(change) for change in zip(*onsets, strict=True)] if same_count else [None]
    if onsets[0] and None not in rules:
        for onset, rrule in zip(onsets[0], rules, strict=True):
            timezone.add_component(_observance(onset, rrule))
        return timezone
    # The offset in force at the start, then every change (none for a zone that never changes).
    start = datetime(years.start, 1, 1, tzinfo=UTC).astimezone(zone)
    offset = start.utcoffset() or timedelta(0)
    name, daylight = start.tzname() or "", bool(start.dst())
    first = _Onset(start.replace(tzinfo=None), offset, offset, name, daylight)
    for onset in [first, *(onset for year in onsets for onset in year)]:
        timezone.add_component(_observance(onset, rrule=None))
    return timezone


def _onsets(zone: ZoneInfo, year: int) -> list[_Onset]:
    """Every change of UTC offset in `zone` during `year`, in order."""
    onsets = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    before = day.astimezone(zone).utcoffset()
    while day.year == year:
        after = (day + timedelta(days=1)).astimezone(zone).utcoffset()
        if after != before:
            low, high = day, day + timedelta(days=1)  # offset is `before` at low, `after` at high
            while high - low > timedelta(seconds=1):
                middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
                if middle.astimezone(zone).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            local = high.astimezone(zone)
            # DTSTART is the onset's local time "in the offset it replaces" (§3.6.5's examples).
            wall_time = (high + before).replace(tzinfo=None)
            onsets.append(_Onset(wall_time, before, after, local.tzname() or "", bool(local.dst())))
            before = after
        day += timedelta(days=1)
    return onsets


def _yearly_rule(same_change: tuple[_Onset, ...]) -> str | None:
    """The RRULE that gives this change in every year given, or None if none does."""
    first = same_change[0].wall_time
    # Which weekday of the month it falls on: "2SU" (second Sunday), "-1SU" (last Sunday).
    ordinals = {"-1", "1", "2", "3", "4", "5"}
    for onset in same_change:
        wall = onset.wall_time
        if (wall.month, wall.weekday(), wall.time()) != (first.month, first.weekday(), first.time()):
            return None
        if onset[1:] != same_change[0][1:]:  # same offsets, name and kind every year
            return None
        last_of_month = wall.day + 7 > calendar.monthrange(wall.year, wall.month)[1]
        ordinals &= {str((wall.day - 1) // 7 + 1)} | ({"-1"} if last_of_month else set())
    if not ordinals:
        return None
    ordinal = "-1" if "-1" in ordinals else ordinals.pop()
    return f"FREQ=YEARLY;BYMONTH={first.month};BYDAY={ordinal}{WEEKDAY_CODES[first.weekday()]}"


def _observance(onset: _Onset, rrule: str | None) -> icalendar.Component:
    observance = icalendar.TimezoneDaylight() if onset.daylight else icalendar.TimezoneStandard()
    observance.add("dtstart", onset.wall_time)
    if rrule is not None:
        observance.add("rrule", icalendar.vRecur.from_ical(rrule))
    observance.add("tzoffsetfrom", onset.offset_from)
    observance.add("tzoffsetto", onset.offset_to)
    if onset.name:
        observance.add("tzname", onset.name)
    return observance
