"""The French and English catalogues are complete: every string in the code is in them,
translated, not fuzzy, and with the same placeholders as its msgid."""

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LOCALES = sorted(path.name for path in TRANSLATIONS.iterdir() if (path / "LC_MESSAGES").is_dir())

# Babel's defaults already read ngettext as (singular, plural); a bare "-k ngettext" would
# replace that with singular-only and lose every plural.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

# %(name)s, %(num)d, %(total)5.1f ...
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")


def messages_in_the_code() -> set[str | tuple[str, ...]]:
    """Every msgid the code and templates use, extracted as `make messages` does (babel.cfg)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)
    return {message for _filename, _lineno, message, _comments, _context in found}


def catalogue(locale: str) -> list[Message]:
    """The entries of translations/<locale>/LC_MESSAGES/messages.po, header left out."""
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as po:
        return [message for message in read_po(po, locale=locale) if message.id]


def forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """A msgid or msgstr as a tuple of its forms (one, unless it is a plural)."""
    return text if isinstance(text, tuple) else (text,)


def listing(ids) -> str:
    """One msgid a line, plural forms separated by |, for a failure message."""
    return "\n".join(f"  {' | '.join(forms(msgid))}" for msgid in sorted(ids, key=forms))


@pytest.fixture(scope="module")
def code_messages():
    return messages_in_the_code()


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_in_the_code_is_in_the_catalogue(code_messages, locale):
    # A plural entry's id is (singular, plural): a string that became plural counts as missing.
    missing = code_messages - {message.id for message in catalogue(locale)}
    if missing:
        pytest.fail(f"{len(missing)} msgid(s) missing from translations/{locale}; run `make messages`, "
                    f"then translate them:\n{listing(missing)}", pytrace=False)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_entry_is_translated_and_none_is_fuzzy(locale):
    entries = catalogue(locale)
    untranslated = [m.id for m in entries if not all(forms(m.string))]
    fuzzy = [m.id for m in entries if m.fuzzy]
    problems = []
    if untranslated:
        problems.append(f"empty msgstr (any plural form):\n{listing(untranslated)}")
    if fuzzy:
        problems.append(f"marked fuzzy (check the translation, then drop the flag):\n{listing(fuzzy)}")
    if problems:
        pytest.fail(f"translations/{locale}: " + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders_of_their_msgid(locale):
    # Each plural form keeps every placeholder of the msgid, singular and plural together.
    wrong = []
    for message in catalogue(locale):
        expected = {p for text in forms(message.id) for p in PLACEHOLDER.findall(text)}
        for translation in forms(message.string):
            if translation and set(PLACEHOLDER.findall(translation)) != expected:
                wrong.append(f"  {forms(message.id)[0]!r} -> {translation!r}: expected {sorted(expected)}")
    if wrong:
        pytest.fail(f"translations/{locale}: placeholders differ from the msgid\n" + "\n".join(wrong),
                    pytrace=False)


def test_templates_speak_the_forced_language_inside_a_request_and_theirs_again_after(app):
    # Templates' _() follows force_locale:
    # a message composed for someone else, in their language, must still be in theirs.
    from flask import render_template_string
    from flask_babel import force_locale

    page = "{{ _('Mes séances') }} {{ ngettext('%(num)d place libre', '%(num)d places libres', 2) }} {{ current_locale() }}"
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert render_template_string(page) == "Mes séances 2 places libres fr"
        with force_locale("en"):
            assert render_template_string(page) == "My sessions 2 places left en"
        assert render_template_string(page) == "Mes séances 2 places libres fr"


def test_a_name_put_into_a_translated_sentence_is_escaped_on_a_page_and_left_alone_in_a_text(app):
    from flask import render_template_string

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        page = render_template_string("{{ _('Connecté : %(name)s', name=who) }}", who="<b>Ana</b> & Co")
        assert page == "Connecté : &lt;b&gt;Ana&lt;/b&gt; &amp; Co"
        text = app.jinja_env.from_string("{% autoescape false %}{{ _('Connecté : %(name)s', name=who) }}"
                                         "{% endautoescape %}").render(who="<b>Ana</b> & Co")
        assert text == "Connecté : <b>Ana</b> & Co"
