"""Turning a wall-clock time someone typed into a UTC moment, honest about DST."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import has_request_context
from flask_babel import format_date, format_time
from flask_babel import lazy_gettext as _l

from . import ServiceError


def local_to_utc(day: date, at: time, tz: str) -> datetime:
    """The UTC moment of a local date and time, refusing times a DST change makes
    nonexistent (clocks jump forward past them) or ambiguous (clocks go back over them)."""
    zone = ZoneInfo(tz)
    wall = datetime.combine(day, at)
    earlier, later = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() != later.utcoffset():
        # Only on a transition day. A time that does not survive the round trip never existed.
        if earlier.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
            raise ServiceError(
                _l(
                    "%(time)s n'existe pas le %(day)s : ce jour-là on avance l'heure. "
                    "Choisissez une autre heure.",
                    time=_say_time(day, at),
                    day=_say_day(day),
                ),
                field="start_time",
            )
        raise ServiceError(
            _l(
                "%(time)s existe deux fois le %(day)s : ce jour-là on recule l'heure. "
                "Choisissez une autre heure.",
                time=_say_time(day, at),
                day=_say_day(day),
            ),
            field="start_time",
        )
    return earlier.astimezone(UTC)


def _say_day(day: date) -> str:
    """The day as the reader says it (outside a page, ISO 8601)."""
    return format_date(day, "long") if has_request_context() else day.isoformat()


def _say_time(day: date, at: time) -> str:
    return format_time(datetime.combine(day, at), "short", rebase=False) if has_request_context() else at.strftime("%H:%M")
