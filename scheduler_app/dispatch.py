"""The outbox's sender: claim due messages with a lease, send them, record what happened.

Any number of workers may tick at once. A claim is atomic (PostgreSQL: SELECT … FOR UPDATE
SKIP LOCKED; SQLite: the write lock of BEGIN IMMEDIATE), and each result is recorded as soon as
the message is sent, only while the worker still holds its claim. A worker that dies leaves its claims to expire (LEASE), and
another worker takes them again. The crash between "the provider accepted" and "recorded" is
settled per channel: email is sent at least once (a worker killed mid-batch repeats at most the
one message it was sending), under a stable Message-ID that lets mail clients drop the copy; an SMS is sent at most once (a claim that expired after the attempt
began is recorded as failed, "may have been sent", for a coordinator to look at).
"""

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker

from notifications import DeliveryError, Email, Sms, fit_sms, make_message_id

from .clock import now_utc
from .db import write_transaction
from .models import Notification

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 6


def backoff(attempts: int) -> timedelta:
    """How long to wait before trying again: 1, 2, 4, 8… minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


@dataclass
class TickReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def add(self, other: "TickReport") -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed


@dataclass
class Outcome:
    """What happened to one claimed message."""

    status: str  # sent | retry | failed
    error: str = ""
    provider_id: str | None = None  # what the provider calls the message (an SMS's delivery reports name it)


@dataclass
class Dispatcher:
    """One worker's sender. `compose` turns a claimed row into an Email or an Sms."""

    sessions: sessionmaker
    email_channel: object
    sms_channel: object
    compose: Callable[[Session, list[Notification]], dict[int, Email | Sms]]
    batch_size: int = 200
    lease: timedelta = LEASE
    max_attempts: int = MAX_ATTEMPTS
    worker_id: str = field(default_factory=lambda: secrets.token_hex(8))

    def tick(self, max_batches: int = 50) -> TickReport:
        """Send everything due now, batch after batch, until nothing is left (or max_batches)."""
        report = TickReport()
        for _ in range(max_batches):
            ids = self.claim()
            if not ids:
                break
            report.add(self.deliver(ids))
        return report

    def claim(self) -> list[int]:
        """Take up to batch_size due messages for this worker, with a lease."""
        now = now_utc()
        with self.sessions() as db, write_transaction(db):
            due = or_(
                (Notification.status == "pending") & (Notification.due_at <= now),
                (Notification.status == "sending") & (Notification.lease_until < now),
            )
            query = select(Notification.id, Notification.channel, Notification.status,
                           Notification.attempted_at).where(due)
            query = query.order_by(Notification.due_at, Notification.id).limit(self.batch_size)
            if db.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = db.execute(query).all()
            # An SMS whose earlier attempt began and never came back may have been sent.
            maybe_sent = [row.id for row in rows if row.channel == "sms" and row.attempted_at is not None]
            ids = [row.id for row in rows if row.id not in set(maybe_sent)]
            if maybe_sent:
                db.execute(
                    update(Notification).where(Notification.id.in_(maybe_sent))
                    .values(status="failed", claimed_by=None, lease_until=None,
                            last_error="SMS: the sender stopped during sending; it may have been "
                                       "delivered, so it was not sent again (at most once).")
                    .execution_options(synchronize_session=False)
                )
            if ids:
                db.execute(
                    update(Notification).where(Notification.id.in_(ids))
                    .values(status="sending", claimed_by=self.worker_id, lease_until=now + self.lease,
                            attempts=Notification.attempts + 1)
                    .execution_options(synchronize_session=False)
                )
        return ids

    def deliver(self, ids: list[int]) -> TickReport:
        """Send claimed messages (emails over one SMTP connection) and record each outcome."""
        with self.sessions() as db:
            rows = db.scalars(
                select(Notification).where(Notification.id.in_(ids), Notification.claimed_by == self.worker_id)
                .options(joinedload(Notification.recipient)).order_by(Notification.id)
            ).all()
            try:
                messages = self.compose(db, list(rows))
            except Exception as error:  # a bug in composing must not wedge the outbox
                log.exception("composing %d messages failed", len(rows))
                messages = {}
                compose_error = f"composing failed: {error}"
            else:
                compose_error = ""
            db.rollback()
            report = TickReport()
            # Each result is written as soon as it is known: a worker killed mid-batch leaves at
            # most the one message it was sending to go again, not the whole batch.
            emails = [row for row in rows if row.channel == "email"]
            if emails:
                with self.email_channel.session() as smtp:
                    for row in emails:
                        self._record(db, row, self._send(messages.get(row.id), smtp.send, row, compose_error), report)
            for row in rows:
                if row.channel == "sms":
                    self._mark_attempt(db, row)
                    outcome = self._send(messages.get(row.id), self.sms_channel.send, row, compose_error)
                    self._record(db, row, outcome, report)
            return report

    def _send(self, message, send, row: Notification, compose_error: str) -> Outcome:
        if message is None:
            return Outcome("failed", compose_error or "nothing to send (the session or person is gone)")
        if isinstance(message, Exception):
            return Outcome("failed", f"composing failed: {message!r}")
        try:
            provider_id = send(message)
        except DeliveryError as error:
            if error.permanent or error.maybe_delivered or row.attempts >= self.max_attempts:
                return Outcome("failed", error.reason)
            return Outcome("retry", error.reason)
        except Exception as error:  # an unexpected failure is retried like a temporary one
            log.exception("sending message %s failed", row.id)
            if row.attempts >= self.max_attempts:
                return Outcome("failed", repr(error))
            return Outcome("retry", repr(error))
        return Outcome("sent", provider_id=str(provider_id)[:64] if provider_id and row.channel == "sms" else None)

    def _mark_attempt(self, db: Session, row: Notification) -> None:
        with write_transaction(db):
            db.execute(
                update(Notification)
                .where(Notification.id == row.id, Notification.claimed_by == self.worker_id)
                .values(attempted_at=now_utc())
                .execution_options(synchronize_session=False)
            )

    def _record(self, db: Session, row: Notification, outcome: Outcome, report: TickReport) -> None:
        """Write one message's outcome, only if this worker still holds its claim."""
        now = now_utc()
        if outcome.status == "sent":
            values = {"status": "sent", "sent_at": now, "lease_until": None, "last_error": "",
                      "provider_message_id": outcome.provider_id}
        elif outcome.status == "retry":
            values = {"status": "pending", "due_at": now + backoff(row.attempts), "attempted_at": None,
                      "last_error": outcome.error[:2000], "lease_until": None, "claimed_by": None}
        else:
            values = {"status": "failed", "last_error": outcome.error[:2000], "lease_until": None,
                      "claimed_by": None}
        with write_transaction(db):
            recorded = db.execute(
                update(Notification)
                .where(Notification.id == row.id, Notification.claimed_by == self.worker_id,
                       Notification.status == "sending")
                .values(**values)
                .execution_options(synchronize_session=False)
            ).rowcount
        if outcome.status == "sent":
            report.sent += recorded
        elif outcome.status == "retry":
            report.retried += 1
        else:
            report.failed += 1


