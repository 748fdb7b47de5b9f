"""Email: building the MIME message and sending it over SMTP (or to the log)."""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Literal, Protocol

from .delivery import DeliveryError

logger = logging.getLogger("notifications")

Security = Literal["none", "starttls", "ssl"]
_QP_UTF8 = Charset("utf-8")
_QP_UTF8.body_encoding = QP
_DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "ssl": 465}
# Headers build_email owns: letting a caller set them twice would make an invalid message.
_RESERVED_HEADERS = frozenset(
    {"from", "to", "subject", "date", "message-id", "mime-version", "content-type",
     "content-transfer-encoding"}
)


@dataclass(frozen=True)
class Email:
    """One email to one recipient; ``ics`` makes it a calendar invitation."""

    to: str
    subject: str
    text: str
    html: str | None = None
    ics: bytes | None = None
    ics_method: str = "REQUEST"
    # Email is sent at least once: a resend after a crash keeps the same Message-ID,
    # so mail clients and the outbox can recognise it.
    message_id: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def make_message_id(key: str, domain: str) -> str:
    """A Message-ID that is the same every time for the same key (e.g. an outbox row)."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<lien.{digest}@{domain}>"


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2]


def _calendar_method(ics: bytes) -> str | None:
    for line in ics.splitlines():
        if line[:7].upper() == b"METHOD:":
            return line[7:].strip().decode("ascii", "replace").upper()
    return None


def build_email(email: Email, *, sender: str, now: datetime | None = None) -> Message:
    """Build the MIME message for ``email``, sent from ``sender``.

    An invitation takes the shape Google Calendar and Thunderbird send, because mail
    clients disagree on where they look for it: Outlook and Gmail read a
    ``text/calendar; method=...`` part inside the alternative, others only look at
    attachments, so the .ics is in both places (RFC 6047 §2.4 for the method)::

        multipart/mixed
          multipart/alternative
            text/plain; charset=utf-8
            text/html; charset=utf-8
            text/calendar; method=REQUEST; charset=utf-8
          application/ics; name=invite.ics   (Content-Disposition: attachment)

    Both calendar parts are base64, so the .ics keeps its CRLF line ends byte for byte.
    Built with the classic ``email.mime`` classes (compat32 policy): the outbox sends
    thousands of these, and they build and flatten about three times faster than
    ``EmailMessage`` with the default policy, for the same bytes on the wire.
    """
    to_name, to_address = parseaddr(email.to)
    if "@" not in to_address:
        raise ValueError(f"not an email address: {email.to!r}")
    for name, _value in email.headers:
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by build_email")

    # Quoted-printable keeps the text readable in the source and pleases spam filters.
    body: Message = MIMEText(email.text, "plain", _QP_UTF8)
    if email.html is not None or email.ics is not None:
        alternative = MIMEMultipart("alternative")
        alternative.attach(body)
        if email.html is not None:
            alternative.attach(MIMEText(email.html, "html", _QP_UTF8))
        body = alternative
    if email.ics is not None:
        method = email.ics_method.upper()
        # RFC 6047 §2.4: the Content-Type method must equal the calendar's METHOD.
        if _calendar_method(email.ics) != method:
            raise ValueError(f"the .ics METHOD is not {method} (RFC 6047 §2.4)")
        calendar = MIMEBase("text", "calendar", method=method, charset="utf-8")
        calendar.set_payload(email.ics)
        encoders.encode_base64(calendar)
        alternative.attach(calendar)
        attachment = MIMEBase("application", "ics", name="invite.ics")
        attachment.set_payload(email.ics)
        encoders.encode_base64(attachment)
        attachment.add_header("Content-Disposition", "attachment", filename="invite.ics")
        mixed = MIMEMultipart("mixed")
        mixed.attach(alternative)
        mixed.attach(attachment)
        body = mixed

    message = body
    message["From"] = _address_header(sender)
    message["To"] = formataddr((to_name, to_address), charset="utf-8")
    message["Subject"] = Header(email.subject, "utf-8") if not email.subject.isascii() else email.subject
    message["Date"] = format_datetime(now or datetime.now(UTC))
    if email.message_id:
        message_id = email.message_id.strip()
        message["Message-ID"] = message_id if message_id.startswith("<") else f"<{message_id}>"
    else:
        message["Message-ID"] = make_msgid(domain=_domain(sender) or None)
    # RFC 3834: tells out-of-office robots not to answer an automated message.
    message["Auto-Submitted"] = "auto-generated"
    for name, value in email.headers:
        message[name] = Header(value, "utf-8") if not value.isascii() else value
    return message


def _address_header(value: str) -> str:
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address


class EmailSender(Protocol):
    def send(self, email: Email) -> str: ...


class EmailChannel(EmailSender, Protocol):
    """What the outbox needs from an email channel: send one, or many over one session."""

    def session(self) -> AbstractContextManager[EmailSender]: ...


@dataclass(frozen=True, kw_only=True)
class SmtpSettings:
    """Where and how to reach the SMTP server."""

    sender: str
    host: str = "localhost"
    port: int = 25
    security: Security = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10

    def __post_init__(self) -> None:
        if self.security not in _DEFAULT_PORTS:
            raise ValueError(f"SMTP_SECURITY must be none, starttls or ssl, not {self.security!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"SMTP_PORT must be between 1 and 65535, not {self.port}")
        if "@" not in parseaddr(self.sender)[1]:
            raise ValueError(f"MAIL_FROM must be an email address, not {self.sender!r}")
        if (self.username is None) != (self.password is None):
            raise ValueError("set both SMTP_USERNAME and SMTP_PASSWORD, or neither")
        if self.timeout <= 0:
            raise ValueError("SMTP_TIMEOUT must be a positive number of seconds")
        if self.password and self.security == "none" and self.host not in ("localhost", "127.0.0.1", "::1"):
            raise ValueError(
                "SMTP_PASSWORD would cross the network in clear: set SMTP_SECURITY to starttls or ssl"
            )

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> SmtpSettings:
        """Read SMTP_HOST, SMTP_PORT, SMTP_SECURITY, SMTP_USERNAME, SMTP_PASSWORD, MAIL_FROM."""
        sender = mapping.get("MAIL_FROM")
        if not sender:
            raise ValueError("MAIL_FROM is required (e.g. 'Lien <lien@example.org>')")
        security = str(mapping.get("SMTP_SECURITY") or "none").strip().lower()
        port = mapping.get("SMTP_PORT") or _DEFAULT_PORTS.get(security, 25)
        timeout = mapping.get("SMTP_TIMEOUT") or 10
        try:
            port, timeout = int(port), float(timeout)
        except ValueError:
            raise ValueError(f"SMTP_PORT and SMTP_TIMEOUT must be numbers (got {port!r}, {timeout!r})") from None
        return cls(
            sender=str(sender),
            host=str(mapping.get("SMTP_HOST") or "localhost"),
            port=port,
            security=security,  # type: ignore[arg-type]  # checked in __post_init__
            username=mapping.get("SMTP_USERNAME") or None,
            password=mapping.get("SMTP_PASSWORD") or None,
            timeout=timeout,
        )


def _smtp_answer(exc: Exception) -> tuple[int, bytes | str] | None:
    """The server's (code, text) when the failure is an SMTP answer."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):  # one recipient per message
        return next(iter(exc.recipients.values()))
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code, exc.smtp_error
    return None


