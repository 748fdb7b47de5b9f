"""Families: browse slots, book, see and cancel their sessions."""

from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import db
from ..access import current_account, own_booking, role_required
from ..clock import now_utc
from ..forms import CancelForm, show_service_error
from ..i18n import viewer_zone
from ..models import Slot, User
from ..paging import mark_of, page_mark
from ..services import ServiceError
from ..extensions import limiter
from ..services.accounts import add_child, link_child
from ..services.activities import offered_activities
from ..services.booking import SlotTaken, book_slot, cancel_booking
from ..services.browse import SlotFilter, browse_slots, free_slot_rows
from ..services.family import session_rows, students_in_care
from ..services.join import family_links, links_for
from .forms import BookForm, ChildCodeForm, ChildForm, SlotFilterForm

bp = Blueprint("bookings", __name__)

FAMILY = ("student", "parent")


def _filter_from(form: SlotFilterForm) -> SlotFilter:
    day_start = day_end = None
    if form.day.data:
        zone = viewer_zone()
        day_start = datetime.combine(form.day.data, datetime.min.time(), zone)
        day_end = datetime.combine(form.day.data + timedelta(days=1), datetime.min.time(), zone)
    return SlotFilter(
        activity_id=int(form.activity.data) if (form.activity.data or "").isdigit() else None,
        subject=form.subject.data or "",
        level=form.level.data or "",
        language=form.language.data or "",
        day_start=day_start,
        day_end=day_end,
    )


def _booking_for() -> User | None:
    """The student a coordinator is booking for (?for=<id>), loaded for coordinators only."""
    if current_user.role != "coordinator" or not request.args.get("for", "").isdigit():
        return None
    student = db.session().get(User, int(request.args["for"]))
    if student is None or student.role != "student":
        abort(404)
    return student


@bp.route("/slots")
@role_required(*FAMILY, "coordinator")
def browse():
    activities = offered_activities(db.session())
    booking_for = _booking_for()
    for_id = booking_for.id if booking_for else None
    form = SlotFilterForm(request.args)
    form.fill_choices(activities)
    chosen = _filter_from(form) if form.validate() else SlotFilter()
    opened = any(key not in ("for", "after") for key in request.args)
    after = page_mark()
    slots, more = free_slot_rows(db.session(), now_utc(), chosen, after=after)
    here = {key: value for key, value in request.args.items() if key != "after"}
    return render_template(
        "bookings/browse.html", form=form, for_id=for_id, opened=opened, slots=slots, booking_for=booking_for,
        after=after,
        bookable=current_user.role in FAMILY or booking_for is not None,
        first_page=url_for("bookings.browse", **here),
        next_page=url_for("bookings.browse", **here, after=mark_of(slots[-1])) if more else None,
    )


def _alternatives(slot: Slot):
    """Other free slots like the one that was just taken."""
    similar = browse_slots(db.session(), now_utc(), SlotFilter(activity_id=slot.activity_id))
    return [other for other in similar if other.id != slot.id][:5]


@bp.route("/slots/<int:slot_id>/book", methods=["GET", "POST"])
@role_required(*FAMILY, "coordinator")
def book(slot_id: int):
    db_session = db.session()
    slot = db_session.get(Slot, slot_id)
    if slot is None:
        abort(404)
    booking_for = _booking_for()
    if current_user.role == "coordinator" and booking_for is None:
        flash(_("Choisissez d'abord l'élève, dans la page des familles."), "info")
        return redirect(url_for("admin.people"))
    students = [booking_for] if booking_for else students_in_care(db_session, current_user)
    if not students:
        flash(_("Ajoutez d'abord votre enfant : ensuite vous pourrez réserver pour lui."), "info")
        return redirect(url_for("bookings.add_child_page"))
    form = BookForm()
    form.student_id.choices = [(student.id, student.name) for student in students]
    if current_user.role == "student" or booking_for:
        form.student_id.data = students[0].id
    if form.validate_on_submit():
        student = next(s for s in students if s.id == form.student_id.data)
        try:
            booking = book_slot(db_session, slot.id, student, current_account(), form.topic.data or "")
        except SlotTaken as error:
            return render_template(
                "bookings/taken.html", slot=slot, message=error.message, alternatives=_alternatives(slot),
                booking_for=booking_for,
            )
        except ServiceError as error:
            show_service_error(form, error)
        else:
            return redirect(url_for("bookings.session_page", booking_id=booking.id, booked=1))
    return render_template("bookings/book.html", form=form, slot=slot, booking_for=booking_for)


