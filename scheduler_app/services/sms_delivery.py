"""Whether each SMS reached the phone, as Brevo's delivery reports say.

Brevo's transactional webhooks for SMS (https://developers.brevo.com/docs/transactional-webhooks,
"Transactional SMS"): one JSON POST per event, with `messageId` (an integer: the id its send API
answered, kept on the outbox row), `msg_status` ("sent", "delivered", "soft_bounce",
"hard_bounce"), `to`, `sms_count`, `credits_used`, `remaining_credit`, `date`, `type`,
`reference` and `id` (the webhook's own id). A webhook created with `"batched": true` posts a
JSON array of up to 500 such events (https://developers.brevo.com/docs/batch-webhooks).
Brevo signs nothing: the webhook is created with credentials in its URL (basic auth) or with a
bearer token (https://developers.brevo.com/docs/secured-webhooks), and Lien checks that secret.
"""

import base64
import binascii
import hmac
from dataclasses import dataclass

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from ..clock import now_utc
from ..db import write_transaction
from ..models import Notification

# msg_status as the payload documents it; Brevo's list of SMS events also names bounces in
# camel case and has "rejected" (refused before reaching the phone): read the same way.
DELIVERY_OF = {
    "delivered": "delivered",
    "soft_bounce": "undelivered", "hard_bounce": "undelivered",
    "softBounce": "undelivered", "hardBounce": "undelivered", "rejected": "undelivered",
}
MAX_EVENTS = 1000  # two of Brevo's batches; more in one request is not Brevo
MAX_ID_DIGITS = 20  # an unsigned 64-bit integer


@dataclass(frozen=True)
class Report:
    message_id: str
    delivery: str | None  # None: an event that says nothing of the phone ("sent", "accepted", …)


def brevo_genuine(secret: str | None, authorization: str | None) -> bool:
    """Whether the request carries the webhook's secret: as the password of HTTP basic auth
    (any user name) or as a bearer token."""
    if not secret or not authorization:
        return False
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        given = credentials.strip()
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return False
        given = decoded.partition(":")[2]
    else:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode("utf-8"))


def _message_id(value) -> str | None:
    if isinstance(value, bool):  # JSON true is no id, though Python counts it as an int
        return None
    if isinstance(value, int) and 0 <= value < 10 ** MAX_ID_DIGITS:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS:
        return str(int(value))
    return None


def read_reports(payload) -> list[Report] | None:
    """The events in a webhook's JSON body (one object, or a batch's array); None when nothing in
    it is a Brevo SMS event (no message id, or no status)."""
    events = payload if isinstance(payload, list) else [payload]
    if not events or len(events) > MAX_EVENTS:
        return None
    reports = []
    for event in events:
        if not isinstance(event, dict):
            continue
        message_id, status = _message_id(event.get("messageId")), event.get("msg_status")
        if message_id is None or not isinstance(status, str):
            continue
        reports.append(Report(message_id, DELIVERY_OF.get(status)))
    return reports or None


def record(db: Session, reports: list[Report]) -> None:
    """Mark the SMS these reports name as delivered or not. Delivered is final: a late bounce
    never undoes it, and a report received twice changes nothing the second time."""
    delivered = {report.message_id for report in reports if report.delivery == "delivered"}
    undelivered = {report.message_id for report in reports if report.delivery == "undelivered"} - delivered
    if not (delivered or undelivered):
        return
    now = now_utc()
    sent_sms = (Notification.channel == "sms", Notification.status == "sent")
    with write_transaction(db):
        if delivered:
            db.execute(
                update(Notification)
                .where(Notification.provider_message_id.in_(delivered), *sent_sms,
                       or_(Notification.delivery.is_(None), Notification.delivery != "delivered"))
                .values(delivery="delivered", delivery_at=now)
                .execution_options(synchronize_session=False)
            )
        if undelivered:
            db.execute(
                update(Notification)
                .where(Notification.provider_message_id.in_(undelivered), *sent_sms, Notification.delivery.is_(None))
                .values(delivery="undelivered", delivery_at=now)
                .execution_options(synchronize_session=False)
            )
