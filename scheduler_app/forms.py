"""Pieces shared by the forms of several blueprints."""

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import AnyOf, Email, InputRequired, Length, NumberRange, Optional, ValidationError

from .catalogue import class_choices
from .clock import now_utc
from .i18n import viewer_zone
from .services import ServiceError, phones
from .services.localtime import check_day
from .services.passwords import weakness
from .services.slots import SESSION_MINUTES

PASSWORD_MIN = 10

email_format = Email(message=_l("Écrivez une adresse e-mail complète, par exemple nom@exemple.fr."))
password_length = Length(
    min=PASSWORD_MIN,
    max=200,
    message=_l("Choisissez un mot de passe d'au moins %(min)d caractères.", min=PASSWORD_MIN),
)


class PhoneNumber:
    """A number that exists (services.phones); the field keeps what was typed, views store e164()."""

    def __call__(self, form, field) -> None:
        if field.data and field.data.strip() and phones.e164(field.data) is None:
            raise ValidationError(str(phones.EXPECTED_FORM))


phone_format = PhoneNumber()
optional = Optional()


class StrongPassword:
    """A new password that is not easy to guess (services.passwords.weakness); the form's name
    and email fields, if any, count as easy guesses."""

    HINT_FIELDS = ("name", "email", "parent_name", "parent_email")

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        hints = tuple(str(form[name].data or "") for name in self.HINT_FIELDS if name in form)
        message = weakness(field.data, hints)
        if message:
            raise ValidationError(message)


strong_password = StrongPassword()


# The largest id the database's INTEGER columns hold: a larger number is no object's id.
ID_MAX = 2**31 - 1


def as_id(text: str | None) -> int | None:
    """An id typed into a URL or a form ("12"), or None for anything else ("", "²", "1e9", huge)."""
    if not text or len(text) > 10 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= ID_MAX else None


def date_within_bounds(_form, field) -> None:
    """A typed date no further from the viewer's today than any date may be (services.localtime)."""
    if field.data is not None:
        try:
            check_day(field.data, now_utc().astimezone(viewer_zone()).date())
        except ServiceError as error:
            raise ValidationError(str(error.message)) from error


def safe_next(target: str | None) -> str | None:
    """A `next` URL only if it stays on this site (a path, not //elsewhere or a scheme)."""
    if not target or len(target) > 2000 or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def show_service_error(form, error: ServiceError) -> None:
    """Put a rule's message next to its field, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error.message)]
    else:
        form.form_errors.append(str(error.message))


def e164(phone: str | None) -> str | None:
    """A validated field's number in E.164 (+33612345678), None when left empty."""
    return phones.e164(phone)


def minutes_field(label, description=None, default: int = 45) -> IntegerField:
    """A session length in minutes (SESSION_MINUTES), with messages that say what to type."""
    low, high = SESSION_MINUTES
    return IntegerField(label, default=default, description=description, validators=[
        InputRequired(_l("Écrivez une durée en minutes, par exemple 45.")),
        NumberRange(min=low, max=high, message=_l("Une séance dure de %(low)d à %(high)d minutes.", low=low,
                                                  high=high)),
    ])


def places_field(label, default: int = 1) -> IntegerField:
    """A number of places, 1 to 30."""
    return IntegerField(label, default=default, validators=[
        InputRequired(_l("Écrivez le nombre de places, par exemple 1.")),
        NumberRange(min=1, max=30, message=_l("Il faut entre 1 et 30 places.")),
    ])


def school_class_field(label) -> SelectField:
    """A child's class, CP to Terminale (catalogue.SCHOOL_CLASSES), or not said: wherever a child
    is added or signs up. Anything else gets a message that says what to do."""
    choices = class_choices()
    return SelectField(label, choices=choices, default="", validate_choice=False, validators=[
        AnyOf([value for value, _label in choices], message=_l("Choisissez une classe dans la liste."))])


class CancelForm(FlaskForm):
    """The confirmation step of every cancellation, with a reason the tutor and the centre read."""

    reason = TextAreaField(_l("Pourquoi ? (si vous voulez)"),
                           description=_l("Le tuteur et le centre liront votre réponse."),
                           validators=[Length(max=500, message=_l("Écrivez au plus 500 caractères."))])
