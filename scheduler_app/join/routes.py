"""/j/<token>: one link per person and session that opens the video room, no password."""

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from rooms import JitsiSettings

from .. import db
from ..clock import now_utc
from ..extensions import limiter
from ..forms import show_service_error
from ..services import ServiceError, short_links
from ..services.confidential import MEDIATION
from ..services.join import JoinOpening, answer, dial_in_for, find_link, slot_shown
from .forms import CancelForm, ChooseSlotForm

bp = Blueprint("join", __name__)


def _join_limit() -> str:
    return current_app.config["RATELIMIT_JOIN"]


def private(response):
    """Kept by no cache, and followed without a Referer: the page or its address leads to a
    personal link or a signed room."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def to_room(url: str):
    """The redirect into a video room: its address carries a signed token in the fragment."""
    return private(redirect(url, code=303))


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
    jitsi = jitsi_settings()
    result = answer(
        link,
        now=now,
        opening=JoinOpening.from_config(current_app.config),
        jitsi=jitsi,
        weak_connection=weak,
    )
    if result.state == "open":
        return to_room(result.url)
    seconds_left = max(0, int((result.opens_at - now).total_seconds()))
    # Ended or cancelled: the link is gone for good (410); too early: it will open (200).
    status = 200 if result.state == "early" else 410
    response = current_app.make_response((
        render_template(
            "join/wait.html", result=result, slot=slot_shown(db.session(), link.slot_id), seconds_left=seconds_left,
            weak=weak, lobby=jitsi.lobby and link.mediation,
            dial_in=dial_in_for(current_app.config, link.room_name, now) if result.state == "early" else None,
        ),
        status,
    ))
    response.headers["Cache-Control"] = "no-store"
    return response


def _short_link(short: str):
    """The link, in its holder's language and time zone; None for an unknown one."""
    link = short_links.find(db.session(), short)
    if link is not None:
        g.locale = session.get("locale") or link.holder.locale
        g.timezone = link.holder.timezone
    return link


def _not_here(link):
    """What a short link answers instead of its own pages, or None: a 404 page for an unknown one;
    a mediation's says nothing of it and only leads to its join link, which says where and when
    (services/confidential)."""
    if link is None:
        return _no_store(render_template("join/short_unknown.html"), 404)
    if link.slot.activity.kind == MEDIATION:
        return redirect(url_for("join.join", token=link.token.token), code=303)
    return None


def _opens_before(link):
    """A family's link opens JOIN_OPENS_MINUTES_FAMILY before the start (services.join.JoinOpening)."""
    return JoinOpening.from_config(current_app.config).family


def _no_store(body, status: int = 200):
    return private(current_app.make_response((body, status)))


def _short_page(link, *, error=None, status=200):
    now = now_utc()
    opens_before = _opens_before(link)
    state = link.state(now, opens_before)
    others = short_links.other_sessions(db.session(), link, now) if state in ("early", "cancelled") else []
    return _no_store(render_template("join/short.html", link=link, state=state, others=others, error=error,
                                     opens_at=link.slot.starts_at - opens_before), status)


@bp.route("/s/<short>")
@limiter.limit(_join_limit)
def short(short: str):
    link = _short_link(short)
    if (elsewhere := _not_here(link)) is not None:
        return elsewhere
    return _short_page(link)


@bp.route("/s/<short>/annuler", methods=["GET", "POST"])
@limiter.limit(_join_limit)
def short_cancel(short: str):
    link = _short_link(short)
    if (elsewhere := _not_here(link)) is not None:
        return elsewhere
    now = now_utc()
    if link.state(now, _opens_before(link)) in ("ended", "cancelled"):
        return redirect(url_for("join.short", short=short))
    form = CancelForm()
    if form.validate_on_submit():
        try:
            short_links.cancel(db.session(), link, now, form.reason.data or "")
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash(_("C'est annulé. Le tuteur et le centre sont prévenus."), "success")
            return redirect(url_for("join.short", short=short))
    return _no_store(render_template("join/short_cancel.html", link=link, form=form))


@bp.route("/s/<short>/autre", methods=["POST"])
@limiter.limit(_join_limit)
def short_book_other(short: str):
    link = _short_link(short)
    if (elsewhere := _not_here(link)) is not None:
        return elsewhere
    form = ChooseSlotForm()
    if not form.validate_on_submit():
        return _short_page(link, error=_("Choisissez une séance dans la liste."), status=400)
    try:
        new_link = short_links.book_instead(db.session(), link, form.slot_id.data, now_utc())
    except ServiceError as error:
        return _short_page(link, error=str(error.message), status=409)
    flash(_("C'est réservé ! Voici votre nouvelle séance."), "success")
    return redirect(url_for("join.short", short=new_link.short))
