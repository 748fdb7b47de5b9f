"""Composing outbox rows into emails and SMS: each person's words, language, time zone and link.

Rows are composed in batches with a constant number of queries (bookings, slots and join
links are loaded for the whole batch), so a worker's cost does not grow per message.
"""

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from urllib.parse import urlencode

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from calendars import render_cancel, render_invite
from notifications import Email, MessageRenderer, Sms

from . import ROOT
from .calendar_entries import Centre, session_entry
from .catalogue import activity_name, subject_name
from .clock import now_utc
from .dispatch import email_message, sms_message
from .models import LIVE_BOOKING, Booking, JoinToken, Notification, Slot
from .services.confidential import MEDIATION, OUTSIDE, TOPIC, shown
from .services.join import dial_in_for
from .services.login_codes import code_in_message
from .services.phones import readable
from .services.sms_replies import reply_words

log = logging.getLogger(__name__)

CANCELLATIONS = {"booking_cancelled", "tutor_booking_cancelled", "slot_cancelled", "tutor_session_withdrawn"}
TEMPLATES = {"booking_confirmed", "tutor_booking_confirmed", "booking_cancelled", "tutor_booking_cancelled",
             "slot_cancelled", "session_moved", "tutor_session_moved", "password_reset", "invitation",
             "waitlist_offer", "tutor_absence", "tutor_changed", "tutor_session_given", "tutor_session_withdrawn",
             "sms_reply_confirmed", "sms_reply_nothing", "sms_reply_help", "sign_up_taken",
             "email_change"}
# Messages about no session in particular.
WITHOUT_SESSION = ("password_reset", "invitation", "sms_reply_nothing", "sms_reply_help", "sign_up_taken",
                   "email_change")


