"""Sessions in the calendars people already use: "Add to my calendar" downloads, and a personal
subscription feed (/calendar/<secret>.ics, also offered as webcal://) that a person can reset."""

import hashlib
import marshal
from dataclasses import replace

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from calendars import Event, render_feed, render_invite

from .. import db
from ..access import own_booking, own_slot, role_required
from ..cache import LRUCache
from ..calendar_entries import Centre, session_entry
from ..clock import now_utc
from ..models import Activity, Booking, Slot, User
from ..services.feeds import (
    FEED_ROLES,
    FeedFilter,
    FeedSessions,
    feed_owner,
    feed_sessions,
    feed_token,
    feed_version,
    reset_feed_token,
)
from ..services.join import links_for
from ..services.tutor_sessions import bookings_of_slots
from .forms import FeedFilterForm

bp = Blueprint("agenda", __name__)

CALENDAR_TYPE = "text/calendar; charset=utf-8"


# Part of every feed's ETag, with the entries themselves: raise it by hand when a release
# writes the same sessions differently (calendars/, calendar_entries.py), so apps fetch anew.
FEED_FORMAT = "lien-feed-3"
FEED_CACHE_SIZE = 64  # rendered feeds each process keeps, by ETag (a busy tutor's is ~160 KB)
SECRET_LENGTH_MAX = 64


@bp.route("/agenda")
@role_required(*FEED_ROLES)
def index():
    db_session = db.session()
    token = feed_token(db_session, current_user)
    form, chosen = None, {}
    if current_user.role == "coordinator":  # the centre's feed, of one activity or tutor if chosen
        form = FeedFilterForm(request.args)
        form.fill_choices(
            db_session.scalars(select(User).where(User.role == "tutor").order_by(User.name)).all(),
            db_session.scalars(select(Activity).order_by(Activity.id)).all(),
        )
        if form.validate():
            chosen = {key: value for key, value in (("activity", form.activity.data), ("tutor", form.tutor.data))
                      if value}
    feed_url = public_url_for("agenda.feed", secret=token.secret, **chosen)
    return render_template(
        "agenda/index.html",
        feed_url=feed_url,
        webcal_url="webcal://" + feed_url.split("://", 1)[1],
        form=form,
    )


@bp.route("/agenda/reset", methods=["POST"])
@role_required(*FEED_ROLES)
def reset():
    reset_feed_token(db.session(), current_user)
    flash(_("Voici votre nouvelle adresse. L'ancienne ne marche plus : ajoutez celle-ci à votre agenda."), "success")
    return redirect(url_for("agenda.index"))


@bp.route("/calendar/<secret>.ics")
def feed(secret: str):
    """A person's sessions for their calendar app: no login, the secret is the key.

    Every poll reads the rows the feed is made from, as plain rows in one statement (cheap); the
    ETag is a hash of those rows, of the person's name, address, language and zone, of the site's
    address and sender, and of FEED_FORMAT. A poll that has this version gets a 304, and the
    body (the costly part) is written only for an ETag not yet in the cache.
    """
    db_session = db.session()
    owner = feed_owner(db_session, secret) if len(secret) <= SECRET_LENGTH_MAX else None
    if owner is None:
        abort(404)
    chosen = _feed_filter() if owner.role == "coordinator" else FeedFilter()
    if chosen is None:
        return Response("activity and tutor are whole numbers (ids)\n", status=400, content_type="text/plain")
    now = now_utc()
    version = feed_version(db_session, owner.id, owner.role, now, chosen)
    config = current_app.config
    # marshal's format 2 (no back-references) writes equal plain values (text, numbers, None) as
    # equal bytes, and far faster than repr (figures in the commit that chose it).
    etag = hashlib.sha256(marshal.dumps((FEED_FORMAT, owner.name, owner.email, owner.locale, owner.timezone,
                                         config["PUBLIC_URL"], config["MAIL_FROM"], version.rows), 2)).hexdigest()[:32]
    response = Response(content_type=CALENDAR_TYPE)
    response.set_etag(etag)
    response.last_modified = max(filter(None, (owner.token_created_at, version.last_change)))
    response.cache_control.private = True
    response.cache_control.no_cache = True  # keep it, but ask each time (a 304 costs nothing)
    response.headers["X-Robots-Tag"] = "noindex"
    response.make_conditional(request)
    if response.status_code == 200:
        response.set_data(current_app.extensions["lien_feed_cache"].get_or_make(
            etag, lambda: _feed_body(db_session, db_session.get(User, owner.id), now, chosen)))
    return response


