"""The front door: where each person starts, the language switch, and the health check."""

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from ..errors import RETRY_AFTER_SECONDS
from ..forms import safe_next
from ..health import report as health_report

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
    """Switch the page language (a plain link, so it works without JavaScript). The language of
    an account's messages is a setting of its own (the profile): this never changes it."""
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
    return redirect(safe_next(request.args.get("next")) or url_for("main.home"))


@bp.route("/health/live")
def live():
    """The process answers (liveness): no database, no Redis; the benchmark's floor."""
    return {"status": "ok"}


@bp.route("/health")
def health():
    """For monitors and load balancers: 200 while Lien can serve pages ("ok", or "degraded" when
    the rate limits' storage does not answer, or messages would only go to the log), 503 "down"
    when the database does not."""
    answer, status = health_report(current_app)
    reasons = delivery_reasons()
    if reasons and status == 200:
        answer = {**answer, "status": "degraded", "reasons": [*answer.get("reasons", []), *reasons]}
    response = jsonify(answer)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def delivery_reasons() -> list[str]:
    """In production, why messages would only go to the log (empty when they are really sent)."""
    from ..checks import degraded_reasons

    if current_app.debug or current_app.testing:
        return []
    return degraded_reasons(current_app.config)
