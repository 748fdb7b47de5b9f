from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from ..catalogue import activity_name


class FeedFilterForm(FlaskForm):
    """Which of the centre's sessions a coordinator's calendar shows: a GET form (no CSRF token,
    it changes nothing)."""

    class Meta:
        csrf = False

    activity = SelectField(_l("Activité"), default="")
    tutor = SelectField(_l("Tuteur"), default="")

    def fill_choices(self, tutors, activities) -> None:
        self.activity.choices = [("", _l("Toutes"))] + [(str(a.id), activity_name(a)) for a in activities]
        self.tutor.choices = [("", _l("Tous"))] + [(str(t.id), t.name) for t in tutors]
