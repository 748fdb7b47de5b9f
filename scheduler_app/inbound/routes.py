"""POST /sms/inbound/twilio: the SMS families send back, as Twilio's webhook delivers them."""

from flask import Blueprint, abort, current_app, request

from .. import db
from ..extensions import csrf
from ..messages import Composer
from ..services import ServiceError, sms_replies

bp = Blueprint("inbound", __name__)


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