def _delivery_error(exc: Exception) -> DeliveryError:
    """Translate an smtplib/socket failure: 5xx is permanent, anything else may pass later."""
    answer = _smtp_answer(exc)
    if answer is not None:
        code, text = answer
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        return DeliveryError(f"{code} {text}", permanent=code >= 500)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # The server lacks STARTTLS or AUTH: only a configuration change can help.
        return DeliveryError(f"SMTP server: {exc}", permanent=True)
    return DeliveryError(f"SMTP connection: {exc or type(exc).__name__}", permanent=False)


class SmtpSession:
    """One SMTP connection, opened at the first send and reused for the next ones."""

    def __init__(self, channel: SmtpChannel) -> None:
        self._channel = channel
        self._smtp: smtplib.SMTP | None = None

    def send(self, email: Email) -> str:
        """Send one email; return its Message-ID. Raises DeliveryError."""
        try:
            message = build_email(email, sender=self._channel.settings.sender)
        except ValueError as exc:
            raise DeliveryError(str(exc), permanent=True) from exc
        envelope_from = parseaddr(self._channel.settings.sender)[1]
        for attempt in (1, 2):
            try:
                if self._smtp is None:
                    self._smtp = self._channel.connect()
                self._smtp.send_message(message, envelope_from, [parseaddr(email.to)[1]])
                return str(message["Message-ID"])
            except (smtplib.SMTPException, OSError) as exc:
                # Servers drop idle connections, silently or with a 421 (RFC 5321
                # §4.5.3.2): reconnect once. Should the drop come after DATA, the mail
                # may arrive twice, with the same Message-ID.
                answer = _smtp_answer(exc)
                dropped = isinstance(exc, smtplib.SMTPServerDisconnected) or bool(answer and answer[0] == 421)
                if dropped or answer is None:
                    self.close()  # after anything but a clean answer the socket state is unknown
                if not (dropped and attempt == 1):
                    raise _delivery_error(exc) from exc
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Say QUIT if the server still listens, then drop the connection."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


