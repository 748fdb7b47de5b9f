"""The front door: where each person starts, and the language switch."""

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from .. import db
from ..db import write_transaction
from ..forms import safe_next

bp = Blueprint("main", __name__)

HOMES = {
    "student": "bookings.my_sessions",
    "parent": "bookings.my_sessions",
    "tutor": "slots.mine",
    "coordinator": "admin.people",
}


@bp.route("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for(HOMES[current_user.role]))
    return render_template("home.html")


@bp.route("/language/<code>")
def language(code: str):
    """Switch the page language (a plain link, so it works without JavaScript)."""
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
        if current_user.is_authenticated and current_user.locale != code:
            with write_transaction(db.session()):
                current_user.locale = code
    return redirect(safe_next(request.args.get("next")) or url_for("main.home"))


@bp.route("/health")
def health():
    reasons = delivery_reasons()
    if reasons:
        return {"status": "degraded", "reasons": reasons}
    return {"status": "ok"}


def delivery_reasons() -> list[str]:
    """In production, why messages would only go to the log (empty when they are really sent)."""
    from ..checks import degraded_reasons

    if current_app.debug or current_app.testing:
        return []
    return degraded_reasons(current_app.config)
