"""Settings checked before the first lesson: every Jitsi, mail and SMS setting that cannot work,
each named with what is wrong and what to write, and what only half-works in production.

`flask --app scheduler_app check` prints them; config.validate() refuses to start on them."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from notifications import email_channel_from_mapping, sms_channel_from_mapping
from rooms import JitsiSettings

SMTP_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
# Brevo: alphanumeric senders up to 11 letters and digits, numeric ones 12 to 15 digits.
SMS_SENDER = re.compile(r"[A-Za-z0-9]{1,11}|\d{12,15}")
WEBHOOK_SECRET_LENGTH = 24
SECRET_EXAMPLE = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


@dataclass(frozen=True)
class Problem:
    """A setting that cannot work: the environment variable, what is wrong and what to write."""

    variable: str
    message: str

    def __str__(self) -> str:
        return f"{self.variable} {self.message}"


def jitsi_problems(config: Mapping[str, Any]) -> list[Problem]:
    # The private key is read from the file that JITSI_PRIVATE_KEY_FILE names.
    variables = {"JITSI_PRIVATE_KEY": "JITSI_PRIVATE_KEY_FILE"}
    jitsi = JitsiSettings.from_mapping(config)
    found = [Problem(variables.get(problem.key, problem.key), problem.message) for problem in jitsi.problems()]
    if jitsi.lobby and jitsi.mode == "hs256" and not config.get("JITSI_MODERATOR_FROM_TOKEN"):
        # Jicofo's reference.conf: auto-owner makes the first participant owner, "and subsequently
        # the next in line when the current owner leaves".
        found.append(Problem("JITSI_LOBBY", "is on while JITSI_MODERATOR_FROM_TOKEN is off: Jicofo then makes the "
                                            "first person in a room its moderator, and the next one when they "
                                            "leave, so a party left in the room could let the other in; set up "
                                            "token_affiliation as docs/deploy.md says and write "
                                            "JITSI_MODERATOR_FROM_TOKEN=1, or write JITSI_LOBBY=0"))
    return found


def join_problems(config: Mapping[str, Any]) -> list[Problem]:
    numbers, code = config.get("JITSI_DIAL_IN_NUMBERS_URL"), config.get("JITSI_DIAL_IN_CODE_URL")
    if bool(numbers) != bool(code):
        missing, given = (("JITSI_DIAL_IN_CODE_URL", "JITSI_DIAL_IN_NUMBERS_URL") if numbers
                          else ("JITSI_DIAL_IN_NUMBERS_URL", "JITSI_DIAL_IN_CODE_URL"))
        return [Problem(missing, f"is missing while {given} is set: write the address your Jitsi's config.js gives "
                                 "as dialInConfCodeUrl and dialInNumbersUrl (both, or neither)")]
    if config["JOIN_OPENS_MINUTES_FAMILY"] > config["JOIN_OPENS_MINUTES_TUTOR"]:
        return [Problem("JOIN_OPENS_MINUTES_FAMILY",
                        f"is {config['JOIN_OPENS_MINUTES_FAMILY']}, more than JOIN_OPENS_MINUTES_TUTOR "
                        f"({config['JOIN_OPENS_MINUTES_TUTOR']}): families would be in the room before the tutor; "
                        "write a number no greater than JOIN_OPENS_MINUTES_TUTOR")]
    return []


def channel_refusal(config: Mapping[str, Any], variable: str,
                    build: Callable[[Mapping[str, Any]], object]) -> list[Problem]:
    """What the channel itself refuses in settings the checks above let through: a rule of the
    channel this list does not know yet."""
    try:
        build(config)
    except ValueError as error:
        return [Problem(variable, f"{config.get(variable)} cannot be used: {error}")]
    return []


def mail_problems(config: Mapping[str, Any]) -> list[Problem]:
    found = []
    if "@" not in parseaddr(str(config.get("MAIL_FROM") or ""))[1]:
        found.append(Problem("MAIL_FROM", f"{config.get('MAIL_FROM')!r} has no email address: "
                                          "write e.g. 'Centre social <lien@centre.example.org>'"))
    if config.get("MAIL_PROVIDER") != "smtp":
        return found
    username, password = config.get("SMTP_USERNAME"), config.get("SMTP_PASSWORD")
    if username and not password:
        found.append(Problem("SMTP_PASSWORD", "is missing while SMTP_USERNAME is set: write that account's "
                                              "password, or remove SMTP_USERNAME"))
    if password and not username:
        found.append(Problem("SMTP_USERNAME", "is missing while SMTP_PASSWORD is set: write the account's "
                                              "login name"))
    security, port = config.get("SMTP_SECURITY") or "none", config.get("SMTP_PORT")
    host = str(config.get("SMTP_HOST") or "localhost")
    if password and security == "none" and host not in LOCAL_HOSTS:
        found.append(Problem("SMTP_SECURITY", f"is none, so SMTP_PASSWORD would cross the network to {host} in "
                                              "clear: write starttls (port 587) or ssl (port 465)"))
    # The classic mix-up: TLS from the first byte on the STARTTLS port (or the reverse) hangs.
    if security == "ssl" and port == SMTP_PORTS["starttls"]:
        found.append(Problem("SMTP_SECURITY", "is ssl but SMTP_PORT is 587, the STARTTLS port: write "
                                              "SMTP_SECURITY=starttls, or SMTP_PORT=465"))
    if security == "starttls" and port == SMTP_PORTS["ssl"]:
        found.append(Problem("SMTP_SECURITY", "is starttls but SMTP_PORT is 465, the SSL port: write "
                                              "SMTP_SECURITY=ssl, or SMTP_PORT=587"))
    return found or channel_refusal(config, "MAIL_PROVIDER", email_channel_from_mapping)


def sms_problems(config: Mapping[str, Any]) -> list[Problem]:
    found = []
    webhook_secret = str(config.get("SMS_BREVO_WEBHOOK_SECRET") or "")
    if webhook_secret and len(webhook_secret) < WEBHOOK_SECRET_LENGTH:
        # Whoever knows it can mark any SMS delivered, and hide a wrong number from the coordinators.
        found.append(Problem("SMS_BREVO_WEBHOOK_SECRET", f"is {len(webhook_secret)} characters long: write at least "
                                                         f"{WEBHOOK_SECRET_LENGTH}, e.g. the output of {SECRET_EXAMPLE}"))
    if config.get("SMS_PROVIDER") != "brevo":
        return found
    if not config.get("SMS_BREVO_API_KEY"):
        found.append(Problem("SMS_BREVO_API_KEY", "is missing while SMS_PROVIDER is brevo: write the API key "
                                                  "from Brevo's settings (SMTP & API, API keys)"))
    sender = str(config.get("SMS_SENDER") or "")
    if not SMS_SENDER.fullmatch(sender):
        shown = f"{sender!r} is not a sender name" if sender else "is missing while SMS_PROVIDER is brevo"
        found.append(Problem("SMS_SENDER", f"{shown}: write up to 11 letters and digits, no spaces or "
                                           "accents, such as CentreLien"))
    return found or channel_refusal(config, "SMS_PROVIDER", sms_channel_from_mapping)


def secret_problems(config: Mapping[str, Any]) -> list[Problem]:
    from .config import DEV_SECRET_KEY

    if config.get("SECRET_KEY") == DEV_SECRET_KEY:
        return [Problem("SECRET_KEY", f"is not set: write a long random value, e.g. the output of {SECRET_EXAMPLE}")]
    return []


def problems(config: Mapping[str, Any], *, production: bool) -> list[Problem]:
    """Every setting that cannot work (the secret's placeholder only counts in production)."""
    secret = secret_problems(config) if production else []
    return secret + jitsi_problems(config) + join_problems(config) + mail_problems(config) + sms_problems(config)


def degraded_reasons(config: Mapping[str, Any]) -> list[str]:
    """Why messages would not reach families: channels that only write to the log."""
    reasons = []
    if config.get("MAIL_PROVIDER") == "console":
        reasons.append("MAIL_PROVIDER is console: emails are only written to the log, nobody receives them "
                       "(set SMTP_HOST to send them)")
    if config.get("SMS_PROVIDER") == "console":
        reasons.append("SMS_PROVIDER is console: SMS are only written to the log, nobody receives them "
                       "(set SMS_PROVIDER=brevo, SMS_BREVO_API_KEY and SMS_SENDER to send them)")
    return reasons


def warnings(config: Mapping[str, Any]) -> list[str]:
    """What works but not as a centre needs it: messages kept in the log, a room nobody leads."""
    found = degraded_reasons(config)
    if JitsiSettings.from_mapping(config).mode == "public":
        found.append("Jitsi is in public mode (meet.jit.si, unsigned links): nobody from Lien can be moderator, "
                     "and meet.jit.si keeps everyone waiting until someone logs in with a Google, GitHub or "
                     "Facebook account. Set JITSI_APP_ID and JITSI_APP_SECRET (your own Jitsi) or the "
                     "JITSI_JAAS_* settings (docs/deploy.md)")
    return found
