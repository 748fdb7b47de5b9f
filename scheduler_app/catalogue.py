"""The subjects, levels and languages that slots and tutors are described with."""

from functools import lru_cache

from babel import Locale
from babel.core import get_global
from flask_babel import LazyString, get_locale, gettext
from flask_babel import lazy_gettext as _l

SUBJECTS = {
    "maths": _l("Mathématiques"),
    "francais": _l("Français"),
    "anglais": _l("Anglais"),
    "histoire-geo": _l("Histoire-géographie"),
    "sciences": _l("Sciences (SVT, physique-chimie)"),
    "methode": _l("Méthode et organisation"),
    "numerique": _l("Aide numérique et démarches"),
    "autre": _l("Autre"),
}

LEVELS = {
    "primaire": _l("École primaire"),
    "college": _l("Collège"),
    "lycee": _l("Lycée"),
    "adulte": _l("Adulte / famille"),
}

# A child's class, from CP to Terminale, and the level tutors teach it at (LEVELS).
SCHOOL_CLASSES = {
    "cp": _l("CP"), "ce1": _l("CE1"), "ce2": _l("CE2"), "cm1": _l("CM1"), "cm2": _l("CM2"),
    "6e": _l("6e"), "5e": _l("5e"), "4e": _l("4e"), "3e": _l("3e"),
    "2de": _l("Seconde"), "1re": _l("Première"), "term": _l("Terminale"),
}
CLASS_LEVELS = {
    **dict.fromkeys(("cp", "ce1", "ce2", "cm1", "cm2"), "primaire"),
    **dict.fromkeys(("6e", "5e", "4e", "3e"), "college"),
    **dict.fromkeys(("2de", "1re", "term"), "lycee"),
}


def class_choices() -> list[tuple[str, str]]:
    """The classes for a form, with a first choice for a child whose class is not said."""
    return [("", _l("Je ne sais pas"))] + list(SCHOOL_CLASSES.items())


# The languages Lien speaks (pages and messages), each named in itself: French first, the default.
LANGUAGES = {"fr": "Français", "en": "English", "ar": "العربية", "tr": "Türkçe", "pt": "Português",
             "uk": "Українська"}
RIGHT_TO_LEFT = frozenset({"ar"})

# Languages a tutor may speak: ISO 639-1 codes, named by Babel in the viewer's language.
LANGUAGE_CODES = ("fr", "en", "ar", "es", "pt", "tr", "ro", "ru", "uk", "zh", "ta", "wo", "ff", "bm")


# The activities the first migration creates: their names are translated when shown; names a
# coordinator types later are shown as typed.
def N_(message: str) -> str:
    """Marks a msgid for extraction (Babel's N_ keyword) without translating it here."""
    return message


SEEDED_ACTIVITIES = frozenset({N_("Aide aux devoirs"), N_("Médiation familiale")})


def activity_name(activity) -> str:
    """An activity's name in the viewer's language: given an Activity, its English name for an
    English reader when the centre wrote one; Lien's own translation of a seeded name; else the
    name as written. Takes an Activity or a bare name."""
    name = activity if isinstance(activity, str) else activity.name
    english = "" if isinstance(activity, str) else getattr(activity, "name_en", "")
    if english and str(get_locale()).startswith("en"):
        return english
    return gettext(name) if name in SEEDED_ACTIVITIES else name


def language_name(code: str) -> str:
    """A language's name in the viewer's language ("arabe", "Arabic")."""
    return _language_name(code, str(get_locale()))


@lru_cache(maxsize=1024)
def _language_name(code: str, locale: str) -> str:
    name = Locale.parse(locale).languages.get(code, code)
    return name[:1].upper() + name[1:]


def zone_place(zone: str) -> str:
    """Where a time zone's clock is, in the viewer's language ("Algérie" for Africa/Algiers):
    people know their country, not a time zone's name."""
    return _zone_place(zone, str(get_locale()))


@lru_cache(maxsize=256)
def _zone_place(zone: str, locale: str) -> str:
    territory = get_global("zone_territories").get(zone)
    return Locale.parse(locale).territories.get(territory, zone) if territory else zone


def zone_choices(zones) -> list[tuple[str, LazyString]]:
    """Time zones for a form, each named by its country when the form is shown."""
    return [(zone, LazyString(zone_place, zone)) for zone in zones]


def language_choices() -> list[tuple[str, str]]:
    return [(code, language_name(code)) for code in LANGUAGE_CODES]


def subject_name(key: str) -> str:
    return str(SUBJECTS.get(key, key))


def level_name(key: str) -> str:
    return str(LEVELS.get(key, key))
