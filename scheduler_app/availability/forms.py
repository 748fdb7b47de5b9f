import re
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Optional, ValidationError

from ..admin.forms import CheckboxesField
from ..catalogue import LEVELS, SUBJECTS, activity_name
from ..clock import now_utc
from ..forms import date_within_bounds, minutes_field, places_field
from ..i18n import viewer_zone
from ..models import WEEKDAY_CODES
from ..services import ServiceError
from ..services.localtime import check_day
from .wording import weekday_names

# Dates people type: 22/04/2027 (as asked), 22/04/27, 22-04-2027, 22.04.2027, or 2027-04-22.
DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")
MAX_SKIPPED = 60


def parse_dates(text: str) -> list[date]:
    """The dates in `text`, one per line or separated by commas or semicolons, in order.

    Raises ValueError with the piece that is not a date."""
    found = set()
    for piece in filter(None, (part.strip() for part in re.split(r"[\n,;]+", text or ""))):
        for pattern in DATE_FORMATS:
            try:
                found.add(datetime.strptime(piece, pattern).date())
                break
            except ValueError:
                continue
        else:
            raise ValueError(piece)
    return sorted(found)


def write_dates(days: list[date]) -> str:
    """Dates as the form shows them back, one per line."""
    return "\n".join(day.strftime("%d/%m/%Y") for day in days)


class AvailabilityForm(FlaskForm):
    activity_id = SelectField(_l("Activité"), coerce=int, validators=[DataRequired(_l("Choisissez une activité."))])
    weekdays = CheckboxesField(_l("Jours de la semaine"))
    start_time = TimeField(
        _l("De (heure de début)"),
        validators=[DataRequired(_l("Écrivez l'heure de début, par exemple 14:00."))],
    )
    end_time = TimeField(
        _l("À (heure de fin)"),
        validators=[DataRequired(_l("Écrivez l'heure de fin, par exemple 17:00."))],
    )
    session_minutes = minutes_field(
        _l("Durée de chaque séance (minutes)"),
        description=_l("La plage horaire est coupée en séances de cette durée, l'une après l'autre."),
    )
    capacity = places_field(_l("Places par séance"))
    subject = SelectField(_l("Matière"), choices=[], default="")
    level = SelectField(_l("Niveau"), choices=[], default="")
    valid_from = DateField(
        _l("À partir du"),
        validators=[DataRequired(_l("Choisissez la date de début (jour/mois/année).")), date_within_bounds],
    )
    valid_until = DateField(
        _l("Jusqu'au (facultatif)"),
        description=_l("Laissez vide pour continuer jusqu'à ce que vous arrêtiez."),
        validators=[Optional(), date_within_bounds],
    )
    skipped_dates = TextAreaField(
        _l("Sauf ces jours-là (facultatif)"),
        description=_l("Vacances, absences : une date par ligne, par exemple 22/04/2027."),
    )

    def fill_choices(self, activities) -> None:
        self.activity_id.choices = [(activity.id, activity_name(activity.name)) for activity in activities]
        names = weekday_names()
        self.weekdays.choices = [(code, names[code][:1].upper() + names[code][1:]) for code in WEEKDAY_CODES]
        self.subject.choices = [("", _l("Toutes matières"))] + list(SUBJECTS.items())
        self.level.choices = [("", _l("Tous niveaux"))] + list(LEVELS.items())

    def validate_weekdays(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Cochez au moins un jour de la semaine."))

    def validate_skipped_dates(self, field) -> None:
        try:
            days = parse_dates(field.data)
        except ValueError as error:
            raise ValidationError(
                _l("« %(text)s » n'est pas une date : écrivez-la comme 22/04/2027.", text=str(error))
            ) from error
        if len(days) > MAX_SKIPPED:
            raise ValidationError(_l("Pas plus de %(count)d dates.", count=MAX_SKIPPED))
        today = now_utc().astimezone(viewer_zone()).date()
        for day in days:
            try:
                check_day(day, today)
            except ServiceError as error:
                raise ValidationError(str(error.message)) from error

    @property
    def skipped(self) -> list[date]:
        return parse_dates(self.skipped_dates.data)
