"""Email through a real SMTP server (aiosmtpd) started by the tests."""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from smtp_sink import Mailbox, SmtpServer, free_port  # noqa: F401  (the shared test SMTP server)

from notifications import (
    ConsoleEmailChannel,
    DeliveryError,
    Email,
    SmtpChannel,
    SmtpSettings,
    build_email,
    email_channel_from_mapping,
    make_message_id,
)

SENDER = "Lien <lien@centre.example.org>"
JOIN_URL = "https://lien.example.org/j/Zx8vQ2mN4pL7"
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Lien//FR\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:booking-42@lien.example.org\r\nSEQUENCE:0\r\n"
    "DTSTAMP:20251201T090000Z\r\nDTSTART:20251203T130000Z\r\nDTEND:20251203T140000Z\r\n"
    "SUMMARY:Aide aux devoirs – mathématiques\r\n"
    f"LOCATION:{JOIN_URL}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()


def confirmation(**changes: Any) -> Email:
    values: dict[str, Any] = dict(
        to="Awa Diallo <awa@famille.example.net>",
        subject="Séance confirmée : mercredi 3 décembre à 14 h 00",
        text=f"Bonjour Awa,\n\nVotre séance est confirmée.\nRejoindre : {JOIN_URL}\n",
        html=f'<p>Bonjour Awa,</p><p><a href="{JOIN_URL}">Rejoindre la séance</a></p>',
        ics=ICS,
    )
    values.update(changes)
    return Email(**values)


@pytest.fixture
def smtp(start_smtp: Any) -> SmtpServer:
    return start_smtp()


def test_confirmation_arrives_with_headers_both_parts_and_an_invitation(smtp: SmtpServer) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    message_id = smtp.channel().send(confirmation())

    mail_from, rcpt_tos, _ = smtp.mailbox.messages[0]
    assert (mail_from, rcpt_tos) == ("lien@centre.example.org", ["awa@famille.example.net"])
    received = smtp.mailbox.parsed()
    assert received["From"] == SENDER
    assert received["To"] == "Awa Diallo <awa@famille.example.net>"
    assert received["Subject"] == "Séance confirmée : mercredi 3 décembre à 14 h 00"
    assert received["Message-ID"] == message_id
    assert message_id.startswith("<") and message_id.endswith("@centre.example.org>")
    assert before <= parsedate_to_datetime(received["Date"]) <= dt.datetime.now(dt.UTC)

    # multipart/mixed [ multipart/alternative [plain, html, calendar], invite.ics ]
    assert received.get_content_type() == "multipart/mixed"
    alternative, attachment = received.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html, calendar = alternative.iter_parts()
    assert plain.get_content_type() == "text/plain" and plain.get_content_charset() == "utf-8"
    assert "Bonjour Awa," in plain.get_content() and JOIN_URL in plain.get_content()
    assert html.get_content_type() == "text/html" and html.get_content_charset() == "utf-8"
    assert f'href="{JOIN_URL}"' in html.get_content() and "Rejoindre la séance" in html.get_content()
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REQUEST" and calendar.get_content_charset() == "utf-8"
    assert calendar.get_payload(decode=True) == ICS
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_type() in ("application/ics", "text/calendar")
    assert attachment.get_payload(decode=True) == ICS


def test_a_resend_keeps_the_same_message_id(smtp: SmtpServer) -> None:
    stable = make_message_id("outbox:1234", "centre.example.org")
    assert stable == make_message_id("outbox:1234", "centre.example.org")
    assert stable != make_message_id("outbox:1235", "centre.example.org")

    channel = smtp.channel()
    first = channel.send(confirmation(message_id=stable))
    second = channel.send(confirmation(message_id=stable))

    assert first == second == stable
    assert [smtp.mailbox.parsed(i)["Message-ID"] for i in (0, 1)] == [stable, stable]
    assert build_email(confirmation(message_id="x1@centre.example.org"), sender=SENDER)["Message-ID"] == "<x1@centre.example.org>"


def test_a_cancellation_is_a_cancel_invitation() -> None:
    cancel_ics = ICS.replace(b"METHOD:REQUEST", b"METHOD:CANCEL")
    message = build_email(confirmation(ics=cancel_ics, ics_method="CANCEL"), sender=SENDER)
    calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert calendar.get_param("method") == "CANCEL"


def test_the_content_type_method_must_match_the_calendar() -> None:
    with pytest.raises(ValueError, match="METHOD"):
        build_email(confirmation(ics_method="CANCEL"), sender=SENDER)
    with pytest.raises(ValueError, match="METHOD"):
        build_email(confirmation(ics=ICS.replace(b"METHOD:REQUEST\r\n", b"")), sender=SENDER)


