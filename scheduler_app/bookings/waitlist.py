"""The waitlist: join it from a full slot; the offer's link (/w/<token>) takes the place or leaves
the list, without logging in: like a join link, the link is the key."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import db
from ..access import current_account, role_required
from ..clock import now_utc
from ..extensions import limiter
from ..models import Slot
from ..services import ServiceError
from ..services.family import students_in_care
from ..services.waitlist import find_offer, join_waitlist, leave_waitlist, take_offer
from .forms import WaitlistForm
from .routes import FAMILY, _booking_for, bp


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
