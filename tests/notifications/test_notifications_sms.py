"""SMS: segment counting, fitting around the join link, and Brevo's API on a local server."""

from __future__ import annotations

import logging
import socket

import pytest
from sms_gateway import FakeBrevo  # the shared local stand-in for Brevo's API

from notifications import (
    BrevoSmsChannel,
    ConsoleSmsChannel,
    DeliveryError,
    Sms,
    fit_sms,
    is_gsm7,
    sms_channel_from_mapping,
    sms_segments,
)

LINK = "https://lien.example.org/j/Zx8vQ2mN4pL7"

# --- segments -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),  # concatenated parts hold 153 septets
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension table: two septets each
        ("€" * 81, 2),
        ("[]" * 40, 1),
        ("[]" * 40 + "a", 2),
        ("a" * 152 + "€" + "a" * 152, 3),  # the escape pair is not split across parts
        ("é" * 160, 1),  # é, è, à, ù are in GSM-7
        ("Ç" * 160, 1),  # upper-case Ç is in GSM-7 ...
        ("ç" * 70, 1),  # ... lower-case ç is not: UCS-2, 70 a segment
        ("ç" * 71, 2),
        ("œ" * 134, 2),  # 67 per concatenated UCS-2 part
        ("œ" * 135, 3),
        ("مرحبا" * 14, 1),
        ("😀" * 35, 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, 2),
    ],
)
def test_segment_count(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


def test_gsm7_alphabet() -> None:
    assert is_gsm7("Séance à 14 h 00 : où ? @£$¥ ÄÖÑÜäöñü ΔΦΓ {}[]~|\\^€\n")
    for outside in ("ç", "ê", "â", "œ", "`", "’", "«", "\u202f", "😀"):
        assert not is_gsm7(outside), outside


# --- fitting ------------------------------------------------------------------------


def test_a_short_message_is_kept_whole_with_its_link() -> None:
    text = "Séance dans 1 h. Prête ?"  # ê is kept: folding it would save no segment
    assert sms_segments(f"{text} {LINK}") == 1
    assert fit_sms(text, LINK) == f"{text} {LINK}"


def test_a_long_message_is_cut_never_its_link() -> None:
    text = ("Bonjour, votre séance d'aide aux devoirs avec Awa est confirmée pour mercredi "
            "3 décembre à 14 h 00. Pensez à préparer vos cahiers et vos questions. ") * 3
    for max_segments in (1, 2):
        fitted = fit_sms(text, LINK, max_segments)
        assert fitted.endswith(" " + LINK)
        assert sms_segments(fitted) <= max_segments
        body = fitted.removesuffix(" " + LINK)
        kept = body.removesuffix("...")
        assert body.endswith("...") and text.startswith(kept)
        assert kept[-1].isalnum() and text[len(kept)] in " .,"  # cut between whole words
        assert len(body) > (100 if max_segments == 1 else 250)  # it does not cut more than needed


def test_accents_outside_gsm7_are_folded_when_that_saves_a_segment() -> None:
    text = "Rappel : ta séance commence à 14 h 00. N’oublie pas tes cahiers, on révise la leçon « fêtes »."
    assert sms_segments(f"{text} {LINK}") == 2  # UCS-2 because of ’ ç « ê »
    for max_segments in (1, 2):  # even when two would do: one segment costs half
        fitted = fit_sms(text, LINK, max_segments)
        assert fitted == ("Rappel : ta séance commence à 14 h 00. N'oublie pas tes cahiers, "
                          f'on révise la lecon " fetes ". {LINK}')
        assert is_gsm7(fitted) and sms_segments(fitted) == 1


def test_text_without_gsm7_equivalent_stays_as_written() -> None:
    text = "تذكير: حصتك في الرياضيات تبدأ بعد ساعة واحدة. لا تنس دفاترك وأسئلتك. " * 2
    fitted = fit_sms(text, LINK, max_segments=2)
    assert fitted.endswith(LINK) and sms_segments(fitted) <= 2
    assert fitted.startswith("تذكير: حصتك")


def test_a_link_too_long_for_the_segments_is_an_error() -> None:
    assert fit_sms("Bonjour", "https://x.example/" + "a" * 130, 1).endswith("a" * 130)
    with pytest.raises(ValueError):
        fit_sms("Bonjour", "https://x.example/" + "a" * 150, 1)


# --- Brevo on a local HTTP server -----------------------------------------------------


def test_brevo_request_follows_the_documented_format(brevo: FakeBrevo) -> None:
    channel = BrevoSmsChannel("xkeysib-test", "Lien", base_url=brevo.url, tag="reminder")
    text = f"Séance mercredi 3 décembre à 14 h 00 : {LINK}"

    assert channel.send(Sms("+33612345678", text)) == "1511882900176220"

    (request,) = brevo.requests
    assert request["method"] == "POST"
    assert request["path"] == "/v3/transactionalSMS/send"
    assert request["headers"]["api-key"] == "xkeysib-test"
    assert request["headers"]["content-type"] == "application/json"
    assert request["headers"]["accept"] == "application/json"
    assert request["json"] == {
        "sender": "Lien",
        "recipient": "33612345678",
        "content": text,
        "type": "transactional",
        "unicodeEnabled": False,
        "tag": "reminder",
    }


def test_text_outside_gsm7_is_sent_as_unicode(brevo: FakeBrevo) -> None:
    channel = BrevoSmsChannel("xkeysib-test", "Lien", base_url=brevo.url)
    channel.send(Sms("+33612345678", "C’est la fête"))
    assert brevo.requests[0]["json"]["unicodeEnabled"] is True
    assert "tag" not in brevo.requests[0]["json"]


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(400, True), (401, True), (402, True), (429, False), (500, False), (503, False)],
)
def test_brevo_errors_are_permanent_or_temporary(brevo: FakeBrevo, status: int, permanent: bool) -> None:
    brevo.status, brevo.answer = status, {"code": "invalid_parameter", "message": "the answer"}
    with pytest.raises(DeliveryError) as failure:
        BrevoSmsChannel("xkeysib-test", "Lien", base_url=brevo.url).send(Sms("+33612345678", "Bonjour"))
    assert failure.value.permanent is permanent
    assert failure.value.maybe_delivered is False
    assert str(status) in failure.value.reason and "the answer" in failure.value.reason


