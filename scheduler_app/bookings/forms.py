from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..catalogue import LEVELS, SUBJECTS, activity_name, language_choices
from ..forms import date_within_bounds, school_class_field


class SlotFilterForm(FlaskForm):
    """The slot browser's filters: a GET form, so no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    activity = SelectField(_l("Activité"), coerce=str, default="")
    subject = SelectField(_l("Matière"), default="")
    level = SelectField(_l("Niveau"), default="")
    language = SelectField(_l("Langue parlée par le tuteur"), default="")
    day = DateField(_l("Jour"), validators=[Optional(), date_within_bounds])

    def fill_choices(self, activities) -> None:
        self.activity.choices = [("", _l("Toutes"))] + [(str(a.id), activity_name(a.name)) for a in activities]
        self.subject.choices = [("", _l("Toutes"))] + list(SUBJECTS.items())
        self.level.choices = [("", _l("Tous"))] + list(LEVELS.items())
        self.language.choices = [("", _l("Toutes"))] + language_choices()


class BookForm(FlaskForm):
    student_id = SelectField(_l("Pour qui ?"), coerce=int, validators=[DataRequired(_l("Choisissez l'enfant."))])
    topic = TextAreaField(
        _l("Sur quoi avez-vous besoin d'aide ?"),
        description=_l("Une phrase suffit. Par exemple : « les fractions » ou « ma rédaction »."),
        validators=[Length(max=500, message=_l("Écrivez au plus 500 caractères."))],
    )


class ChildForm(FlaskForm):
    name = StringField(
        _l("Prénom et nom de l'enfant"),
        validators=[
            DataRequired(_l("Écrivez le prénom et le nom de l'enfant.")),
            Length(max=120, message=_l("Écrivez au plus 120 caractères.")),
        ],
    )
    school_class = school_class_field(_l("Sa classe"))


class ApproveForm(FlaskForm):
    """A parent's approval: the button alone (and its CSRF token)."""


class ChildCodeForm(FlaskForm):
    code = StringField(
        _l("Code donné par le centre"),
        description=_l("8 lettres ou chiffres, par exemple KD4M-7QPA."),
        validators=[DataRequired(_l("Écrivez le code que le centre vous a donné."))],
    )


class EnrolForm(FlaskForm):
    """Every week at this time: until the end of the term, of the school year, or a chosen day."""

    student_id = SelectField(_l("Pour qui ?"), coerce=int, validators=[DataRequired(_l("Choisissez l'enfant."))])
    until = RadioField(_l("Jusqu'à quand ?"), default="term", validate_choice=False)
    last_day = DateField(_l("Autre date de fin"), validators=[Optional(), date_within_bounds],
                         description=_l("Seulement si vous avez choisi « une autre date »."))
    topic = TextAreaField(
        _l("Sur quoi avez-vous besoin d'aide ?"),
        validators=[Length(max=500, message=_l("Écrivez au plus 500 caractères."))],
    )

    def fill_choices(self, term_end: str, year_end: str) -> None:
        self.until.choices = [("term", _l("La fin du trimestre (%(day)s)", day=term_end)),
                              ("year", _l("La fin de l'année scolaire (%(day)s)", day=year_end)),
                              ("date", _l("Une autre date"))]


class WaitlistForm(FlaskForm):
    student_id = SelectField(_l("Pour qui ?"), coerce=int, validators=[DataRequired(_l("Choisissez l'enfant."))])


class WishForm(FlaskForm):
    """Waiting for any slot like this: subject, level, a language of the tutor's, and the days."""

    student_id = SelectField(_l("Pour qui ?"), coerce=int, validators=[DataRequired(_l("Choisissez l'enfant."))])
    subject = SelectField(_l("Matière"), default="")
    level = SelectField(_l("Niveau"), default="")
    language = SelectField(_l("Langue parlée par le tuteur"), default="")
    first_day = DateField(_l("À partir du"), validators=[
        DataRequired(_l("Choisissez le premier jour (jour/mois/année).")), date_within_bounds])
    last_day = DateField(_l("Jusqu'au"), validators=[
        DataRequired(_l("Choisissez le dernier jour (jour/mois/année).")), date_within_bounds])

    def fill_choices(self) -> None:
        self.subject.choices = [("", _l("Toutes"))] + list(SUBJECTS.items())
        self.level.choices = [("", _l("Tous"))] + list(LEVELS.items())
        self.language.choices = [("", _l("Toutes"))] + language_choices()
