"""A tutor's slots: open them, see who booked, cancel."""

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from .. import db
from ..access import own_slot, role_required
from ..clock import now_utc
from ..forms import show_service_error
from ..i18n import viewer_zone
from ..models import Activity, Booking
from ..services.attendance import earlier_notes, mark
from .attendance_form import AttendanceForm
from ..services import ServiceError
from ..services.sessions import bookings_of_slots, links_for, tutor_slots
from ..services.slots import SlotPlan, cancel_slot, open_slots
from .forms import SlotForm

bp = Blueprint("slots", __name__, url_prefix="/slots")


MARKING_DAYS = 14  # past sessions stay on the page this long, for attendance


def _mine_page(corrected: dict | None = None):
    """The tutor's page: sessions to mark, this week day by day, then later ones."""
    db_session = db.session()
    now = now_utc()
    slots = tutor_slots(db_session, current_user, now - timedelta(days=MARKING_DAYS))
    bookings = bookings_of_slots(db_session, slots)
    past = [slot for slot in slots if slot.starts_at <= now and slot.status == "open" and bookings[slot.id]]
    upcoming = [slot for slot in slots if slot.starts_at > now]
    zone = viewer_zone()
    today = now.astimezone(zone).date()
    week = [(today + timedelta(days=n), []) for n in range(7)]
    later = []
    for slot in upcoming:
        offset = (slot.starts_at.astimezone(zone).date() - today).days
        (week[offset][1] if offset < 7 else later).append(slot)
    forms = {}
    for slot in past:
        for booking in bookings[slot.id]:
            form = AttendanceForm(prefix=f"b{booking.id}", formdata=None)
            form.presence.data = {"attended": "present", "absent": "absent"}.get(booking.status)
            form.note.data = booking.tutor_note
            forms[booking.id] = form
    forms.update(corrected or {})
    students = [b.student_id for slot in upcoming for b in bookings[slot.id]]
    return render_template(
        "slots/mine.html",
        past=past, week=week, later=later, bookings=bookings, forms=forms,
        notes=earlier_notes(db_session, students, now),
        links=links_for(db_session, current_user, [slot.id for slot in upcoming]),
    )


@bp.route("/mine")
@role_required("tutor")
def mine():
    return _mine_page()


@bp.route("/bookings/<int:booking_id>/attendance", methods=["POST"])
@role_required("tutor", "coordinator")
def attendance(booking_id: int):
    booking = db.session().get(Booking, booking_id)
    if booking is None:
        abort(404)
    own_slot(booking.slot_id)  # the slot's tutor (or a coordinator), else 403
    form = AttendanceForm(prefix=f"b{booking.id}")
    if form.validate_on_submit():
        try:
            mark(db.session(), booking, present=form.presence.data == "present", note=form.note.data or "")
        except ServiceError as error:
            flash(str(error.message), "error")
        else:
            flash(_("Présence de %(name)s enregistrée.", name=booking.student.name), "success")
            return redirect(url_for("slots.mine") + f"#booking-{booking.id}")
    if current_user.role == "coordinator":
        return redirect(url_for("admin.sessions"))
    return _mine_page({booking.id: form})


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
        if current_user.role == "coordinator" and cancelled:
            # Said as the move says it: the coordinator cancels for someone else, so who was told matters.
            message = ngettext(
                "Séance annulée : %(num)d famille prévenue, ainsi que le tuteur.",
                "Séance annulée : %(num)d familles prévenues, ainsi que le tuteur.",
                len(cancelled),
            )
        elif cancelled:
            message = ngettext(
                "Créneau annulé. %(num)d réservation annulée.",
                "Créneau annulé. %(num)d réservations annulées.",
                len(cancelled),
            )
        else:
            message = _("Créneau annulé.")
        flash(message, "success")
    # Back where the cancel button was: the coordinator's sessions page, or the tutor's own.
    return redirect(url_for("admin.sessions" if current_user.role == "coordinator" else "slots.mine"))
