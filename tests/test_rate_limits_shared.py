"""Login and join-link throttling shared by every worker through Redis (RATELIMIT_STORAGE_URI).

Each test counts under a Redis key prefix of its own and deletes its keys at the end.
LIEN_TEST_REDIS_URL points at the Redis server (default redis://127.0.0.1:6379).
"""

import os
import uuid

import pytest
import redis
from factories import PASSWORD, login, make_person, sqlite_copy

from scheduler_app import create_app
from scheduler_app import db as database

REDIS_URL = os.environ.get("LIEN_TEST_REDIS_URL", "redis://127.0.0.1:6379")


@pytest.fixture
def database_url(sqlite_template, tmp_path) -> str:
    """What is shared here is Redis, not the database: SQLite only."""
    return sqlite_copy(sqlite_template, tmp_path)


@pytest.fixture
def redis_prefix():
    """A key prefix for this test alone; its keys are removed afterwards."""
    prefix = f"lien-test-limits-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    server = redis.Redis.from_url(REDIS_URL)
    yield prefix
    keys = list(server.scan_iter(f"{prefix}:*"))
    if keys:
        server.delete(*keys)
    server.close()


@pytest.fixture
def start_worker(database_url, tmp_path):
    """Build a web worker as gunicorn would: its own app, with the given rate-limit storage."""
    apps = []

    def start(storage_uri: str, prefix: str = "lien-limits"):
        app = create_app({
            "TESTING": True, "SECRET_KEY": "test-secret-key", "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": storage_uri, "RATELIMIT_STORAGE_PREFIX": prefix,
            "RATELIMIT_LOGIN": "3 per minute", "RATELIMIT_JOIN": "4 per minute",
        })
        app.instance_path = str(tmp_path)
        apps.append(app)
        return app.test_client()

    yield start
    for app in apps:
        database.close(app)


def test_a_second_worker_refuses_logins_after_the_first_saw_too_many(start_worker, db, redis_prefix):
    person = make_person(db, "student", "Yasmine Haddou")
    first = start_worker(REDIS_URL, redis_prefix)
    assert [login(first, person.email, "wrong").status_code for _ in range(3)] == [200, 200, 200]
    second = start_worker(REDIS_URL, redis_prefix)  # another gunicorn worker, same Redis
    refused = login(second, person.email, PASSWORD)
    assert refused.status_code == 429 and "Trop d" in refused.get_data(as_text=True)
    # The count lives in Redis, under this deployment's prefix.
    keys = [key.decode() for key in redis.Redis.from_url(REDIS_URL).scan_iter(f"{redis_prefix}:*")]
    assert any("auth.login" in key for key in keys), keys


def test_join_links_are_throttled_across_workers(start_worker, redis_prefix):
    first = start_worker(REDIS_URL, redis_prefix)
    assert [first.get("/j/guessing-a-link").status_code for _ in range(4)] == [404] * 4
    second = start_worker(REDIS_URL, redis_prefix)
    assert second.get("/j/guessing-another").status_code == 429


def test_without_redis_each_worker_counts_alone(start_worker, db):
    """Why RATELIMIT_STORAGE_URI matters: in memory, a second worker starts from zero, so N
    workers would let N times the limit through."""
    person = make_person(db, "student", "Yasmine Haddou")
    first = start_worker("memory://")
    assert [login(first, person.email, "wrong").status_code for _ in range(3)] == [200, 200, 200]
    assert login(first, person.email, "wrong").status_code == 429
    second = start_worker("memory://")
    assert "<h1>Mes séances</h1>" in login(second, person.email, PASSWORD).get_data(as_text=True)
