"""Signing up, logging in and out."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from .. import db
from ..extensions import limiter
from ..forms import e164, safe_next, show_service_error
from ..services import ServiceError
from ..services.accounts import NewPerson, find_by_email, register as register_person
from .forms import LoginForm, RegisterForm

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = find_by_email(db.session(), form.email.data)
        if user is not None and user.active and user.check_password(form.password.data):
            login_user(user, remember=form.remember.data)
            session["locale"] = user.locale
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
        form.form_errors.append(_("Adresse e-mail ou mot de passe incorrect. Vérifiez et réessayez."))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("Vous êtes déconnecté. À bientôt !"), "info")
    return redirect(url_for("main.home"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    if request.method == "GET" and session.get("locale"):
        form.locale.data = session["locale"]
    if form.validate_on_submit():
        try:
            user = register_person(
                db.session(),
                NewPerson(
                    name=form.name.data,
                    role=form.role.data,
                    email=form.email.data,
                    phone=e164(form.phone.data),
                    password=form.password.data,
                    locale=form.locale.data,
                    timezone=current_app.config["TIMEZONE"],
                ),
            )
        except ServiceError as error:
            show_service_error(form, error)
        else:
            login_user(user)
            session["locale"] = user.locale
            flash(_("Bienvenue sur Lien, %(name)s !", name=user.name), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/register.html", form=form)
