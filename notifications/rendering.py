"""Messages rendered from templates in the recipient's language."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError, dates
from babel.dates import get_timezone_location
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, pass_context, select_autoescape

DEFAULT_TIMEZONE = "Europe/Paris"

# Dates as people say them. CLDR's own formats read "mer. 3 déc., 14:00" or
# "Wed, Dec 3, 2:00 PM"; other languages fall back to CLDR's full date and short time.
_SPOKEN: dict[str, tuple[str, str, str]] = {
    "fr": ("EEEE d MMMM", "H 'h' mm", "{date} à {time}"),
    "en": ("EEEE d MMMM", "h:mm a", "{date} at {time}"),
}


def _zone(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _plain_spaces(text: str) -> str:
    # CLDR puts (narrow) no-break spaces in times ("2:00\u202fPM"); some phones show them
    # as boxes and they force SMS into UCS-2.
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def _local(dt: datetime, tz: str | tzinfo) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("format an aware datetime (times are stored in UTC)")
    return dt.astimezone(_zone(tz))


def format_date(value: date, locale: str) -> str:
    """A day as people say it: "mercredi 3 décembre" (a datetime's own date is used)."""
    parsed = Locale.parse(locale)
    spoken = _SPOKEN.get(parsed.language)
    return _plain_spaces(dates.format_date(value, spoken[0] if spoken else "full", locale=parsed))


def format_time(dt: datetime, locale: str, tz: str | tzinfo = DEFAULT_TIMEZONE) -> str:
    """A time as people say it in the zone ``tz``: "14 h 00", "2:00 PM"."""
    parsed = Locale.parse(locale)
    spoken = _SPOKEN.get(parsed.language)
    local = _local(dt, tz)
    return _plain_spaces(dates.format_time(local, spoken[1] if spoken else "short",
                                           tzinfo=local.tzinfo, locale=parsed))


@lru_cache(maxsize=4096)
def format_datetime(dt: datetime, locale: str, tz: str | tzinfo = DEFAULT_TIMEZONE) -> str:
    """Date and time as people say them: "mercredi 3 décembre à 14 h 00".

    Cached: a batch of reminders says the same few session times again and again."""
    parsed = Locale.parse(locale)
    local = _local(dt, tz)
    day, time = format_date(local, locale), format_time(local, locale, local.tzinfo)  # type: ignore[arg-type]
    spoken = _SPOKEN.get(parsed.language)
    if spoken:
        return spoken[2].format(date=day, time=time)
    # CLDR's "{1}, {0}" with quoted literals, joined the way Babel does it.
    pattern = str(parsed.datetime_formats["full"]).replace("'", "")
    return pattern.replace("{1}", day).replace("{0}", time)


# Short times, as people say them: "14 h", "14 h 30", "2 PM", "2:30 PM".
_SHORT_TIMES: dict[str, tuple[str, str]] = {"fr": ("H 'h'", "H 'h' mm"), "en": ("h a", "h:mm a")}
# Closer than this, a reminder says how long is left ("dans 2 heures"); further, which day.
RELATIVE_UNTIL = timedelta(hours=12)


def format_short_time(dt: datetime, locale: str, tz: str | tzinfo = DEFAULT_TIMEZONE) -> str:
    """A time said short in the zone ``tz``: "14 h", "14 h 30", "2 PM", "2:30 PM"."""
    parsed = Locale.parse(locale)
    local = _local(dt, tz)
    patterns = _SHORT_TIMES.get(parsed.language)
    if patterns is None:
        return format_time(dt, locale, tz)
    pattern = patterns[0] if local.minute == 0 else patterns[1]
    return _plain_spaces(dates.format_time(local, pattern, tzinfo=local.tzinfo, locale=parsed))


@dataclass(frozen=True)
class TimeLeft:
    """How far a session is, as a reminder says it: ``relative`` for "dans 2 heures", else a day
    and a time ("demain à 14 h", "jeudi à 14 h"). Lower case: it goes inside a sentence."""

    text: str
    relative: bool


def time_left(starts_at: datetime, now: datetime, locale: str, tz: str | tzinfo, translations) -> TimeLeft:
    """The real time left until ``starts_at`` in the reader's words, zone and language."""
    gettext, ngettext = translations.gettext, translations.ngettext
    # Rounded up to the minute: a reminder due 15 minutes before and sent a few seconds late
    # still says 15 minutes.
    minutes = max(math.ceil((starts_at - now).total_seconds() / 60), 0)
    if starts_at - now < RELATIVE_UNTIL:
        if minutes == 0:  # a reminder held back (say, by a mail server outage) until the start
            return TimeLeft(gettext("maintenant"), True)
        if minutes < 60:
            return TimeLeft(ngettext("dans %(num)d minute", "dans %(num)d minutes", minutes) % {"num": minutes}, True)
        hours, rest = divmod(minutes, 60)
        if rest == 0:
            return TimeLeft(ngettext("dans %(num)d heure", "dans %(num)d heures", hours) % {"num": hours}, True)
        return TimeLeft(gettext("dans %(hours)d h %(minutes)02d") % {"hours": hours, "minutes": rest}, True)
    local, today = _local(starts_at, tz), _local(now, tz).date()
    time = format_short_time(starts_at, locale, tz)
    days = (local.date() - today).days
    if days <= 0:
        return TimeLeft(gettext("aujourd'hui à %(time)s") % {"time": time}, False)
    if days == 1:
        return TimeLeft(gettext("demain à %(time)s") % {"time": time}, False)
    if days < 7:
        weekday = _plain_spaces(dates.format_date(local.date(), "EEEE", locale=Locale.parse(locale)))
        return TimeLeft(gettext("%(day)s à %(time)s") % {"day": weekday, "time": time}, False)
    return TimeLeft(gettext("le %(date)s à %(time)s") % {"date": format_date(local.date(), locale), "time": time},
                    False)


_VOWELS = frozenset("aeiouàâäéèêëîïôöùûüœæ")


def vowel_initial(word: str) -> bool:
    """Whether French elides before ``word``: "d'Adam", "d'Émilie", but "de Yasmine". An h is
    left alone: whether it is mute ("d'Hélène") or not ("de Hamid") cannot be told from spelling."""
    return word[:1].lower() in _VOWELS


def zone_city(tz: str | tzinfo, locale: str) -> str:
    """The city that names a time zone in ``locale``: "Londres", "London", "La Réunion"."""
    return get_timezone_location(_zone(tz), locale=Locale.parse(locale), return_city=True)


def first_upper(text: str) -> str:
    """The text with its first letter in capitals, the rest as it is (Jinja's capitalize lowers it)."""
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class RenderedMessage:
    """A message ready for the channels; ``html`` and ``sms`` are None without a template."""

    subject: str
    text: str
    html: str | None
    sms: str | None


class MessageRenderer:
    """Renders ``messages/<name>.{subject,txt,html,sms}`` from ``template_dir``.

    ``.subject`` and ``.txt`` are required, ``.html`` and ``.sms`` optional; the
    ``.sms`` text should leave the join link out (``fit_sms`` appends it). Strings go
    through ``{% trans %}`` / ``_()``; msgids are French and a missing translation
    shows the msgid. Filters: ``format_datetime``, ``format_date``, ``format_time``,
    ``format_short_time``, ``time_left(now)``, in the render's locale and its ``tz`` variable
    (default Europe/Paris; with ``show_zone`` set, times name their zone), ``first_upper`` and
    ``first_name``; the test ``vowel_initial`` tells where French elides ("d'Adam").
    """

    def __init__(self, template_dir: Path, translations_dir: Path, domain: str = "messages") -> None:
        self.template_dir = Path(template_dir)
        self.translations_dir = Path(translations_dir)
        self.domain = domain
        self._environments: dict[str, Environment] = {}
        self._lock = threading.Lock()

    def render(self, name: str, locale: str, /, **context: Any) -> RenderedMessage:
        """Render message ``name`` in ``locale``; template variables come from ``context``."""
        # name and locale are positional-only so that templates may use them as variables.
        env = self._environment(locale)
        subject = self._render(env, f"messages/{name}.subject", context)
        text = self._render(env, f"messages/{name}.txt", context)
        assert subject is not None and text is not None
        return RenderedMessage(
            # A subject is one line: a stray newline would even be a header injection.
            subject=" ".join(subject.split()),
            text=text.strip() + "\n",
            html=self._render(env, f"messages/{name}.html", context, optional=True),
            sms=(self._render(env, f"messages/{name}.sms", context, optional=True) or "").strip() or None,
        )

    @staticmethod
    def _render(env: Environment, path: str, context: dict[str, Any], optional: bool = False) -> str | None:
        try:
            template = env.get_template(path)
        except TemplateNotFound as exc:
            if optional and exc.name == path:
                return None
            raise
        return template.render(context)

    def _environment(self, locale: str) -> Environment:
        try:
            key = str(Locale.parse(locale.replace("-", "_")))
        except (ValueError, UnknownLocaleError) as exc:
            raise ValueError(f"unknown locale {locale!r}") from exc
        with self._lock:  # one environment per locale: gettext is installed per environment
            env = self._environments.get(key)
            if env is None:
                env = self._environments[key] = self._make_environment(key)
            return env

    def _make_environment(self, locale: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(self.template_dir),
            extensions=["jinja2.ext.i18n"],
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
            undefined=StrictUndefined,  # a missing variable fails loudly, never "Bonjour ,"
        )
        # gettext.find expands "fr_CA" to ["fr_CA", "fr"]; no catalogue gives the msgids.
        translations = Translations.load(str(self.translations_dir), [locale], self.domain)
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        env.globals["locale"] = locale

        def with_zone(context: Any, said: str) -> str:
            # A reader who lives in another zone than the centre's is told which clock is meant.
            if not context.get("show_zone"):
                return said
            city = zone_city(context.get("tz", DEFAULT_TIMEZONE), locale)
            if vowel_initial(city):
                return translations.gettext("%(when)s (heure d'%(city)s)") % {"when": said, "city": city}
            return translations.gettext("%(when)s (heure de %(city)s)") % {"when": said, "city": city}

        @pass_context
        def datetime_filter(context: Any, value: datetime) -> str:
            return with_zone(context, format_datetime(value, locale, context.get("tz", DEFAULT_TIMEZONE)))

        @pass_context
        def time_filter(context: Any, value: datetime) -> str:
            return with_zone(context, format_time(value, locale, context.get("tz", DEFAULT_TIMEZONE)))

        @pass_context
        def date_filter(context: Any, value: date) -> str:
            if isinstance(value, datetime):
                value = _local(value, context.get("tz", DEFAULT_TIMEZONE))
            return format_date(value, locale)

        @pass_context
        def short_time_filter(context: Any, value: datetime) -> str:
            return with_zone(context, format_short_time(value, locale, context.get("tz", DEFAULT_TIMEZONE)))

        @pass_context
        def time_left_filter(context: Any, value: datetime, now: datetime) -> TimeLeft:
            left = time_left(value, now, locale, context.get("tz", DEFAULT_TIMEZONE), translations)
            return left if left.relative else TimeLeft(with_zone(context, left.text), False)

        env.filters.update(format_datetime=datetime_filter, format_time=time_filter, format_date=date_filter,
                           format_short_time=short_time_filter, time_left=time_left_filter, first_upper=first_upper,
                           first_name=lambda name: (name.split() or [""])[0])
        env.tests["vowel_initial"] = vowel_initial
        return env
