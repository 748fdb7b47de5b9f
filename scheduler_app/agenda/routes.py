"""Sessions in the calendars people already use: "Add to my calendar" downloads, and a personal
subscription feed (/calendar/<secret>.ics, also offered as webcal://) that a person can reset."""

import hashlib
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from calendars import Event, render_feed, render_invite

from .. import db
from ..changes import WATCHED, KeptUntilChanged
from ..access import own_booking, own_slot, role_required
from ..calendar_entries import Centre, session_entry
from ..clock import now_utc
from ..lru import LeastRecentlyUsed
from ..models import Booking, Slot, User
from ..services.feeds import (
    FEED_ROLES,
    FeedSessions,
    FeedVersion,
    feed_sessions,
    feed_token,
    feed_version,
    feed_version_to_write,
    reset_feed_token,
)
from ..services.sessions import bookings_of_slots, links_for

bp = Blueprint("agenda", __name__)

CALENDAR_TYPE = "text/calendar; charset=utf-8"


def _feed_format() -> str:
    """Part of every feed's ETag: a digest of what turns the same sessions into bytes (calendars/,
    calendar_entries.py, the compiled catalogues). A new release that writes feeds differently
    changes every ETag, so calendar apps fetch the new form; every worker computes the same."""
    root = Path(__file__).resolve().parent.parent.parent
    digest = hashlib.sha256()
    for path in sorted([*root.glob("calendars/*.py"), root / "scheduler_app" / "calendar_entries.py",
                        *root.glob("translations/*/LC_MESSAGES/messages.mo")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


FEED_FORMAT = _feed_format()
FEED_BODIES = 64  # rendered feeds each process keeps (a busy tutor's is ~160 KB)
FEED_VERSION_AGE = timedelta(minutes=1)  # calendar apps poll every 15 minutes or more


@bp.route("/agenda")
@role_required(*FEED_ROLES)
def index():
    token = feed_token(db.session(), current_user)
    feed_url = public_url_for("agenda.feed", secret=token.secret)
    return render_template(
        "agenda/index.html",
        feed_url=feed_url,
        webcal_url="webcal://" + feed_url.split("://", 1)[1],
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

    Calendar apps poll it, so the feed is not written again while nothing it shows has changed:
    one statement finds the token and a fingerprint of everything the feed shows (feed_version),
    kept in this process until a table it reads changes, for a minute at most (the feed's window
    moves with time);
    a poll that has this version (If-None-Match, If-Modified-Since) gets a 304, and otherwise the
    body written for this version, if this process still has it.
    """
    db_session = db.session()
    now = now_utc()
    version = current_app.extensions["lien_feed_versions"].get(
        secret, lambda: feed_version(db_session, secret, now), db_session)
    if version is None:
        abort(404)
    response = _feed_response(version)
    response.make_conditional(request)
    if response.status_code != 200:
        return response  # 304: the calendar app has this version
    # The secret is part of the key: a feed is never served for an address reset since.
    body = feed_bodies().get((secret, response.get_etag()[0]))
    if body is None:
        version = feed_version_to_write(db_session, secret, now, version)
        if version is None:
            abort(404)
        response = _feed_response(version)
        person = db_session.get(User, version.user_id)
        with force_locale(person.locale):
            events = feed_events(person, feed_sessions(db_session, person, now))
            body = render_feed(events, name=_("Lien — mes séances"), tz=person.timezone, now=now)
        feed_bodies().put((secret, response.get_etag()[0]), body)
    response.set_data(body)
    return response


def _feed_response(version: FeedVersion) -> Response:
    """A feed's response without its body: the ETag and Last-Modified of its version."""
    config = current_app.config
    response = Response(content_type=CALENDAR_TYPE)
    # The version covers what the feed shows; the site's address and name are in it too.
    fingerprint = "\n".join((FEED_FORMAT, version.fingerprint, config["PUBLIC_URL"], config["MAIL_FROM"]))
    response.set_etag(hashlib.sha256(fingerprint.encode()).hexdigest()[:32])
    response.last_modified = version.last_change
    response.cache_control.private = True
    response.cache_control.no_cache = True  # keep it, but ask each time (a 304 costs nothing)
    response.headers["X-Robots-Tag"] = "noindex"
    return response


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
            cancelled=_cancelled(slot), updated_at=slot.updated_at,
        ))
    return events


@bp.record_once
def _keep_feeds(state) -> None:
    # The last feeds the process wrote, by (secret, ETag).
    state.app.extensions["lien_feed_bodies"] = LeastRecentlyUsed(FEED_BODIES)
    state.app.extensions["lien_feed_versions"] = KeptUntilChanged(
        state.app.extensions["lien_changes"], WATCHED, max_age=FEED_VERSION_AGE)


def feed_bodies() -> LeastRecentlyUsed:
    """The current app's rendered feeds (bench/pages.py clears them to time a cold feed)."""
    return current_app.extensions["lien_feed_bodies"]


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
