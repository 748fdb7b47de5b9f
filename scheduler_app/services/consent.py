"""A child under 15 who signs up alone: their data is used beyond the account only once a parent
has linked them (with the family code) and approved.

French law sets 15 as the age from which a minor consents alone to an online service; below
it, the minor and a holder of parental authority consent together (loi Informatique et
Libertés, art. 45, under GDPR art. 8). The student's sign-up is their part; a linked parent's
approval, noted on their link (Guardianship.approved_at), is the other. Until then the student
cannot be booked, by anyone, so no session and no message about one uses their data.
"""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, aliased

from ..clock import now_utc
from ..db import write_transaction
from ..models import Guardianship, User
from . import ServiceError

CONSENT_AGE = 15
STUDENT_AGES = (5, 99)  # the ages a student signing up may have: anything else is a slip


def birth_years(today: date) -> tuple[int, int]:
    """The first and last birth year a student signing up may give."""
    youngest, oldest = STUDENT_AGES
    return today.year - oldest, today.year - youngest


def check_birth_year(year: int | None, today: date) -> None:
    """Raise a ServiceError naming the field unless `year` is a student's plausible birth year."""
    if year is None:
        raise ServiceError(_l("Écrivez votre année de naissance, par exemple 2012."), field="birth_year")
    first, last = birth_years(today)
    if not first <= year <= last:
        raise ServiceError(_l("Écrivez une année entre %(first)d et %(last)d.", first=first, last=last),
                           field="birth_year")


def may_be_under_consent_age(birth_year: int | None, today: date) -> bool:
    """True if someone born that year may not have had their 15th birthday yet (a year alone
    cannot tell: born in December 2012, they are 14 until December 2027)."""
    return birth_year is not None and today.year - birth_year <= CONSENT_AGE


def needs_approval(db: Session, student: User, today: date | None = None) -> bool:
    """True while a student who may be under 15 has no linked parent who approved."""
    today = today or now_utc().date()
    if student.role != "student" or not may_be_under_consent_age(student.birth_year, today):
        return False
    return db.scalar(select(Guardianship.parent_id).where(
        Guardianship.student_id == student.id, Guardianship.approved_at.is_not(None)).limit(1)) is None


def approve(db: Session, parent_id: int, student_id: int) -> None:
    """A linked parent agrees that their child uses Lien."""
    with write_transaction(db):
        link = db.get(Guardianship, (parent_id, student_id))
        if link is None:
            raise ServiceError(_l("Reliez d'abord cet enfant avec le code du centre."))
        if link.approved_at is None:
            link.approved_at = now_utc()


def born_since(today: date) -> int:
    """The first birth year of those who may be under 15 (awaits_approval's `born_since`)."""
    return today.year - CONSENT_AGE


def awaits_approval(student, first_year) -> ColumnElement[bool]:
    """SQL, true while a student (a User or an alias of it) born in `first_year` or later has no
    linked parent who approved: the rule the parent's page and the approval page read."""
    # Another parent's approval counts too, asked of each child's own links: a NOT IN over every
    # approval of the centre grew with the centre.
    other = aliased(Guardianship)
    approved = select(other.student_id).where(other.student_id == student.id, other.approved_at.is_not(None)).exists()
    return and_(student.role == "student", student.birth_year >= first_year, ~approved)


def awaiting(db: Session, parent_id: int) -> list[User]:
    """A parent's children who wait for a parent's approval before they can be booked."""
    return list(db.scalars(
        select(User).join(Guardianship, Guardianship.student_id == User.id)
        .where(Guardianship.parent_id == parent_id, awaits_approval(User, born_since(now_utc().date())))
        .order_by(User.name, User.id)
    ))


@dataclass(frozen=True)
class Waiting:
    """What a student waiting for approval is told: the code to give, the parents linked."""

    code: str | None
    parents: tuple[str, ...]


def waiting(db: Session, student_id: int) -> Waiting | None:
    """For a student's own page: None if they may use Lien, else what to do next."""
    student = db.get(User, student_id)
    if student is None or not needs_approval(db, student):
        return None
    parents = db.scalars(select(User.name).join(Guardianship, Guardianship.parent_id == User.id)
                         .where(Guardianship.student_id == student.id).order_by(User.name)).all()
    return Waiting(code=student.family_code, parents=tuple(parents))
