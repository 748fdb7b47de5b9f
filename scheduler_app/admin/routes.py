"""The centre's staff: people (tutors and families)."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import db
from ..access import role_required
from ..auth.forms import ProfileForm
from ..clock import now_utc
from ..dispatch import retry
from ..forms import as_id, e164, show_service_error
from ..i18n import readable_phone
from ..models import User
from ..services import ServiceError, family_page, login_codes, passwords
from ..services.accounts import NewPerson, NewTutor, create_contact, create_family, create_tutor, update_profile
from ..services.message_log import STATUS_NAMES, kind_name, message_page
from ..services.people import coordinators, families_page, first_child, tutors
from .forms import ContactForm, FamilyForm, TutorForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@role_required("coordinator")
def people():
    db_session = db.session()
    search = request.args.get("q", "").strip()
    page = families_page(db_session, search, as_id(request.args.get("after")))
    next_page = url_for("admin.people", q=search or None, after=page.next_after) if page.next_after else None
    return render_template("admin/people.html", tutors=tutors(db_session), parents=page.parents, search=search,
                           coordinators=coordinators(db_session), next_page=next_page,
                           first_page="after" in request.args)


@bp.route("/families/<int:parent_id>")
@role_required("coordinator")
def family(parent_id: int):
    """One family, as the coordinator needs it on the phone: children, bookings, messages."""
    found = family_page.family(db.session(), parent_id)
    if found is None:
        abort(404)
    return render_template("admin/family.html", family=found, now=now_utc())


@bp.route("/families/<int:parent_id>/code", methods=["POST"])
@role_required("coordinator")
def send_login_code(parent_id: int):
    found = family_page.family(db.session(), parent_id)
    if found is None:
        abort(404)
    try:
        login_codes.send_code(db.session(), found.parent.phone or "", found.parent.locale)
    except ServiceError as error:
        flash(str(error.message), "error")
    else:
        flash(_("Un code de connexion part par SMS. La famille va sur Lien, touche « Entrer avec un code par SMS » "
                "et écrit le code."), "success")
    return redirect(url_for("admin.family", parent_id=parent_id))


@bp.route("/families/<int:parent_id>/bookings/<int:booking_id>/resend", methods=["POST"])
@role_required("coordinator")
def resend_link(parent_id: int, booking_id: int):
    found = family_page.family(db.session(), parent_id)
    if found is None:
        abort(404)
    try:
        family_page.resend_link(db.session(), found.parent, booking_id)
    except ServiceError as error:
        flash(str(error.message), "error")
    else:
        flash(_("Le lien de la séance repart vers %(name)s.", name=found.parent.name), "success")
    return redirect(url_for("admin.family", parent_id=parent_id))


@bp.route("/tutors/new", methods=["GET", "POST"])
@role_required("coordinator")
def new_tutor():
    form = TutorForm()
    form.fill_choices()
    if form.validate_on_submit():
        try:
            tutor = create_tutor(
                db.session(),
                NewTutor(
                    name=form.name.data,
                    role="tutor",
                    email=form.email.data,
                    phone=e164(form.phone.data),
                    password=form.password.data,
                    timezone=current_app.config["TIMEZONE"],
                    subjects=form.subjects.data or [],
                    levels=form.levels.data or [],
                    languages=form.languages.data or ["fr"],
                    bio=form.bio.data or "",
                ),
            )
        except ServiceError as error:
            show_service_error(form, error)
        else:
            if not form.password.data:
                passwords.send_link(db.session(), tutor, "invitation")
            flash(_("%(name)s est maintenant tuteur.", name=tutor.name), "success")
            return redirect(url_for("admin.people"))
    return render_template("admin/tutor_new.html", form=form)


@bp.route("/families/new", methods=["GET", "POST"])
@role_required("coordinator")
def new_family():
    form = FamilyForm()
    if form.validate_on_submit():
        zone = current_app.config["TIMEZONE"]
        locale = form.parent_locale.data
        children = [NewPerson(name=name, role="student", timezone=zone, locale=locale, school_class=school_class or None)
                    for name, school_class in form.children()]
        try:
            parent = create_family(
                db.session(),
                NewPerson(
                    name=form.parent_name.data,
                    role="parent",
                    email=form.parent_email.data,
                    phone=e164(form.parent_phone.data),
                    password=form.parent_password.data,
                    locale=locale,
                    timezone=zone,
                ),
                children,
            )
        except ServiceError as error:
            error.field = {"email": "parent_email"}.get(error.field, error.field)
            show_service_error(form, error)
        else:
            if parent.email and not form.parent_password.data:
                passwords.send_link(db.session(), parent, "invitation")
            flash(_("La famille de %(name)s est enregistrée.", name=parent.name), "success")
            # Still on the phone: straight on to booking for the first child.
            child = first_child(db.session(), parent)
            return redirect(url_for("bookings.browse", **{"for": child}) if child
                            else url_for("admin.family", parent_id=parent.id))
    return render_template("admin/family_new.html", form=form)


@bp.route("/contacts/new", methods=["GET", "POST"])
@role_required("coordinator")
def new_contact():
    """An adult for a mediation, with only a phone: messages reach them by SMS."""
    form = ContactForm()
    if form.validate_on_submit():
        try:
            person = create_contact(db.session(), NewPerson(
                name=form.name.data, role="parent", email=form.email.data, phone=e164(form.phone.data),
                timezone=current_app.config["TIMEZONE"]))
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("%(name)s est enregistré.", name=person.name), "success")
            return redirect(url_for("admin.people", q=person.name))
    return render_template("admin/contact_new.html", form=form)


@bp.route("/messages")
@role_required("coordinator")
def messages():
    """Every message, newest first, a page at a time; ?status= keeps one status."""
    status = request.args.get("status", "")
    if status not in STATUS_NAMES:
        status = ""
    before = request.args.get("before", "")
    page = message_page(db.session(), status=status,
                        before=int(before) if before.isdigit() and len(before) < 19 else None)
    return render_template(
        "admin/messages.html", page=page, status=status, statuses=STATUS_NAMES, kind_name=kind_name,
        first_page=before.isdigit(),
        next_page=url_for("admin.messages", status=status or None, before=page.next_before)
        if page.next_before else None,
    )


@bp.route("/messages/<int:notification_id>/retry", methods=["POST"])
@role_required("coordinator")
def retry_message(notification_id: int):
    if retry(db.session(), notification_id):
        flash(_("Le message repart au prochain envoi."), "success")
    else:
        flash(_("Ce message n'est plus en échec."), "info")
    return redirect(url_for("admin.messages"))


@bp.route("/people/<int:person_id>", methods=["GET", "POST"])
@role_required("coordinator")
def edit_person(person_id: int):
    """A coordinator sets a family member's addresses, channels and language (on the phone)."""
    person = db.session().get(User, person_id)
    if person is None:
        abort(404)
    form = ProfileForm(obj=person)
    if request.method == "GET":
        form.phone.data = readable_phone(person.phone)
    if form.validate_on_submit():
        try:
            update_profile(db.session(), person, form.change())
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("Les réglages de %(name)s sont enregistrés.", name=person.name), "success")
            return redirect(url_for("admin.people"))
    return render_template("admin/person_edit.html", form=form, person=person)


from . import absences, calendar, centre, day, privacy, reports  # noqa: E402,F401  (more of this blueprint's routes)
