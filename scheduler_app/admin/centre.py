"""The centre's view of every session: filter, move, cancel; and its activities."""

from datetime import datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import db
from ..access import current_account, own_slot, role_required
from ..clock import now_utc
from ..db import write_transaction
from ..forms import show_service_error
from ..i18n import viewer_zone
from ..models import Activity, TutorProfile, User
from ..services import ServiceError
from ..services.centre_sessions import CentreFilter, centre_slots
from ..services.tutor_sessions import bookings_of_slots
from ..services.slots import move_slot
from .centre_forms import ActivityForm, CentreFilterForm, MoveForm
from .forms import TutorProfileForm
from .routes import bp


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@bp.route("/sessions")
@role_required("coordinator")
def sessions():
    db_session = db.session()
    tutors = db_session.scalars(select(User).where(User.role == "tutor").order_by(User.name)).all()
    activities = db_session.scalars(select(Activity).order_by(Activity.id)).all()
    form = CentreFilterForm(request.args)
    form.fill_choices(tutors, activities)
    chosen = CentreFilter()
    if form.validate():
        day_start = day_end = None
        if form.day.data:
            zone = viewer_zone()
            day_start = datetime.combine(form.day.data, datetime.min.time(), zone)
            day_end = datetime.combine(form.day.data + timedelta(days=1), datetime.min.time(), zone)
        chosen = CentreFilter(day_start=day_start, day_end=day_end, tutor_id=_number(form.tutor.data),
                              activity_id=_number(form.activity.data), status=form.status.data or "")
    slots = centre_slots(db_session, now_utc() - timedelta(hours=12), chosen)
    return render_template("admin/sessions.html", form=form, slots=slots,
                           bookings=bookings_of_slots(db_session, slots), now=now_utc())


@bp.route("/slots/<int:slot_id>/move", methods=["GET", "POST"])
@role_required("coordinator")
def move(slot_id: int):
    slot = own_slot(slot_id)
    form = MoveForm()
    if request.method == "GET":
        local = slot.starts_at.astimezone(viewer_zone())
        form.day.data, form.start_time.data = local.date(), local.time().replace(second=0, microsecond=0)
    if form.validate_on_submit():
        try:
            moved = move_slot(db.session(), slot, form.day.data, form.start_time.data,
                              current_user.timezone, by=current_account())
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(ngettext("Séance déplacée. %(num)d famille prévenue, ainsi que le tuteur.",
                           "Séance déplacée. %(num)d familles prévenues, ainsi que le tuteur.", len(moved)),
                  "success")
            return redirect(url_for("admin.sessions"))
    return render_template("admin/move.html", form=form, slot=slot)


@bp.route("/activities")
@role_required("coordinator")
def activities():
    rows = db.session().scalars(select(Activity).order_by(Activity.id)).all()
    return render_template("admin/activities.html", activities=rows)


@bp.route("/activities/new", methods=["GET", "POST"])
@bp.route("/activities/<int:activity_id>", methods=["GET", "POST"])
@role_required("coordinator")
def edit_activity(activity_id: int | None = None):
    db_session = db.session()
    activity = db_session.get(Activity, activity_id) if activity_id else None
    if activity_id and activity is None:
        abort(404)
    form = ActivityForm(obj=activity)
    if form.validate_on_submit():
        try:
            with write_transaction(db_session):
                target = activity or Activity()
                form.populate_obj(target)
                target.name, target.name_en = target.name.strip(), (target.name_en or "").strip()
                db_session.add(target)
        except IntegrityError:
            form.name.errors = [*form.name.errors, _("Une activité porte déjà ce nom. Choisissez-en un autre.")]
        else:
            flash(_("Activité enregistrée."), "success")
            return redirect(url_for("admin.activities"))
    return render_template("admin/activity_edit.html", form=form, activity=activity)


@bp.route("/tutors/<int:tutor_id>", methods=["GET", "POST"])
@role_required("coordinator")
def edit_tutor(tutor_id: int):
    """What a tutor teaches, the languages they speak, and whether they tutor at the moment."""
    db_session = db.session()
    tutor = db_session.get(User, tutor_id)
    if tutor is None or tutor.role != "tutor" or tutor.deleted_at is not None:
        abort(404)
    profile = tutor.tutor_profile or TutorProfile(user_id=tutor.id)
    form = TutorProfileForm()
    form.fill_choices()
    if request.method == "GET":
        form.subjects.data = TutorProfile.unpack(profile.subjects)
        form.levels.data = TutorProfile.unpack(profile.levels)
        form.languages.data = TutorProfile.unpack(profile.languages)
        form.bio.data, form.active.data = profile.bio, tutor.active
    if form.validate_on_submit():
        with write_transaction(db_session):
            profile.subjects = TutorProfile.pack(form.subjects.data or [])
            profile.levels = TutorProfile.pack(form.levels.data or [])
            profile.languages = TutorProfile.pack(form.languages.data or ["fr"])
            profile.bio = (form.bio.data or "").strip()
            tutor.active = form.active.data
            db_session.add(profile)
        flash(_("Le profil de %(name)s est enregistré.", name=tutor.name), "success")
        return redirect(url_for("admin.people"))
    return render_template("admin/tutor_edit.html", form=form, tutor=tutor)
