"""Every Flask extension, instantiated once here and bound to the app in the factory."""

import logging
from urllib.parse import urlsplit

from flask import Flask
from flask.logging import default_handler
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# Limits are declared on the routes that need them (login, join links); storage comes from
# RATELIMIT_STORAGE_URI (memory on a laptop, Redis when several workers share the limits).
# A storage that stops answering must never stop a family from logging in or joining: the
# limiter logs a warning and counts in this process's memory instead (the route's own limits,
# per worker), and asks the storage again after 1, 2, 4 … 32 s (Flask-Limiter's in-memory
# fallback). Any other failure of the limiter is logged and the request goes on unthrottled.
limiter = Limiter(key_func=get_remote_address, default_limits=[],
                  in_memory_fallback_enabled=True, swallow_errors=True)

# redis-py waits 5 s for a connection and for each answer: a Redis host that went silent would
# hold every login that long. A Redis next to Lien answers in well under a millisecond.
REDIS_TIMEOUTS = {"socket_connect_timeout": 1, "socket_timeout": 1}


def init_limiter(app: Flask) -> None:
    """Bind the limiter to the app, with short timeouts when its storage is a Redis server."""
    if urlsplit(app.config["RATELIMIT_STORAGE_URI"]).scheme.startswith(("redis", "valkey")):
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {**REDIS_TIMEOUTS, **app.config.get("RATELIMIT_STORAGE_OPTIONS", {})}
    limiter.init_app(app)
    # Flask-Limiter says it fell back to memory on the "flask-limiter" log, which goes nowhere
    # unless the deployment configures logging (gunicorn does not): then send it where Flask
    # sends the app's own log when nothing is configured, the server's error stream.
    limits_log = logging.getLogger("flask-limiter")
    if not logging.getLogger().handlers and default_handler not in limits_log.handlers:
        limits_log.addHandler(default_handler)
