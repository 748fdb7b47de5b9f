"""What /health says: whether the database answers, and whether the rate limits' storage does.

The database is asked on a connection opened for the check, not one from the pool (a pooled
connection may be one the server has dropped since, and a pool full of busy connections says
nothing about the server), with a short timeout, so that a monitor learns within seconds that
Lien cannot serve pages. What went wrong is logged; the answer, which anyone may read, says it
in fixed words, without the servers' addresses.
"""

from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from . import db
from .errors import what_the_driver_said
from .extensions import limiter

TIMEOUT_SECONDS = 2  # libpq's connect_timeout counts whole seconds, and at least 2

DATABASE_DOWN = "The database does not answer: Lien cannot serve its pages."
LIMITS_DEGRADED = ("The rate limits' storage does not answer: each web worker counts logins and join links "
                   "in its own memory until it does.")


def report(app: Flask) -> tuple[dict, int]:
    """(the answer, its HTTP status): 200 "ok" or "degraded" while pages can be served, 503 "down"
    when they cannot."""
    answer: dict = {"status": "ok", "database": "ok", "rate_limits": "ok", "reasons": []}
    if not _database_answers(app):
        answer.update(status="down", database="unreachable")
        answer["reasons"].append(DATABASE_DOWN)
    storage = urlsplit(app.config["RATELIMIT_STORAGE_URI"]).scheme
    if storage == "memory":
        answer["rate_limits"] = "memory"  # each worker counts alone: a choice, not a fault
    elif not limiter.storage.check():  # a ping, with the storage's own short timeouts
        app.logger.warning("Health: the rate limits' storage (%s) does not answer", storage)
        answer["rate_limits"] = "unreachable"
        answer["reasons"].append(LIMITS_DEGRADED)
        if answer["status"] == "ok":
            answer["status"] = "degraded"
    return answer, 503 if answer["status"] == "down" else 200


def _database_answers(app: Flask) -> bool:
    try:
        with _engine(app).connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()
    except Exception as error:  # whatever it is, pages cannot be served: say so, and log why
        app.logger.error("Health: the database does not answer (%s)", what_the_driver_said(error))
        return False
    return True


def _engine(app: Flask) -> Engine:
    """An engine for the check alone: no pool (a new connection each time), short timeouts."""
    engine = app.extensions.get("lien_health_engine")
    if engine is None:
        url = db.engine_of(app).url
        if url.get_backend_name() == "postgresql":
            options = {"isolation_level": "AUTOCOMMIT", "connect_args": {
                "connect_timeout": TIMEOUT_SECONDS, "options": f"-c statement_timeout={TIMEOUT_SECONDS * 1000}"}}
        elif url.get_backend_name() == "sqlite":
            options = {"connect_args": {"timeout": TIMEOUT_SECONDS}}
        else:
            options = {}
        engine = app.extensions["lien_health_engine"] = create_engine(url, poolclass=NullPool, **options)
    return engine
