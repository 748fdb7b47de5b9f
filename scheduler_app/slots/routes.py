"""A tutor's slots: open them, see who booked, cancel."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import db
from ..access import check_slot_tutor, current_account, own_slot, role_required
from ..clock import now_utc
from ..forms import CancelForm, show_service_error
from ..i18n import viewer_zone
from ..models import Booking
from ..paging import mark_of, page_mark
from ..services import ServiceError
from ..services.absences import declare_absence
from ..services.activities import activities_run_by
from ..services.attendance import mark
from ..services.confidential import NOTE, may_read
from ..services.mediation import MediationPlan, parties_to_choose, plan_mediation
from ..services.slots import SlotPlan, cancel_slot, open_slots
from ..services.tutor_sessions import (
    MARK_SHOWN,
    tutor_booking_row,
    tutor_sessions,
    tutor_slot_page,
    tutor_to_mark,
)
from .attendance_form import AttendanceForm
from .forms import AbsenceForm, MediationForm, SlotForm

bp = Blueprint("slots", __name__, url_prefix="/slots")


@bp.route("/mine")
@role_required("tutor")
def mine():
    """The tutor's page: how many past sessions are to be marked, then their sessions to come,
    a page at a time, day by day, each with who booked and what they need help with."""
    now = now_utc()
    after = page_mark()
    page = tutor_sessions(db.session(), current_user, now, after=after)
    zone = viewer_zone()
    days: dict = {}
    for slot in page.slots:
        people = tuple((booking.student_name, booking.topic) for booking in page.people[slot.id])
        days.setdefault(slot.starts_at.astimezone(zone).date(), []).append((slot, people, slot.token))
    return render_template(
        "slots/mine.html", days=[(day, tuple(cards)) for day, cards in days.items()], to_mark=page.to_mark,
        after=after, next_page=url_for("slots.mine", after=mark_of(page.slots[-1])) if page.more else None,
    )


@bp.route("/to-mark")
@role_required("tutor")
def to_mark():
    return _to_mark_page()


def _to_mark_page(corrected: dict | None = None):
    """Past sessions where a student is still to be marked present or absent, each student with
    the attendance form; `corrected` shows a refused one again (booking id -> what was sent)."""
    past = tutor_to_mark(db.session(), current_user, now_utc())
    corrected = corrected or {}
    cards = [
        (slot, tuple(corrected.get(booking.id) or (booking, PRESENCE.get(booking.status), booking.tutor_note, (), ())
                     for booking in past.people[slot.id]))
        for slot in past.slots
    ]
    shown = {booking.id for slot in past.slots for booking in past.people[slot.id]}
    for booking_id, (_row, _presence, _note, *errors) in corrected.items():
        if booking_id not in shown:  # its session is no longer among those to mark: say it on top
            for message in (message for field_errors in errors for message in field_errors):
                flash(str(message), "error")
    return render_template("slots/to_mark.html", cards=cards, to_mark=past.to_mark, shown=MARK_SHOWN)


PRESENCE = {"attended": "present", "absent": "absent"}  # a booking's status -> the form's choice


@bp.route("/<int:slot_id>")
@role_required("tutor", "coordinator")
def slot_page(slot_id: int):
    """One of the tutor's sessions: who booked, what they need, what earlier tutors noted; the
    tutor's join link, the calendar entry, and cancelling."""
    page = tutor_slot_page(db.session(), slot_id, current_account())
    if page is None:
        abort(404)
    check_slot_tutor(page.tutor_id)
    own = page.tutor_id == current_user.id  # the join link is the tutor's: a coordinator gets none
    return render_template("slots/slot.html", slot=page.slot, people=tuple(page.people),
                           notes=tuple((student, tuple(rows)) for student, rows in page.notes.items()),
                           token=page.slot.token if own else None, own=own, now=now_utc())


