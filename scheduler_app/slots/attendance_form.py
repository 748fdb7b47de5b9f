from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, Length


class AttendanceForm(FlaskForm):
    presence = RadioField(
        _l("Présence"), choices=[("present", _l("Présent")), ("absent", _l("Absent"))],
        validators=[DataRequired(_l("Choisissez présent ou absent."))],
    )
    note = TextAreaField(
        _l("Note pour le prochain tuteur (privée)"),
        description=_l("Par exemple : « a travaillé les fractions, à revoir : les divisions »."),
        validators=[Length(max=1000, message=_l("Écrivez au plus 1000 caractères."))],
    )
