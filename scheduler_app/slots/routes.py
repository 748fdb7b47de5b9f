"""A tutor's slots: open them, see who booked, cancel."""

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from .. import db
from ..access import own_slot, role_required
from ..clock import now_utc
from ..forms import show_service_error
from ..models import Activity
from ..services import ServiceError
from ..services.sessions import bookings_of_slots, links_for, tutor_slots
from ..services.slots import SlotPlan, cancel_slot, open_slots
from .forms import SlotForm

bp = Blueprint("slots", __name__, url_prefix="/slots")


@bp.route("/mine")
@role_required("tutor")
def mine():
    db_session = db.session()
    slots = tutor_slots(db_session, current_user, now_utc() - timedelta(hours=12))
    return render_template(
        "slots/mine.html",
        slots=slots,
        bookings=bookings_of_slots(db_session, slots),
        links=links_for(db_session, current_user, [slot.id for slot in slots]),
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required("tutor")
def new():
    db_session = db.session()
    activities = db_session.scalars(select(Activity).where(Activity.active).order_by(Activity.id)).all()
    form = SlotForm()
    form.fill_choices(activities)
    if request.method == "GET" and activities:
        form.duration_minutes.data = activities[0].duration_minutes
    if form.validate_on_submit():
        plan = SlotPlan(
            activity_id=form.activity_id.data,
            day=form.day.data,
            start_time=form.start_time.data,
            duration_minutes=form.duration_minutes.data,
            capacity=form.capacity.data,
            subject=form.subject.data or "",
            level=form.level.data or "",
            in_a_row=form.in_a_row.data,
            weeks=form.weeks.data,
        )
        try:
            slots = open_slots(db_session, current_user, plan, current_user.timezone)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(
                ngettext("%(num)d créneau ouvert.", "%(num)d créneaux ouverts.", len(slots)),
                "success",
            )
            return redirect(url_for("admin.sessions" if current_user.role == "coordinator" else "slots.mine"))
    return render_template("slots/new.html", form=form)


@bp.route("/<int:slot_id>/cancel", methods=["POST"])
@role_required("tutor", "coordinator")
def cancel(slot_id: int):
    slot = own_slot(slot_id)
    try:
        cancelled = cancel_slot(db.session(), slot, by=current_user)
    except ServiceError as error:
        flash(str(error.message), "error")
    else:
        flash(
            ngettext(
                "Créneau annulé. %(num)d réservation annulée.",
                "Créneau annulé. %(num)d réservations annulées.",
                len(cancelled),
            )
            if cancelled
            else _("Créneau annulé."),
            "success",
        )
    return redirect(url_for("slots.mine"))
