"""SMS: segment arithmetic, fitting a message around its link, and the channels."""

from __future__ import annotations

import http.client
import json
import logging
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .delivery import DeliveryError
from .mail import keep_file

logger = logging.getLogger("notifications")

# 3GPP TS 23.038 default alphabet (ESC, 0x1B, left out: it only introduces the
# extension table). Lowercase "ç" is not in it, only "Ç"; nor are "ê", "â", "œ".
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each character is sent as ESC + code, so it costs two septets.
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# French typography and accents that force UCS-2 (70 characters a segment instead
# of 160) for nothing: folded the way the providers themselves fold them.
_FOLD = str.maketrans({
    "’": "'", "‘": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
    "–": "-", "—": "-", "‐": "-", "−": "-", "…": "...",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    "â": "a", "ê": "e", "ë": "e", "î": "i", "ï": "i", "ô": "o", "û": "u", "ÿ": "y", "ç": "c",
    "á": "a", "í": "i", "ó": "o", "ú": "u", "œ": "oe", "Œ": "OE",
    "À": "A", "Â": "A", "È": "E", "Ê": "E", "Ë": "E", "Î": "I", "Ï": "I", "Ô": "O",
    "Ù": "U", "Û": "U", "Ÿ": "Y",
})


@dataclass(frozen=True)
class Sms:
    """One text message; ``to`` is an E.164 number such as +33612345678."""

    to: str
    text: str


def is_gsm7(text: str) -> bool:
    """Whether ``text`` can go in the GSM 7-bit alphabet (with its extension table)."""
    return all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text)


def sms_segments(text: str) -> int:
    """How many SMS ``text`` takes: 160/153 septets in GSM-7, else 70/67 UTF-16 units."""
    if is_gsm7(text):
        costs = [2 if c in _GSM7_EXTENSION else 1 for c in text]
        single, part = 160, 153
    else:
        costs = [2 if ord(c) > 0xFFFF else 1 for c in text]  # surrogate pairs
        single, part = 70, 67
    if sum(costs) <= single:
        return 1
    # A concatenated part carries a header (7 septets / 3 units less), and an escape
    # sequence or surrogate pair is never split across two parts.
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return segments


def fit_sms(text: str, link: str, max_segments: int = 2) -> str:
    """``text`` then ``link``, within ``max_segments``: the text is cut, never the link.

    Accents and typography that force UCS-2 (70 characters a segment, not 160) are
    folded to their GSM-7 look-alikes when that saves a segment, as providers do.
    """

    def assemble(body: str) -> str:
        return f"{body} {link}" if body else link

    text = text.strip()
    folded = text.translate(_FOLD)
    if is_gsm7(assemble(folded)) and sms_segments(assemble(folded)) < sms_segments(assemble(text)):
        text = folded
    if sms_segments(assemble(text)) <= max_segments:
        return assemble(text)
    if sms_segments(link) > max_segments:
        raise ValueError(f"the link alone takes more than {max_segments} SMS")

    def cut(n: int) -> str:
        return text[:n].rstrip() + "..." if n else ""

    low, high = 0, len(text)  # the longest prefix that fits (fitting is monotonic)
    while low < high:
        middle = (low + high + 1) // 2
        if sms_segments(assemble(cut(middle))) <= max_segments:
            low = middle
        else:
            high = middle - 1
    body = text[:low]
    space = max(body.rfind(" "), body.rfind("\n"))
    if not text[low].isspace() and space > low * 2 // 3:
        body = body[:space]  # end on a whole word unless that loses too much
    body = body.rstrip(" ,;:.-\n")
    return assemble(body + "..." if body else "")


class SmsChannel(Protocol):
    def send(self, sms: Sms) -> str: ...


_E164 = re.compile(r"\+[1-9]\d{5,14}")
# Brevo: alphanumeric senders up to 11 letters and digits, numeric ones up to 15 digits.
_SENDER = re.compile(r"[A-Za-z0-9]{1,11}|\d{12,15}")


