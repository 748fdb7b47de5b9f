"""Lien's notifications: email over SMTP, SMS through a gateway, message rendering.

Knows nothing of Flask or of the database: it takes plain values (an ``Email``, an
``Sms``, template names and variables) and returns plain values (a Message-ID, a
provider's message id) or raises ``DeliveryError``.
"""

from .delivery import DeliveryError
from .mail import (
    ConsoleEmailChannel,
    Email,
    EmailChannel,
    SmtpChannel,
    SmtpSession,
    SmtpSettings,
    build_email,
    email_channel_from_mapping,
    make_message_id,
)
from .rendering import MessageRenderer, RenderedMessage, format_date, format_datetime, format_time
from .sms import (
    BrevoSmsChannel,
    ConsoleSmsChannel,
    Sms,
    SmsChannel,
    fit_sms,
    is_gsm7,
    sms_channel_from_mapping,
    sms_segments,
)

__all__ = [
    "BrevoSmsChannel",
    "ConsoleEmailChannel",
    "ConsoleSmsChannel",
    "DeliveryError",
    "Email",
    "EmailChannel",
    "MessageRenderer",
    "RenderedMessage",
    "Sms",
    "SmsChannel",
    "SmtpChannel",
    "SmtpSession",
    "SmtpSettings",
    "build_email",
    "email_channel_from_mapping",
    "fit_sms",
    "format_date",
    "format_datetime",
    "format_time",
    "is_gsm7",
    "make_message_id",
    "sms_channel_from_mapping",
    "sms_segments",
]
