"""Signing up with an email address, without telling anyone whether the address has an account.

The sign-up form always answers "look at your emails". A new address gets a link that finishes
the sign-up (the account is created only then, so nobody can take someone else's address); an
address that has an account gets a notice instead, with a link to log in and one to choose a new
password. Both ways do the same work: the password is hashed, one email is written to the outbox.

The link carries the sign-up itself, encrypted (Fernet, keyed from SECRET_KEY, as the password
links are): nothing waits in the database for a person who never clicks.
"""

import base64
import hashlib
import hmac
import json
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..clock import now_utc
from ..db import write_transaction
from ..models import Notification, User, password_hasher
from . import ServiceError, consent, passwords, phones
from .accounts import NewPerson, find_by_email, normalise_email, register

LIFETIME = timedelta(hours=24)
# Emails a typed address may receive from the sign-up form an hour (a link or a notice): enough
# for a slip or two, too few to fill someone's mailbox from many machines.
PER_ADDRESS_PER_HOUR = 3
# Longer than any link made here (a name of 120 letters, an address of 254): a pasted essay is refused unread.
MAX_LINK = 3000
FIELDS = ("name", "role", "email", "phone", "password_hash", "locale", "timezone", "birth_year", "school_class")


def _secret(purpose: str) -> bytes:
    return hashlib.sha256(f"lien-sign-up-{purpose}\0{current_app.config['SECRET_KEY']}".encode()).digest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_secret("link")))


def check(person: NewPerson) -> None:
    """The form's rules that do not depend on who has an account (role, birth year, phone)."""
    if person.role not in ("student", "parent"):
        raise ServiceError(_l("Choisissez élève ou parent."), field="role")
    if person.role == "student":
        consent.check_birth_year(person.birth_year, now_utc().date())
    phones.require(person.phone)


def ask(db: Session, person: NewPerson) -> None:
    """Answer a sign-up form: a link to a new address, a notice to an address that has an active
    account, nothing past the hourly cap or for a closed account. The caller says the same in
    every case; only a rule of the form itself (check) raises."""
    check(person)
    # Hashed before the address is looked up: as long either way.
    password_hash = password_hasher.hash(person.password or "")
    email = normalise_email(person.email)
    if email is None:
        raise ServiceError(_l("Écrivez votre adresse e-mail."), field="email")
    now = now_utc()
    try:
        with write_transaction(db):
            key = _free_key(db, email)
            owner = find_by_email(db, email)
            if key is None or (owner is not None and not owner.active):
                return
            if owner is None:
                link = _link({**_fields(person), "email": email, "password_hash": password_hash})
                db.add(Notification(kind="sign_up", channel="email", recipient_id=None, address=email,
                                    locale=person.locale, payload={"url": link, "name": person.name.strip()},
                                    due_at=now, dedupe_key=key))
            else:
                db.add(Notification(kind="sign_up_taken", channel="email", recipient_id=owner.id, address=email,
                                    locale=owner.locale, payload=_ways_in(owner), due_at=now, dedupe_key=key))
    except IntegrityError:
        return  # the same address asked twice at the same moment: one email is enough


def _fields(person: NewPerson) -> dict:
    return {"name": person.name.strip(), "role": person.role, "phone": phones.require(person.phone),
            "locale": person.locale, "timezone": person.timezone, "birth_year": person.birth_year,
            "school_class": person.school_class}


def _free_key(db: Session, email: str) -> str | None:
    """The outbox key for this address's next sign-up email this hour, or None past the cap.
    Looked up through the unique index, with no address in the key."""
    digest = hmac.new(_secret("address"), email.encode(), hashlib.sha256).hexdigest()[:32]
    hour = now_utc().strftime("%Y%m%d%H")
    keys = [f"sign_up|{digest}|{hour}|{n}" for n in range(PER_ADDRESS_PER_HOUR)]
    taken = set(db.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.in_(keys))))
    return next((key for key in keys if key not in taken), None)


def _ways_in(owner: User) -> dict:
    """The notice's links: log in, choose a new password, and (with a mobile) a code by SMS."""
    public = current_app.config["PUBLIC_URL"].rstrip("/")
    return {"login_url": public + url_for("auth.login"), "reset_url": passwords.make_link(owner, "reset"),
            "sms_login_url": public + url_for("auth.login_by_sms") if phones.is_mobile(owner.phone) else ""}


def _link(fields: dict) -> str:
    payload = json.dumps([fields[name] for name in FIELDS], ensure_ascii=False, separators=(",", ":")).encode()
    token = _fernet().encrypt_at_time(payload, int(now_utc().timestamp())).decode()
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for("auth.finish_sign_up", token=token)


def from_link(token: str) -> NewPerson | None:
    """The sign-up a link carries, if it is genuine and recent."""
    if len(token) > MAX_LINK:
        return None
    try:
        values = json.loads(_fernet().decrypt_at_time(
            token.encode(), ttl=int(LIFETIME.total_seconds()), current_time=int(now_utc().timestamp())))
    except (InvalidToken, ValueError, UnicodeError):
        return None
    if not isinstance(values, list) or len(values) != len(FIELDS):
        return None
    return NewPerson(**dict(zip(FIELDS, values, strict=True)))


def finish(db: Session, person: NewPerson) -> User:
    """Create the account of a sign-up whose link was opened. An address taken since (the link
    opened twice) raises the usual ServiceError: whoever holds the link owns the address."""
    return register(db, person)
