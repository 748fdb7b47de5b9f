"""Attendance reports and their CSV export for funders."""

from datetime import date, datetime

from flask import Response, render_template, request
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from .. import db
from ..access import role_required
from ..catalogue import activity_name
from ..clock import now_utc
from ..forms import date_within_bounds
from ..i18n import viewer_zone
from ..services.reports import attendance, to_csv
from .routes import bp


class ReportForm(FlaskForm):
    class Meta:
        csrf = False

    grouping = SelectField(_l("Regrouper par"), choices=[("month", _l("Mois")), ("activity", _l("Activité")),
                                                         ("tutor", _l("Tuteur")), ("student", _l("Élève"))],
                           default="month")
    start = DateField(_l("Du"), validators=[Optional(), date_within_bounds])
    end = DateField(_l("Au (inclus)"), validators=[Optional(), date_within_bounds])


def _school_year_start(today: date) -> date:
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


def _report():
    form = ReportForm(request.args)
    form.validate()  # a field in error (shown next to it) is left out, as if it were empty
    today = now_utc().astimezone(viewer_zone()).date()
    start = (not form.start.errors and form.start.data) or _school_year_start(today)
    end = (not form.end.errors and form.end.data) or date(start.year + 1, 8, 31)
    zone = viewer_zone()
    report = attendance(
        db.session(),
        start=datetime.combine(start, datetime.min.time(), zone),
        end=datetime.combine(end, datetime.max.time(), zone),
        grouping=(not form.grouping.errors and form.grouping.data) or "month",
        tz=current_user.timezone,
        month_name=lambda moment: format_date(moment, "MMMM y"),
    )
    if report.grouping == "activity":
        for line in report.lines:
            line.label = activity_name(line.label)
    return form, report, start, end


@bp.route("/reports")
@role_required("coordinator")
def reports():
    form, report, start, end = _report()
    return render_template("admin/reports.html", form=form, report=report, start=start, end=end)


@bp.route("/reports.csv")
@role_required("coordinator")
def reports_csv():
    _form, report, start, end = _report()
    headings = [_("Groupe"), _("Réservées"), _("Présents"), _("Absents"), _("Annulées tard (moins de 24 h)"),
                _("Non renseignées")]
    body = to_csv(report, headings, _("Total"))
    name = f"lien-presences-{report.grouping}-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Content-Type": "text/csv; charset=utf-8"})
