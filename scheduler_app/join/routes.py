"""/j/<token>: one link per person and session that opens the video room, no password."""

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session

from rooms import JitsiSettings

from .. import db
from ..clock import now_utc
from ..extensions import limiter
from ..services.join import JoinOpening, answer, dial_in_for, find_link, slot_shown

bp = Blueprint("join", __name__)


def _join_limit() -> str:
    return current_app.config["RATELIMIT_JOIN"]


def jitsi_settings() -> JitsiSettings:
    """The Jitsi set-up from the configuration, checked once per app."""
    settings = current_app.extensions.get("lien_jitsi")
    if settings is None:
        settings = JitsiSettings.from_mapping(current_app.config)
        settings.validate()
        current_app.extensions["lien_jitsi"] = settings
    return settings


@bp.route("/tester")
def device_test():
    """Try the camera and microphone before a session: no account, nothing leaves the device."""
    return render_template("join/device_test.html")


@bp.route("/j/<token>")
@limiter.limit(_join_limit)
def join(token: str):
    link = find_link(db.session(), token)
    if link is None:
        abort(404)
    # The page speaks the link holder's language and time unless this browser chose otherwise.
    g.locale = session.get("locale") or link.holder_locale
    g.timezone = link.holder_timezone
    now = now_utc()
    weak = request.args.get("connexion") == "faible"
    result = answer(
        link,
        now=now,
        opening=JoinOpening.from_config(current_app.config),
        jitsi=jitsi_settings(),
        weak_connection=weak,
    )
    if result.state == "open":
        response = redirect(result.url, code=303)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    seconds_left = max(0, int((result.opens_at - now).total_seconds()))
    # Ended or cancelled: the link is gone for good (410); too early: it will open (200).
    status = 200 if result.state == "early" else 410
    response = current_app.make_response((
        render_template(
            "join/wait.html", result=result, slot=slot_shown(db.session(), link.slot_id), seconds_left=seconds_left,
            weak=weak,
            dial_in=dial_in_for(current_app.config, link.room_name, now) if result.state == "early" else None,
        ),
        status,
    ))
    response.headers["Cache-Control"] = "no-store"
    return response