@bp.route("/bookings/<int:booking_id>/attendance", methods=["POST"])
@role_required("tutor", "coordinator")
def attendance(booking_id: int):
    booking = db.session().get(Booking, booking_id)
    if booking is None:
        abort(404)
    slot = own_slot(booking.slot_id)  # the slot's tutor (or a coordinator), else 403
    if not may_read(current_user, NOTE, slot.activity.kind):
        abort(403)  # a mediation's note is written by those who may read it, not overwritten by others
    form = AttendanceForm(prefix=f"b{booking.id}")
    if form.validate_on_submit():
        try:
            mark(db.session(), booking, present=form.presence.data == "present", note=form.note.data or "")
        except ServiceError as error:
            flash(str(error.message), "error")
        else:
            flash(_("Présence de %(name)s enregistrée.", name=booking.student.name), "success")
            return redirect(url_for("slots.to_mark") + f"#booking-{booking.id}")
    if current_user.role == "coordinator":
        return redirect(url_for("admin.sessions"))
    row = tutor_booking_row(db.session(), booking.id, current_account())
    sent = (row, form.presence.data, form.note.data or "", tuple(form.presence.errors), tuple(form.note.errors))
    return _to_mark_page({booking.id: sent})


@bp.route("/new", methods=["GET", "POST"])
@role_required("tutor")
def new():
    db_session = db.session()
    activities = activities_run_by(db.session(), current_user)
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


@bp.route("/<int:slot_id>/cancel", methods=["GET", "POST"])
@role_required("tutor", "coordinator")
def cancel(slot_id: int):
    """Asks first, with a reason the families and the centre read."""
    slot = own_slot(slot_id)
    back = url_for("admin.sessions" if current_user.role == "coordinator" else "slots.mine")
    form = CancelForm()
    if request.method == "GET" or not form.validate_on_submit():
        if slot.status != "open":
            flash(_("Ce créneau est déjà annulé."), "info")
            return redirect(back)
        return render_template("slots/cancel.html", slot=slot, form=form, back=back)
    try:
        cancelled = cancel_slot(db.session(), slot, by=current_account(), reason=form.reason.data or "")
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


@bp.route("/mediation/new", methods=["GET", "POST"])
@role_required("tutor")
def new_mediation():
    """A mediator plans a mediation: separate sessions, one per party, and/or a joint one."""
    if not current_user.mediator:
        abort(403)
    db_session = db.session()
    activities = [activity for activity in activities_run_by(db_session, current_user) if activity.kind == "mediation"]
    form = MediationForm()
    form.fill_choices(activities, parties_to_choose(db_session))
    if request.method == "GET" and activities:
        form.minutes.data = activities[0].duration_minutes
    if form.validate_on_submit():
        plan = MediationPlan(
            activity_id=form.activity_id.data, day=form.day.data, start_time=form.start_time.data,
            minutes=form.minutes.data, party_ids=tuple(form.parties.data),
            separate=form.sessions.data in ("separate", "both"), joint=form.sessions.data in ("joint", "both"),
            reason=form.reason.data or "",
        )
        try:
            slots = plan_mediation(db_session, current_account(), plan, current_user.timezone)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(ngettext("%(num)d séance prévue : chaque personne reçoit son invitation.",
                           "%(num)d séances prévues : chaque personne reçoit son invitation.", len(slots)), "success")
            return redirect(url_for("slots.mine"))
    return render_template("slots/mediation_new.html", form=form)


@bp.route("/<int:slot_id>/absence", methods=["GET", "POST"])
@role_required("tutor")
def absence(slot_id: int):
    """ "Je ne peux pas assurer cette séance": the tutor says why; the centre is alerted."""
    slot = own_slot(slot_id)
    form = AbsenceForm()
    if form.validate_on_submit():
        try:
            absences = declare_absence(db.session(), current_account(), slot.id, form.reason.data, form.sessions.data)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(ngettext("Merci. Le centre est prévenu pour %(num)d séance : il s'occupe des familles.",
                           "Merci. Le centre est prévenu pour %(num)d séances : il s'occupe des familles.",
                           len(absences)), "success")
            return redirect(url_for("slots.mine"))
    return render_template("slots/absence.html", form=form, slot=slot)
