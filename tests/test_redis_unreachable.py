"""Redis, where the login and join-link limits are counted, stops answering: families still log in
and join, the limits go on in the worker's memory, /health says "degraded", and once Redis is
back the limits are counted there again.

Redis is reached through a TCP proxy that the test stops and starts (tests/tcp_proxy.py).
LIEN_TEST_REDIS_URL points at the Redis server (default redis://127.0.0.1:6379).
"""

import logging
import os
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import redis
from factories import PASSWORD, login, make_family, make_slot, make_tutor, sqlite_copy
from sqlalchemy import select
from tcp_proxy import TcpProxy

from scheduler_app.models import JoinToken
from scheduler_app.services.booking import book_slot

REDIS_URL = os.environ.get("LIEN_TEST_REDIS_URL", "redis://127.0.0.1:6379")
# Flask-Limiter asks a storage it gave up on again after 1, 2, 4 … 32 s.
RECOVERY_DEADLINE_SECONDS = 90

pytestmark = pytest.mark.slow


@pytest.fixture
def database_url(sqlite_template, tmp_path) -> str:
    """What fails here is Redis, not the database: SQLite only."""
    return sqlite_copy(sqlite_template, tmp_path)


@pytest.fixture
def redis_proxy():
    proxy = TcpProxy(urlsplit(REDIS_URL).port or 6379, urlsplit(REDIS_URL).hostname).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def redis_server():
    """Redis itself, for the test to look at (not through the proxy)."""
    server = redis.Redis.from_url(REDIS_URL)
    yield server
    server.close()


@pytest.fixture
def prefix(redis_server):
    """A key prefix for this test alone; its keys are removed afterwards."""
    prefix = f"lien-test-limits-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    yield prefix
    _forget(redis_server, prefix)


@pytest.fixture
def app_settings(redis_proxy, prefix):
    return {"RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{redis_proxy.port}", "RATELIMIT_STORAGE_PREFIX": prefix,
            "RATELIMIT_LOGIN": "3 per minute", "RATELIMIT_JOIN": "4 per minute"}


def _keys(server, prefix: str, endpoint: str) -> list[bytes]:
    return [key for key in server.scan_iter(f"{prefix}:*") if endpoint.encode() in key]


def _forget(server, prefix: str) -> None:
    keys = list(server.scan_iter(f"{prefix}:*"))
    if keys:
        server.delete(*keys)


def test_families_log_in_and_join_while_redis_is_unreachable_and_the_limits_return_with_it(
        app, client, db, redis_proxy, redis_server, prefix, caplog):
    tutor = make_tutor(db)
    slot = make_slot(db, tutor, starts_in=timedelta(minutes=5))  # the room is open
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    book_slot(db, slot.id, adam, parent, "fractions")
    link = db.scalar(select(JoinToken.token).where(JoinToken.user_id == parent.id))

    assert client.get("/health").get_json()["status"] == "ok"
    assert login(app.test_client(), parent.email, "wrong").status_code == 200
    assert _keys(redis_server, prefix, "auth.login"), "the limits are counted in Redis"

    redis_proxy.stop()
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        page = login(client, parent.email, PASSWORD)
    assert page.status_code == 200 and "<h1>Mes séances</h1>" in page.get_data(as_text=True)
    assert any("storage unreachable" in record.getMessage() for record in caplog.records)
    joined = app.test_client().get(f"/j/{link}")
    assert joined.status_code == 303 and joined.headers["Location"].startswith("https://meet.example.org/")
    health = client.get("/health")
    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded" and health.get_json()["rate_limits"] == "unreachable"
    assert "rate limits' storage does not answer" in health.get_json()["reasons"][0]
    # Meanwhile the limits still hold, counted in this worker's memory (the login above was one).
    guesser = app.test_client()
    assert [login(guesser, parent.email, "wrong").status_code for _ in range(3)] == [200, 200, 429]

    redis_proxy.start()
    deadline = time.monotonic() + RECOVERY_DEADLINE_SECONDS
    while not _keys(redis_server, prefix, "join"):  # a join link counted in Redis: it is used again
        assert time.monotonic() < deadline, "the limiter never went back to Redis"
        assert app.test_client().get(f"/j/{link}").status_code in (303, 429)
        time.sleep(0.2)
    assert client.get("/health").get_json()["status"] == "ok"
    _forget(redis_server, prefix)
    guesser = app.test_client()
    assert [login(guesser, parent.email, "wrong").status_code for _ in range(4)] == [200, 200, 200, 429]
    [counter] = _keys(redis_server, prefix, "auth.login")
    assert int(redis_server.get(counter)) == 4