class SmtpChannel:
    """Email through an SMTP server (plain, STARTTLS or implicit TLS)."""

    def __init__(self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self._ssl_context = ssl_context or ssl.create_default_context()

    def connect(self) -> smtplib.SMTP:
        """Open, secure and authenticate a connection (smtplib errors pass through)."""
        s, context = self.settings, self._ssl_context
        if s.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.security == "starttls":
                smtp.starttls(context=context)
            if s.username is not None:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    @contextmanager
    def session(self) -> Iterator[SmtpSession]:
        """Keep one connection open for many sends: ``with channel.session() as s: s.send(e)``."""
        session = SmtpSession(self)
        try:
            yield session
        finally:
            session.close()

    def send(self, email: Email) -> str:
        """Send one email over its own connection; return its Message-ID."""
        with self.session() as session:
            return session.send(email)


class ConsoleEmailChannel:
    """Sends nothing (development): logs each email's Message-ID and, given a ``directory``,
    keeps the whole message there as ``<Message-ID>.eml`` to open in a mail client.

    The log never holds the address, the names or the links: logs are kept and shared more
    widely than a mailbox, and a join link opens a child's session."""

    def __init__(self, sender: str = "Lien <lien@localhost>", directory: str | Path | None = None) -> None:
        self.sender = sender
        self.directory = Path(directory) if directory else None

    def send(self, email: Email) -> str:
        try:  # the same checks as a real send, so development shows the same failures
            message = build_email(email, sender=self.sender)
        except ValueError as exc:
            raise DeliveryError(str(exc), permanent=True) from exc
        message_id = str(message["Message-ID"])
        if self.directory is None:
            logger.info("email %s not sent (console channel)", message_id)
        else:
            path = keep_file(self.directory, message_id, ".eml", message.as_bytes())
            logger.info("email %s not sent (console channel): see %s", message_id, path)
        return message_id

    def session(self) -> AbstractContextManager[ConsoleEmailChannel]:
        return nullcontext(self)


def keep_file(directory: Path, message_id: str, suffix: str, content: bytes) -> Path:
    """Write a message the console channels did not send as ``directory/<id><suffix>``."""
    directory.mkdir(parents=True, exist_ok=True)
    name = "".join(char if char.isalnum() or char in "-._@" else "_" for char in message_id.strip("<>"))
    path = directory / f"{name}{suffix}"
    path.write_bytes(content)
    return path


def email_channel_from_mapping(mapping: Mapping[str, Any]) -> EmailChannel:
    """Choose the email channel from MAIL_PROVIDER: "smtp" (default) or "console" (which keeps
    messages in CONSOLE_MESSAGES_DIR when it is set)."""
    provider = str(mapping.get("MAIL_PROVIDER") or "smtp").strip().lower()
    if provider == "console":
        return ConsoleEmailChannel(str(mapping.get("MAIL_FROM") or "Lien <lien@localhost>"),
                                   mapping.get("CONSOLE_MESSAGES_DIR") or None)
    if provider == "smtp":
        return SmtpChannel(SmtpSettings.from_mapping(mapping))
    raise ValueError(f"MAIL_PROVIDER must be smtp or console, not {provider!r}")
