"""Messages rendered from templates, in French (the msgids) and in English (a catalogue)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from notifications import MessageRenderer, format_date, format_datetime, format_time

START = datetime(2025, 12, 3, 13, 0, tzinfo=UTC)  # 14 h 00 in Paris
JOIN_URL = "https://lien.example.org/j/Zx8vQ2mN4pL7"

TEMPLATES = {
    "booking_confirmed.subject": '{{ _("Séance confirmée : %(when)s", when=start|format_datetime) }}\n',
    "booking_confirmed.txt": (
        '{{ _("Bonjour %(name)s,", name=name) }}\n\n'
        "{% trans when=start|format_datetime %}Votre séance aura lieu le {{ when }}.{% endtrans %}\n"
        '{{ _("Rejoindre la séance") }} : {{ join_url }}\n'
    ),
    "booking_confirmed.html": (
        '<p>{{ _("Bonjour %(name)s,", name=name) }}</p>\n'
        '<p><a href="{{ join_url }}">{{ _("Rejoindre la séance") }}</a></p>\n'
    ),
    "booking_confirmed.sms": "{% trans when=start|format_datetime %}Séance le {{ when }}.{% endtrans %}\n",
    "password_reset.subject": "{{ _('Nouveau mot de passe') }}\n{{ name }}\n",
    "password_reset.txt": "{{ _('Bonjour %(name)s,', name=name) }}\n{{ reset_url }}\n",
    "times.txt": "{{ start|format_date }} / {{ start|format_time }} / {{ start|format_datetime }}\n",
    "times.subject": "{{ _('Horaires') }}",
}

# English catalogue; "Rejoindre la séance" is left untranslated on purpose.
PO = r'''
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Language: en\n"

msgid "Séance confirmée : %(when)s"
msgstr "Session confirmed: %(when)s"

msgid "Bonjour %(name)s,"
msgstr "Hello %(name)s,"

msgid "Votre séance aura lieu le %(when)s."
msgstr "Your session is on %(when)s."

msgid "Séance le %(when)s."
msgstr "Session on %(when)s."

msgid "Nouveau mot de passe"
msgstr "New password"
'''


@pytest.fixture
def renderer(tmp_path: Path) -> MessageRenderer:
    messages = tmp_path / "templates" / "messages"
    messages.mkdir(parents=True)
    for name, source in TEMPLATES.items():
        (messages / name).write_text(source, encoding="utf-8")
    catalogue_dir = tmp_path / "translations" / "en" / "LC_MESSAGES"
    catalogue_dir.mkdir(parents=True)
    (catalogue_dir / "messages.po").write_text(PO, encoding="utf-8")
    catalogue = read_po(io.BytesIO(PO.encode("utf-8")), locale="en")
    with open(catalogue_dir / "messages.mo", "wb") as mo:
        write_mo(mo, catalogue)
    return MessageRenderer(tmp_path / "templates", tmp_path / "translations")


def render_confirmation(renderer: MessageRenderer, locale: str, **context: object):  # type: ignore[no-untyped-def]
    values = dict(name="Awa", start=START, join_url=JOIN_URL)
    values.update(context)
    return renderer.render("booking_confirmed", locale, **values)


def test_a_confirmation_in_french(renderer: MessageRenderer) -> None:
    message = render_confirmation(renderer, "fr")
    assert message.subject == "Séance confirmée : mercredi 3 décembre à 14 h 00"
    assert message.text == (
        "Bonjour Awa,\n\nVotre séance aura lieu le mercredi 3 décembre à 14 h 00.\n"
        f"Rejoindre la séance : {JOIN_URL}\n"
    )
    assert message.html is not None and f'<a href="{JOIN_URL}">Rejoindre la séance</a>' in message.html
    assert message.sms == "Séance le mercredi 3 décembre à 14 h 00."


def test_a_confirmation_in_english_falls_back_to_the_msgid_where_untranslated(renderer: MessageRenderer) -> None:
    message = render_confirmation(renderer, "en")
    assert message.subject == "Session confirmed: Wednesday 3 December at 2:00 PM"
    assert message.text.startswith("Hello Awa,\n\nYour session is on Wednesday 3 December at 2:00 PM.\n")
    assert f"Rejoindre la séance : {JOIN_URL}" in message.text
    assert message.sms == "Session on Wednesday 3 December at 2:00 PM."
    assert message.html is not None and "<p>Hello Awa,</p>" in message.html


def test_a_language_without_catalogue_gets_the_french_text_and_its_own_dates(renderer: MessageRenderer) -> None:
    message = render_confirmation(renderer, "de-DE")
    assert message.text.startswith("Bonjour Awa,")
    assert "Mittwoch, 3. Dezember 2025" in message.text and "14:00" in message.text


def test_times_are_shown_in_the_recipients_zone(renderer: MessageRenderer) -> None:
    assert "8 h 00" in render_confirmation(renderer, "fr", tz="America/Montreal").text
    times = renderer.render("times", "en", start=START, tz="Asia/Tokyo").text
    assert times == "Wednesday 3 December / 10:00 PM / Wednesday 3 December at 10:00 PM\n"


def test_html_is_escaped_but_text_is_not(renderer: MessageRenderer) -> None:
    message = render_confirmation(renderer, "fr", name="<b>Awa & Léo</b>")
    assert message.html is not None and "&lt;b&gt;Awa &amp; Léo&lt;/b&gt;" in message.html
    assert "Bonjour <b>Awa & Léo</b>," in message.text


def test_html_and_sms_templates_are_optional_and_a_subject_is_one_line(renderer: MessageRenderer) -> None:
    message = renderer.render("password_reset", "en", name="Awa", reset_url="https://lien.example.org/r/x")
    assert (message.html, message.sms) == (None, None)
    assert message.subject == "New password Awa"
    assert message.text == "Hello Awa,\nhttps://lien.example.org/r/x\n"


def test_mistakes_fail_loudly(renderer: MessageRenderer) -> None:
    with pytest.raises(jinja2.UndefinedError):
        renderer.render("booking_confirmed", "fr", start=START, join_url=JOIN_URL)  # no name
    with pytest.raises(jinja2.TemplateNotFound):
        renderer.render("no_such_message", "fr")
    with pytest.raises(ValueError, match="unknown locale"):
        renderer.render("booking_confirmed", "xx-YY", name="Awa", start=START, join_url=JOIN_URL)


def test_dates_as_people_say_them() -> None:
    assert format_datetime(START, "fr") == "mercredi 3 décembre à 14 h 00"
    assert format_datetime(START, "en", "Europe/Paris") == "Wednesday 3 December at 2:00 PM"
    assert format_datetime(START, "fr", "UTC") == "mercredi 3 décembre à 13 h 00"
    assert format_time(datetime(2025, 12, 3, 8, 5, tzinfo=UTC), "fr") == "9 h 05"
    assert format_date(START, "en") == "Wednesday 3 December"
    assert "\u202f" not in format_datetime(START, "en_US") + format_datetime(START, "ar")
    with pytest.raises(ValueError, match="aware"):
        format_datetime(datetime(2025, 12, 3, 14, 0), "fr")