@bp.route("/sessions")
@role_required(*FAMILY)
def my_sessions():
    db_session = db.session()
    now = now_utc()
    parent = current_user.role == "parent"
    after = page_mark()
    rows, more, children = session_rows(db_session, current_user, now - timedelta(hours=12), after=after)
    return render_template(
        "bookings/sessions.html",
        cards=[(row, parent, row.starts_at > now) for row in rows],
        parent=parent,
        children=children,
        after=after,
        next_page=url_for("bookings.my_sessions", after=mark_of(rows[-1])) if more else None,
    )


@bp.route("/sessions/<int:booking_id>")
@role_required(*FAMILY, "coordinator")
def session_page(booking_id: int):
    booking = own_booking(booking_id)
    links = links_for(db.session(), current_user, [booking.slot_id])
    return render_template(
        "bookings/session.html",
        booking=booking,
        token=links.get((booking.slot_id, booking.id)),
        just_booked=request.args.get("booked") == "1",
        now=now_utc(),
        # The coordinator booked on the phone: the family's own links, to read out.
        family_links=family_links(db.session(), booking) if current_user.role == "coordinator" else [],
    )


@bp.route("/sessions/<int:booking_id>/cancel", methods=["GET", "POST"])
@role_required(*FAMILY, "coordinator")
def cancel(booking_id: int):
    """Asks first; a coordinator cancels one child's place this way, the session stays."""
    booking = own_booking(booking_id)
    back = url_for("bookings.my_sessions") if current_user.role != "coordinator" else url_for("admin.sessions")
    if booking.status != "confirmed":
        flash(_("Cette séance est déjà annulée."), "info")
        return redirect(back)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            cancel_booking(db.session(), booking, reason=form.reason.data or "")
        except ServiceError as error:
            flash(str(error.message), "error")
        else:
            if current_user.role == "coordinator":
                flash(_("La place de %(name)s est annulée. La famille et le tuteur sont prévenus.",
                        name=booking.student.name), "success")
            else:
                flash(_("La séance est annulée. La place est libre pour quelqu'un d'autre."), "success")
        return redirect(back)
    return render_template("bookings/cancel.html", booking=booking, form=form, back=back)


@bp.route("/children/new", methods=["GET", "POST"])
@role_required("parent")
def add_child_page():
    form = ChildForm()
    if form.validate_on_submit():
        child = add_child(db.session(), current_account(), form.name.data)
        flash(_("%(name)s est ajouté à votre famille.", name=child.name), "success")
        return redirect(url_for("bookings.browse"))
    return render_template("bookings/add_child.html", form=form)


@bp.route("/children/link", methods=["GET", "POST"])
@role_required("parent")
@limiter.limit("20 per hour", methods=["POST"])
def link_child_page():
    form = ChildCodeForm()
    if form.validate_on_submit():
        try:
            child = link_child(db.session(), current_account(), form.code.data)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("%(name)s est ajouté à votre famille.", name=child.name), "success")
            return redirect(url_for("bookings.my_sessions"))
    return render_template("bookings/link_child.html", form=form)


@bp.route("/tutors/<int:tutor_id>")
@role_required(*FAMILY, "coordinator")
def tutor_profile(tutor_id: int):
    """Who a tutor is: what they teach, at which levels, the languages they speak, their free slots."""
    tutor = db.session().get(User, tutor_id)
    if tutor is None or tutor.role != "tutor" or not tutor.active:
        abort(404)
    slots = [slot for slot in browse_slots(db.session(), now_utc(), SlotFilter(tutor_id=tutor.id))]
    return render_template("bookings/tutor.html", tutor=tutor, slots=slots, booking_for=_booking_for())
