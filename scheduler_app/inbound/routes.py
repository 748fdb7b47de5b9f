"""POST /sms/inbound/twilio: the SMS families send back, as Twilio's webhook delivers them."""

from flask import Blueprint, abort, current_app, request

from .. import db
from ..extensions import csrf
from ..services import ServiceError, sms_replies

bp = Blueprint("inbound", __name__)

# TwiML with nothing to say: Lien's answers go through the outbox, never twice.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


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
    try:
        sms_replies.handle(db.session(), "twilio", request.form.get("MessageSid", ""),
                           request.form.get("From", ""), request.form.get("Body", ""))
    except ServiceError:
        abort(400)
    return current_app.response_class(EMPTY_TWIML, mimetype="text/xml")
