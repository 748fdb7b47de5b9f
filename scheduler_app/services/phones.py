"""Phone numbers: read as people type them, stored in E.164 (+33612345678), with Google's
libphonenumber data (the `phonenumbers` package).

A number written the French way (06 12 34 56 78) is metropolitan France's, unless its prefix
belongs to an overseas department: 0692 12 34 56 is a Réunion mobile, +262 692 12 34 56, which
metropolitan France's own numbering rejects. Anything else is written with its + and country code.
"""

import phonenumbers
from flask_babel import lazy_gettext as _l
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from . import ServiceError

# Overseas departments and collectivities dialled with a national 0 from metropolitan France.
OVERSEAS = ("RE", "YT", "GP", "MQ", "GF", "PM", "BL", "MF")
# Where a login code may go unless the centre says otherwise (setting SMS_CODE_COUNTRIES).
CODE_COUNTRIES = ("FR", *OVERSEAS)
MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
# Longer than any E.164 number with spaces and dots: a pasted essay is refused before parsing.
MAX_TYPED = 40

EXPECTED_FORM = _l("Écrivez le numéro en entier, comme ceci : 06 12 34 56 78. "
                   "Depuis l'étranger, commencez par + et l'indicatif, par exemple +32 470 12 34 56.")


def _parse(raw: str) -> phonenumbers.PhoneNumber | None:
    typed = (raw or "").strip()
    if not typed or len(typed) > MAX_TYPED or not typed.isprintable():
        return None
    regions = ("FR",) if typed.startswith(("+", "00")) else ("FR", *OVERSEAS)
    for region in regions:
        try:
            number = phonenumbers.parse(typed.replace("\u00a0", " "), region)
        except NumberParseException:
            return None
        if phonenumbers.is_valid_number(number):
            return number
    return None


def e164(raw: str | None) -> str | None:
    """The number in E.164, or None when it is empty, incomplete or does not exist."""
    number = _parse(raw or "")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164) if number else None


def require(raw: str | None, field: str = "phone") -> str | None:
    """E.164 for a typed number, None for an empty one, or a ServiceError showing the expected form."""
    if not (raw or "").strip():
        return None
    number = e164(raw)
    if number is None:
        raise ServiceError(EXPECTED_FORM, field=field)
    return number


def is_mobile(number: str | None) -> bool:
    """True for a stored number that can receive SMS."""
    parsed = _parse(number or "")
    return parsed is not None and phonenumbers.number_type(parsed) in MOBILE_TYPES


def region(number: str | None) -> str | None:
    parsed = _parse(number or "")
    return phonenumbers.region_code_for_number(parsed) if parsed else None


def can_receive_codes(number: str | None, countries) -> bool:
    """A mobile of one of the centre's allowed countries: codes cost money, and bots ask for
    them to be sent to premium and far-away numbers."""
    return is_mobile(number) and region(number) in set(countries)


def readable(number: str | None) -> str:
    """A stored number as people read it: national form at home, international otherwise."""
    parsed = _parse(number or "")
    if parsed is None:
        return number or ""
    if phonenumbers.region_code_for_number(parsed) == "FR":
        return phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, PhoneNumberFormat.INTERNATIONAL)


def default_channel(email: str | None, phone: str | None) -> str:
    """How a person hears from the centre when nobody chose: by SMS whenever there is a mobile,
    by email only for someone who has one."""
    mobile = is_mobile(phone)
    if mobile and email:
        return "both"
    if mobile or not email:
        return "sms"
    return "email"


def check_channel(notify_by: str, email: str | None, phone: str | None) -> None:
    """Refuse a choice of channel that cannot reach the person (one who has neither address yet,
    such as a child, keeps any choice: nothing is sent either way)."""
    if not email and not phone:
        return
    if notify_by in ("sms", "both") and not phone:
        raise ServiceError(_l("Pour recevoir des SMS, écrivez votre numéro de portable."), field="notify_by")
    if notify_by in ("sms", "both") and not is_mobile(phone):
        raise ServiceError(_l("Ce numéro est un fixe : il ne reçoit pas de SMS. Écrivez un numéro de portable."),
                           field="phone")
    if notify_by in ("email", "both") and not email:
        raise ServiceError(_l("Pour recevoir des e-mails, écrivez votre adresse e-mail."), field="notify_by")
