"""A weekly availability said back in plain words, in the reader's language:
"Chaque mercredi, de 14 h 00 à 17 h 00 : séances de 45 minutes, du 1 mars 2027 au 30 juin 2027."

Each sentence is one msgid with placeholders, so that translators see it whole.
"""

from datetime import date, datetime, time

from babel.dates import format_date, format_time, get_day_names
from babel.lists import format_list
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from ..i18n import PATTERNS
from ..models import WEEKDAY_CODES, AvailabilityRule


def weekday_names(width: str = "wide") -> dict[str, str]:
    """BYDAY code -> the day's name in the reader's language ("MO" -> "lundi")."""
    names = get_day_names(width, locale=_locale())
    return {code: names[index] for index, code in enumerate(WEEKDAY_CODES)}


def say_time(at: time) -> str:
    """A wall-clock time as people say it ("14 h 00", "2:00 PM"); no zone conversion."""
    locale = _locale()
    pattern = PATTERNS.get(locale, PATTERNS["fr"])["time"]
    return format_time(datetime.combine(date(2000, 1, 3), at), pattern, locale=locale)


def say_date(day: date) -> str:
    """A date as people write it ("3 mars 2027", "March 3, 2027")."""
    return format_date(day, "long", locale=_locale())


def describe(rule: AvailabilityRule) -> list[str]:
    """The rule as one or two sentences: when, then the dates it skips (if any)."""
    names = weekday_names()
    values = {
        "days": format_list([names[code] for code in rule.weekdays], locale=_locale()),
        "start": say_time(rule.start_time),
        "end": say_time(rule.end_time),
        "minutes": rule.session_minutes,
        "first": say_date(rule.valid_from),
    }
    if rule.valid_until is not None:
        sentences = [_(
            "Chaque %(days)s, de %(start)s à %(end)s : séances de %(minutes)d minutes, du %(first)s au %(last)s.",
            last=say_date(rule.valid_until), **values,
        )]
    else:
        sentences = [_(
            "Chaque %(days)s, de %(start)s à %(end)s : séances de %(minutes)d minutes, à partir du %(first)s.",
            **values,
        )]
    skipped = rule.skipped
    if skipped:
        dates = format_list([say_date(day) for day in skipped], locale=_locale())
        sentences.append(ngettext("Sauf le %(dates)s.", "Sauf les %(dates)s.", len(skipped), dates=dates))
    return sentences


def _locale() -> str:
    return str(get_locale() or "fr")