def retry(db: Session, notification_id: int) -> bool:
    """A coordinator sends a failed message again, or an SMS its provider reported undelivered
    (once the number is checked): it becomes due now, attempts start over."""
    undelivered = (Notification.status == "sent") & (Notification.delivery == "undelivered")
    with write_transaction(db):
        changed = db.execute(
            update(Notification)
            .where(Notification.id == notification_id, (Notification.status == "failed") | undelivered)
            .values(status="pending", due_at=now_utc(), attempts=0, attempted_at=None, claimed_by=None,
                    lease_until=None, sent_at=None, provider_message_id=None, delivery=None, delivery_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    return changed == 1


def email_message(row: Notification, rendered, *, domain: str, ics: bytes | None = None,
                  ics_method: str = "REQUEST") -> Email:
    """An outbox row and its rendered text as an Email with a stable Message-ID."""
    return Email(
        to=row.address, subject=rendered.subject, text=rendered.text, html=rendered.html,
        ics=ics, ics_method=ics_method, message_id=message_id(row, domain),
    )


def message_id(row: Notification, domain: str) -> str:
    """The row's Message-ID, the same at every attempt: its random key; rows written before
    migration 0012 have none and keep the one hashed from their dedupe key."""
    if row.message_key:
        return f"<lien.{row.message_key}@{domain}>"
    return make_message_id(row.dedupe_key, domain)


def sms_message(row: Notification, rendered, link: str | None) -> Sms:
    """An outbox row as an SMS of at most two segments, the join link kept whole."""
    text = rendered.sms or rendered.subject
    return Sms(to=row.address, text=fit_sms(text, link) if link else fit_sms(text, "", 2).strip())

