"""A person's data: export it (JSON), delete it; a student's family code."""

import json

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import db
from ..access import current_account, role_required
from ..models import User
from ..services.accounts import issue_family_code
from ..services.privacy import delete_person, export
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


@bp.route("/people/<int:person_id>/delete", methods=["GET", "POST"])
@role_required("coordinator")
def delete_person_page(person_id: int):
    person = _person(person_id)
    if person.role == "coordinator":
        abort(403)
    if request.method == "POST":  # CSRFProtect has checked the token
        name = person.name
        delete_person(db.session(), person)
        flash(_("Les données de %(name)s sont effacées. Ses séances passées restent comptées, sans son nom.",
                name=name), "success")
        return redirect(url_for("admin.people"))
    return render_template("admin/person_delete.html", person=person)


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
