"""Families: browse slots, book, see and cancel their sessions."""

from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import db
from ..access import current_account, own_booking, own_enrolment, role_required
from ..catalogue import CLASS_LEVELS
from ..clock import now_utc
from ..extensions import limiter
from ..forms import CancelForm, as_id, show_service_error
from ..i18n import say, viewer_zone
from ..models import Guardianship, Slot, User
from ..paging import mark_of, page_mark
from ..services import ServiceError, consent
from ..services.accounts import add_child, link_child
from ..services.activities import active_activities
from ..services.booking import SlotTaken, book_slot, cancel_booking
from ..services.browse import SlotFilter, browse_slots, free_slot_rows
from ..services.confidential import MEDIATION, booking_texts, kind_of_slot
from ..services.enrolment import bounds_for, cancel_weeks_to_come, enrol, enrolment_of, weeks_of
from ..services.family import session_rows, students_in_care
from ..services.join import family_links, links_for
from .forms import ApproveForm, BookForm, ChildCodeForm, ChildForm, EnrolForm, SlotFilterForm

bp = Blueprint("bookings", __name__)

FAMILY = ("student", "parent")


def _kind_shown(booking_for: User | None) -> str:
    """The kind of activity offered: homework help to a student or for one, mediation when a
    coordinator books for an adult; both to a parent (for their children, or for themself)."""
    if current_user.role == "student" or (booking_for is not None and booking_for.role == "student"):
        return "homework"
    return "mediation" if booking_for is not None else ""


def _filter_from(form: SlotFilterForm, kind: str = "") -> SlotFilter:
    day_start = day_end = None
    if form.day.data:
        zone = viewer_zone()
        day_start = datetime.combine(form.day.data, datetime.min.time(), zone)
        day_end = datetime.combine(form.day.data + timedelta(days=1), datetime.min.time(), zone)
    return SlotFilter(
        activity_id=as_id(form.activity.data),
        subject=form.subject.data or "",
        level=form.level.data or "",
        language=form.language.data or "",
        day_start=day_start,
        day_end=day_end,
        kind=kind,
    )


def _booking_for() -> User | None:
    """The person a coordinator is booking for (?for=<id>): a student, or an adult party of a
    mediation; loaded for coordinators only."""
    student_id = as_id(request.args.get("for"))
    if current_user.role != "coordinator" or student_id is None:
        return None
    student = db.session().get(User, student_id)
    if student is None or student.role not in FAMILY:
        abort(404)
    return student


@bp.route("/slots")
@role_required(*FAMILY, "coordinator")
def browse():
    activities = active_activities(db.session())
    booking_for = _booking_for()
    for_id = booking_for.id if booking_for else None
    form = SlotFilterForm(request.args)
    form.fill_choices(activities)
    if "level" not in request.args:
        form.level.data = _class_level(booking_for)
    kind = _kind_shown(booking_for)
    valid = form.validate()
    chosen = _filter_from(form, kind) if valid else SlotFilter(kind=kind)
    opened = any(key not in ("for", "after") for key in request.args)
    # A valid form shows only values from its choices and a day: rendered once per such input.
    filters_key = (activities, tuple((field.name, field.raw_data[0] if field.raw_data else field.data)
                                     for field in form), for_id, opened) if valid else None
    after = page_mark()
    slots, more = free_slot_rows(db.session(), now_utc(), chosen, after=after)
    here = {key: value for key, value in request.args.items() if key != "after"}
    return render_template(
        "bookings/browse.html", form=form, for_id=for_id, opened=opened, filters_key=filters_key, slots=slots, booking_for=booking_for,
        after=after,
        bookable=current_user.role in FAMILY or booking_for is not None,
        first_page=url_for("bookings.browse", **here),
        next_page=url_for("bookings.browse", **here, after=mark_of(slots[-1])) if more else None,
    )


def _class_level(booking_for: User | None) -> str:
    """The level of the child the browser is for, from their class (the filter's default):
    the student a coordinator books for, a student, or a parent's only child."""
    student = booking_for or (current_account() if current_user.role == "student" else None)
    if student is None and current_user.role == "parent":
        children = students_in_care(db.session(), current_account())
        student = children[0] if len(children) == 1 else None
    return CLASS_LEVELS.get(student.school_class or "", "") if student is not None else ""


def _alternatives(slot: Slot):
    """Other free slots like the one that was just taken."""
    similar = browse_slots(db.session(), now_utc(), SlotFilter(activity_id=slot.activity_id))
    return [other for other in similar if other.id != slot.id][:5]


