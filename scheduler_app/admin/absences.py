"""Tutor absences to settle: give the session to another tutor, or cancel it."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import ngettext

from .. import db
from ..access import current_account, role_required
from ..forms import as_id
from ..services import ServiceError
from ..services.absences import cancel_for_absence, give_to_tutor, open_absences
from ..services.confidential import MEDIATION
from ..services.people import tutors
from .routes import bp


@bp.route("/absences")
@role_required("coordinator")
def absences():
    return render_template("admin/absences.html", absences=open_absences(db.session()),
                           tutors=[tutor for tutor in tutors(db.session()) if tutor.active])


@bp.route("/absences/<int:absence_id>/give", methods=["POST"])
@role_required("coordinator")
def give_absence(absence_id: int):
    try:
        bookings = give_to_tutor(db.session(), absence_id, as_id(request.form.get("tutor_id")) or 0)
    except ServiceError as error:
        flash(str(error.message), "error")
    else:
        flash(ngettext("Séance confiée. %(num)d famille prévenue, ainsi que les deux tuteurs.",
                       "Séance confiée. %(num)d familles prévenues, ainsi que les deux tuteurs.", len(bookings)),
              "success")
    return redirect(url_for("admin.absences"))


@bp.route("/absences/<int:absence_id>/cancel", methods=["POST"])
@role_required("coordinator")
def cancel_absence(absence_id: int):
    try:
        bookings = cancel_for_absence(db.session(), absence_id, current_account())
    except ServiceError as error:
        flash(str(error.message), "error")
    else:
        if bookings and bookings[0].slot.activity.kind != MEDIATION:  # the families wait for a session like it
            message = ngettext("Séance annulée. %(num)d famille prévenue et mise sur la liste d'attente.",
                               "Séance annulée. %(num)d familles prévenues et mises sur la liste d'attente.",
                               len(bookings))
        else:
            message = ngettext("Séance annulée. %(num)d famille prévenue, avec d'autres créneaux à réserver.",
                               "Séance annulée. %(num)d familles prévenues, avec d'autres créneaux à réserver.",
                               len(bookings))
        flash(message, "success")
    return redirect(url_for("admin.absences"))
