"""The centre's view of every session: filter, move, cancel; and its activities."""

from datetime import datetime, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import db
from ..access import current_account, own_slot, role_required
from ..clock import now_utc
from ..forms import as_id, show_service_error
from ..i18n import viewer_zone
from ..models import Activity, Slot, User
from ..services import ServiceError
from ..services.accounts import set_mediator
from ..services.activities import all_activities, has_sessions, save_activity
from ..services.centre_sessions import CentreFilter, centre_slots
from ..services.join import JoinOpening, coordinator_can_enter, coordinator_entry, who_moderates
from ..services.people import find_tutor, tutor_names, update_tutor_profile
from ..services.slots import move_slot
from ..services.tutor_sessions import bookings_of_slots
from .centre_forms import ActivityForm, CentreFilterForm, MoveForm
from .forms import TutorProfileForm
from .routes import bp


@bp.route("/sessions")
@role_required("coordinator")
def sessions():
    db_session = db.session()
    form = CentreFilterForm(request.args)
    form.fill_choices(tutor_names(db_session), all_activities(db_session))
    chosen = CentreFilter()
    if form.validate():
        day_start = day_end = None
        if form.day.data:
            zone = viewer_zone()
            day_start = datetime.combine(form.day.data, datetime.min.time(), zone)
            day_end = datetime.combine(form.day.data + timedelta(days=1), datetime.min.time(), zone)
        chosen = CentreFilter(day_start=day_start, day_end=day_end, tutor_id=as_id(form.tutor.data),
                              activity_id=as_id(form.activity.data), status=form.status.data or "")
    slots = centre_slots(db_session, now_utc() - timedelta(hours=12), chosen)
    from ..join.routes import jitsi_settings

    jitsi, now, zone = jitsi_settings(), now_utc(), viewer_zone()
    moderation = who_moderates(jitsi, moderator_from_token=current_app.config["JITSI_MODERATOR_FROM_TOKEN"])
    enterable = {slot.id for slot in slots if coordinator_can_enter(slot, now=now, zone=zone, grace=jitsi.grace)}
    return render_template("admin/sessions.html", form=form, slots=slots,
                           bookings=bookings_of_slots(db_session, slots, current_account()), now=now, enterable=enterable,
                           moderation=moderation, opening=JoinOpening.from_config(current_app.config),
                           lobby=jitsi.lobby)


@bp.route("/slots/<int:slot_id>/enter")
@role_required("coordinator")
def enter(slot_id: int):
    """Step into a session of the day to help a stuck family: as a guest, never as moderator."""
    from ..join.routes import jitsi_settings, to_room

    slot = db.session().get(Slot, slot_id)
    if slot is None:
        abort(404)
    me = current_account()
    url = coordinator_entry(slot, _("%(name)s, du centre", name=me.name.split()[0] if me.name.split() else me.name),
                            now=now_utc(), zone=viewer_zone(), jitsi=jitsi_settings())
    if url is None:
        flash(_("On ne peut entrer que dans une séance du jour qui n'est pas finie ni annulée."), "error")
        return redirect(url_for("admin.sessions"))
    return to_room(url)


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
    return render_template("admin/activities.html", activities=all_activities(db.session()))


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
        if activity is not None and form.kind.data != activity.kind and has_sessions(db_session, activity):
            # Its sessions were opened for one kind (who runs them, who may read them).
            form.kind.errors = [_("Cette activité a déjà des séances : son genre ne peut plus changer.")]
            return render_template("admin/activity_edit.html", form=form, activity=activity)
        try:
            save_activity(db_session, activity, form.change())
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("Activité enregistrée."), "success")
            return redirect(url_for("admin.activities"))
    return render_template("admin/activity_edit.html", form=form, activity=activity)


@bp.route("/tutors/<int:tutor_id>", methods=["GET", "POST"])
@role_required("coordinator")
def edit_tutor(tutor_id: int):
    """What a tutor teaches, the languages they speak, and whether they tutor at the moment."""
    tutor = find_tutor(db.session(), tutor_id)
    if tutor is None:
        abort(404)
    form = TutorProfileForm()
    form.fill_choices()
    if request.method == "GET":
        form.show(tutor)
    if form.validate_on_submit():
        if form.mediator.data != tutor.mediator:
            set_mediator(db.session(), current_account(), tutor, form.mediator.data)
        update_tutor_profile(db.session(), tutor, form.change())
        flash(_("Le profil de %(name)s est enregistré.", name=tutor.name), "success")
        return redirect(url_for("admin.people"))
    return render_template("admin/tutor_edit.html", form=form, tutor=tutor)


@bp.route("/coordinators/<int:person_id>/mediation", methods=["POST"])
@role_required("coordinator")
def coordinator_mediation(person_id: int):
    """Mark a coordinator for mediation, or no longer: only one marked may do it."""
    person = db.session().get(User, person_id)
    if person is None or person.role != "coordinator":
        abort(404)
    if not current_user.mediator:
        abort(403)
    set_mediator(db.session(), current_account(), person, request.form.get("mediator") == "1")
    flash(_("Les réglages de %(name)s sont enregistrés.", name=person.name), "success")
    return redirect(url_for("admin.people"))