def _slot_and_person(slot_id: int) -> tuple[Slot, User | None]:
    """The slot to book and the person a coordinator books it for (?for=): 404 for a slot that
    does not exist; a coordinator who has not chosen the person yet is sent to choose."""
    slot = db.session().get(Slot, slot_id)
    if slot is None:
        abort(404)
    booking_for = _booking_for()
    if current_user.role == "coordinator" and booking_for is None:
        flash(_("Choisissez d'abord l'élève, dans la page des familles."), "info")
        abort(redirect(url_for("admin.people")))
    return slot, booking_for


def _check_students(students: list[User]) -> None:
    """Send a parent without a child to add one, and a student still waiting for a parent's
    approval to their sessions page, where it is explained."""
    if not students:
        flash(_("Ajoutez d'abord votre enfant : ensuite vous pourrez réserver pour lui."), "info")
        abort(redirect(url_for("bookings.add_child_page")))
    if current_user.role == "student" and consent.needs_approval(db.session(), students[0]):
        flash(_("Avant de réserver, un parent doit donner son accord : voyez « Mes séances »."), "info")
        abort(redirect(url_for("bookings.my_sessions")))


@bp.route("/slots/<int:slot_id>/book", methods=["GET", "POST"])
@role_required(*FAMILY, "coordinator")
def book(slot_id: int):
    db_session = db.session()
    slot, booking_for = _slot_and_person(slot_id)
    mediation = kind_of_slot(db_session, slot.id) == MEDIATION
    if booking_for and booking_for.role == "parent" and not mediation:
        abort(404)  # homework help is booked for a student
    if booking_for and booking_for.role == "student" and mediation:
        flash(_("Un rendez-vous de médiation est pour un adulte, jamais pour un enfant."), "info")
        return redirect(url_for("admin.people"))
    if booking_for:
        students = [booking_for]
    elif mediation:  # for an adult, never for a child
        students = [current_account()] if current_user.role == "parent" else []
        if not students:
            flash(_("Un rendez-vous de médiation est pour un adulte, jamais pour un enfant."), "info")
            return redirect(url_for("bookings.browse"))
    else:
        students = students_in_care(db_session, current_user)
    _check_students(students)
    form = BookForm()
    form.student_id.choices = [(student.id, student.name) for student in students]
    if current_user.role == "student" or booking_for or mediation:
        form.student_id.data = students[0].id
    if mediation:
        form.topic.label.text = _("Pourquoi ce rendez-vous ? (facultatif)")
        form.topic.description = _("Seul le médiateur le lira. Il n'apparaît dans aucun message.")
    if form.validate_on_submit():
        student = next(s for s in students if s.id == form.student_id.data)
        try:
            booking = book_slot(db_session, slot.id, student, current_account(), form.topic.data or "")
        except SlotTaken as error:
            return render_template(
                "bookings/taken.html", slot=slot, message=error.message, alternatives=_alternatives(slot),
                booking_for=booking_for, student=student,
            )
        except ServiceError as error:
            show_service_error(form, error)
        else:
            return redirect(url_for("bookings.session_page", booking_id=booking.id, booked=1))
    return render_template("bookings/book.html", form=form, slot=slot, booking_for=booking_for, mediation=mediation)


@bp.route("/slots/<int:slot_id>/every-week", methods=["GET", "POST"])
@role_required(*FAMILY, "coordinator")
def enrol_page(slot_id: int):
    """Book every week at this slot's time with its tutor, in one step."""
    db_session = db.session()
    slot, booking_for = _slot_and_person(slot_id)
    if kind_of_slot(db_session, slot.id) == MEDIATION:  # booked one meeting at a time, for an adult
        return redirect(url_for("bookings.book", slot_id=slot.id, **({"for": booking_for.id} if booking_for else {})))
    if booking_for and booking_for.role != "student":
        abort(404)  # homework help is booked for a student
    students = [booking_for] if booking_for else students_in_care(db_session, current_user)
    _check_students(students)
    try:
        bounds = bounds_for(db_session, slot, now_utc())
    except ServiceError as error:
        flash(str(error.message), "error")
        return redirect(url_for("bookings.book", slot_id=slot.id, **({"for": booking_for.id} if booking_for else {})))
    form = EnrolForm()
    form.student_id.choices = [(student.id, student.name) for student in students]
    form.fill_choices(say(bounds.term_end, "day"), say(bounds.year_end, "day"))
    if current_user.role == "student" or booking_for:
        form.student_id.data = students[0].id
    if form.validate_on_submit():
        student = next(s for s in students if s.id == form.student_id.data)
        last_day = {"term": bounds.term_end, "year": bounds.year_end}.get(form.until.data, form.last_day.data)
        if last_day is None:
            form.last_day.errors = [_("Choisissez la date de fin (jour/mois/année).")]
        else:
            try:
                result = enrol(db_session, slot.id, student, current_account(), last_day, form.topic.data or "")
            except ServiceError as error:
                show_service_error(form, error)
            else:
                return render_template("bookings/enrolled.html", result=result, slot=slot, student=student)
    return render_template("bookings/enrol.html", form=form, slot=slot, booking_for=booking_for, bounds=bounds)