class Composer:
    """Turns claimed outbox rows into messages, inside the app (for translations)."""

    def __init__(self, app: Flask):
        self.app = app
        self.renderer = MessageRenderer(ROOT / "templates", ROOT / "translations")
        self.public_url = app.config["PUBLIC_URL"].rstrip("/")
        self.centre = Centre.from_config(app.config)
        self.domain = self.centre.domain
        self.centre_zone = app.config["TIMEZONE"]
        self.centre_name = app.config["CENTRE_NAME"]
        # Family SMS say they can answer ANNULER or OUI (in their language) only when replies reach Lien.
        self.replies = app.config["SMS_INBOUND_PROVIDER"] != "none"
        self.centre_tel = app.config["CENTRE_PHONE"]
        self.centre_phone = readable(self.centre_tel) if self.centre_tel else None

    def __call__(self, db: Session, rows: list[Notification]) -> dict[int, Email | Sms | Exception]:
        with self.app.app_context():
            bookings, slots, links, groups = self._load(db, rows)
            composed = {}
            for row in rows:
                booking = bookings.get(row.booking_id)
                slot = slots.get(row.slot_id) or (booking.slot if booking else None)
                if row.kind == "login_code":
                    composed[row.id] = self._login_code(row)
                    continue
                if row.kind == "sign_up":
                    composed[row.id] = self._sign_up(row)
                    continue
                if row.kind not in TEMPLATES and not row.kind.startswith("reminder_"):
                    continue
                if row.recipient is None or (row.kind not in WITHOUT_SESSION and slot is None):
                    continue
                try:
                    composed[row.id] = self._compose(row, booking, slot, links, groups)
                except Exception as error:  # one broken message must not hold back the others
                    log.exception("composing message %s failed", row.id)
                    composed[row.id] = error
            return composed

    def _load(self, db: Session, rows):
        booking_ids = {row.booking_id for row in rows if row.booking_id}
        bookings = {
            booking.id: booking
            for booking in db.scalars(
                select(Booking).where(Booking.id.in_(booking_ids)).options(
                    joinedload(Booking.student), joinedload(Booking.booked_by),
                    joinedload(Booking.slot).joinedload(Slot.tutor),
                    joinedload(Booking.slot).joinedload(Slot.activity))
            )
        } if booking_ids else {}
        slot_ids = {row.slot_id for row in rows if row.slot_id} | {b.slot_id for b in bookings.values()}
        slots = {
            slot.id: slot
            for slot in db.scalars(
                select(Slot).where(Slot.id.in_(slot_ids)).options(joinedload(Slot.tutor), joinedload(Slot.activity))
            )
        } if slot_ids else {}
        links, groups = {}, defaultdict(list)
        if slot_ids:
            for link in db.scalars(select(JoinToken).where(JoinToken.slot_id.in_(slot_ids))):
                links[(link.slot_id, link.booking_id, link.user_id)] = (link.token, link.short)
            # Who is in each slot, for the tutor's reminder and calendar description.
            for booking in db.scalars(
                select(Booking).where(Booking.slot_id.in_(slot_ids), LIVE_BOOKING)
                .options(joinedload(Booking.student)).order_by(Booking.id)
            ):
                groups[booking.slot_id].append(booking)
        return bookings, slots, links, groups

    def _compose(self, row: Notification, booking, slot, links, groups) -> Email | Sms:
        person = row.recipient
        context = {"person_name": person.name, "tz": person.timezone, "browse_url": f"{self.public_url}/slots",
                   "device_test_url": f"{self.public_url}/tester",
                   "absences_url": f"{self.public_url}/admin/absences",
                   "by_self": False, "reason": "", "booked_by_centre": False, "waitlist_url": None,
                   "show_zone": person.timezone != self.centre_zone,
                   "centre_name": self.centre_name, "centre_phone": self.centre_phone,
                   "centre_tel": self.centre_tel, "replies": self.replies, **reply_words(row.locale),
                   # Rows written before "cancelled_by" said only whether the tutor cancelled.
                   "cancelled_by": "tutor" if row.payload.get("by_tutor") else "family", **row.payload}
        if "old_starts_at" in row.payload:  # a moved session says from when to when
            context["old_starts_at"] = datetime.fromisoformat(row.payload["old_starts_at"])
        join_url = sms_link = None
        if slot is not None:
            is_tutor = person.id == slot.tutor_id
            token, short = links.get((slot.id, None if is_tutor else row.booking_id, person.id), (None, None))
            join_url = f"{self.public_url}/j/{token}" if token else f"{self.public_url}/"
            # A family's SMS carries the short link: the session, joining, cancelling, another session.
            sms_link = f"{self.public_url}/s/{short}" if short and not is_tutor else join_url
            with force_locale(row.locale):
                subject = subject_name(slot.subject) if slot.subject else ""
                activity = activity_name(slot.activity)
            students = [b.student.name for b in groups.get(slot.id, [])]
            # Other sessions like this one: the slot browser, filtered to its activity and subject.
            like_this = {"activity": slot.activity_id, **({"subject": slot.subject} if slot.subject else {})}
            context["browse_url"] = f"{self.public_url}/slots?{urlencode(like_this)}"
            context.update(
                dial_in=dial_in_for(self.app.config, slot.room_name, now_utc()),
                opens_minutes=self.app.config["JOIN_OPENS_MINUTES_TUTOR" if is_tutor else "JOIN_OPENS_MINUTES_FAMILY"],
                starts_at=slot.starts_at, ends_at=slot.ends_at, activity=activity, subject=subject,
                tutor_name=slot.tutor.name, join_url=join_url, is_tutor=is_tutor,
                student_name=booking.student.name if booking else ", ".join(students),
                topic=shown(person, booking, TOPIC, slot.activity.kind, where=OUTSIDE) if booking else "",
                booked_by_centre=booking is not None and booking.booked_by.role == "coordinator",
                for_child=booking is not None and booking.student_id != person.id and not is_tutor,
                now=now_utc(),
            )
        if "waitlist_path" in row.payload:  # a cancelled session's family waits for one like it
            context["waitlist_url"] = self.public_url + row.payload["waitlist_path"]
            # The wish ends at a midnight: its last day is the one before.
            context["waiting_until"] = datetime.fromisoformat(row.payload["waiting_until"]) - timedelta(seconds=1)
        if "offer_path" in row.payload:  # a waitlist offer: its link takes the place, or leaves the list
            join_url = sms_link = context["offer_url"] = self.public_url + row.payload["offer_path"]
            context["expires_at"] = datetime.fromisoformat(row.payload["expires_at"])
        template = "reminder" if row.kind.startswith("reminder_") else row.kind
        if slot is not None and slot.activity.kind == MEDIATION and row.kind != "tutor_absence":
            # Where and when only: a mediation's messages carry no activity, name or reason (the
            # coordinators' alert of an absent mediator names no party).
            template = "mediation_cancelled" if row.kind in CANCELLATIONS else "mediation"
            context = {"tz": person.timezone, "starts_at": slot.starts_at, "ends_at": slot.ends_at,
                       "join_url": join_url, "is_tutor": person.id == slot.tutor_id}
            if row.kind in CANCELLATIONS:
                join_url = None
            sms_link = join_url  # the short link's page says who and what: a mediation's SMS keeps the join link
        rendered = self.renderer.render(template, row.locale, **context)
        if row.channel == "sms":
            # A cancelled session's link is a dead end: the SMS leads to other sessions (a mediation's
            # says where and when only, so it has none).
            return sms_message(row, rendered, context.get("browse_url", sms_link) if row.kind == "booking_cancelled"
                               else sms_link)
        ics, method = self._calendar(row, booking, slot, join_url, groups)
        return email_message(row, rendered, domain=self.domain, ics=ics, ics_method=method)

    def _login_code(self, row: Notification) -> Sms | Exception:
        """The SMS of a login code, to a number that may have no account yet."""
        code = code_in_message(row.payload)
        if code is None:
            return RuntimeError("the login code expired before it could be sent")
        rendered = self.renderer.render("login_code", row.locale, code=code, centre_name=self.centre_name)
        return sms_message(row, rendered, None)

    def _sign_up(self, row: Notification) -> Email:
        """The email that finishes a sign-up, to an address with no account yet."""
        rendered = self.renderer.render("sign_up", row.locale, person_name=row.payload.get("name", ""),
                                        url=row.payload.get("url", ""), centre_name=self.centre_name)
        return email_message(row, rendered, domain=self.domain)

    def _calendar(self, row, booking, slot, join_url, groups):
        """The invitation that goes with a confirmation or a cancellation, in the person's words."""
        if slot is None or row.kind not in ("booking_confirmed", "booking_cancelled", "tutor_booking_confirmed",
                                            "tutor_booking_cancelled", "slot_cancelled", "session_moved",
                                            "tutor_session_moved", "tutor_changed", "tutor_session_given",
                                            "tutor_session_withdrawn"):
            return None, "REQUEST"
        person = row.recipient
        for_tutor = row.kind.startswith("tutor_") or row.kind == "slot_cancelled"
        participants = [b.student.name for b in groups.get(slot.id, [])]
        with force_locale(row.locale):
            event = session_entry(slot, None if for_tutor else booking, person, centre=self.centre, join_url=join_url,
                                  participants=participants,
                                  dial_in=dial_in_for(self.app.config, slot.room_name, now_utc()))
            alarm = _("La séance commence dans 15 minutes")
        # The tutor's entry is the slot's: it lists who is still booked (read now, so the latest
        # SEQUENCE says the latest truth), and goes when nobody is left.
        tutor_left_alone = row.kind == "tutor_booking_cancelled" and (not participants or slot.status != "open")
        if row.kind in ("booking_cancelled", "slot_cancelled", "tutor_session_withdrawn") or tutor_left_alone:
            return render_cancel(event, tz=person.timezone, now=now_utc()), "CANCEL"
        return render_invite(event, tz=person.timezone, now=now_utc(), alarm_text=alarm), "REQUEST"
