"""Languages, time zones, and dates as people say them."""

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_timedelta
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from .catalogue import LANGUAGES, RIGHT_TO_LEFT, activity_name, language_name, level_name, subject_name
from .extensions import babel

# Patterns for how a date is said, per language ("mercredi 3 décembre, 14 h 00"); no-break
# spaces keep "14 h 00" on one line on a narrow phone.
PATTERNS = {
    "fr": {"when": "EEEE d MMMM, H\u00a0'h'\u00a0mm", "day": "EEEE d MMMM", "time": "H\u00a0'h'\u00a0mm", "weekday": "EEEE"},
    "en": {"when": "EEEE d MMMM, h:mm a", "day": "EEEE d MMMM", "time": "h:mm a", "weekday": "EEEE"},
    "ar": {"when": "EEEE d MMMM، HH:mm", "day": "EEEE d MMMM", "time": "HH:mm", "weekday": "EEEE"},
    "tr": {"when": "d MMMM EEEE, HH:mm", "day": "d MMMM EEEE", "time": "HH:mm", "weekday": "EEEE"},
    "pt": {"when": "EEEE, d 'de' MMMM, HH:mm", "day": "EEEE, d 'de' MMMM", "time": "HH:mm", "weekday": "EEEE"},
    "uk": {"when": "EEEE, d MMMM, HH:mm", "day": "EEEE, d MMMM", "time": "HH:mm", "weekday": "EEEE"},
}


def select_locale() -> str:
    """The page language: set for this request, else the one chosen with the language links,
    else the account's (its messages' language), else the browser's, else French."""
    languages = current_app.config["LANGUAGES"]
    if g.get("locale") in languages:
        return g.locale
    if not has_request_context():
        return languages[0]
    if session.get("locale") in languages:
        return session["locale"]
    if current_user and current_user.is_authenticated:
        return current_user.locale
    return request.accept_languages.best_match(languages) or languages[0]


def select_timezone() -> str:
    """The viewer's time zone: set for this request, else the account's, else the centre's."""
    if g.get("timezone"):
        return g.timezone
    if not has_request_context():
        return current_app.config["TIMEZONE"]
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["TIMEZONE"]


def viewer_zone() -> ZoneInfo:
    return ZoneInfo(select_timezone())


def locale_name() -> str:
    """The request's language code ("fr", "en"), or the one forced for a message."""
    return str(get_locale() or current_app.config["LANGUAGES"][0])


def say(moment: datetime | date | None, form: str = "when") -> str:
    """A UTC moment as the viewer reads it, in their zone and language."""
    if moment is None:
        return ""
    zone = select_timezone() if isinstance(moment, datetime) else None  # a calendar day has no zone
    return _spoken(moment, form, locale_name(), zone)


@lru_cache(maxsize=8192)
def _spoken(moment: datetime | date, form: str, locale: str, zone: str | None) -> str:
    """Babel's formatting, cached by its inputs: a page says dozens of dates, most of them said
    before (sessions start on the hour), and each costs tens of µs."""
    pattern = PATTERNS.get(locale, PATTERNS["fr"])[form]
    if zone is None:
        return babel_format_date(moment, pattern, locale=locale)
    return babel_format_datetime(moment, pattern, tzinfo=ZoneInfo(zone), locale=locale)


def time_left(seconds: int) -> str:
    """How long until something, as people say it ("dans 4 jours", "in 2 hours"), in the viewer's
    language, rounded: never a running count of hours, minutes and seconds."""
    return format_timedelta(timedelta(seconds=max(seconds, 1)), add_direction=True, threshold=1,
                            locale=locale_name())


def readable_phone(number: str | None) -> str:
    from .services.phones import readable

    return readable(number)


def centre_context() -> dict:
    """The centre's name and number, for every page that says to call it."""
    number = current_app.config["CENTRE_PHONE"]
    return {"centre_name": current_app.config["CENTRE_NAME"], "centre_tel": number,
            "centre_phone": readable_phone(number) if number else None}


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["when"] = say
    app.jinja_env.filters["time_left"] = time_left
    app.jinja_env.filters["day"] = lambda moment: say(moment, "day")
    app.jinja_env.filters["clock"] = lambda moment: say(moment, "time")
    app.jinja_env.filters["weekday_name"] = lambda moment: say(moment, "weekday")
    app.jinja_env.globals["current_locale"] = locale_name
    app.jinja_env.globals["page_languages"] = LANGUAGES
    app.jinja_env.globals["right_to_left"] = RIGHT_TO_LEFT
    app.jinja_env.globals["subject_name"] = subject_name
    app.jinja_env.globals["level_name"] = level_name
    app.jinja_env.filters["subject_name"] = subject_name
    app.jinja_env.filters["level_name"] = level_name
    app.jinja_env.filters["language_name"] = language_name
    app.jinja_env.filters["activity_name"] = activity_name
    app.jinja_env.filters["phone"] = readable_phone
    app.context_processor(centre_context)
