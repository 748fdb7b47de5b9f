"""Passwords: how strong a new one must be, checking one at login in the same time whether or not
the account exists, and the links that let someone choose one (reset, invitation).

A link is encrypted (Fernet, keyed from SECRET_KEY): it carries the account and its login key, yet
shows neither; it expires, and a new password (a new login key) makes it useless.
"""

import base64
import hashlib
import json
import secrets
from contextlib import suppress
from datetime import timedelta
from functools import cache

from argon2.exceptions import VerificationError
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from ..clock import now_utc
from ..db import write_transaction
from ..models import User, password_hasher
from . import outbox

PURPOSES = {"reset": timedelta(hours=24), "invitation": timedelta(days=7)}
# zxcvbn's scale: 0 and 1 fall to an online guesser within hours; 2 needs ~10^6 guesses, far past
# the login throttle (RATELIMIT_LOGIN).
STRONG_ENOUGH = 2
CHECKED_LENGTH = 100  # zxcvbn's time grows with the length; beyond this a password is long enough


def weakness(password: str, hints: tuple[str, ...] = ()) -> str | None:
    """Why a new password is too easy to guess (a message that says what to do), or None."""
    if len(password) >= CHECKED_LENGTH:
        return None
    words = tuple(part for hint in hints if hint for part in hint.replace("@", " ").split())
    if zxcvbn(password, user_inputs=list(words))["score"] >= STRONG_ENOUGH:
        return None
    return _("Ce mot de passe est trop facile à deviner. Prenez trois ou quatre mots qui vont "
             "ensemble pour vous, par exemple « vélo jaune du dimanche ».")


@cache
def _decoy_hash() -> str:
    """A hash to verify against when there is no account: the same work either way."""
    return password_hasher.hash(secrets.token_urlsafe(16))


def check_login(user: User | None, password: str) -> bool:
    """Whether `password` is this active account's, taking as long when there is no account (or
    no password), so that the time of an answer does not tell who has an account."""
    if user is None or not user.password_hash:
        with suppress(VerificationError):
            password_hasher.verify(_decoy_hash(), password)
        return False
    return user.check_password(password) and user.active


def _fernet(purpose: str) -> Fernet:
    material = hashlib.sha256(f"lien-password-{purpose}\0{current_app.config['SECRET_KEY']}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(material))


def make_link(user: User, purpose: str) -> str:
    """An absolute link that lets this person choose a password."""
    payload = json.dumps({"id": user.id, "key": user.login_key}).encode()
    token = _fernet(purpose).encrypt_at_time(payload, int(now_utc().timestamp())).decode()
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for("auth.choose_password", purpose=purpose, token=token)


def person_from_link(db: Session, purpose: str, token: str) -> User | None:
    """The person a link was made for, if it is genuine, recent, and not used yet."""
    if purpose not in PURPOSES or len(token) > 500:
        return None
    try:
        data = json.loads(_fernet(purpose).decrypt_at_time(
            token.encode(), ttl=int(PURPOSES[purpose].total_seconds()), current_time=int(now_utc().timestamp())))
    except (InvalidToken, ValueError, UnicodeError):
        return None
    user = db.get(User, data["id"]) if isinstance(data, dict) and isinstance(data.get("id"), int) else None
    if user is None or not user.active or not secrets.compare_digest(user.login_key, str(data.get("key"))):
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


def log_out_everywhere(db: Session, user: User) -> None:
    """A new login key: every session and "stay logged in" cookie of this account stops working."""
    with write_transaction(db):
        user.log_out_everywhere()
