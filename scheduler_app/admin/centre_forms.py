from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..catalogue import activity_name
from ..forms import date_within_bounds, minutes_field, places_field
from ..models import HOLIDAY_ZONES
from ..services.activities import ActivityChange
from ..services.centre_calendar import PUBLIC_HOLIDAY_AREAS


class CentreFilterForm(FlaskForm):
    class Meta:
        csrf = False

    day = DateField(_l("Jour"), validators=[Optional(), date_within_bounds])
    tutor = SelectField(_l("Tuteur"), default="")
    activity = SelectField(_l("Activité"), default="")
    status = SelectField(
        _l("État"),
        choices=[("", _l("Tous")), ("open", _l("Avec des places libres")), ("booked", _l("Réservés")),
                 ("cancelled", _l("Annulés"))],
        default="",
    )

    def fill_choices(self, tutors, activities) -> None:
        self.tutor.choices = [("", _l("Tous"))] + [(str(t.id), t.name) for t in tutors]
        self.activity.choices = [("", _l("Toutes"))] + [(str(a.id), activity_name(a.name)) for a in activities]


class MoveForm(FlaskForm):
    day = DateField(_l("Nouvelle date"), validators=[DataRequired(_l("Choisissez une date (jour/mois/année).")),
                                                     date_within_bounds])
    start_time = TimeField(
        _l("Nouvelle heure de début"), validators=[DataRequired(_l("Écrivez l'heure de début, par exemple 14:00."))]
    )


class ActivityForm(FlaskForm):
    name = StringField(
        _l("Nom de l'activité"),
        validators=[DataRequired(_l("Écrivez le nom de l'activité.")),
                    Length(max=120, message=_l("Écrivez au plus 120 caractères."))],
    )
    name_en = StringField(
        _l("Nom en anglais"),
        description=_l("Pour les familles qui lisent Lien en anglais. Laissez vide pour garder le nom."),
        validators=[Length(max=120, message=_l("Écrivez au plus 120 caractères."))],
    )
    kind = RadioField(
        _l("Genre d'activité"),
        choices=[("homework", _l("Aide aux devoirs : pour les élèves")),
                 ("mediation", _l("Médiation : pour les adultes, avec un médiateur"))],
        default="homework",
        validators=[DataRequired(_l("Choisissez le genre d'activité."))],
    )
    duration_minutes = minutes_field(_l("Durée habituelle (minutes)"))
    capacity = places_field(_l("Places habituelles"))
    active = BooleanField(_l("Proposée en ce moment"), default=True)

    def change(self) -> ActivityChange:
        return ActivityChange(name=self.name.data, duration_minutes=self.duration_minutes.data,
                              capacity=self.capacity.data, active=self.active.data, kind=self.kind.data,
                              name_en=self.name_en.data or "")


class CentreCalendarForm(FlaskForm):
    holiday_zone = RadioField(
        _l("Zone de vacances scolaires"),
        choices=[(zone, _l("Zone %(zone)s", zone=zone)) for zone in HOLIDAY_ZONES],
        validators=[InputRequired(_l("Choisissez la zone A, B ou C."))],
        validate_choice=False,  # the service says what to choose, in Lien's words
        description=_l("Les séances de la semaine ne sont pas proposées pendant les vacances de cette zone."),
    )
    public_holidays = SelectField(
        _l("Jours fériés à suivre"),
        choices=list(PUBLIC_HOLIDAY_AREAS.items()),
        default="",
        validate_choice=False,
        description=_l("Pour la Corse et l'outre-mer, ajoutez aussi les jours de vacances comme jours de fermeture."),
    )


class ClosureDayForm(FlaskForm):
    day = DateField(_l("Jour de fermeture"), validators=[DataRequired(_l("Choisissez une date (jour/mois/année).")),
                                                        date_within_bounds])
    reason = StringField(
        _l("Raison (facultatif)"),
        validators=[Optional(), Length(max=120, message=_l("Écrivez au plus 120 caractères."))],
    )
