from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..admin.forms import CheckboxesField
from ..catalogue import LEVELS, SUBJECTS, activity_name
from ..forms import date_within_bounds, minutes_field, places_field


class SlotForm(FlaskForm):
    activity_id = SelectField(_l("Activité"), coerce=int, validators=[DataRequired(_l("Choisissez une activité."))])
    day = DateField(
        _l("Date"), validators=[DataRequired(_l("Choisissez une date (jour/mois/année).")), date_within_bounds]
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


class MediationForm(FlaskForm):
    activity_id = SelectField(_l("Activité"), coerce=int, validators=[DataRequired(_l("Choisissez une activité."))])
    parties = CheckboxesField(_l("Avec qui ?"), coerce=int,
                           description=_l("Chaque personne reçoit sa propre invitation et son propre lien."),
                           validators=[DataRequired(_l("Choisissez au moins une personne."))])
    sessions = RadioField(
        _l("Séances"),
        choices=[("separate", _l("Séparées : une séance par personne, l'une après l'autre")),
                 ("joint", _l("Commune : toutes les personnes ensemble (elles verront leurs noms)")),
                 ("both", _l("Séparées, puis une séance commune"))],
        default="separate",
        validators=[DataRequired(_l("Choisissez des séances séparées, une séance commune, ou les deux."))],
    )
    day = SlotForm.day
    start_time = SlotForm.start_time
    minutes = minutes_field(_l("Durée de chaque séance (minutes)"))
    reason = TextAreaField(
        _l("Motif (confidentiel)"),
        description=_l("Seuls les médiateurs le liront. Il n'apparaît dans aucun message."),
        validators=[Length(max=500, message=_l("Écrivez au plus 500 caractères."))],
    )

    def fill_choices(self, activities, parties) -> None:
        self.activity_id.choices = [(activity.id, activity_name(activity.name)) for activity in activities]
        self.parties.choices = [(person.id, person.name) for person in parties]


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
