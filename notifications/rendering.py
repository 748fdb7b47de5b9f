"""Messages rendered from templates in the recipient's language."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError, dates
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
    in the render's locale and its ``tz`` variable (default Europe/Paris).
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

        @pass_context
        def datetime_filter(context: Any, value: datetime) -> str:
            return format_datetime(value, locale, context.get("tz", DEFAULT_TIMEZONE))

        @pass_context
        def time_filter(context: Any, value: datetime) -> str:
            return format_time(value, locale, context.get("tz", DEFAULT_TIMEZONE))

        @pass_context
        def date_filter(context: Any, value: date) -> str:
            if isinstance(value, datetime):
                value = _local(value, context.get("tz", DEFAULT_TIMEZONE))
            return format_date(value, locale)

        env.filters.update(format_datetime=datetime_filter, format_time=time_filter, format_date=date_filter)
        return env
