"""What SMS providers post to Lien: the SMS families send back (POST /sms/inbound/twilio, as
Twilio's webhook delivers them) and whether each SMS reached the phone (POST /sms/status/brevo,
Brevo's delivery reports)."""

import json

from flask import Blueprint, abort, current_app, request

from .. import db
from ..extensions import csrf
from ..messages import Composer
from ..services import ServiceError, sms_delivery, sms_replies

bp = Blueprint("inbound", __name__)

MAX_REPORT_BYTES = 1_000_000  # a batch of 500 events is some 150 kB


def _composer() -> Composer:
    """The app's message composer, made once: it loads every template and catalogue."""
    composer = current_app.extensions.get("lien_composer")
    if composer is None:
        composer = current_app.extensions["lien_composer"] = Composer(current_app._get_current_object())
    return composer


@bp.route("/sms/inbound/twilio", methods=["POST"])
@csrf.exempt  # Twilio signs the request instead (X-Twilio-Signature)
def twilio():
    if current_app.config["SMS_INBOUND_PROVIDER"] != "twilio":
        abort(404)
    # The URL Twilio was given: PUBLIC_URL, as the request may have come through a proxy.
    url = current_app.config["PUBLIC_URL"].rstrip("/") + request.full_path.rstrip("?")
    params = list(request.form.items(multi=True))
    if not sms_replies.twilio_genuine(current_app.config["TWILIO_AUTH_TOKEN"], url, params,
                                      request.headers.get("X-Twilio-Signature")):
        abort(403)
    session = db.session()
    try:
        handled = sms_replies.handle(session, "twilio", request.form.get("MessageSid", ""),
                                     request.form.get("From", ""), request.form.get("Body", ""))
    except ServiceError:
        abort(400)
    # Lien's answer goes back the way the SMS came: in this reply, which Twilio sends from the
    # number the family wrote to.
    texts = sms_replies.answer_in_reply(session, handled, _composer())
    return current_app.response_class(sms_replies.twiml(texts), mimetype="text/xml")


@bp.route("/sms/status/brevo", methods=["POST"])
@csrf.exempt  # Brevo sends the webhook's secret instead (basic auth or a bearer token)
def brevo_status():
    secret = current_app.config["SMS_BREVO_WEBHOOK_SECRET"]
    if not secret:
        abort(404)
    if not sms_delivery.brevo_genuine(secret, request.headers.get("Authorization")):
        # The challenge lets an HTTP client that holds credentials from the URL send them.
        return current_app.response_class("", status=401, headers={"WWW-Authenticate": 'Basic realm="Lien"'})
    if (request.content_length or 0) > MAX_REPORT_BYTES:
        abort(413)
    body = request.stream.read(MAX_REPORT_BYTES + 1)
    if len(body) > MAX_REPORT_BYTES:
        abort(413)
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        abort(400)
    reports = sms_delivery.read_reports(payload)
    if reports is None:
        abort(400)
    sms_delivery.record(db.session(), reports)
    return current_app.response_class("", status=204)
