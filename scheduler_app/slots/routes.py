"""A tutor's slots: open them, see who booked, cancel."""

from datetime import datetime, time, timedelta

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
from ..services.attendance import mark
from .attendance_form import AttendanceForm
from ..services import ServiceError
from ..services.sessions import tutor_booking_row, tutor_week
from ..services.slots import SlotPlan, cancel_slot, open_slots
from .forms import SlotForm

bp = Blueprint("slots", __name__, url_prefix="/slots")


MARKING_DAYS = 14  # past sessions stay on the page this long, for attendance
WEEKS_AHEAD = 12  # how far the tutor can page through weeks to come


def _mine_page(corrected: dict | None = None):
    """The tutor's page: sessions to mark, then a week day by day (this one, or ?week=N
    weeks on), each slot with who booked and what the earlier tutors noted."""
    now = now_utc()
    week_number = min(max(request.args.get("week", 0, type=int), 0), WEEKS_AHEAD)
    zone = viewer_zone()
    first_day = now.astimezone(zone).date() + timedelta(weeks=week_number)
    day_list = [first_day + timedelta(days=n) for n in range(7)]
    week = tutor_week(
        db.session(), current_user, now,
        marking_since=now - timedelta(days=MARKING_DAYS) if week_number == 0 else None,
        week_start=datetime.combine(day_list[0], time.min, zone),
        week_end=datetime.combine(day_list[-1] + timedelta(days=1), time.min, zone),
    )
    by_day = {day: [] for day in day_list}
    for slot in week.week:
        people = tuple(
            (booking.student_name, booking.topic,
             tuple((note.starts_at, note.tutor_name, note.tutor_note) for note in week.notes.get(booking.student_id, ())))
            for booking in week.people[slot.id]
        )
        by_day[slot.starts_at.astimezone(zone).date()].append((slot, people, slot.token))
    corrected = corrected or {}
    past = [
        (slot, tuple(corrected.get(booking.id) or (booking, PRESENCE.get(booking.status), booking.tutor_note, (), ())
                     for booking in week.people[slot.id]))
        for slot in week.past
    ]
    shown = {booking.id for slot in week.past for booking in week.people[slot.id]}
    for booking_id, (_row, _presence, _note, *errors) in corrected.items():
        if booking_id not in shown:  # its session is no longer among those to mark: say it on top
            for message in (message for field_errors in errors for message in field_errors):
                flash(str(message), "error")
    return render_template(
        "slots/mine.html", past=past, days=[(day, tuple(cards)) for day, cards in by_day.items()],
        week_number=week_number, last_week=WEEKS_AHEAD,
    )


PRESENCE = {"attended": "present", "absent": "absent"}  # a booking's status -> the form's choice


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
    row = tutor_booking_row(db.session(), booking.id)
    sent = (row, form.presence.data, form.note.data or "", tuple(form.presence.errors), tuple(form.note.errors))
    return _mine_page({booking.id: sent})


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
