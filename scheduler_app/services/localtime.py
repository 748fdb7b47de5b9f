"""Dates and times someone typed: kept within sane bounds of today, and turned into UTC
moments honest about DST."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import has_request_context
from flask_babel import format_date, format_time
from flask_babel import lazy_gettext as _l

from . import ServiceError

# How far from today a typed date may be, wherever it is typed (slots, moves, weekly availability,
# reports, day filters): plans two years ahead, reports ten years back. Beyond, a date is a slip
# (9999-12-31), and the days computed from it (the next day, a school year's end, UTC) stop
# existing or overflow.
YEARS_AHEAD = 2
YEARS_BACK = 10


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, in a year without one
        return day.replace(year=day.year + years, day=28)


def date_bounds(today: date) -> tuple[date, date]:
    """The first refused days before and after today: a typed date lies strictly between them."""
    return _years_from(today, -YEARS_BACK), _years_from(today, YEARS_AHEAD)


def check_day(day: date, today: date, field: str | None = None) -> None:
    """Raise a ServiceError naming `field` unless `day` lies within the bounds of `today`."""
    too_early, too_late = date_bounds(today)
    if day >= too_late:
        raise ServiceError(_l("Choisissez une date avant le %(day)s.", day=say_day(too_late)), field=field)
    if day <= too_early:
        raise ServiceError(_l("Choisissez une date après le %(day)s.", day=say_day(too_early)), field=field)


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
                    day=say_day(day),
                ),
                field="start_time",
            )
        raise ServiceError(
            _l(
                "%(time)s existe deux fois le %(day)s : ce jour-là on recule l'heure. "
                "Choisissez une autre heure.",
                time=_say_time(day, at),
                day=say_day(day),
            ),
            field="start_time",
        )
    return earlier.astimezone(UTC)


def say_day(day: date) -> str:
    """The day as the reader says it (outside a page, ISO 8601)."""
    return format_date(day, "long") if has_request_context() else day.isoformat()


def _say_time(day: date, at: time) -> str:
    return format_time(datetime.combine(day, at), "short", rebase=False) if has_request_context() else at.strftime("%H:%M")
