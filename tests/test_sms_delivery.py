"""Whether an SMS reached the phone: Lien keeps the id Brevo gives each SMS it accepts, and
Brevo's delivery reports, posted as its documentation describes them
(https://developers.brevo.com/docs/transactional-webhooks, "Transactional SMS"), show the
coordinator "Distribué" or "Non distribué". Only requests carrying the webhook's secret are
heard; hostile bodies get a 4xx, never a 500; no phone number reaches the logs."""

import base64
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from conftest import csrf_token
from factories import counting, login, look_again, make_family, make_person, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import Notification
from scheduler_app.services.booking import book_slot
from scheduler_app.services.sms_delivery import brevo_genuine
from scheduler_app.worker import make_dispatcher

SECRET = "brevo-webhook-secret-0123456789abcdef"
NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
BREVO_ID = 1511882900176220  # what the local Brevo answers to a send (tests/sms_gateway.py)


def basic(password: str, user: str = "brevo") -> str:
    """What an HTTP client sends for a URL written https://user:password@host/… (Brevo's way)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def event(message_id, status: str) -> dict:
    """One SMS event as Brevo's page documents it: its example's fields, then date, type and
    reference from the attribute table."""
    return {"id": 26570, "to": "33612345678", "sms_count": 1, "credits_used": 1.5, "messageId": message_id,
            "remaining_credit": 11488.845, "msg_status": status, "date": "2027-01-11 10:00:05",
            "type": "transactional", "reference": "ab1cde2fgh3i4jklmno"}


def post(client, payload, authorization: str | None = basic(SECRET), raw: bytes | None = None):
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return client.post("/sms/status/brevo", data=raw if raw is not None else json.dumps(payload), headers=headers)


@pytest.fixture
def sent(app, db, brevo, frozen_clock):
    """A family's confirmation SMS, accepted by (the local) Brevo."""
    app.config.update(brevo.settings(), SMS_BREVO_WEBHOOK_SECRET=SECRET)
    frozen_clock(NOW)
    slot = make_slot(db, make_tutor(db), starts_in=timedelta(days=2))
    parent, [adam] = make_family(db, "Awa Diallo", "Adam Diallo", phone="+33612345678")
    book_slot(db, slot.id, adam, parent)
    make_dispatcher(app).tick()
    [row] = db.scalars(select(Notification).where(Notification.address == "+33612345678",
                                                  Notification.kind == "booking_confirmed")).all()
    return {"row_id": row.id, "parent": parent}


def _row(db, sent) -> Notification:
    look_again(db)
    return db.get(Notification, sent["row_id"])


def _coordinator_pages(app, db, sent) -> tuple[str, str]:
    person = make_person(db, "coordinator", "Nadia Benali")
    client = app.test_client()
    login(client, person.email)
    messages = client.get("/admin/messages").get_data(as_text=True)
    family = client.get(f"/admin/families/{sent['parent'].id}").get_data(as_text=True)
    return messages, family


def test_brevos_message_id_is_kept_and_a_delivered_report_shows_distribue(app, db, client, sent, frozen_clock):
    row = _row(db, sent)
    assert (row.status, row.provider_message_id, row.delivery) == ("sent", str(BREVO_ID), None)
    assert post(client, event(BREVO_ID, "delivered")).status_code == 204
    row = _row(db, sent)
    assert row.delivery == "delivered" and row.delivery_at == NOW
    frozen_clock(NOW + timedelta(minutes=5))
    assert post(client, event(BREVO_ID, "delivered")).status_code == 204  # Brevo delivers it twice
    assert _row(db, sent).delivery_at == NOW  # nothing changed the second time
    messages, family = _coordinator_pages(app, db, sent)
    assert "Distribué" in messages and "Non distribué" not in messages
    assert "Distribué" in family


@pytest.mark.parametrize("status", ["hard_bounce", "soft_bounce", "hardBounce", "rejected"])
def test_an_sms_that_did_not_arrive_shows_non_distribue_and_can_be_sent_again(app, db, client, sent, brevo, status):
    assert post(client, event(BREVO_ID, status)).status_code == 204
    assert _row(db, sent).delivery == "undelivered"
    person = make_person(db, "coordinator", "Nadia Benali")
    coordinator = app.test_client()
    login(coordinator, person.email)
    page = coordinator.get("/admin/messages").get_data(as_text=True)
    assert "Non distribué" in page and "Vérifiez le numéro" in page and "Renvoyer" in page
    assert "Non distribué" in coordinator.get(f"/admin/families/{sent['parent'].id}").get_data(as_text=True)
    coordinator.post(f"/admin/messages/{sent['row_id']}/retry", data={"csrf_token": csrf_token(page)})
    row = _row(db, sent)
    assert (row.status, row.delivery, row.provider_message_id) == ("pending", None, None)
    brevo.requests.clear()
    make_dispatcher(app).tick()
    assert len(brevo.requests) == 1 and _row(db, sent).status == "sent"


