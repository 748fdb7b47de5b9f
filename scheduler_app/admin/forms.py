from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from ..catalogue import LANGUAGES, LEVELS, SUBJECTS, language_choices
from ..forms import email_format, optional, password_length, phone_format, school_class_field, strong_password
from ..models import TutorProfile, User
from ..services.people import TutorProfileChange


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes: easier on a phone and with a screen reader than a list box."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _name_field(label):
    return StringField(
        label,
        validators=[
            DataRequired(_l("Écrivez le prénom et le nom.")),
            Length(max=120, message=_l("Écrivez au plus 120 caractères.")),
        ],
    )


class TutorForm(FlaskForm):
    name = _name_field(_l("Prénom et nom"))
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(_l("Écrivez l'adresse e-mail du tuteur.")), email_format])
    phone = TelField(_l("Téléphone portable"), validators=[optional, phone_format])
    password = PasswordField(
        _l("Mot de passe provisoire (facultatif)"),
        description=_l("Laissez vide : le tuteur reçoit un e-mail pour choisir son mot de passe."),
        validators=[optional, password_length, strong_password],
    )
    subjects = CheckboxesField(_l("Matières"), choices=list(SUBJECTS.items()))
    levels = CheckboxesField(_l("Niveaux"), choices=list(LEVELS.items()))
    languages = CheckboxesField(_l("Langues parlées"), default=["fr"])
    bio = TextAreaField(_l("Présentation courte"), validators=[Length(max=1000, message=_l("Écrivez au plus 1000 caractères."))])

    def fill_choices(self) -> None:
        self.languages.choices = language_choices()


class FamilyForm(FlaskForm):
    parent_name = _name_field(_l("Parent : prénom et nom"))
    parent_phone = TelField(_l("Parent : téléphone portable"), validators=[optional, phone_format])
    parent_email = EmailField(_l("Parent : adresse e-mail (facultatif)"), validators=[optional, email_format])
    # Asked on the phone: the language the family reads its SMS and emails in (each name in its own language).
    parent_locale = SelectField(_l("Langue des messages de la famille"), choices=list(LANGUAGES.items()), default="fr")
    parent_password = PasswordField(
        _l("Mot de passe provisoire (facultatif)"),
        description=_l("Laissez vide : avec une adresse e-mail, le parent reçoit un lien pour choisir son mot de passe."),
        validators=[optional, password_length, strong_password],
    )
    child_1 = _name_field(_l("Enfant : prénom et nom"))
    child_1_class = school_class_field(_l("Enfant : classe"))
    child_2 = StringField(_l("Deuxième enfant (facultatif)"), validators=[Length(max=120)])
    child_2_class = school_class_field(_l("Deuxième enfant : classe"))
    child_3 = StringField(_l("Troisième enfant (facultatif)"), validators=[Length(max=120)])
    child_3_class = school_class_field(_l("Troisième enfant : classe"))

    def children(self) -> list[tuple[str, str]]:
        """The children typed, each with their class ("" when not said)."""
        return [(name.data, klass.data) for name, klass in ((self.child_1, self.child_1_class),
                                                            (self.child_2, self.child_2_class),
                                                            (self.child_3, self.child_3_class))
                if name.data and name.data.strip()]


class TutorProfileForm(FlaskForm):
    subjects = TutorForm.subjects
    levels = TutorForm.levels
    languages = TutorForm.languages
    bio = TutorForm.bio
    active = BooleanField(_l("Donne des séances en ce moment (décochez pour retirer ses créneaux de la liste)"))
    mediator = BooleanField(_l("Médiateur : peut proposer des médiations familiales"))

    def fill_choices(self) -> None:
        self.languages.choices = language_choices()

    def show(self, tutor: User) -> None:
        """Fill the form with what the tutor has now (the fields' defaults if nothing yet)."""
        profile = tutor.tutor_profile
        if profile is not None:
            self.subjects.data = TutorProfile.unpack(profile.subjects)
            self.levels.data = TutorProfile.unpack(profile.levels)
            self.languages.data = TutorProfile.unpack(profile.languages)
            self.bio.data = profile.bio
        self.active.data, self.mediator.data = tutor.active, tutor.mediator

    def change(self) -> TutorProfileChange:
        return TutorProfileChange(subjects=self.subjects.data or [], levels=self.levels.data or [],
                                  languages=self.languages.data or [], bio=self.bio.data or "",
                                  active=self.active.data)

class ContactForm(FlaskForm):
    """An adult for a mediation, from a phone call: a name and a phone are enough."""

    name = _name_field(_l("Prénom et nom"))
    phone = TelField(_l("Téléphone portable"), validators=[DataRequired(_l("Écrivez le numéro de téléphone.")),
                                                           phone_format])
    email = EmailField(_l("Adresse e-mail (facultatif)"), validators=[optional, email_format])