class BrevoSmsChannel:
    """Brevo (ex-Sendinblue) transactional SMS.

    POST {base_url}/transactionalSMS/send with header ``api-key`` and a JSON body
    ``sender``, ``recipient``, ``content``, ``type``, ``unicodeEnabled``, ``tag``; the answer
    is 201 ``{"messageId": 123}``. Brevo deprecated the former ``/transactionalSMS/sms``
    path in favour of this one (developers.brevo.com changelog).
    """

    def __init__(self, api_key: str, sender: str, *, base_url: str = "https://api.brevo.com/v3",
                 tag: str | None = None, timeout: float = 10) -> None:
        if not api_key:
            raise ValueError("SMS_BREVO_API_KEY is required for SMS_PROVIDER=brevo")
        if not _SENDER.fullmatch(sender):
            raise ValueError(f"SMS_SENDER must be up to 11 letters and digits, not {sender!r}")
        self.api_key, self.sender, self.tag, self.timeout = api_key, sender, tag, timeout
        self.url = base_url.rstrip("/") + "/transactionalSMS/send"

    def send(self, sms: Sms) -> str:
        """Send one SMS; return Brevo's message id. Raises DeliveryError."""
        if not _E164.fullmatch(sms.to):
            raise DeliveryError(f"not an E.164 phone number: {sms.to!r}", permanent=True)
        body: dict[str, Any] = {
            "sender": self.sender,
            # Brevo's examples give the number as digits with the country code and no "+".
            "recipient": sms.to[1:],
            "content": sms.text,
            "type": "transactional",
            # Without it Brevo strips accents; with it the message goes in UCS-2.
            "unicodeEnabled": not is_gsm7(sms.text),
        }
        if self.tag:
            body["tag"] = self.tag
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode("utf-8"), method="POST",
            headers={"api-key": self.api_key, "content-type": "application/json",
                     "accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise _http_error(exc) from exc
        except urllib.error.URLError as exc:
            # urllib wraps only what fails before the request was fully sent.
            raise DeliveryError(f"Brevo unreachable: {exc.reason}", permanent=False) from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # The request went out but no (readable) answer came back: Brevo may have
            # sent the SMS, and SMS go at most once.
            raise DeliveryError(f"no answer from Brevo: {exc!r}", permanent=False,
                                maybe_delivered=True) from exc
        return str(answer.get("messageId", ""))


def _http_error(exc: urllib.error.HTTPError) -> DeliveryError:
    try:
        detail = json.loads(exc.read() or b"{}")
        detail = f"{detail.get('code', '')}: {detail.get('message', '')}"
    except (ValueError, AttributeError, OSError):
        detail = exc.reason
    # 429 (rate limit), timeouts and 5xx pass with time; any other 4xx (bad number,
    # bad key, no credits) is refused again until someone changes something.
    temporary = exc.code in (408, 425, 429) or exc.code >= 500
    return DeliveryError(f"Brevo {exc.code} {detail}", permanent=not temporary)


class ConsoleSmsChannel:
    """Sends nothing (the development default): logs each SMS's id and size and, given a
    ``directory``, keeps the number and text there as ``<id>.txt``. The log never holds the
    number, the names or the link (see ConsoleEmailChannel)."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory else None

    def send(self, sms: Sms) -> str:
        message_id = f"console-{uuid.uuid4().hex}"
        segments = sms_segments(sms.text)
        if self.directory is None:
            logger.info("SMS %s not sent (console channel, %d segment(s))", message_id, segments)
        else:
            path = keep_file(self.directory, message_id, ".txt", f"To: {sms.to}\n\n{sms.text}\n".encode())
            logger.info("SMS %s not sent (console channel, %d segment(s)): see %s", message_id, segments, path)
        return message_id


def sms_channel_from_mapping(mapping: Mapping[str, Any]) -> SmsChannel:
    """Choose the SMS channel from SMS_PROVIDER: "console" (default) or "brevo"."""
    provider = str(mapping.get("SMS_PROVIDER") or "console").strip().lower()
    if provider == "console":
        return ConsoleSmsChannel(mapping.get("CONSOLE_MESSAGES_DIR") or None)
    if provider == "brevo":
        return BrevoSmsChannel(
            str(mapping.get("SMS_BREVO_API_KEY") or ""),
            str(mapping.get("SMS_SENDER") or ""),
            base_url=str(mapping.get("SMS_BREVO_BASE_URL") or "https://api.brevo.com/v3"),
            tag=mapping.get("SMS_TAG") or None,
        )
    raise ValueError(f"SMS_PROVIDER must be console or brevo, not {provider!r}")
