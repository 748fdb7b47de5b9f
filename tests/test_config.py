"""The table of settings: what each environment variable becomes, and what a bad value says."""

from datetime import timedelta

import pytest

from scheduler_app import config, create_app
from scheduler_app.services.outbox import Rules


@pytest.fixture
def environment(monkeypatch):
    """An environment where none of Lien's variables is set; the test sets the ones it needs."""
    for setting in config.SETTINGS:
        monkeypatch.delenv(setting.environment_variable, raising=False)
    return monkeypatch


def start(**overrides):
    return create_app({"TESTING": True, "DATABASE_URL": "sqlite://", **overrides})


def test_every_setting_has_one_variable_and_constants_are_not_settings():
    variables = [setting.environment_variable for setting in config.SETTINGS]
    assert len(variables) == len(set(variables))
    assert not {setting.name for setting in config.SETTINGS} & set(config.CONSTANTS)


def test_variables_are_read_into_the_values_lien_uses(tmp_path):
    key = tmp_path / "jaas.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    found = config.from_environment({
        "WORKER_INTERVAL_SECONDS": "2.5", "OUTBOX_BATCH_SIZE": " 50 ", "AVAILABILITY_WEEKS_AHEAD": "8",
        "SMTP_PORT": "587", "SMTP_SECURITY": "STARTTLS", "SESSION_COOKIE_SECURE": "off", "LIEN_DEMO": "yes",
        "PROXY_FIX": "2", "NOTIFY_REMINDERS": "1h, 2d,30m", "NOTIFY_CONFIRMATIONS": "0",
        "JITSI_PRIVATE_KEY_FILE": str(key), "TIMEZONE": "America/Cayenne", "MAIL_FROM": "Centre <a@b.org>",
        "SMTP_HOST": "",  # empty: as if unset
        "CENTRE_PHONE": "01 42 34 56 78", "SMS_CODE_COUNTRIES": "fr, re", "SMS_DAILY_BUDGET": "50",
    })
    assert found == {
        "WORKER_INTERVAL_SECONDS": 2.5, "OUTBOX_BATCH_SIZE": 50, "AVAILABILITY_WEEKS_AHEAD": 8,
        "SMTP_PORT": 587, "SMTP_SECURITY": "starttls", "SESSION_COOKIE_SECURE": False, "DEMO_MODE": True,
        "PROXY_FIX": 2, "NOTIFY_REMINDERS": (timedelta(days=2), timedelta(hours=1), timedelta(minutes=30)),
        "NOTIFY_CONFIRMATIONS": False, "JITSI_PRIVATE_KEY": key.read_text(), "TIMEZONE": "America/Cayenne",
        "MAIL_FROM": "Centre <a@b.org>",
        "CENTRE_PHONE": "+33142345678", "SMS_CODE_COUNTRIES": ("FR", "RE"), "SMS_DAILY_BUDGET": 50,
    }


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("WORKER_INTERVAL_SECONDS", "abc", "write a number of seconds greater than 0, such as 30"),
    ("OUTBOX_LEASE_SECONDS", "0", "write a number of seconds greater than 0"),
    ("OUTBOX_BATCH_SIZE", "-5", "write a whole number of messages (1 or more)"),
    ("OUTBOX_BATCH_SIZE", "²", "write a whole number of messages (1 or more)"),  # a digit to isdigit(), not to int()
    ("RETENTION_DAYS", "two years", "write a whole number of days (1 or more)"),
    ("AVAILABILITY_WEEKS_AHEAD", "60", "write a whole number of weeks from 1 to 52"),
    ("SMTP_PORT", "smtp", "write a port number from 1 to 65535"),
    ("SMTP_SECURITY", "tls", "write none, starttls or ssl"),
    ("MAIL_PROVIDER", "sendgrid", "write smtp or console"),
    ("SMS_PROVIDER", "twilio", "write console or brevo"),
    ("SESSION_COOKIE_SECURE", "maybe", "write 1 (on) or 0 (off)"),
    ("LIEN_DEMO", "demo", "write 1 (on) or 0 (off)"),
    ("PROXY_FIX", "nginx", "write the number of reverse proxies"),
    ("TIMEZONE", "Paris", "write a known time zone name, such as Europe/Paris"),
    ("PUBLIC_URL", "lien.example.org", "write the address people open, starting with https://"),
    ("RATELIMIT_LOGIN", "ten a minute", "write limits such as '10 per minute;100 per hour'"),
    ("NOTIFY_REMINDERS", "24 hours", "'24 hours' is not like 24h, 30m or 2d: write e.g. 24h,1h"),
    ("CENTRE_PHONE", "01 23 45", "write a whole phone number, such as 01 23 45 67 89"),
    ("SMS_CODE_COUNTRIES", "France", "write two-letter country codes separated by commas"),
    ("SMS_DAILY_BUDGET", "0", "write a whole number of SMS (1 or more)"),
    ("JITSI_PRIVATE_KEY_FILE", "/nowhere/jaas.pem", "the file cannot be read (No such file or directory)"),
])
def test_a_bad_value_stops_the_start_naming_the_variable_and_what_to_write(environment, variable, value, says):
    environment.setenv(variable, value)
    with pytest.raises(RuntimeError) as refused:
        start()
    assert str(refused.value).startswith(f"{variable}={value!r}: {says}")


def test_defaults_and_the_settings_that_follow_from_others(environment, tmp_path):
    app = start(DATABASE_URL=None)
    assert app.config["DATABASE_URL"] == "sqlite:///" + app.instance_path + "/lien.sqlite3"
    assert app.config["MAIL_PROVIDER"] == "console" and app.config["SMS_PROVIDER"] == "console"
    assert app.config["SESSION_COOKIE_SECURE"] is False and app.config["PROXY_FIX"] == 0
    assert app.config["WORKER_INTERVAL_SECONDS"] == 30 and app.config["DEMO_MODE"] is False
    assert Rules.from_config(app.config) == Rules()  # the same promise to families outside an app
    environment.setenv("SMTP_HOST", "smtp.centre.example.org")
    environment.setenv("PUBLIC_URL", "https://lien.centre.example.org")
    environment.setenv("NOTIFY_REMINDERS", "48h")
    app = start()
    assert app.config["MAIL_PROVIDER"] == "smtp"
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    assert Rules.from_config(app.config).reminders == (timedelta(hours=48),)


def test_a_half_configured_jitsi_stops_the_start(environment):
    environment.setenv("JITSI_APP_ID", "lien")
    with pytest.raises(RuntimeError, match="JITSI_APP_SECRET is missing while JITSI_APP_ID is set"):
        start()
