"""Logins, CSRF, throttling, and the headers every response carries."""

from flask import Flask, current_app, request
from flask_login import UserMixin
from sqlalchemy import bindparam, select
from werkzeug.middleware.proxy_fix import ProxyFix

from . import db
from .changes import KeptUntilChanged
from .extensions import csrf, init_limiter, login_manager
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


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    init_limiter(app)  # the rate limits, and what happens when their storage is unreachable
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Connectez-vous pour voir cette page.")
    login_manager.login_message_category = "info"
    app.after_request(add_security_headers)
    app.extensions["lien_viewers"] = KeptUntilChanged(app.extensions["lien_changes"], ("user",))
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


class Viewer(UserMixin):
    """Who is logged in, as every page reads them: a plain row, not an ORM object.

    Loading the account through the ORM on every request cost ~0.1 ms a page of Python (the
    instance, its state, the identity map) for the few columns pages read. A view that changes
    the account, or hands it to a service that does, asks for `record`: the ORM object, from
    the request's session. Any other attribute of the account is read from it too."""

    FIELDS = ("id", "name", "email", "role", "locale", "timezone", "active", "login_key")
    __slots__ = (*FIELDS, "_record")

    def __init__(self, row):
        for name, value in zip(self.FIELDS, row, strict=True):
            setattr(self, name, value)
        self._record = None

    def read_again(self) -> None:
        """Take the account's values again, after a view changed it (say, its language, in
        which the rest of the request speaks)."""
        for name in self.FIELDS:
            setattr(self, name, getattr(self.record, name))

    @property
    def record(self) -> User:
        """The account itself (loaded once per request, when first asked for)."""
        if self._record is None:
            self._record = db.session().get(User, self.id)
        return self._record

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.record, name)

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.login_key}"


# Built once: every logged-in request runs it, and building and keying the select anew cost more
# than running it (about 0.2 ms a request).
_USER = User.__table__.c
_VIEWER_OF_SESSION = select(*(_USER[name] for name in Viewer.FIELDS)).where(
    _USER.id == bindparam("user_id"), _USER.login_key == bindparam("login_key")
)


@login_manager.user_loader
def load_user(session_id: str) -> Viewer | None:
    """The session holds "<id>:<login key>": a changed password (new key) ends old sessions.

    The row is kept in this process until the user table changes (scheduler_app/changes.py): a
    new password, a deactivation or a new name, made anywhere, is seen by the next request."""
    user_id, _, login_key = session_id.partition(":")
    if not user_id.isdigit() or not login_key:
        return None
    db_session = db.session()
    row = current_app.extensions["lien_viewers"].get(session_id, lambda: db_session.connection().execute(
        _VIEWER_OF_SESSION, {"user_id": int(user_id), "login_key": login_key}
    ).one_or_none(), db_session)
    return Viewer(row) if row is not None and row.active else None
