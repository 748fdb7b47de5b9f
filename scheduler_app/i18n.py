"""Languages, time zones, and dates as people say them."""

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

from .catalogue import activity_name, language_name, level_name, subject_name
from .extensions import babel

# Patterns for how a date is said, per language ("mercredi 3 décembre, 14 h 00"); no-break
# spaces keep "14 h 00" on one line on a narrow phone.
PATTERNS = {
    "fr": {"when": "EEEE d MMMM, H\u00a0'h'\u00a0mm", "day": "EEEE d MMMM", "time": "H\u00a0'h'\u00a0mm"},
    "en": {"when": "EEEE d MMMM, h:mm a", "day": "EEEE d MMMM", "time": "h:mm a"},
}


def select_locale() -> str:
    """The page language: set for this request, else the account's, else a chosen one, else
    the browser's, else French."""
    languages = current_app.config["LANGUAGES"]
    if g.get("locale") in languages:
        return g.locale
    if not has_request_context():
        return languages[0]
    if current_user and current_user.is_authenticated:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
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


def _language():
    """(locale, its name, its translations) for the request's language, kept on Flask-Babel's
    own per-request namespace: flask_babel.get_translations() looks the locale up again and
    spells its name (str(Locale)) on every string, and a page says dozens. Keyed by the locale
    object itself, so that force_locale (a message in its recipient's language) is obeyed."""
    state = g.get("_flask_babel")
    locale = getattr(state, "babel_locale", None)
    if locale is None:
        locale = get_locale()  # chosen once (select_locale) and kept on that namespace
        state = g.get("_flask_babel")
        if locale is None or state is None:  # outside a request: nothing to keep it on
            return locale, str(locale or ""), get_translations()
    kept = getattr(state, "lien_language", None)
    if kept is None or kept[0] is not locale:
        kept = state.lien_language = (locale, str(locale), get_translations())
    return kept


@pass_eval_context
def template_gettext(eval_context, text: str, **variables) -> str:
    """_() in templates: as Jinja's newstyle gettext (an autoescaped template gets Markup, and
    its variables escaped; "%" formatting always applies)."""
    translated = _language()[2].ugettext(text)
    if eval_context.autoescape:
        translated = Markup(translated)
    return translated % variables


@pass_eval_context
def template_ngettext(eval_context, singular: str, plural: str, num: int, **variables) -> str:
    """ngettext() in templates: as Jinja's newstyle ngettext (`num` is a variable too)."""
    variables.setdefault("num", num)
    translated = _language()[2].ungettext(singular, plural, num)
    if eval_context.autoescape:
        translated = Markup(translated)
    return translated % variables


def locale_name() -> str:
    """The request's language code ("fr", "en")."""
    return _language()[1]


def say(moment: datetime | date | None, form: str = "when") -> str:
    """A UTC moment as the viewer reads it, in their zone and language."""
    if moment is None:
        return ""
    zone = select_timezone() if isinstance(moment, datetime) else None  # a calendar day has no zone
    return _spoken(moment, form, locale_name(), zone)


@lru_cache(maxsize=8192)
def _spoken(moment: datetime | date, form: str, locale: str, zone: str | None) -> str:
    """Babel's formatting, remembered: a page says dozens of dates, most of them said before
    (sessions start on the hour, and many people see the same ones), and each costs tens of µs."""
    pattern = PATTERNS.get(locale, PATTERNS["fr"])[form]
    if zone is None:
        return babel_format_date(moment, pattern, locale=locale)
    return babel_format_datetime(moment, pattern, tzinfo=ZoneInfo(zone), locale=locale)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["when"] = say
    app.jinja_env.filters["day"] = lambda moment: say(moment, "day")
    app.jinja_env.filters["clock"] = lambda moment: say(moment, "time")
    app.jinja_env.globals["current_locale"] = locale_name
    # Templates' _() and ngettext(), as Flask-Babel installs them, through _language().
    app.jinja_env.install_gettext_callables(
        gettext=lambda text: _language()[2].ugettext(text),
        ngettext=lambda singular, plural, n: _language()[2].ungettext(singular, plural, n),
        pgettext=lambda context, text: _language()[2].upgettext(context, text),
        npgettext=lambda context, singular, plural, n: _language()[2].unpgettext(context, singular, plural, n),
        newstyle=True,
    )
    # ... and, for the two a page calls dozens of times, the same in one call instead of three
    # (Jinja's alias, its newstyle wrapper, the callable): the same result, escaping included.
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext, ngettext=template_ngettext)
    app.jinja_env.globals["subject_name"] = subject_name
    app.jinja_env.globals["level_name"] = level_name
    app.jinja_env.filters["subject_name"] = subject_name
    app.jinja_env.filters["level_name"] = level_name
    app.jinja_env.filters["language_name"] = language_name
    app.jinja_env.filters["activity_name"] = activity_name
