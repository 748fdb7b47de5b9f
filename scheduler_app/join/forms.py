from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from ..forms import CancelForm  # noqa: F401  (the short link's cancel page uses the shared one)


class ChooseSlotForm(FlaskForm):
    # Bounded: a huge number must get the form's answer, not a database error.
    slot_id = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)])
