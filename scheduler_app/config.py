"""Configuration read from the environment, with defaults that work on a laptop."""

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The placeholder that marks an unset secret: accepted in debug and tests only.
DEV_SECRET_KEY = "dev-only-not-secret"

ENVIRONMENT_KEYS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "TIMEZONE",
    "JITSI_DOMAIN",
    "JITSI_APP_ID",
    "JITSI_APP_SECRET",
    "JITSI_JAAS_TENANT",
    "JITSI_KID",
    "JITSI_PRIVATE_KEY_FILE",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_LOGIN",
    "RATELIMIT_JOIN",
    "PUBLIC_URL",
    "MAIL_FROM",
    "MAIL_PROVIDER",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_SECURITY",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMS_PROVIDER",
    "SMS_BREVO_API_KEY",
    "SMS_SENDER",
    "NOTIFY_REMINDERS",
    "WORKER_INTERVAL_SECONDS",
    "OUTBOX_LEASE_SECONDS",
    "RETENTION_DAYS",
    "OUTBOX_BATCH_SIZE",
    "AVAILABILITY_WEEKS_AHEAD",
    "SESSION_COOKIE_SECURE",
    "PROXY_FIX",
    "RATELIMIT_STORAGE_PREFIX",
)

TRUE_WORDS = ("1", "true", "yes", "on")


def default_settings(instance_path: str) -> dict:
    """Defaults for every setting; the environment and test overrides come on top."""
    return {
        "SECRET_KEY": DEV_SECRET_KEY,
        "DATABASE_URL": "sqlite:///" + str(Path(instance_path) / "lien.sqlite3"),
        "TIMEZONE": "Europe/Paris",
        "JITSI_DOMAIN": "meet.jit.si",
        "JITSI_APP_ID": None,
        "JITSI_APP_SECRET": None,
        "JITSI_JAAS_TENANT": None,
        "JITSI_KID": None,
        "JITSI_PRIVATE_KEY_FILE": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_LOGIN": "10 per minute;100 per hour",
        "RATELIMIT_JOIN": "30 per minute",
        "PUBLIC_URL": "http://127.0.0.1:5000",
        # Messages: console channels (the log) until SMTP_HOST / SMS_PROVIDER say otherwise.
        "MAIL_FROM": "Lien <lien@localhost>",
        "MAIL_PROVIDER": "smtp" if os.environ.get("SMTP_HOST") else "console",
        "SMS_PROVIDER": "console",
        "NOTIFY_REMINDERS": "24h,1h",
        "WORKER_INTERVAL_SECONDS": 30,
        # A claimed message not recorded within the lease is taken again by another worker.
        "OUTBOX_LEASE_SECONDS": 300,
        # Personal data older than this is removed by `flask purge` (two school years).
        "RETENTION_DAYS": 730,
        "OUTBOX_BATCH_SIZE": 200,
        # How far ahead tutors' weekly availability becomes bookable slots (every day and on save).
        "AVAILABILITY_WEEKS_AHEAD": 4,
        "DEMO_MODE": os.environ.get("LIEN_DEMO") == "1",
        # How long before the start a join link opens (the session page says so).
        "JOIN_OPENS_MINUTES": 15,
        "BABEL_DEFAULT_LOCALE": "fr",
        "LANGUAGES": ("fr", "en"),
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent.parent / "translations"),
        # Secure cookies (sent over HTTPS only): None means "when PUBLIC_URL is https://", see derive().
        "SESSION_COOKIE_SECURE": None,
        # Behind a reverse proxy, how many proxies' X-Forwarded-For/-Proto/-Host to trust (0: none).
        "PROXY_FIX": 0,
        # Where the limits' counters live in Redis ("<prefix>:LIMITER/…"), so that Lien can share a Redis.
        "RATELIMIT_STORAGE_PREFIX": "lien-limits",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": 14 * 24 * 3600,
        "WTF_CSRF_TIME_LIMIT": None,
    }


def from_environment() -> dict:
    """The settings given by environment variables (only those that are set)."""
    found = {key: os.environ[key] for key in ENVIRONMENT_KEYS if os.environ.get(key)}
    if "JITSI_PRIVATE_KEY_FILE" in found:
        found["JITSI_PRIVATE_KEY"] = Path(found["JITSI_PRIVATE_KEY_FILE"]).read_text()
    return found


def derive(config: dict) -> None:
    """Settings that follow from others: secure cookies on an https:// site unless said otherwise,
    the limits' storage prefix, and the number of trusted proxies as a number."""
    secure = config.get("SESSION_COOKIE_SECURE")
    if secure is None:
        secure = str(config["PUBLIC_URL"]).startswith("https://")
    elif isinstance(secure, str):
        secure = secure.strip().lower() in TRUE_WORDS
    config["SESSION_COOKIE_SECURE"] = config["REMEMBER_COOKIE_SECURE"] = bool(secure)
    # Given on every app (Flask-Limiter's own key prefix would stick to the first app built).
    config["RATELIMIT_STORAGE_OPTIONS"] = {"key_prefix": config["RATELIMIT_STORAGE_PREFIX"]}
    proxies = str(config.get("PROXY_FIX") or 0).strip().lower()
    config["PROXY_FIX"] = 1 if proxies in TRUE_WORDS[1:] else int(proxies) if proxies.isdigit() else proxies


def validate(config: dict, *, debug: bool, testing: bool) -> None:
    """Refuse to start on a setting that cannot work, saying which and why."""
    if config["SECRET_KEY"] == DEV_SECRET_KEY and not (debug or testing):
        raise RuntimeError(
            "SECRET_KEY is not set. Lien signs sessions and forms with it, so it refuses to "
            "run outside debug mode with the development placeholder. Set SECRET_KEY to a long "
            "random value, e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'."
        )
    if not isinstance(config["PROXY_FIX"], int):
        raise RuntimeError(
            f"PROXY_FIX={config['PROXY_FIX']!r}: give the number of reverse proxies in front of Lien "
            "(1 for one nginx or Caddy), or 0 when Lien is reached directly."
        )
    weeks = str(config["AVAILABILITY_WEEKS_AHEAD"])
    if not weeks.isdigit() or not 1 <= int(weeks) <= 52:
        raise RuntimeError(
            f"AVAILABILITY_WEEKS_AHEAD={weeks!r}: give a whole number of weeks from 1 to 52 (default 4)."
        )
    try:
        ZoneInfo(config["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise RuntimeError(
            f"TIMEZONE={config['TIMEZONE']!r} is not a known time zone (e.g. Europe/Paris)."
        ) from error
