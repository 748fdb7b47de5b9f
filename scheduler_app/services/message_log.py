"""Every message the outbox holds, for coordinators: what went to whom, on which channel, and
where it stands (sent, waiting, failed, withdrawn), newest first, a page at a time."""

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..models import NOTIFICATION_STATUSES, Notification

MESSAGES_PAGE = 50

STATUS_NAMES = {
    "pending": _l("En attente"),
    "sending": _l("En cours d'envoi"),
    "sent": _l("Envoyé"),
    "failed": _l("En échec"),
    "cancelled": _l("Retiré (plus utile)"),
}

KIND_NAMES = {
    "booking_confirmed": _l("Séance réservée"),
    "tutor_booking_confirmed": _l("Nouvelle réservation, pour le tuteur"),
    "booking_cancelled": _l("Séance annulée"),
    "tutor_booking_cancelled": _l("Place annulée, pour le tuteur"),
    "slot_cancelled": _l("Créneau annulé, pour le tuteur"),
    "session_moved": _l("Séance déplacée"),
    "tutor_session_moved": _l("Créneau déplacé, pour le tuteur"),
    "password_reset": _l("Nouveau mot de passe"),
    "invitation": _l("Invitation à créer un compte"),
    "login_code": _l("Code de connexion"),
    "sign_up": _l("Inscription : le lien pour finir"),
    "sign_up_taken": _l("Adresse d'un compte existant écrite par quelqu'un d'autre"),
    "email_change": _l("Nouvelle adresse e-mail à confirmer"),
    "sms_budget": _l("Alerte : le budget de SMS du jour est atteint"),
    "sms_reply_confirmed": _l("Réponse à un SMS de la famille"),
    "sms_reply_nothing": _l("Réponse à un SMS de la famille"),
    "sms_reply_help": _l("Réponse à un SMS de la famille"),
}


def kind_name(kind: str) -> str:
    """What a message was, said for a coordinator ("Rappel" for every reminder)."""
    return str(_l("Rappel")) if kind.startswith("reminder_") else str(KIND_NAMES.get(kind, kind))


@dataclass(frozen=True)
class MessagePage:
    messages: Sequence[Notification]
    next_before: int | None  # the id the next page starts below, None on the last page


def message_page(db: Session, *, status: str = "", before: int | None = None,
                 size: int = MESSAGES_PAGE) -> MessagePage:
    """A page of messages, newest first (by id: keyset paging, no OFFSET), of one status or all."""
    query = select(Notification).options(joinedload(Notification.recipient)).order_by(Notification.id.desc())
    if status in NOTIFICATION_STATUSES:
        query = query.where(Notification.status == status)
    if before is not None:
        query = query.where(Notification.id < before)
    rows = db.scalars(query.limit(size + 1)).all()
    return MessagePage(rows[:size], rows[size - 1].id if len(rows) > size else None)
