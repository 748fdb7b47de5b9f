"""Who may see what: role checks, and loading objects only for those they belong to."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from . import db
from .models import AvailabilityRule, Booking, Enrolment, Slot, User
from .services.booking import may_act_for
from .services.confidential import family_may_see


def role_required(*roles: str):
    """Only logged-in people with one of these roles; others get 403."""

    def decorate(view):
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


def current_account() -> User:
    """The logged-in account itself, loaded once per request (not Flask-Login's proxy to it):
    what a view hands to a service that stores it, as who booked or who cancelled."""
    return current_user._get_current_object()


def own_slot(slot_id: int) -> Slot:
    """A slot of the current tutor's (any slot for a coordinator): 404 if none, 403 if not theirs."""
    slot = db.session().get(Slot, slot_id)
    if slot is None:
        abort(404)
    check_slot_tutor(slot.tutor_id)
    return slot


def check_slot_tutor(tutor_id: int) -> None:
    """403 unless the current person is the slot's tutor (`tutor_id`) or a coordinator."""
    if current_user.role != "coordinator" and tutor_id != current_user.id:
        abort(403)


def own_booking(booking_id: int) -> Booking:
    """A booking the current person may act on: the student's, their parent's, or a coordinator."""
    booking = db.session().get(Booking, booking_id)
    if booking is None:
        abort(404)
    if not may_act_for(current_user, booking.student, db.session()):
        abort(403)
    if current_user.role != "coordinator" and not family_may_see(current_user, booking):
        abort(403)  # a mediation someone else booked, seen through a linked child
    return booking


def own_enrolment(enrolment_id: int) -> Enrolment:
    """An enrolment the current person may act on, as for its bookings (own_booking)."""
    enrolment = db.session().get(Enrolment, enrolment_id)
    if enrolment is None:
        abort(404)
    if not may_act_for(current_user, enrolment.student, db.session()):
        abort(403)
    return enrolment


def own_rule(rule_id: int) -> AvailabilityRule:
    """A weekly availability of the current tutor's: 404 if none, 403 if someone else's."""
    rule = db.session().get(AvailabilityRule, rule_id)
    if rule is None:
        abort(404)
    if rule.tutor_id != current_user.id:
        abort(403)
    return rule
