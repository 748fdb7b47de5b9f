"""The centre's calendar: its school-holiday zone, its public holidays, its closure days."""

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from .. import db
from ..access import role_required
from ..clock import now_utc
from ..forms import show_service_error
from ..i18n import viewer_zone
from ..services import ServiceError
from ..services.centre_calendar import (
    add_closure_day,
    centre_calendar,
    closed_days,
    closure_days,
    remove_closure_day,
    save_calendar_settings,
)
from .centre_forms import CentreCalendarForm, ClosureDayForm
from .routes import bp

# How far ahead the page lists the days without weekly sessions.
SHOWN_WEEKS = 12


@bp.route("/calendar", methods=["GET", "POST"])
@role_required("coordinator")
def calendar():
    """The zone and public holidays (this form), closure days (the next), the days ahead."""
    settings = centre_calendar(db.session())
    form = CentreCalendarForm()
    if request.method == "GET":
        form.holiday_zone.data, form.public_holidays.data = settings.holiday_zone, settings.public_holidays
    if form.validate_on_submit():
        try:
            still_booked = save_calendar_settings(db.session(), form.holiday_zone.data, form.public_holidays.data)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("Le calendrier du centre est enregistré."), "success")
            _warn(still_booked)
            return redirect(url_for("admin.calendar"))
    return _page(form, ClosureDayForm(formdata=None))


@bp.route("/calendar/closures", methods=["POST"])
@role_required("coordinator")
def add_closure():
    settings = centre_calendar(db.session())
    closure_form = ClosureDayForm()
    if closure_form.validate_on_submit():
        today = now_utc().astimezone(viewer_zone()).date()
        try:
            still_booked = add_closure_day(db.session(), closure_form.day.data, closure_form.reason.data or "", today)
        except ServiceError as error:
            show_service_error(closure_form, error)
        else:
            flash(_("Jour de fermeture ajouté."), "success")
            _warn(still_booked)
            return redirect(url_for("admin.calendar"))
    form = CentreCalendarForm(formdata=None, holiday_zone=settings.holiday_zone,
                              public_holidays=settings.public_holidays)
    return _page(form, closure_form)


@bp.route("/calendar/closures/<int:closure_id>/remove", methods=["POST"])
@role_required("coordinator")
def remove_closure(closure_id: int):
    try:
        remove_closure_day(db.session(), closure_id)
    except ServiceError as error:
        flash(str(error.message), "error")
    else:
        flash(_("Le centre est de nouveau ouvert ce jour-là."), "success")
    return redirect(url_for("admin.calendar"))


def _page(form, closure_form):
    db_session = db.session()
    today = now_utc().astimezone(viewer_zone()).date()
    return render_template(
        "admin/calendar.html", form=form, closure_form=closure_form, settings=centre_calendar(db_session),
        closures=closure_days(db_session, today),
        closed=list(closed_days(db_session, today, today + timedelta(weeks=SHOWN_WEEKS)).values()),
        shown_weeks=SHOWN_WEEKS,
    )


def _warn(still_booked) -> None:
    if still_booked:
        flash(ngettext("%(num)d séance déjà réservée tombe un jour fermé : déplacez-la ou annulez-la dans Séances.",
                       "%(num)d séances déjà réservées tombent un jour fermé : déplacez-les ou annulez-les "
                       "dans Séances.", len(still_booked)), "error")