def test_delivered_is_final_and_other_events_change_nothing(db, client, sent):
    for status in ("sent", "accepted", "replied", "skip"):
        assert post(client, event(BREVO_ID, status)).status_code == 204
    assert _row(db, sent).delivery is None
    assert post(client, event(str(BREVO_ID), "delivered")).status_code == 204  # the id as a string too
    assert post(client, event(BREVO_ID, "soft_bounce")).status_code == 204  # late, and wrong
    assert _row(db, sent).delivery == "delivered"


def test_a_batch_is_read_whole_and_unknown_ids_are_left_alone(app, db, client, sent):
    batch = [event(987654321, "delivered"), {"something": "else"}, "text", event(BREVO_ID, "hard_bounce")]
    assert post(client, batch).status_code == 204
    assert _row(db, sent).delivery == "undelivered"
    # The same statements for one report as for a full batch of Brevo's 500.
    with counting(app) as one:
        post(client, [event(BREVO_ID + 1, "delivered")])
    with counting(app) as many:
        post(client, [event(BREVO_ID + n, "delivered" if n % 2 else "hard_bounce") for n in range(500)])
    assert len(many) == len(one) + 1  # the bounces' update joins the deliveries'


def test_only_brevo_with_the_webhooks_secret_is_heard(app, db, client, sent):
    report = event(BREVO_ID, "delivered")
    answer = post(client, report, authorization=None)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Basic")
    for wrong in (basic("not-the-secret"), basic(SECRET[:-1]), "Bearer not-the-secret", "Basic %%%", "Basic",
                  "Bearer", f"Token {SECRET}", basic(SECRET).replace("Basic", "Digest"), "Basic " + "A" * 5000):
        assert post(client, report, authorization=wrong).status_code == 401, wrong
    assert _row(db, sent).delivery is None
    assert post(client, report, authorization=f"Bearer {SECRET}").status_code == 204
    assert post(client, report, authorization=basic(SECRET, user="")).status_code == 204
    assert client.get("/sms/status/brevo").status_code == 405
    app.config["SMS_BREVO_WEBHOOK_SECRET"] = None
    assert post(client, report).status_code == 404


@pytest.mark.parametrize("raw", [
    b"", b"null", b"[]", b"{}", b"not json", b"\xff\xfe\x00", b"[" * 100_000, b"{" * 5000, b'"delivered"',
    b"12", b"true", json.dumps([{}] * 1001).encode(), json.dumps(event(True, "delivered")).encode(),
    json.dumps(event(-1, "delivered")).encode(), json.dumps(event(1.5, "delivered")).encode(),
    json.dumps(event("12a", "delivered")).encode(), json.dumps(event("²", "delivered")).encode(),
    json.dumps(event("9" * 30, "delivered")).encode(), json.dumps(event(BREVO_ID, 5)).encode(),
    json.dumps(event(BREVO_ID, None)).encode(), json.dumps(event(None, "delivered")).encode(),
    json.dumps(event(BREVO_ID, "x" * 100_000)).encode(), json.dumps(event([BREVO_ID], "delivered")).encode(),
    json.dumps(event({"id": BREVO_ID}, "delivered")).encode(), b"\x00" * 100,
])
def test_hostile_reports_get_a_4xx_and_change_nothing(db, client, sent, raw):
    answer = post(client, None, raw=raw)
    assert 400 <= answer.status_code < 500 or answer.status_code == 204
    assert _row(db, sent).delivery is None


def test_a_report_too_large_to_be_brevos_is_refused(db, client, sent):
    assert post(client, None, raw=b" " * 1_000_001 + b"{}").status_code == 413
    assert _row(db, sent).delivery is None


def test_no_phone_number_reaches_the_logs(client, sent, caplog):
    caplog.set_level(logging.DEBUG)
    post(client, event(BREVO_ID, "delivered"))
    post(client, [event(BREVO_ID, "hard_bounce"), {"to": "33612345678"}])
    post(client, event(BREVO_ID, "delivered"), authorization=basic("wrong"))
    assert "612345678" not in caplog.text


def test_the_secret_is_read_from_basic_auth_or_a_bearer_token():
    assert brevo_genuine("s3cret", basic("s3cret")) and brevo_genuine("s3cret", "Bearer s3cret")
    assert brevo_genuine("s3cret", "bearer   s3cret ")
    assert basic("s3cret:with:colons", user="u").startswith("Basic ")
    assert brevo_genuine("s3cret:with:colons", basic("s3cret:with:colons"))
    assert not brevo_genuine(None, basic("s3cret")) and not brevo_genuine("", "Bearer ")
    assert not brevo_genuine("s3cret", None) and not brevo_genuine("s3cret", "Basic czNjcmV0")  # no colon
    assert not brevo_genuine("s3cret", "Basic " + base64.b64encode(b"u:\xff").decode())
