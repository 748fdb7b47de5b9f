"""Several real worker processes (`flask worker --once`) over one outbox: each message goes out
exactly once, and a worker killed in the middle of a batch loses nothing and repeats at most one."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from factories import look_again, make_person
from sqlalchemy import func, insert, select

from scheduler_app.clock import now_utc
from scheduler_app.models import Notification

pytestmark = pytest.mark.slow
MESSAGES = 1000


def fill_outbox(db, count: int) -> None:
    """`count` due emails (password resets) spread over 50 people."""
    people = [make_person(db, "parent", f"Parent {n}", email=f"parent{n}@example.org") for n in range(50)]
    due = now_utc() - timedelta(seconds=1)
    db.execute(insert(Notification), [
        {"kind": "password_reset", "channel": "email", "recipient_id": people[n % 50].id,
         "address": people[n % 50].email, "locale": "fr", "payload": {"url": f"https://lien.example.org/r/{n}"},
         "due_at": due, "status": "pending", "attempts": 0, "last_error": "", "dedupe_key": f"test|{n}",
         "created_at": due}
        for n in range(count)
    ])
    db.commit()


def worker(database_url: str, smtp_port: int, **settings) -> subprocess.Popen:
    env = {**os.environ, "SECRET_KEY": "test-secret-for-workers", "DATABASE_URL": database_url,
           "MAIL_PROVIDER": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port),
           "MAIL_FROM": "Lien <lien@centre.example.org>", **{k: str(v) for k, v in settings.items()}}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "scheduler_app", "worker", "--once"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def message_ids(mailbox) -> list[str]:
    return [message["Message-ID"] for message in mailbox.all_parsed()]


def test_three_workers_at_once_send_each_of_a_thousand_messages_exactly_once(database_url, db, start_smtp):
    fill_outbox(db, MESSAGES)
    smtp = start_smtp()
    workers = [worker(database_url, smtp.port, OUTBOX_BATCH_SIZE=50) for _ in range(3)]
    outputs = [process.communicate(timeout=300) for process in workers]
    assert [process.returncode for process in workers] == [0, 0, 0], outputs
    ids = message_ids(smtp.mailbox)
    assert len(ids) == MESSAGES and len(set(ids)) == MESSAGES
    sent_by = [int(out.split(" sent")[0]) for out, _ in outputs]
    assert sum(sent_by) == MESSAGES
    assert sum(1 for count in sent_by if count > 0) >= 2, f"the workers did not share the work: {sent_by}"
    look_again(db)
    assert db.scalar(select(func.count()).select_from(Notification).where(Notification.status == "sent")) == MESSAGES


def test_a_worker_killed_mid_batch_leaves_nothing_unsent_and_sends_at_most_one_message_twice(
        database_url, db, start_smtp):
    count, batch, lease = 120, 50, 2
    fill_outbox(db, count)
    smtp = start_smtp()
    smtp.mailbox.delay = 0.02  # a slow SMTP server: the worker is killed while a batch is half sent
    doomed = worker(database_url, smtp.port, OUTBOX_BATCH_SIZE=batch, OUTBOX_LEASE_SECONDS=lease)
    deadline = time.monotonic() + 120
    while len(smtp.mailbox.messages) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    received_before = len(smtp.mailbox.messages)
    assert 30 <= received_before < batch, "the worker was not stopped in the middle of its first batch"
    smtp.mailbox.delay = 0
    time.sleep(lease + 0.5)  # its claims expire
    survivor = worker(database_url, smtp.port, OUTBOX_BATCH_SIZE=batch, OUTBOX_LEASE_SECONDS=lease)
    out, err = survivor.communicate(timeout=300)
    assert survivor.returncode == 0, err
    ids = message_ids(smtp.mailbox)
    assert len(set(ids)) == count  # nothing unsent
    # Each result is recorded as the message goes: only the one being sent at the kill (the
    # server may have taken it) can go twice, under the same Message-ID.
    assert len(ids) - count <= 1
    look_again(db)
    assert db.scalar(select(func.count()).select_from(Notification).where(Notification.status == "sent")) == count
