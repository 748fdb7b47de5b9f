"""Signing up with an email address, and changing one's own, without telling anyone whether the
address has an account.

The sign-up form always answers "look at your emails". A new address gets a link that finishes
the sign-up (the account is created only then, so nobody can take someone else's address); an
address that has an account gets a notice instead, with a link to log in and one to choose a new
password. Both ways do the same work: the password is hashed, one email is written to the outbox.
A person who writes a new address on their own page is answered the same way: the address is
theirs once they open the link sent to it, and an address that has an account gets the notice.

The links carry what they are for, encrypted (Fernet, keyed from SECRET_KEY, as the password
links are): nothing waits in the database for a person who never clicks.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta

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
from .accounts import NewPerson, ProfileChange, email_taken, find_by_email, normalise_email, register, update_profile

LIFETIME = timedelta(hours=24)
# Emails a typed address may receive an hour from these forms (a link or a notice): enough for a
# slip or two, too few to fill someone's mailbox from many machines.
PER_ADDRESS_PER_HOUR = 3
# Longer than any link made here (a name of 120 letters, an address of 254): a pasted essay is refused unread.
MAX_LINK = 3000
FIELDS = ("name", "role", "email", "phone", "password_hash", "locale", "timezone", "birth_year", "school_class")


def _secret(purpose: str) -> bytes:
    return hashlib.sha256(f"lien-sign-up-{purpose}\0{current_app.config['SECRET_KEY']}".encode()).digest()


def _fernet(purpose: str = "link") -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_secret(purpose)))


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

    def link_to_finish(key: str, now: datetime) -> Notification:
        link = _link({**_fields(person), "email": email, "password_hash": password_hash})
        return Notification(kind="sign_up", channel="email", recipient_id=None, address=email, locale=person.locale,
                            payload={"url": link, "name": person.name.strip()}, due_at=now, dedupe_key=key)

    _write_to(db, email, link_to_finish, by_profile=False)


def _write_to(db: Session, email: str, to_new_address: Callable[[str, datetime], Notification], *,
              by_profile: bool) -> None:
    """One email for an address someone wrote: `to_new_address`'s when no account has it, the
    notice when an active one does, none for a closed account or past the hourly cap."""
    try:
        with write_transaction(db):
            now = now_utc()
            key = _free_key(db, email)
            owner = find_by_email(db, email)
            if key is None or (owner is not None and not owner.active):
                return
            if owner is None:
                db.add(to_new_address(key, now))
            else:
                _tell_owner(db, owner, key, now, by_profile=by_profile)
    except IntegrityError:
        return  # the same address asked twice at the same moment: one email is enough


def _fields(person: NewPerson) -> dict:
    return {"name": person.name.strip(), "role": person.role, "phone": phones.require(person.phone),
            "locale": person.locale, "timezone": person.timezone, "birth_year": person.birth_year,
            "school_class": person.school_class}


def _free_key(db: Session, email: str) -> str | None:
    """The outbox key for this address's next email of these forms this hour, or None past the cap.
    Looked up through the unique index, with no address in the key."""
    digest = hmac.new(_secret("address"), email.encode(), hashlib.sha256).hexdigest()[:32]
    hour = now_utc().strftime("%Y%m%d%H")
    keys = [f"sign_up|{digest}|{hour}|{n}" for n in range(PER_ADDRESS_PER_HOUR)]
    taken = set(db.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.in_(keys))))
    return next((key for key in keys if key not in taken), None)


def _tell_owner(db: Session, owner: User, key: str, now: datetime, *, by_profile: bool) -> None:
    """The notice to an account whose address someone else wrote: ways in (log in, choose a new
    password, a code by SMS with a mobile), and nothing to do if it was not them."""
    public = current_app.config["PUBLIC_URL"].rstrip("/")
    ways = {"login_url": public + url_for("auth.login"), "reset_url": passwords.make_link(owner, "reset"),
            "sms_login_url": public + url_for("auth.login_by_sms") if phones.is_mobile(owner.phone) else "",
            "by_profile": by_profile}
    db.add(Notification(kind="sign_up_taken", channel="email", recipient_id=owner.id, address=owner.email,
                        locale=owner.locale, payload=ways, due_at=now, dedupe_key=key))


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


def update_own_profile(db: Session, person: User, change: ProfileChange) -> str | None:
    """Save a person's own settings; a new address waits for the link sent to it (or, if it has
    an account, its owner gets the notice). Returns the address written to, the same either way."""
    email = normalise_email(change.email)
    waits = email is not None and email != person.email
    update_profile(db, person, change, email_waits=waits)
    if not waits:
        return None

    def link_to_confirm(key: str, now: datetime) -> Notification:
        payload = json.dumps([person.id, person.email or "", email], ensure_ascii=False).encode()
        token = _fernet("email").encrypt_at_time(payload, int(now.timestamp())).decode()
        link = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("auth.confirm_email", token=token)
        return Notification(kind="email_change", channel="email", recipient_id=person.id, address=email,
                            locale=person.locale, payload={"url": link}, due_at=now, dedupe_key=key)

    _write_to(db, email, link_to_confirm, by_profile=True)
    return email


def email_change_from_link(db: Session, token: str) -> tuple[User, str] | None:
    """The person and the new address a link was made for, if it is genuine, recent, and the
    person's address is still the one it was made from."""
    if len(token) > MAX_LINK:
        return None
    try:
        values = json.loads(_fernet("email").decrypt_at_time(
            token.encode(), ttl=int(LIFETIME.total_seconds()), current_time=int(now_utc().timestamp())))
        person_id, old, new = values
    except (InvalidToken, ValueError, TypeError, UnicodeError):
        return None
    person = db.get(User, person_id) if isinstance(person_id, int) else None
    if person is None or not person.active or (person.email or "") != old or not isinstance(new, str):
        return None
    return person, new


def change_email(db: Session, person: User, email: str) -> None:
    """Give a person the address whose link they opened. An address taken since raises the
    usual ServiceError: whoever holds the link owns the address."""
    try:
        with write_transaction(db):
            if find_by_email(db, email) is not None:
                raise email_taken()
            person.email = email
    except IntegrityError as error:
        raise email_taken() from error