def test_a_message_without_invitation_or_html() -> None:
    message = build_email(confirmation(ics=None), sender=SENDER)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.get_payload()] == ["text/plain", "text/html"]

    plain = build_email(confirmation(ics=None, html=None), sender=SENDER)
    assert plain.get_content_type() == "text/plain"
    assert plain["Auto-Submitted"] == "auto-generated"


def test_extra_headers_are_added_but_cannot_replace_the_builders() -> None:
    message = build_email(confirmation(headers=(("X-Lien-Booking", "42"),)), sender=SENDER)
    assert message["X-Lien-Booking"] == "42"
    with pytest.raises(ValueError, match="Subject"):
        build_email(confirmation(headers=(("Subject", "spoofed"),)), sender=SENDER)


def test_a_batch_goes_over_one_connection(smtp: SmtpServer) -> None:
    channel = smtp.channel()
    with channel.session() as session:
        ids = [session.send(confirmation(to=f"parent{i}@famille.example.net")) for i in range(3)]

    assert len(set(ids)) == 3
    assert [rcpt for _, rcpt, _ in smtp.mailbox.messages] == [[f"parent{i}@famille.example.net"] for i in range(3)]
    assert len(smtp.mailbox.peers) == 1

    channel.send(confirmation())
    channel.send(confirmation())
    assert len(smtp.mailbox.peers) == 3  # single sends each open their own connection


def test_a_session_reconnects_when_the_server_dropped_the_idle_connection(start_smtp: Any) -> None:
    smtp = start_smtp(timeout=0.5)  # aiosmtpd closes connections idle for 0.5 s
    with smtp.channel().session() as session:
        session.send(confirmation(subject="first"))
        time.sleep(1.0)
        session.send(confirmation(subject="second"))

    assert [smtp.mailbox.parsed(i)["Subject"] for i in (0, 1)] == ["first", "second"]
    assert len(smtp.mailbox.peers) == 2


def test_a_session_reconnects_after_a_421_closing_answer(smtp: SmtpServer) -> None:
    with smtp.channel().session() as session:
        session.send(confirmation(subject="first"))
        smtp.mailbox.close_at_next_mail = True
        session.send(confirmation(subject="second"))

    assert [smtp.mailbox.parsed(i)["Subject"] for i in (0, 1)] == ["first", "second"]
    assert len(smtp.mailbox.peers) == 2


def test_a_server_that_is_down_fails_temporarily_then_works_once_up(start_smtp: Any) -> None:
    port = free_port()
    channel = SmtpChannel(SmtpSettings(sender=SENDER, host="127.0.0.1", port=port, timeout=2))

    with pytest.raises(DeliveryError) as failure:
        channel.send(confirmation())
    assert failure.value.permanent is False

    smtp = start_smtp(port=port)
    channel.send(confirmation())
    assert len(smtp.mailbox.messages) == 1


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [("550 5.1.1 No such user here", True), ("451 4.3.0 Try again later", False)],
)
def test_a_refused_recipient(smtp: SmtpServer, answer: str, permanent: bool) -> None:
    smtp.mailbox.refuse["gone@famille.example.net"] = answer
    with smtp.channel().session() as session:
        with pytest.raises(DeliveryError) as failure:
            session.send(confirmation(to="gone@famille.example.net"))
        session.send(confirmation())  # the connection stays usable for the next one

    assert failure.value.permanent is permanent
    assert failure.value.reason.startswith(answer[:3])
    assert [rcpt for _, rcpt, _ in smtp.mailbox.messages] == [["awa@famille.example.net"]]
    assert len(smtp.mailbox.peers) == 1


def test_an_invalid_address_is_a_permanent_failure(smtp: SmtpServer) -> None:
    with pytest.raises(DeliveryError) as failure:
        smtp.channel().send(confirmation(to="not an address"))
    assert failure.value.permanent is True
    assert smtp.mailbox.messages == []


# --- TLS --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with cryptography."""
    pytest.importorskip("cryptography")
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


