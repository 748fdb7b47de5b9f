"""The centre's people as a coordinator sees them: the tutors, the families found on the phone,
and what a tutor teaches."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..db import write_transaction
from ..models import Guardianship, TutorProfile, User

FAMILIES_SHOWN = 20  # a page of them at a time; a search narrows them down
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


MAX_ID = 2**31 - 1  # the largest id a URL may name (the bounded <int:> converter's bound)


def find_families(db: Session, search: str = "", after: int | None = None,
                  limit: int = FAMILIES_SHOWN) -> Sequence[User]:
    """Parents by name (then id) with their children, at most `limit`, after the parent `after`.
    A search, as a family says it on the phone, matches the parent's name, a child's name, or a few
    digits of the parent's number."""
    query = select(User).where(User.role == "parent", User.deleted_at.is_(None)).options(
        selectinload(User.children)).order_by(User.name, User.id)
    search = (search or "").strip()[:SEARCH_LENGTH]
    if search:
        like = f"%{search.lower()}%"
        children = select(Guardianship.parent_id).join(User, User.id == Guardianship.student_id).where(
            func.lower(User.name).like(like))
        conditions = [func.lower(User.name).like(like), User.id.in_(children)]
        digits = "".join(ch for ch in search if ch in "0123456789")
        if len(digits) >= PHONE_DIGITS:
            # Numbers are stored as +33612345678: "06 12 34" is looked for without its leading 0.
            conditions.append(User.phone.like(f"%{digits.lstrip('0')}%"))
        query = query.where(or_(*conditions))
    if after is not None and 0 < after <= MAX_ID:
        last = db.get(User, after)
        if last is not None:
            query = query.where(or_(User.name > last.name, and_(User.name == last.name, User.id > last.id)))
    return db.scalars(query.limit(limit)).all()


@dataclass
class FamiliesPage:
    parents: Sequence[User]
    next_after: int | None  # the id of the last parent shown, when there are more


def families_page(db: Session, search: str = "", after: int | None = None) -> FamiliesPage:
    """The coordinator's list of families, FAMILIES_SHOWN at a time after the parent `after`."""
    parents = find_families(db, search, after, limit=FAMILIES_SHOWN + 1)
    more = len(parents) > FAMILIES_SHOWN
    parents = parents[:FAMILIES_SHOWN]
    return FamiliesPage(parents=parents, next_after=parents[-1].id if more else None)


def first_child(db: Session, parent: User) -> int | None:
    """The id of the parent's first child (booking for them comes next after creating a family)."""
    return db.scalar(select(Guardianship.student_id).where(Guardianship.parent_id == parent.id)
                     .order_by(Guardianship.student_id).limit(1))


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