def _feed_body(db_session, person: User, now, chosen: FeedFilter) -> str:
    """The feed itself, written from its sessions (the costly part, done once per version)."""
    with force_locale(person.locale):
        events = feed_events(person, feed_sessions(db_session, person, now, chosen))
        name = _("Lien — séances du centre") if person.role == "coordinator" else _("Lien — mes séances")
        return render_feed(events, name=name, tz=person.timezone, now=now)


@bp.route("/sessions/<int:booking_id>/calendar.ics")
@role_required("student", "parent")
def booking_download(booking_id: int):
    """One booked session as a file for the person's calendar, with their own join link."""
    booking = own_booking(booking_id)
    token = links_for(db.session(), current_user, [booking.slot_id]).get((booking.slot_id, booking.id))
    join_url = (public_url_for("join.join", token=token) if token
                else public_url_for("bookings.session_page", booking_id=booking.id))
    event = session_entry(
        booking.slot, booking, current_user, centre=Centre.from_config(current_app.config), join_url=join_url,
        cancelled=_cancelled(booking.slot, booking), updated_at=booking.updated_at,
    )
    return _download(event, f"lien-{booking.starts_at:%Y%m%d}-{booking.id}.ics")


@bp.route("/slots/<int:slot_id>/calendar.ics")
@role_required("tutor")
def slot_download(slot_id: int):
    """One of the tutor's slots as a file for their calendar, with who booked and their link."""
    slot = own_slot(slot_id)
    db_session = db.session()
    token = links_for(db_session, current_user, [slot.id]).get((slot.id, None))
    join_url = public_url_for("join.join", token=token) if token else public_url_for("slots.mine")
    event = session_entry(
        slot, None, current_user, centre=Centre.from_config(current_app.config), join_url=join_url,
        participants=[booking.student.name for booking in bookings_of_slots(db_session, [slot])[slot.id]],
        cancelled=_cancelled(slot), updated_at=slot.updated_at,
    )
    return _download(event, f"lien-{slot.starts_at:%Y%m%d}-{slot.id}.ics")


def feed_events(person: User, sessions: FeedSessions) -> list[Event]:
    """Every session of a feed as the person's calendar entries, each with their own link."""
    centre = Centre.from_config(current_app.config)
    events = []
    for booking in sessions.bookings:
        token = sessions.links.get((booking.slot_id, booking.id))
        events.append(session_entry(
            booking.slot, booking, person, centre=centre,
            join_url=public_url_for("join.join", token=token) if token else None,
            cancelled=_cancelled(booking.slot, booking), updated_at=booking.updated_at,
        ))
    for slot in sessions.slots:
        token = sessions.links.get((slot.id, None))
        events.append(session_entry(
            slot, None, person, centre=centre,
            join_url=public_url_for("join.join", token=token) if token else None,
            participants=[booking.student.name for booking in sessions.booked.get(slot.id, [])],
            cancelled=_cancelled(slot), updated_at=slot.updated_at, tutor_named=person.role == "coordinator",
        ))
    return events


def _feed_filter() -> FeedFilter | None:
    """The centre feed's ?activity=<id>&tutor=<id>, or None when one is not a number."""
    values = {}
    for key in ("activity", "tutor"):
        raw = request.args.get(key, "")
        if raw and not (raw.isascii() and raw.isdigit() and len(raw) < 10):
            return None
        values[key] = int(raw) if raw else None
    return FeedFilter(activity_id=values["activity"], tutor_id=values["tutor"])


@bp.record_once
def _feed_cache(state) -> None:
    state.app.extensions["lien_feed_cache"] = LRUCache(FEED_CACHE_SIZE)


def public_url_for(endpoint: str, **values) -> str:
    """An absolute address on the site's public URL (PUBLIC_URL), as messages give it."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(endpoint, **values)


def _cancelled(slot: Slot, booking: Booking | None = None) -> bool:
    return slot.status == "cancelled" or (booking is not None and booking.status == "cancelled")


def _download(event: Event, filename: str) -> Response:
    # A PUBLISH carries no ATTENDEE (RFC 5546 §3.2.1): it adds an entry, it invites nobody.
    body = render_invite(
        replace(event, attendees=()),
        tz=current_user.timezone,
        method="PUBLISH",
        now=now_utc(),
        alarm_text=_("La séance commence dans 15 minutes"),
    )
    response = Response(body, content_type=CALENDAR_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.cache_control.private = True
    response.cache_control.no_store = True  # it holds the person's own join link
    return response