class Credentials:
    """aiosmtpd authenticator accepting one login, remembering every attempt."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, bytes, bytes]] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.attempts.append((mechanism, data.login, data.password))
        return AuthResult(success=(data.login, data.password) == (b"lien", b"s3cret"), handled=False)


def test_starttls_with_login(start_smtp: Any, certificate: tuple[Path, Path]) -> None:
    credentials = Credentials()
    smtp = start_smtp(tls_context=server_context(certificate), require_starttls=True,
                      auth_required=True, authenticator=credentials)
    client = ssl.create_default_context(cafile=str(certificate[0]))

    smtp.channel(security="starttls", username="lien", password="s3cret", ssl_context=client).send(confirmation())

    assert len(smtp.mailbox.messages) == 1
    assert [(login, password) for _, login, password in credentials.attempts] == [(b"lien", b"s3cret")]

    with pytest.raises(DeliveryError) as failure:
        smtp.channel(security="starttls", username="lien", password="wrong", ssl_context=client).send(confirmation())
    assert failure.value.permanent is True and failure.value.reason.startswith("535")

    with pytest.raises(DeliveryError) as failure:  # the server insists on STARTTLS
        smtp.channel(security="none").send(confirmation())
    assert failure.value.permanent is True
    assert len(smtp.mailbox.messages) == 1


def test_starttls_refuses_a_certificate_it_cannot_verify(start_smtp: Any, certificate: tuple[Path, Path]) -> None:
    smtp = start_smtp(tls_context=server_context(certificate), require_starttls=True)
    with pytest.raises(DeliveryError) as failure:
        smtp.channel(security="starttls").send(confirmation())  # default trust store
    assert failure.value.permanent is False
    assert smtp.mailbox.messages == []


def test_implicit_tls(start_smtp: Any, certificate: tuple[Path, Path]) -> None:
    smtp = start_smtp(ssl_context=server_context(certificate))
    client = ssl.create_default_context(cafile=str(certificate[0]))
    smtp.channel(security="ssl", ssl_context=client).send(confirmation())
    assert smtp.mailbox.parsed()["Subject"].startswith("Séance confirmée")


# --- configuration ------------------------------------------------------------------


def test_settings_from_the_environment() -> None:
    settings = SmtpSettings.from_mapping({
        "SMTP_HOST": "smtp.example.org", "SMTP_SECURITY": "STARTTLS", "SMTP_USERNAME": "lien",
        "SMTP_PASSWORD": "s3cret", "MAIL_FROM": SENDER,
    })
    assert (settings.host, settings.port, settings.security) == ("smtp.example.org", 587, "starttls")
    assert (settings.username, settings.password, settings.sender) == ("lien", "s3cret", SENDER)
    assert "s3cret" not in repr(settings)

    assert SmtpSettings.from_mapping({"MAIL_FROM": SENDER, "SMTP_SECURITY": "ssl"}).port == 465
    local = SmtpSettings.from_mapping({"MAIL_FROM": SENDER, "SMTP_PORT": "1025"})
    assert (local.host, local.port, local.security, local.username) == ("localhost", 1025, "none", None)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({}, "MAIL_FROM is required"),
        ({"MAIL_FROM": "nobody"}, "MAIL_FROM must be an email address"),
        ({"MAIL_FROM": SENDER, "SMTP_SECURITY": "tls"}, "SMTP_SECURITY must be none, starttls or ssl"),
        ({"MAIL_FROM": SENDER, "SMTP_PORT": "smtp"}, "SMTP_PORT and SMTP_TIMEOUT must be numbers"),
        ({"MAIL_FROM": SENDER, "SMTP_PORT": "70000"}, "SMTP_PORT must be between 1 and 65535"),
        ({"MAIL_FROM": SENDER, "SMTP_USERNAME": "lien"}, "SMTP_USERNAME and SMTP_PASSWORD"),
        ({"MAIL_FROM": SENDER, "SMTP_HOST": "smtp.example.org", "SMTP_USERNAME": "lien",
          "SMTP_PASSWORD": "s3cret"}, "in clear"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(mapping: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SmtpSettings.from_mapping(mapping)


def test_the_console_channel_logs_the_message_id_and_keeps_the_email_aside(caplog, tmp_path) -> None:
    channel = email_channel_from_mapping({"MAIL_PROVIDER": "console", "MAIL_FROM": SENDER,
                                          "CONSOLE_MESSAGES_DIR": str(tmp_path / "messages")})
    assert isinstance(channel, ConsoleEmailChannel)
    with caplog.at_level(logging.DEBUG), channel.session() as session:
        message_id = session.send(confirmation())
    assert message_id.startswith("<") and message_id in caplog.text
    # Logs are kept and shared: no address, no name, no join link.
    assert "awa" not in caplog.text.lower() and JOIN_URL not in caplog.text
    [kept] = (tmp_path / "messages").iterdir()
    assert kept.suffix == ".eml" and str(kept) in caplog.text
    assert b"awa@famille.example.net" in kept.read_bytes()

    assert isinstance(email_channel_from_mapping({"MAIL_FROM": SENDER}), SmtpChannel)
    with pytest.raises(ValueError, match="MAIL_PROVIDER"):
        email_channel_from_mapping({"MAIL_PROVIDER": "carrier-pigeon", "MAIL_FROM": SENDER})
