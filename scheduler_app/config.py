"""Lien's settings: one table of what the environment may set, with defaults that work on a laptop."""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .catalogue import LANGUAGES

# The placeholder that marks an unset secret: accepted in debug and tests only.
DEV_SECRET_KEY = "dev-only-not-secret"

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


# Parsers: each turns the text of an environment variable into the value Lien uses, or raises
# ValueError saying what to write instead.

def text(raw: str) -> str:
    return raw


def boolean(raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("write 1 (on) or 0 (off)")


def whole_number(what: str, low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        digits = raw.strip()
        if digits.isascii() and digits.isdigit() and low <= int(digits) and (high is None or int(digits) <= high):
            return int(digits)
        bounds = f"from {low} to {high}" if high is not None else f"({low} or more)"
        raise ValueError(f"write {what} {bounds}")
    return parse


def seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0
    if not 0 < value < float("inf"):
        raise ValueError("write a number of seconds greater than 0, such as 30")
    return value


def choice(*words: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        word = raw.strip().lower()
        if word not in words:
            raise ValueError(f"write {', '.join(words[:-1])} or {words[-1]}")
        return word
    return parse


def proxy_count(raw: str) -> int:
    # "true" from an older habit of PROXY_FIX=true means one proxy.
    word = raw.strip().lower()
    if word in TRUE_WORDS[1:]:
        return 1
    if word in FALSE_WORDS[1:]:
        return 0
    if word.isascii() and word.isdigit():
        return int(word)
    raise ValueError("write the number of reverse proxies in front of Lien (1 for one nginx or Caddy), "
                     "or 0 when Lien is reached directly")


def time_zone(raw: str) -> str:
    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("write a known time zone name, such as Europe/Paris") from None
    return raw.strip()


def web_address(raw: str) -> str:
    if not raw.strip().startswith(("http://", "https://")):
        raise ValueError("write the address people open, starting with https:// (or http://)")
    return raw.strip()


def rate_limits(raw: str) -> str:
    from limits import parse_many

    try:
        parse_many(raw)
    except ValueError:
        raise ValueError("write limits such as '10 per minute;100 per hour'") from None
    return raw


def reminder_offsets(raw: str) -> tuple[timedelta, ...]:
    """"24h,1h,30m" -> how long before a session its reminders go out, the earliest first."""
    offsets = []
    for part in (piece.strip().lower() for piece in raw.split(",")):
        if not part:
            continue
        unit = {"h": "hours", "m": "minutes", "d": "days"}.get(part[-1])
        if unit is None or not (part[:-1].isascii() and part[:-1].isdigit()):
            raise ValueError(f"{part!r} is not like 24h, 30m or 2d: write e.g. 24h,1h")
        offsets.append(timedelta(**{unit: int(part[:-1])}))
    return tuple(sorted(offsets, reverse=True))


def phone_number(raw: str) -> str:
    from .services.phones import e164

    number = e164(raw)
    if number is None:
        raise ValueError("write a whole phone number, such as 01 23 45 67 89 or +33 1 23 45 67 89")
    return number


def regions(raw: str) -> tuple[str, ...]:
    import phonenumbers

    codes = tuple(code.strip().upper() for code in raw.split(",") if code.strip())
    unknown = [code for code in codes if code not in phonenumbers.SUPPORTED_REGIONS]
    if not codes or unknown:
        raise ValueError("write two-letter country codes separated by commas, such as FR,RE,GP,MQ,GF,YT")
    return codes


def file_contents(raw: str) -> str:
    try:
        return Path(raw).read_text()
    except OSError as error:
        raise ValueError(f"the file cannot be read ({error.strerror}): write the path of a readable file") from None


@dataclass(frozen=True)
class Setting:
    """One setting: its key in app.config, its default, and how its environment variable is read."""

    name: str
    default: Any
    parse: Callable[[str], Any] = text
    # The environment variable, when it is not named as the setting.
    variable: str | None = None

    @property
    def environment_variable(self) -> str:
        return self.variable or self.name

    def read(self, raw: str) -> Any:
        """The value of the variable's text, or a RuntimeError naming it and saying what to write."""
        try:
            return self.parse(raw)
        except ValueError as error:
            raise RuntimeError(f"{self.environment_variable}={raw!r}: {error}.") from None


# A default of None is "unset", or follows from other settings where derive() says so.
SETTINGS = (
    Setting("SECRET_KEY", DEV_SECRET_KEY),
    # None: a SQLite file in the instance folder.
    Setting("DATABASE_URL", None),
    Setting("TIMEZONE", "Europe/Paris", time_zone),
    Setting("PUBLIC_URL", "http://127.0.0.1:5000", web_address),
    Setting("DEMO_MODE", False, boolean, variable="LIEN_DEMO"),
    Setting("JITSI_DOMAIN", "meet.jit.si"),
    Setting("JITSI_APP_ID", None),
    Setting("JITSI_APP_SECRET", None),
    Setting("JITSI_JAAS_TENANT", None),
    Setting("JITSI_KID", None),
    Setting("JITSI_PRIVATE_KEY", None, file_contents, variable="JITSI_PRIVATE_KEY_FILE"),
    # 1 when the self-hosted Jitsi makes the token's moderator flag the rule (Prosody's
    # token_affiliation, Jicofo's auto-owner off: docs/deploy.md); JaaS always does.
    Setting("JITSI_MODERATOR_FROM_TOKEN", False, boolean),
    # 1 when the self-hosted Jitsi opens a lobby in its rooms and lets people past it by their
    # token (docs/deploy.md): a mediation's parties then wait there until the mediator lets them in.
    Setting("JITSI_LOBBY", False, boolean),
    # Joining by phone, when the Jitsi server has dial-in (Jigasi): the two services its own
    # config.js names dialInNumbersUrl and dialInConfCodeUrl, and whose numbers to give.
    Setting("JITSI_DIAL_IN_NUMBERS_URL", None, web_address),
    Setting("JITSI_DIAL_IN_CODE_URL", None, web_address),
    Setting("JITSI_DIAL_IN_COUNTRY", "FR"),
    # How long before the start join links open: the tutor's (or mediator's) first, so that
    # they are in the room before the family.
    Setting("JOIN_OPENS_MINUTES_TUTOR", 15, whole_number("a whole number of minutes", 0, 240)),
    Setting("JOIN_OPENS_MINUTES_FAMILY", 5, whole_number("a whole number of minutes", 0, 240)),
    Setting("RATELIMIT_STORAGE_URI", "memory://"),
    # Where the limits' counters live in Redis ("<prefix>:LIMITER/…"), so that Lien can share a Redis.
    Setting("RATELIMIT_STORAGE_PREFIX", "lien-limits"),
    Setting("RATELIMIT_LOGIN", "10 per minute;100 per hour", rate_limits),
    Setting("RATELIMIT_JOIN", "30 per minute", rate_limits),
    # Login codes asked for from one address (each number also gets at most 3 an hour).
    Setting("RATELIMIT_SMS_CODE", "5 per hour;20 per day", rate_limits),
    # Secure cookies (sent over HTTPS only). None: when PUBLIC_URL is https://.
    Setting("SESSION_COOKIE_SECURE", None, boolean),
    # Behind a reverse proxy, how many proxies' X-Forwarded-For/-Proto/-Host to trust (0: none).
    Setting("PROXY_FIX", 0, proxy_count),
    # Messages go to the log (the console channels) until SMTP_HOST or SMS_PROVIDER say otherwise.
    Setting("MAIL_FROM", "Lien <lien@localhost>"),
    # None: smtp when SMTP_HOST is set, else console.
    Setting("MAIL_PROVIDER", None, choice("smtp", "console")),
    Setting("SMTP_HOST", None),
    # None: the usual port of SMTP_SECURITY (25, 587 or 465).
    Setting("SMTP_PORT", None, whole_number("a port number", 1, 65535)),
    Setting("SMTP_SECURITY", "none", choice("none", "starttls", "ssl")),
    Setting("SMTP_USERNAME", None),
    Setting("SMTP_PASSWORD", None),
    Setting("SMS_PROVIDER", "console", choice("console", "brevo")),
    # Where the console channels keep the messages they do not send (their log shows ids only).
    Setting("CONSOLE_MESSAGES_DIR", None),
    Setting("SMS_BREVO_API_KEY", None),
    Setting("SMS_SENDER", None),
    # Brevo's delivery reports come to POST /sms/status/brevo with this secret (as the password
    # in the webhook's URL, or its bearer token); unset, the address answers 404.
    Setting("SMS_BREVO_WEBHOOK_SECRET", None),
    Setting("NOTIFY_REMINDERS", reminder_offsets("24h,1h"), reminder_offsets),
    Setting("NOTIFY_CONFIRMATIONS", True, boolean),
    Setting("NOTIFY_CANCELLATIONS", True, boolean),
    Setting("WORKER_INTERVAL_SECONDS", 30, seconds),
    # A claimed message not recorded within the lease is taken again by another worker.
    Setting("OUTBOX_LEASE_SECONDS", 300, seconds),
    Setting("OUTBOX_BATCH_SIZE", 200, whole_number("a whole number of messages", 1)),
    # The centre as families know it: named on the home page, and its number in every message
    # that says to call it (None: "call the centre" without a number).
    Setting("CENTRE_NAME", "Centre social"),
    Setting("CENTRE_PHONE", None, phone_number),
    # Login codes go only to mobiles of these countries (metropolitan France and overseas
    # departments): bots ask for codes to premium and far-away numbers, at the centre's cost.
    Setting("SMS_CODE_COUNTRIES", ("FR", "RE", "YT", "GP", "MQ", "GF", "PM", "BL", "MF"), regions),
    # SMS a day past which no login code is sent and coordinators are alerted.
    Setting("SMS_DAILY_BUDGET", 200, whole_number("a whole number of SMS", 1)),
    # Replies to SMS (ANNULER, OUI) arrive through this provider's webhook, POST
    # /sms/inbound/twilio, signed with TWILIO_AUTH_TOKEN; "none" leaves replies out of the SMS.
    Setting("SMS_INBOUND_PROVIDER", "none", choice("none", "twilio")),
    Setting("TWILIO_AUTH_TOKEN", None),
    # Personal data older than this is removed by `flask purge` (two school years).
    Setting("RETENTION_DAYS", 730, whole_number("a whole number of days", 1)),
    # How far ahead tutors' weekly availability becomes bookable slots (every day and on save).
    Setting("AVAILABILITY_WEEKS_AHEAD", 4, whole_number("a whole number of weeks", 1, 52)),
)

# Set by Lien itself, not by the environment.
CONSTANTS = {
    # Said on every app: Flask-Limiter's one limiter would otherwise keep the last app's choice.
    "RATELIMIT_ENABLED": True,
    "BABEL_DEFAULT_LOCALE": "fr",
    "LANGUAGES": tuple(LANGUAGES),
    "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent.parent / "translations"),
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_DURATION": 14 * 24 * 3600,
    "WTF_CSRF_TIME_LIMIT": None,
}


def defaults() -> dict:
    """Every setting's default; the environment and test overrides come on top."""
    return {**{setting.name: setting.default for setting in SETTINGS}, **CONSTANTS}


def from_environment(environ: Mapping[str, str] = os.environ) -> dict:
    """The settings given by environment variables (only those set and not empty), parsed."""
    return {
        setting.name: setting.read(environ[setting.environment_variable])
        for setting in SETTINGS
        if environ.get(setting.environment_variable)
    }


def derive(config: dict, instance_path: str) -> None:
    """Settings left at None that follow from others, and the form extensions want them in."""
    if config["DATABASE_URL"] is None:
        config["DATABASE_URL"] = "sqlite:///" + str(Path(instance_path) / "lien.sqlite3")
    if config["MAIL_PROVIDER"] is None:
        config["MAIL_PROVIDER"] = "smtp" if config["SMTP_HOST"] else "console"
    if config["SESSION_COOKIE_SECURE"] is None:
        config["SESSION_COOKIE_SECURE"] = str(config["PUBLIC_URL"]).startswith("https://")
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    # Given on every app (Flask-Limiter's own key prefix would stick to the first app built).
    config["RATELIMIT_STORAGE_OPTIONS"] = {"key_prefix": config["RATELIMIT_STORAGE_PREFIX"]}


def validate(config: dict, *, debug: bool, testing: bool, checking: bool = False) -> None:
    """Refuse to start on settings that cannot work, naming each and what to write.

    Jitsi's and the join links' are refused everywhere (the first join link would fail); in production also the
    secret's placeholder and broken mail or SMS settings. `checking`: the `check` command,
    which loads the app to list the problems rather than stop at them."""
    from .checks import jitsi_problems, join_problems, problems

    production = not (debug or testing)
    found = problems(config, production=True) if production else jitsi_problems(config) + join_problems(config)
    if found and not checking:
        listed = "\n".join(f"  - {problem}." for problem in found)
        raise RuntimeError(
            f"Lien cannot start with these settings:\n{listed}\n"
            "`flask --app scheduler_app check` lists them again once changed."
        )
