"""Logging in (or signing up) with a mobile: a 6-digit code by SMS, 10 minutes, 5 attempts.

Asking for a code answers the same whether the number has an account or not. Codes are kept as
an HMAC keyed from SECRET_KEY (a 6-digit code hashed without a secret is found by trying all a
million); the outbox carries the code encrypted until the SMS leaves. Codes go only to mobiles
of the allowed countries, a few per number an hour, within a daily SMS budget: past it no code
is sent and the coordinators see an alert among the failed messages.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..clock import now_utc
from ..db import write_transaction
from ..models import LoginCode, Notification, User
from . import ServiceError, phones

LIFETIME = timedelta(minutes=10)
ATTEMPTS = 5
PER_NUMBER_PER_HOUR = 3
DIGITS = 6


def _secret(purpose: str) -> bytes:
    return hashlib.sha256(f"lien-login-code-{purpose}\0{current_app.config['SECRET_KEY']}".encode()).digest()


def _hash(phone: str, code: str) -> str:
    return hmac.new(_secret("hash"), f"{phone}\0{code}".encode(), hashlib.sha256).hexdigest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_secret("outbox")))


def code_in_message(payload: dict) -> str | None:
    """The code an outbox row carries, for composing its SMS (None once it has expired)."""
    try:
        return _fernet().decrypt_at_time(str(payload.get("code", "")).encode(), ttl=int(LIFETIME.total_seconds()),
                                         current_time=int(now_utc().timestamp())).decode()
    except (InvalidToken, ValueError, UnicodeError):
        return None


def sms_sent_today(db: Session, now: datetime) -> int:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return db.scalar(select(func.count()).select_from(Notification).where(
        Notification.channel == "sms", Notification.kind != "sms_budget", Notification.created_at >= midnight))


def _alert_budget(db: Session, now: datetime, budget: int) -> None:
    """One entry a day on the coordinators' failed messages: the day's SMS budget is spent."""
    day = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date().isoformat()
    key = f"sms_budget|{day}"
    if db.scalar(select(Notification.id).where(Notification.dedupe_key == key)) is None:
        db.add(Notification(kind="sms_budget", channel="sms", recipient_id=None, address="-", locale="fr",
                            payload={"budget": budget}, due_at=now, status="failed", dedupe_key=key,
                            last_error=f"SMS_DAILY_BUDGET ({budget}) reached: login codes are not sent until tomorrow."))


def send_code(db: Session, typed_phone: str, locale: str = "fr") -> str:
    """Send a login code to a mobile of an allowed country; returns the number in E.164.
    Raises ServiceError for a number that cannot get one, never for one without an account."""
    phone = phones.require(typed_phone)
    if phone is None:
        raise ServiceError(phones.EXPECTED_FORM, field="phone")
    if not phones.can_receive_codes(phone, current_app.config["SMS_CODE_COUNTRIES"]):
        raise ServiceError(_l("Nous envoyons les codes seulement aux téléphones portables de France et "
                              "d'outre-mer. Écrivez un numéro de portable, ou appelez le centre."), field="phone")
    now = now_utc()
    with write_transaction(db):
        recent = db.scalar(select(func.count()).select_from(LoginCode).where(
            LoginCode.phone == phone, LoginCode.created_at > now - timedelta(hours=1)))
        if recent >= PER_NUMBER_PER_HOUR:
            raise ServiceError(_l("Trop de codes demandés pour ce numéro. Attendez une heure, ou appelez le centre."),
                               field="phone")
        budget = current_app.config["SMS_DAILY_BUDGET"]
        over_budget = sms_sent_today(db, now) >= budget
        if over_budget:
            _alert_budget(db, now, budget)
        else:
            _write_code(db, phone, locale, now)
    if over_budget:
        raise ServiceError(_l("Nous ne pouvons pas envoyer de code aujourd'hui. Appelez le centre, "
                              "ou réessayez demain."), field="phone")
    return phone


def _write_code(db: Session, phone: str, locale: str, now: datetime) -> None:
    code = f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"
    row = LoginCode(phone=phone, code_hash=_hash(phone, code), attempts_left=ATTEMPTS,
                    expires_at=now + LIFETIME, created_at=now)
    db.add(row)
    db.flush()
    owner = _account(db, phone)
    db.add(Notification(kind="login_code", channel="sms", recipient_id=owner.id if owner else None,
                        address=phone, locale=owner.locale if owner else locale,
                        payload={"code": _fernet().encrypt_at_time(code.encode(), int(now.timestamp())).decode()}, due_at=now,
                        dedupe_key=f"login_code|{row.id}"))


def _account(db: Session, phone: str) -> User | None:
    """The account of a number: the oldest active one, when several people share a phone."""
    return db.scalar(select(User).where(User.phone == phone, User.active, User.deleted_at.is_(None))
                     .order_by(User.id).limit(1))


@dataclass
class Checked:
    phone: str
    user: User | None  # None: a number without an account, which goes on to sign up


def check_code(db: Session, phone: str, typed: str) -> Checked:
    """The person behind a right code; a wrong one uses up an attempt and says how many are left."""
    code = "".join(ch for ch in (typed or "") if ch in "0123456789")
    if len(code) != DIGITS or len(typed or "") > 20:
        raise ServiceError(_l("Écrivez les 6 chiffres du code reçu par SMS."), field="code")
    now = now_utc()
    refusal, left = None, None
    with write_transaction(db):
        row = db.scalar(select(LoginCode).where(LoginCode.phone == phone).order_by(LoginCode.id.desc()).limit(1)
                        .with_for_update())
        if row is None or row.used_at is not None or row.expires_at <= now or row.attempts_left <= 0:
            refusal = "spent"
        elif not hmac.compare_digest(row.code_hash, _hash(phone, code)):
            row.attempts_left -= 1
            refusal, left = "wrong", row.attempts_left
        else:
            row.used_at = now
            user = _account(db, phone)
    if refusal == "spent":
        raise ServiceError(_l("Ce code ne marche plus (il dure 10 minutes et permet 5 essais). "
                              "Demandez un nouveau code."), field="code")
    if refusal == "wrong" and left == 0:
        raise ServiceError(_l("Ce n'est pas le bon code, et c'était le dernier essai. Demandez un nouveau code."),
                           field="code")
    if refusal == "wrong":
        raise ServiceError(ngettext("Ce n'est pas le bon code. Il vous reste %(num)d essai.",
                                    "Ce n'est pas le bon code. Il vous reste %(num)d essais.", left), field="code")
    return Checked(phone=phone, user=user)
