"""A person's data: export it (JSON), delete it; a student's family code."""

import json

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired

from .. import db
from ..access import current_account, role_required
from ..forms import show_service_error
from ..i18n import say
from ..models import User
from ..services import ServiceError
from ..services.accounts import issue_family_code
from ..services.privacy import CANCEL, KEEP, ChildSessions, children_sessions, delete_person, export
from .routes import bp


def _person(person_id: int) -> User:
    person = db.session().get(User, person_id)
    if person is None or person.deleted_at is not None:
        abort(404)
    return person


@bp.route("/people/<int:person_id>/export.json")
@role_required("coordinator")
def export_person(person_id: int):
    person = _person(person_id)
    body = json.dumps(export(db.session(), person, viewer=current_account()), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="lien-personne-{person.id}.json"', "Cache-Control": "no-store"})


def _delete_form(children: list[ChildSessions]) -> FlaskForm:
    """The confirmation, with one question per child who has sessions to come: cancel them, or
    keep them when another parent remains."""

    class DeleteForm(FlaskForm):
        pass

    for child in children:
        choices = [(CANCEL, _l("Les annuler : l'élève, ses autres parents et les tuteurs sont prévenus."))]
        notes = ["; ".join(say(booking.starts_at) for booking in child.bookings)]
        if child.may_keep:
            choices.append((KEEP, _("Les garder : %(names)s reste son parent sur Lien et reçoit les messages.",
                                    names=", ".join(parent.name for parent in child.other_parents))))
        else:
            notes.append(_("%(name)s n'aurait plus de parent sur Lien : ses séances à venir ne peuvent qu'être "
                           "annulées.", name=child.student.name))
        question = _("Choisissez ce que deviennent les séances à venir de %(name)s.", name=child.student.name)
        setattr(DeleteForm, f"child_{child.student.id}", RadioField(
            _("Les séances à venir de %(name)s", name=child.student.name), choices=choices,
            description=" — ".join(notes), validators=[InputRequired(question)]))
    return DeleteForm()


@bp.route("/people/<int:person_id>/delete", methods=["GET", "POST"])
@role_required("coordinator")
def delete_person_page(person_id: int):
    person = _person(person_id)
    if person.role == "coordinator":
        abort(403)
    children = children_sessions(db.session(), person)
    form = _delete_form(children)
    if form.validate_on_submit():
        name = person.name
        try:
            cancelled = delete_person(db.session(), person, {
                child.student.id: form[f"child_{child.student.id}"].data for child in children})
        except ServiceError as error:
            # A child was booked since the page was shown: ask about them too.
            children = children_sessions(db.session(), person)
            form = _delete_form(children)  # with the answers already given
            show_service_error(form, error)
        else:
            flash(_("Les données de %(name)s sont effacées. Ses séances passées restent comptées, sans son nom.",
                    name=name), "success")
            if cancelled:
                flash(ngettext("%(num)d séance à venir de ses enfants est annulée : les familles et les tuteurs "
                               "sont prévenus.",
                               "%(num)d séances à venir de ses enfants sont annulées : les familles et les tuteurs "
                               "sont prévenus.", len(cancelled)), "info")
            return redirect(url_for("admin.people"))
    return render_template("admin/person_delete.html", person=person, form=form, children=children)


@bp.route("/people/<int:person_id>/code", methods=["POST"])
@role_required("coordinator")
def family_code(person_id: int):
    person = _person(person_id)
    if person.role != "student":
        abort(404)
    code = issue_family_code(db.session(), person)
    flash(_("Code pour relier %(name)s : %(code)s. Donnez-le au parent.", name=person.name,
            code=f"{code[:4]}-{code[4:]}"), "success")
    return redirect(url_for("admin.edit_person", person_id=person.id))
