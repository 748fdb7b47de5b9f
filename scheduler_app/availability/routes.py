"""A tutor's weekly availability: one form for a term, said back in plain words, changed or
ended at any time without touching a session someone booked."""

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from .. import db
from ..access import current_account, own_rule, role_required
from ..clock import now_utc
from ..forms import show_service_error
from ..i18n import say
from ..models import AvailabilityRule
from ..services import ServiceError
from ..services.activities import activities_run_by
from ..services.availability import RuleChange, WeeklyPlan, end_rule, save_rule
from ..services.tutor_sessions import bookings_of_slots
from .forms import AvailabilityForm, write_dates
from .wording import describe

bp = Blueprint("availability", __name__, url_prefix="/availability")

# A flash message lists at most this many sessions (it travels in the session cookie).
LISTED = 10


@bp.route("")
@role_required("tutor")
def index():
    rules = db.session().scalars(
        select(AvailabilityRule)
        .where(AvailabilityRule.tutor_id == current_user.id, AvailabilityRule.active)
        .order_by(AvailabilityRule.valid_from, AvailabilityRule.id)
    ).all()
    return render_template(
        "availability/index.html",
        rules=rules,
        describe=describe,
        weeks=current_app.config["AVAILABILITY_WEEKS_AHEAD"],
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required("tutor")
def new():
    form = _form()
    if request.method == "GET" and form.activity_id.choices:
        form.valid_from.data = now_utc().astimezone(ZoneInfo(current_user.timezone)).date()
    return _save(form, rule=None)


@bp.route("/<int:rule_id>/edit", methods=["GET", "POST"])
@role_required("tutor")
def edit(rule_id: int):
    rule = own_rule(rule_id)
    if not rule.active:
        flash(_("Ces disponibilités sont arrêtées : créez-en de nouvelles."), "info")
        return redirect(url_for("availability.index"))
    form = _form(obj=rule if request.method == "GET" else None)
    if request.method == "GET":
        form.weekdays.data = rule.weekdays
        form.skipped_dates.data = write_dates(rule.skipped)
    return _save(form, rule=rule)


@bp.route("/<int:rule_id>/end", methods=["POST"])
@role_required("tutor")
def end(rule_id: int):
    rule = own_rule(rule_id)
    change = end_rule(db.session(), rule)
    flash(_("Ces disponibilités sont arrêtées : aucun nouveau créneau ne sera ouvert."), "success")
    _tell(change)
    return redirect(url_for("availability.index"))


def _form(**kwargs) -> AvailabilityForm:
    activities = activities_run_by(db.session(), current_user)
    form = AvailabilityForm(**kwargs)
    form.fill_choices(activities)
    return form


def _save(form: AvailabilityForm, rule: AvailabilityRule | None):
    if form.validate_on_submit():
        plan = WeeklyPlan(
            activity_id=form.activity_id.data,
            weekdays=tuple(form.weekdays.data),
            start_time=form.start_time.data,
            end_time=form.end_time.data,
            session_minutes=form.session_minutes.data,
            valid_from=form.valid_from.data,
            valid_until=form.valid_until.data,
            skipped=tuple(form.skipped),
            capacity=form.capacity.data,
            subject=form.subject.data or "",
            level=form.level.data or "",
        )
        try:
            change = save_rule(db.session(), current_account(), plan, rule)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("Vos disponibilités sont enregistrées."), "success")
            _tell(change)
            return redirect(url_for("availability.index"))
    return render_template("availability/form.html", form=form, rule=rule,
                           weeks=current_app.config["AVAILABILITY_WEEKS_AHEAD"])


def _tell(change: RuleChange) -> None:
    """Say what the change did to the tutor's slots: opened, left out, removed, still booked."""
    if change.created:
        flash(ngettext("%(num)d créneau ouvert.", "%(num)d créneaux ouverts.", len(change.created)), "success")
    if change.removed:
        flash(ngettext("%(num)d créneau libre à venir a été retiré.",
                       "%(num)d créneaux libres à venir ont été retirés.", change.removed), "info")
    if change.overlapping:
        flash(ngettext(
            "%(num)d créneau n'a pas été ouvert, car vous avez déjà un créneau à ce moment-là : %(list)s.",
            "%(num)d créneaux n'ont pas été ouverts, car vous avez déjà des créneaux à ces moments-là : %(list)s.",
            len(change.overlapping),
            list=_listing([say(start) for _rule, start, _end in change.overlapping]),
        ), "error")
    if change.still_booked:
        who = bookings_of_slots(db.session(), change.still_booked)
        flash(ngettext(
            "%(num)d séance réservée reste prévue : %(list)s.",
            "%(num)d séances réservées restent prévues : %(list)s.",
            len(change.still_booked),
            list=_listing([
                f"{say(slot.starts_at)} ({', '.join(booking.student.name for booking in who[slot.id])})"
                for slot in change.still_booked
            ]),
        ), "info")


def _listing(items: list[str]) -> str:
    """Sessions one after the other; past LISTED, the rest are counted."""
    shown = "; ".join(items[:LISTED])
    if len(items) > LISTED:
        shown = ngettext("%(listed)s… et %(num)d autre", "%(listed)s… et %(num)d autres", len(items) - LISTED,
                         listed=shown)
    return shown
