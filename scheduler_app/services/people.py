"""The centre's people as a coordinator sees them: the tutors, the families found on the phone,
and what a tutor teaches."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Row, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..db import write_transaction
from ..models import Guardianship, TutorProfile, User

FAMILIES_SHOWN = 100  # a search narrows them down; the page stays short on a phone
PHONE_DIGITS = 4  # fewer digits than this would match most numbers


def tutors(db: Session) -> Sequence[User]:
    """Every tutor by name, with what they teach."""
    return db.scalars(
        select(User).where(User.role == "tutor").options(selectinload(User.tutor_profile)).order_by(User.name)
    ).all()


def tutor_names(db: Session) -> Sequence[Row]:
    """Every tutor by name, as (id, name) rows: the choices of a filter."""
    return db.execute(select(User.id, User.name).where(User.role == "tutor").order_by(User.name)).all()


SEARCH_LENGTH = 100  # longer than any name; SQLite refuses a LIKE pattern of tens of thousands


def find_families(db: Session, search: str = "") -> Sequence[User]:
    """Parents by name with their children, at most FAMILIES_SHOWN. A search, as a family says it
    on the phone, matches the parent's name, a child's name, or a few digits of the parent's number."""
    query = select(User).where(User.role == "parent").options(selectinload(User.children)).order_by(User.name)
    search = search.strip()[:SEARCH_LENGTH]
    if search:
        like = f"%{search.lower()}%"
        children = select(Guardianship.parent_id).join(User, User.id == Guardianship.student_id).where(
            func.lower(User.name).like(like))
        conditions = [func.lower(User.name).like(like), User.id.in_(children)]
        digits = "".join(ch for ch in search if ch.isdigit())
        if len(digits) >= PHONE_DIGITS:
            # Numbers are stored as +33612345678: "06 12 34" is looked for without its leading 0.
            conditions.append(User.phone.like(f"%{digits.lstrip('0')}%"))
        query = query.where(or_(*conditions))
    return db.scalars(query.limit(FAMILIES_SHOWN)).all()


def find_tutor(db: Session, tutor_id: int) -> User | None:
    """The tutor with this id, unless there is none or their account was deleted."""
    tutor = db.get(User, tutor_id)
    if tutor is None or tutor.role != "tutor" or tutor.deleted_at is not None:
        return None
    return tutor


@dataclass(frozen=True)
class TutorProfileChange:
    """What a coordinator sets for a tutor."""

    subjects: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    bio: str = ""
    active: bool = True


def update_tutor_profile(db: Session, tutor: User, change: TutorProfileChange) -> TutorProfile:
    """Set what a tutor teaches, the languages they speak (French if none is given), and whether
    they tutor at the moment (an inactive tutor's slots are not offered)."""
    with write_transaction(db):
        profile = tutor.tutor_profile or TutorProfile(user_id=tutor.id)
        profile.subjects = TutorProfile.pack(change.subjects)
        profile.levels = TutorProfile.pack(change.levels)
        profile.languages = TutorProfile.pack(change.languages or ["fr"])
        profile.bio = change.bio.strip()
        tutor.active = change.active
        db.add(profile)
    return profile


def coordinators(db: Session) -> Sequence[User]:
    """The centre's coordinators, by name (who may be marked for mediation)."""
    return db.scalars(select(User).where(User.role == "coordinator").order_by(User.name)).all()
