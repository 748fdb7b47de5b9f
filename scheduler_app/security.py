"""Logins, CSRF and throttling."""

from flask import Flask
from sqlalchemy import select

from . import db
from .extensions import csrf, limiter, login_manager
from .models import User


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Connectez-vous pour voir cette page.")
    login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The session holds "<id>:<login key>": a changed password (new key) ends old sessions."""
    user_id, _, login_key = session_id.partition(":")
    if not user_id.isdigit() or not login_key:
        return None
    user = db.session().execute(
        select(User).where(User.id == int(user_id), User.login_key == login_key)
    ).scalar_one_or_none()
    return user if user is not None and user.active else None
