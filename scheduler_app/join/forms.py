from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Pourquoi ? (facultatif, le tuteur et le centre le liront)"),
                           validators=[Length(max=500, message=_l("Écrivez au plus 500 caractères."))])


class ChooseSlotForm(FlaskForm):
    # Bounded: a huge number must get the form's answer, not a database error.
    slot_id = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)])
