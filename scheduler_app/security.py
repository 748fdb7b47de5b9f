"""Logins, CSRF, throttling, and the headers every response carries."""

import secrets

from flask import Flask, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import db
from .extensions import csrf, init_limiter, login_manager
from .forms import ID_MAX
from .models import User

# Pages load only what Lien serves itself: no inline script or style (so an injected
# <script> or style="" does nothing), no plugins, no framing (clickjacking), forms post here only.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Other sites learn only "from this site", never a page's address (join links are secrets;
    # the join redirect itself sends no referrer at all).
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
}

HSTS = "max-age=31536000"  # a year: once a browser has seen Lien over HTTPS, it never tries HTTP


class IdConverter(IntegerConverter):
    """<int:…> in routes: an id the database can hold, so a huge number is a 404, not an error."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", ID_MAX)
        super().__init__(url_map, *args, **kwargs)


def refuse_hostile_input():
    """A 400 for what no form of Lien's takes: a NUL character (PostgreSQL cannot store it) or an
    uploaded file; every other value reaches the forms, which answer with a message. An SMS a
    family sends back is theirs, not a form: the webhook cleans it and answers (services.sms_replies)."""
    values = [request.path, *request.args.values(), *request.args.keys()]
    if request.method == "POST" and request.endpoint != "inbound.twilio":
        if request.files:
            abort(400)
        values += [*request.form.values(), *request.form.keys()]
    if any("\x00" in value for value in values):
        abort(400)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_hostile_input)
    csrf.init_app(app)
    init_limiter(app)  # the rate limits, and what happens when their storage is unreachable
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Connectez-vous pour voir cette page.")
    login_manager.login_message_category = "info"
    app.after_request(add_security_headers)
    if app.config["PROXY_FIX"]:
        # Behind nginx or Caddy: the client's address (for throttling), scheme (secure cookies,
        # HSTS) and host come from the X-Forwarded-* headers the trusted proxies set.
        proxies = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def add_security_headers(response):
    """Every response, pages, files and feeds alike; a view's own choice (the join redirect's
    no-referrer) is kept."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The session holds "<id>:<login key>": a changed password (new key) ends old sessions.
    Loaded once per request, into the request's session, as the ORM account every view uses."""
    user_id, _, login_key = session_id.partition(":")
    if not user_id.isdigit() or len(user_id) > 18 or not login_key:
        return None
    user = db.session().get(User, int(user_id))
    if user is None or not user.active or not secrets.compare_digest(user.login_key, login_key):
        return None
    return user
