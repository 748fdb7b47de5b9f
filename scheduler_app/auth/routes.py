"""Signing up, logging in and out."""

from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user, user_loaded_from_cookie, user_logged_in

from .. import db
from ..access import current_account
from ..clock import now_utc
from ..extensions import limiter
from ..forms import e164, safe_next, show_service_error
from ..i18n import readable_phone
from ..models import User
from ..services import ServiceError, login_codes, passwords, sign_up
from ..services.accounts import NewPerson, find_by_email, normalise_email, note_login
from ..services.accounts import register as register_person
from .forms import (
    ChangePasswordForm,
    ChoosePasswordForm,
    CodeForm,
    FinishSignUpForm,
    ForgotForm,
    LoginForm,
    PhoneForm,
    PhoneSignUpForm,
    ProfileForm,
    RegisterForm,
)

bp = Blueprint("auth", __name__)


@bp.record_once
def _note_logins(state) -> None:
    """Every way in (this form, a new password, "stay logged in", any later one) is noted."""
    user_logged_in.connect(_came_in, state.app)
    user_loaded_from_cookie.connect(_came_in, state.app)


def _came_in(_app, user, **_extra) -> None:
    note_login(db.session(), user.id)


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
        if passwords.check_login(user, form.password.data):
            login_user(user, remember=form.remember.data)
            session["account_locale"] = user.locale  # for a page that cannot read the account (errors.py)
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
        form.form_errors.append(_("Adresse e-mail ou mot de passe incorrect. Vérifiez et réessayez."))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # A copied session or "stay logged in" cookie must not outlive the logout.
        passwords.log_out_everywhere(db.session(), current_account())
    logout_user()
    flash(_("Vous êtes déconnecté. À bientôt !"), "info")
    return redirect(url_for("main.home"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    if request.method == "GET" and session.get("locale"):
        form.locale.data = session["locale"]
    if form.validate_on_submit():
        try:
            sign_up.ask(db.session(), NewPerson(
                name=form.name.data,
                role=form.role.data,
                email=form.email.data,
                phone=e164(form.phone.data),
                password=form.password.data,
                locale=form.locale.data,
                timezone=current_app.config["TIMEZONE"],
                birth_year=form.birth_year.data,
                school_class=form.school_class.data if form.role.data == "student" else None,
            ))
        except ServiceError as error:
            show_service_error(form, error)
        else:
            # The same answer whether or not the address has an account (services/sign_up.py).
            session["sign_up_email"] = normalise_email(form.email.data)
            return redirect(url_for("auth.sign_up_sent"))
    return render_template("auth/register.html", form=form)


@bp.route("/register/sent")
def sign_up_sent():
    email = session.get("sign_up_email")
    return render_template("auth/sign_up_sent.html", email=email if isinstance(email, str) else None)


@bp.route("/register/finish/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def finish_sign_up(token: str):
    """The link of a sign-up email: one button creates the account (a mail scanner that opens
    links creates nothing) and logs in."""
    person = sign_up.from_link(token)
    if person is None:
        return render_template("auth/link_expired.html", sign_up=True), 410
    form = FinishSignUpForm()
    if form.validate_on_submit():
        try:
            user = sign_up.finish(db.session(), person)
        except ServiceError as error:
            flash(str(error.message), "error")
            return redirect(url_for("auth.login") if error.field == "email" else url_for("auth.register"))
        session.pop("sign_up_email", None)
        return _welcome(user)
    return render_template("auth/finish_sign_up.html", form=form, person=person)


def _welcome(user: User):
    """A new account, logged in and greeted on the home page in its own language."""
    login_user(user)
    session["locale"] = user.locale
    flash(_("Bienvenue sur Lien, %(name)s !", name=user.name), "success")
    return redirect(url_for("main.home"))


def _forgot_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_forgot_limit, methods=["POST"])
def forgot_password():
    form = ForgotForm()
    if form.validate_on_submit():
        user = find_by_email(db.session(), form.email.data)
        if user is not None and user.active:
            passwords.send_link(db.session(), user, "reset")
        # The same answer either way: the page must not tell who has an account.
        flash(_("Si cette adresse a un compte, nous venons de lui envoyer un lien. "
                "Regardez aussi dans le courrier indésirable."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/<purpose>/<token>", methods=["GET", "POST"])
@limiter.limit(_forgot_limit, methods=["POST"])
def choose_password(purpose: str, token: str):
    user = passwords.person_from_link(db.session(), purpose, token)
    if user is None:
        return render_template("auth/link_expired.html"), 410
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        passwords.set_password(db.session(), user, form.password.data)
        login_user(user)
        flash(_("C'est fait : votre mot de passe est enregistré."), "success")
        return redirect(url_for("main.home"))
    return render_template("auth/choose_password.html", form=form, person=user, purpose=purpose)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    account = current_account()
    form = ProfileForm(obj=account)
    if request.method == "GET":
        form.phone.data = readable_phone(account.phone)
    password_form = ChangePasswordForm(prefix="pw")
    if request.method == "POST" and "pw-current" not in request.form and form.validate_on_submit():
        try:
            waiting = sign_up.update_own_profile(db.session(), account, form.change())
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("Vos réglages sont enregistrés."), "success")
            if waiting:  # the same words whether or not the address has an account
                flash(_("Pour changer d'adresse e-mail, ouvrez le lien envoyé à %(email)s.", email=waiting), "info")
            return redirect(url_for("auth.profile"))
    elif request.method == "POST" and "pw-current" in request.form and password_form.validate_on_submit():
        if not account.check_password(password_form.current.data):
            password_form.current.errors = [_("Ce n'est pas votre mot de passe actuel. Réessayez.")]
        else:
            passwords.set_password(db.session(), account, password_form.password.data)
            login_user(account)  # with its new login key: this device stays logged in; the others are not
            flash(_("Mot de passe changé. Vos autres appareils sont déconnectés."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form, password_form=password_form)


@bp.route("/profile/email/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def confirm_email(token: str):
    """The link sent to a new address: one button gives it to the account that asked."""
    found = sign_up.email_change_from_link(db.session(), token)
    if found is None:
        return render_template("auth/link_expired.html", email_change=True), 410
    person, email = found
    form = FinishSignUpForm()
    if form.validate_on_submit():
        try:
            sign_up.change_email(db.session(), person, email)
        except ServiceError as error:
            flash(str(error.message), "error")
        else:
            flash(_("C'est fait : votre adresse e-mail est changée."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/confirm_email.html", form=form, person=person, email=email)


def _code_limit() -> str:
    return current_app.config["RATELIMIT_SMS_CODE"]


# How long after a right code a number without an account may finish signing up.
SIGN_UP_WINDOW = timedelta(minutes=30)


@bp.route("/login/sms", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
def login_by_sms():
    """Log in (or sign up) with a mobile: the same answer whether the number has an account."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = PhoneForm()
    if form.validate_on_submit():
        try:
            phone = login_codes.send_code(db.session(), form.phone.data, session.get("locale") or "fr")
        except ServiceError as error:
            show_service_error(form, error)
        else:
            session["code_phone"] = phone
            session.pop("verified_phone", None)
            return redirect(url_for("auth.enter_code", next=safe_next(request.args.get("next"))))
    return render_template("auth/login_sms.html", form=form)


@bp.route("/login/sms/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def enter_code():
    phone = session.get("code_phone")
    if not isinstance(phone, str):
        return redirect(url_for("auth.login_by_sms"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            checked = login_codes.check_code(db.session(), phone, form.code.data)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            session.pop("code_phone", None)
            if checked.user is not None:
                login_user(checked.user)
                session["locale"] = checked.user.locale
                return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
            session["verified_phone"] = [phone, now_utc().isoformat()]
            return redirect(url_for("auth.register_by_phone"))
    return render_template("auth/enter_code.html", form=form, phone=phone)


def _verified_phone() -> str | None:
    """The number whose code was right a moment ago, for a person without an account."""
    value = session.get("verified_phone")
    try:
        phone, when = value
        if now_utc() - datetime.fromisoformat(when) <= SIGN_UP_WINDOW and isinstance(phone, str):
            return phone
    except (TypeError, ValueError):
        pass
    return None


@bp.route("/register/phone", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def register_by_phone():
    phone = _verified_phone()
    if phone is None:
        return redirect(url_for("auth.login_by_sms"))
    form = PhoneSignUpForm()
    if request.method == "GET" and session.get("locale"):
        form.locale.data = session["locale"]
    if form.validate_on_submit():
        try:
            user = register_person(db.session(), NewPerson(
                name=form.name.data, role=form.role.data, phone=phone, locale=form.locale.data,
                timezone=current_app.config["TIMEZONE"]))
        except ServiceError as error:
            show_service_error(form, error)
        else:
            session.pop("verified_phone", None)
            return _welcome(user)
    return render_template("auth/register_phone.html", form=form, phone=phone)
