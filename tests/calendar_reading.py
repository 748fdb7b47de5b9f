"""Reading calendars back as two independent parsers see them: icalendar and vobject."""

import icalendar
import vobject


def read_with_vobject(data: bytes):
    """vobject's view of `data`, with times resolved through this calendar's own VTIMEZONE."""
    # vobject keeps the first VTIMEZONE it meets for each TZID for the rest of the process;
    # forget earlier ones, or later calendars would be read with an earlier calendar's zone.
    vars(vobject.icalendar)["__tzidMap"].clear()
    return vobject.readOne(data.decode("utf-8"))


def both_parsers(data: bytes):
    """The calendar as icalendar and as vobject read it."""
    return icalendar.Calendar.from_ical(data), read_with_vobject(data)


def unfolded(data: bytes) -> str:
    """The text with folded lines joined back (RFC 5545 §3.1), to look for a long URL in it."""
    return data.decode("utf-8").replace("\r\n ", "")