@bp.route("/enrolments/<int:enrolment_id>")
@role_required(*FAMILY, "coordinator")
def enrolment_page(enrolment_id: int):
    enrolment = own_enrolment(enrolment_id)
    return render_template("bookings/enrolment.html", enrolment=enrolment, weeks=weeks_of(db.session(), enrolment),
                           now=now_utc())


@bp.route("/enrolments/<int:enrolment_id>/cancel", methods=["POST"])
@role_required(*FAMILY, "coordinator")
def cancel_enrolment(enrolment_id: int):
    enrolment = own_enrolment(enrolment_id)
    try:
        cancelled = cancel_weeks_to_come(db.session(), enrolment, by=current_account())
    except ServiceError as error:
        flash(str(error.message), "error")
    else:
        flash(ngettext("%(num)d séance annulée. Les places sont libres pour d'autres élèves.",
                       "%(num)d séances annulées. Les places sont libres pour d'autres élèves.", len(cancelled)),
              "success")
    return redirect(url_for("bookings.enrolment_page", enrolment_id=enrolment.id))


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
        # A child under 15 who signed up alone: the parent approves, the child is told how.
        awaiting=[child for child in children if child.awaiting],
        waiting=None if parent else consent.waiting(db_session, current_user.id),
        after=after,
        next_page=url_for("bookings.my_sessions", after=mark_of(rows[-1])) if more else None,
    )


@bp.route("/sessions/<int:booking_id>")
@role_required(*FAMILY, "coordinator")
def session_page(booking_id: int):
    booking = own_booking(booking_id)
    links = links_for(db.session(), current_user, [booking.slot_id])
    topic, _note = booking_texts(db.session(), current_account(), booking.id)
    return render_template(
        "bookings/session.html",
        booking=booking,
        topic=topic,
        mediation=booking.slot.activity.kind == MEDIATION,
        enrolment=enrolment_of(db.session(), booking.id),
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
    enrolment = enrolment_of(db.session(), booking.id)
    if enrolment is not None and current_user.role != "coordinator":
        back = url_for("bookings.enrolment_page", enrolment_id=enrolment.id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            cancel_booking(db.session(), booking, by=current_account(), reason=form.reason.data or "")
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
        child = add_child(db.session(), current_account(), form.name.data, form.school_class.data)
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
            if consent.needs_approval(db.session(), child):
                return redirect(url_for("bookings.approve_child", student_id=child.id))
            return redirect(url_for("bookings.my_sessions"))
    return render_template("bookings/link_child.html", form=form)


@bp.route("/children/<int:student_id>/approve", methods=["GET", "POST"])
@role_required("parent")
def approve_child(student_id: int):
    """A parent agrees that their child under 15 uses Lien (services/consent.py): said in plain
    words first, then one button."""
    db_session = db.session()
    child = next((child for child in consent.awaiting(db_session, current_user.id) if child.id == student_id), None)
    if child is None:
        if db_session.get(Guardianship, (current_user.id, student_id)) is None:
            abort(404)  # not their child
        return redirect(url_for("bookings.my_sessions"))  # nothing (more) to approve
    form = ApproveForm()
    if form.validate_on_submit():
        consent.approve(db_session, current_user.id, child.id)
        flash(_("Merci. %(name)s peut maintenant réserver des séances.", name=child.name), "success")
        return redirect(url_for("bookings.my_sessions"))
    return render_template("bookings/approve_child.html", form=form, child=child)


@bp.route("/tutors/<int:tutor_id>")
@role_required(*FAMILY, "coordinator")
def tutor_profile(tutor_id: int):
    """Who a tutor is: what they teach, at which levels, the languages they speak, their free slots."""
    tutor = db.session().get(User, tutor_id)
    if tutor is None or tutor.role != "tutor" or not tutor.active:
        abort(404)
    slots = [slot for slot in browse_slots(db.session(), now_utc(), SlotFilter(tutor_id=tutor.id))]
    return render_template("bookings/tutor.html", tutor=tutor, slots=slots, booking_for=_booking_for())


from . import waitlist  # noqa: E402,F401  (more of this blueprint's routes)
