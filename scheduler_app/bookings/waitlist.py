"""The waitlist: join it from a full slot, or wish for any slot like one (from the slot browser
when nothing matches, or a full slot); the offer's link (/w/<token>) takes the place or leaves
the list, without logging in: like a join link, the link is the key."""

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import db
from ..access import current_account, role_required
from ..clock import now_utc
from ..extensions import limiter
from ..forms import show_service_error
from ..i18n import viewer_zone
from ..models import Slot
from ..services import ServiceError
from ..services.family import students_in_care
from ..services.waitlist import Wish, find_offer, join_waitlist, join_wish, leave_waitlist, take_offer, wish_days
from .forms import WaitlistForm, WishForm
from .routes import FAMILY, _booking_for, _check_students, _class_level, bp

WISH_DAYS_SHOWN = 14  # the days a new wish's form proposes: the next two weeks


@bp.route("/slots/<int:slot_id>/waitlist", methods=["POST"])
@role_required(*FAMILY, "coordinator")
def join(slot_id: int):
    """ "Prévenez-moi si une place se libère" for this slot."""
    slot = db.session().get(Slot, slot_id)
    if slot is None:
        abort(404)
    booking_for = _booking_for()
    students = [booking_for] if booking_for else students_in_care(db.session(), current_user)
    form = WaitlistForm()
    form.student_id.choices = [(student.id, student.name) for student in students]
    if not form.validate_on_submit():
        flash(_("Choisissez l'enfant."), "error")
        return redirect(url_for("bookings.book", slot_id=slot.id, **({"for": booking_for.id} if booking_for else {})))
    student = next(s for s in students if s.id == form.student_id.data)
    try:
        join_waitlist(db.session(), slot.id, student, current_account())
    except ServiceError as error:
        flash(str(error.message), "error")
        return redirect(url_for("bookings.book", slot_id=slot.id, **({"for": booking_for.id} if booking_for else {})))
    flash(_("C'est noté : si une place se libère, nous prévenons %(name)s par message.", name=student.name),
          "success")
    return redirect(url_for("admin.people") if booking_for else url_for("bookings.my_sessions"))


@bp.route("/waitlist/new", methods=["GET", "POST"])
@role_required(*FAMILY, "coordinator")
def wish():
    """ "Prévenez-moi si une place se libère" for any slot of a subject, level and tutor's
    language within some days; a coordinator does it for a student (?for=)."""
    booking_for = _booking_for()
    if current_user.role == "coordinator" and booking_for is None:
        flash(_("Choisissez d'abord l'élève, dans la page des familles."), "info")
        return redirect(url_for("admin.people"))
    if booking_for is not None and booking_for.role != "student":
        abort(404)  # homework help is waited for by a student
    students = [booking_for] if booking_for else students_in_care(db.session(), current_user)
    _check_students(students)
    form = WishForm()
    form.fill_choices()
    form.student_id.choices = [(student.id, student.name) for student in students]
    if len(students) == 1:
        form.student_id.data = students[0].id
    today = now_utc().astimezone(viewer_zone()).date()
    if request.method == "GET":  # filled from the slot browser's filters, or a full slot's
        for field in (form.subject, form.level, form.language):
            chosen = request.args.get(field.name, "")
            field.data = chosen if chosen in dict(field.choices) else ""
        if "level" not in request.args:
            form.level.data = _class_level(booking_for)
        form.first_day.data, form.last_day.data = today, today + timedelta(days=WISH_DAYS_SHOWN)
    elif form.validate_on_submit():
        student = next(s for s in students if s.id == form.student_id.data)
        try:
            starts_from, starts_until = wish_days(form.first_day.data, form.last_day.data, today,
                                                  str(viewer_zone()))
            join_wish(db.session(), student, current_account(),
                      Wish(starts_from=starts_from, starts_until=starts_until, subject=form.subject.data,
                           level=form.level.data, language=form.language.data))
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("C'est noté : si une place se libère, nous prévenons %(name)s par message.", name=student.name),
                  "success")
            return redirect(url_for("admin.people") if booking_for else url_for("bookings.my_sessions"))
    return render_template("bookings/wish.html", form=form, booking_for=booking_for)


def _offer_or_404(token: str):
    entry = find_offer(db.session(), token) if len(token) <= 64 else None
    if entry is None:
        abort(404)
    return entry


@bp.route("/w/<token>")
@limiter.limit("30 per minute")
def offer(token: str):
    entry = _offer_or_404(token)
    return render_template("bookings/offer.html", entry=entry, now=now_utc())


@bp.route("/w/<token>/take", methods=["POST"])
@limiter.limit("30 per minute")
def take(token: str):
    entry = _offer_or_404(token)
    try:
        take_offer(db.session(), token)
    except ServiceError as error:
        return render_template("bookings/offer.html", entry=entry, now=now_utc(), message=error.message)
    return render_template("bookings/offer.html", entry=find_offer(db.session(), token), now=now_utc(),
                           message=_("C'est réservé ! La confirmation arrive par message."), taken=True)


@bp.route("/w/<token>/leave", methods=["POST"])
@limiter.limit("30 per minute")
def leave(token: str):
    entry = _offer_or_404(token)
    try:
        leave_waitlist(db.session(), token)
    except ServiceError as error:
        return render_template("bookings/offer.html", entry=entry, now=now_utc(), message=error.message)
    return render_template("bookings/offer.html", entry=find_offer(db.session(), token), now=now_utc(),
                           message=_("Vous avez quitté la liste d'attente."), taken=True)
