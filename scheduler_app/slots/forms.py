from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..catalogue import LEVELS, SUBJECTS, activity_name
from ..forms import minutes_field, places_field


class SlotForm(FlaskForm):
    activity_id = SelectField(_l("Activité"), coerce=int, validators=[DataRequired(_l("Choisissez une activité."))])
    day = DateField(
        _l("Date"), validators=[DataRequired(_l("Choisissez une date (jour/mois/année)."))]
    )
    start_time = TimeField(
        _l("Heure de début"), validators=[DataRequired(_l("Écrivez l'heure de début, par exemple 14:00."))]
    )
    duration_minutes = minutes_field(_l("Durée (minutes)"))
    capacity = places_field(_l("Nombre de places"))
    subject = SelectField(_l("Matière"), choices=[], default="")
    level = SelectField(_l("Niveau"), choices=[], default="")
    in_a_row = IntegerField(
        _l("Séances à la suite"),
        default=1,
        description=_l("Par exemple 3 pour trois séances l'une après l'autre."),
        validators=[
            InputRequired(_l("Écrivez un nombre de séances, par exemple 1.")),
            NumberRange(min=1, max=12, message=_l("Entre 1 et 12 séances à la suite.")),
        ],
    )
    weeks = IntegerField(
        _l("Répéter pendant combien de semaines"),
        default=1,
        description=_l("1 pour cette semaine seulement ; 4 pour le même jour pendant quatre semaines."),
        validators=[
            InputRequired(_l("Écrivez un nombre de semaines, par exemple 1.")),
            NumberRange(min=1, max=20, message=_l("Entre 1 et 20 semaines.")),
        ],
    )

    def fill_choices(self, activities) -> None:
        self.activity_id.choices = [(activity.id, activity_name(activity.name)) for activity in activities]
        self.subject.choices = [("", _l("Toutes matières"))] + [(k, v) for k, v in SUBJECTS.items()]
        self.level.choices = [("", _l("Tous niveaux"))] + [(k, v) for k, v in LEVELS.items()]


class AbsenceForm(FlaskForm):
    reason = StringField(
        _l("Pourquoi ? (seul le centre le lit)"),
        validators=[DataRequired(_l("Dites en quelques mots pourquoi, pour le centre.")),
                    Length(max=300, message=_l("Écrivez au plus 300 caractères."))],
    )
    sessions = IntegerField(
        _l("Combien de séances ?"),
        default=1,
        description=_l("1 pour cette séance seulement ; 3 pour celle-ci et vos deux suivantes."),
        validators=[InputRequired(_l("Écrivez un nombre de séances, par exemple 1.")),
                    NumberRange(min=1, max=10, message=_l("Choisissez entre 1 et 10 séances."))],
    )
