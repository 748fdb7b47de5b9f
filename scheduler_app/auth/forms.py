from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, EqualTo, Length, StopValidation

from ..catalogue import LANGUAGES, zone_choices
from ..clock import now_utc
from ..forms import e164, email_format, optional, password_length, phone_format, school_class_field, strong_password
from ..services import ServiceError, consent
from ..services.accounts import ProfileChange


def student_birth_year(form, field) -> None:
    """A student says the year they were born (services/consent.py); a parent's is left out."""
    if form.role.data != "student":
        field.errors[:], field.data = [], None
        raise StopValidation()
    if field.data is None:  # empty, or not a number
        field.errors[:] = []
    try:
        consent.check_birth_year(field.data, now_utc().date())
    except ServiceError as error:
        raise StopValidation(str(error.message)) from error


class LoginForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(_l("Écrivez votre adresse e-mail."))])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(_l("Écrivez votre mot de passe."))])
    remember = BooleanField(_l("Rester connecté sur cet appareil"))


class RegisterForm(FlaskForm):
    role = RadioField(
        _l("Je suis"),
        choices=[("student", _l("Élève")), ("parent", _l("Parent"))],
        validators=[DataRequired(_l("Choisissez élève ou parent."))],
    )
    name = StringField(
        _l("Prénom et nom"),
        validators=[
            DataRequired(_l("Écrivez votre prénom et votre nom.")),
            Length(max=120, message=_l("Écrivez au plus 120 caractères.")),
        ],
    )
    email = EmailField(
        _l("Adresse e-mail"), validators=[DataRequired(_l("Écrivez votre adresse e-mail.")), email_format]
    )
    phone = TelField(_l("Téléphone portable (pour les rappels par SMS)"), validators=[optional, phone_format])
    school_class = school_class_field(_l("Classe (élèves seulement)"))
    birth_year = IntegerField(_l("Année de naissance (élèves seulement)"), description=_l("Par exemple 2012."),
                              validators=[student_birth_year])
    password = PasswordField(
        _l("Mot de passe"), validators=[DataRequired(_l("Choisissez un mot de passe.")), password_length, strong_password]
    )
    confirm = PasswordField(
        _l("Le même mot de passe, encore une fois"),
        validators=[
            DataRequired(_l("Écrivez le mot de passe une deuxième fois.")),
            EqualTo("password", _l("Les deux mots de passe ne sont pas pareils. Écrivez-les à nouveau.")),
        ],
    )
    locale = RadioField(_l("Langue des messages"), choices=list(LANGUAGES.items()), default="fr")


class FinishSignUpForm(FlaskForm):
    """One button: what was typed is in the link (a sign-up, a new email address)."""


class ForgotForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(_l("Écrivez votre adresse e-mail.")), email_format])


class ChoosePasswordForm(FlaskForm):
    password = PasswordField(
        _l("Nouveau mot de passe"), validators=[DataRequired(_l("Choisissez un mot de passe.")), password_length, strong_password]
    )
    confirm = PasswordField(
        _l("Le même mot de passe, encore une fois"),
        validators=[
            DataRequired(_l("Écrivez le mot de passe une deuxième fois.")),
            EqualTo("password", _l("Les deux mots de passe ne sont pas pareils. Écrivez-les à nouveau.")),
        ],
    )


NOTIFY_CHOICES = [("email", _l("Par e-mail")), ("sms", _l("Par SMS")), ("both", _l("Les deux"))]
TIMEZONES = ("Europe/Paris", "Europe/London", "Europe/Brussels", "Africa/Algiers", "Africa/Casablanca",
             "Africa/Tunis", "Africa/Dakar", "Africa/Abidjan", "Europe/Istanbul", "Indian/Reunion",
             "Indian/Mayotte", "America/Guadeloupe", "America/Martinique", "America/Cayenne", "Pacific/Noumea")


class ProfileForm(FlaskForm):
    name = StringField(
        _l("Prénom et nom"),
        validators=[DataRequired(_l("Écrivez votre prénom et votre nom.")),
                    Length(max=120, message=_l("Écrivez au plus 120 caractères."))],
    )
    email = EmailField(_l("Adresse e-mail"), validators=[optional, email_format])
    phone = TelField(_l("Téléphone portable (pour les SMS)"), validators=[optional, phone_format])
    notify_by = RadioField(_l("Recevoir les confirmations et les rappels"), choices=NOTIFY_CHOICES, default="email")
    locale = RadioField(_l("Langue des messages"), choices=list(LANGUAGES.items()), default="fr")
    timezone = SelectField(_l("L'heure de quel pays ?"), choices=zone_choices(TIMEZONES))

    def change(self) -> ProfileChange:
        """What was typed, as the change update_profile makes (the person's own page and the coordinator's).
        The channel follows the numbers given (services.accounts): SMS whenever there is a mobile."""
        return ProfileChange(name=self.name.data, email=self.email.data, phone=e164(self.phone.data),
                             notify_by=self.notify_by.data, locale=self.locale.data, timezone=self.timezone.data)


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Mot de passe actuel"), validators=[DataRequired(_l("Écrivez votre mot de passe actuel."))])
    password = ChoosePasswordForm.password
    confirm = ChoosePasswordForm.confirm


class PhoneForm(FlaskForm):
    phone = TelField(_l("Votre numéro de téléphone portable"),
                     description=_l("Vous recevez un code par SMS. Pas besoin d'e-mail ni de mot de passe."),
                     validators=[DataRequired(_l("Écrivez votre numéro de portable.")), phone_format])


class CodeForm(FlaskForm):
    code = StringField(_l("Le code à 6 chiffres reçu par SMS"),
                       validators=[DataRequired(_l("Écrivez les 6 chiffres du code reçu par SMS."))])


class PhoneSignUpForm(FlaskForm):
    role = RegisterForm.role
    name = RegisterForm.name
    locale = RegisterForm.locale
