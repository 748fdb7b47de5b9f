"""Password reset and invitation links: signed, short-lived, and single-use (a new password
changes the account's login key, which the link carries)."""

import secrets
from datetime import timedelta

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from ..clock import now_utc
from ..db import write_transaction
from ..models import User
from . import outbox

PURPOSES = {"reset": timedelta(hours=24), "invitation": timedelta(days=7)}


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"lien-password-{purpose}")


def make_link(user: User, purpose: str) -> str:
    """An absolute link that lets this person choose a password."""
    token = _serializer(purpose).dumps({"id": user.id, "key": user.login_key})
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for("auth.choose_password", purpose=purpose, token=token)


def person_from_link(db: Session, purpose: str, token: str) -> User | None:
    """The person a link was made for, if it is genuine, recent, and not used yet."""
    if purpose not in PURPOSES:
        return None
    try:
        data = _serializer(purpose).loads(token, max_age=int(PURPOSES[purpose].total_seconds()))
    except (SignatureExpired, BadSignature):
        return None
    user = db.get(User, data.get("id"))
    if user is None or not user.active or user.login_key != data.get("key"):
        return None
    return user


def send_link(db: Session, user: User, purpose: str) -> None:
    """Write the email carrying the link into the outbox (email only: it is a password)."""
    if not user.email:
        return
    with write_transaction(db):
        kind = "password_reset" if purpose == "reset" else "invitation"
        outbox.enqueue(db, kind, [user], due_at=now_utc(), version=secrets.token_hex(6),
                       payload={"url": make_link(user, purpose)}, email_only=True)


def set_password(db: Session, user: User, password: str) -> None:
    with write_transaction(db):
        user.set_password(password)