def test_no_answer_means_the_sms_may_have_gone(brevo: FakeBrevo) -> None:
    brevo.delay = 1.0
    channel = BrevoSmsChannel("xkeysib-test", "Lien", base_url=brevo.url, timeout=0.2)
    with pytest.raises(DeliveryError) as failure:
        channel.send(Sms("+33612345678", "Bonjour"))
    assert (failure.value.permanent, failure.value.maybe_delivered) == (False, True)
    assert len(brevo.requests) == 1


def test_an_unreachable_gateway_is_temporary_and_sent_nothing() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    channel = BrevoSmsChannel("xkeysib-test", "Lien", base_url=f"http://127.0.0.1:{port}/v3")
    with pytest.raises(DeliveryError) as failure:
        channel.send(Sms("+33612345678", "Bonjour"))
    assert (failure.value.permanent, failure.value.maybe_delivered) == (False, False)


def test_a_number_that_is_not_e164_is_refused_before_any_request(brevo: FakeBrevo) -> None:
    channel = BrevoSmsChannel("xkeysib-test", "Lien", base_url=brevo.url)
    for number in ("0612345678", "+33 6 12 34 56 78", "+0612345678"):
        with pytest.raises(DeliveryError) as failure:
            channel.send(Sms(number, "Bonjour"))
        assert failure.value.permanent is True
    assert brevo.requests == []


# --- configuration ------------------------------------------------------------------


def test_sms_channel_from_the_environment(brevo: FakeBrevo) -> None:
    assert isinstance(sms_channel_from_mapping({}), ConsoleSmsChannel)
    channel = sms_channel_from_mapping({
        "SMS_PROVIDER": "brevo", "SMS_BREVO_API_KEY": "xkeysib-env", "SMS_SENDER": "CentreLien",
        "SMS_BREVO_BASE_URL": brevo.url,
    })
    assert isinstance(channel, BrevoSmsChannel)
    channel.send(Sms("+33612345678", "Bonjour"))
    assert brevo.requests[0]["headers"]["api-key"] == "xkeysib-env"
    assert brevo.requests[0]["json"]["sender"] == "CentreLien"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"SMS_PROVIDER": "pigeon"}, "SMS_PROVIDER must be console or brevo"),
        ({"SMS_PROVIDER": "brevo", "SMS_SENDER": "Lien"}, "SMS_BREVO_API_KEY is required"),
        ({"SMS_PROVIDER": "brevo", "SMS_BREVO_API_KEY": "k", "SMS_SENDER": "CentreSocialLien"}, "SMS_SENDER"),
        ({"SMS_PROVIDER": "brevo", "SMS_BREVO_API_KEY": "k", "SMS_SENDER": "Lien!"}, "SMS_SENDER"),
        ({"SMS_PROVIDER": "brevo", "SMS_BREVO_API_KEY": "k"}, "SMS_SENDER"),
    ],
)
def test_bad_sms_settings_are_refused_with_a_clear_message(mapping: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sms_channel_from_mapping(mapping)


def test_the_console_channel_logs_the_sms_id_not_the_number_nor_the_link(caplog, tmp_path) -> None:
    with caplog.at_level(logging.DEBUG):
        message_id = ConsoleSmsChannel().send(Sms("+33612345678", f"Séance à 14 h 00 {LINK}"))
        kept_id = ConsoleSmsChannel(tmp_path).send(Sms("+33612345678", f"Séance à 14 h 00 {LINK}"))
    assert message_id.startswith("console-") and message_id in caplog.text and kept_id in caplog.text
    assert "612345678" not in caplog.text and LINK not in caplog.text
    assert LINK in (tmp_path / f"{kept_id}.txt").read_text()
