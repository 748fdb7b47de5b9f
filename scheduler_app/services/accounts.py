"""Creating people: self-registration, and the coordinator's tutors and families."""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..catalogue import SCHOOL_CLASSES
from ..clock import now_utc
from ..db import write_transaction
from ..models import Guardianship, TutorProfile, User
from . import ServiceError, consent, phones


def normalise_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


def find_by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == normalise_email(email)))


def note_login(db: Session, person_id: int) -> None:
    """Note that a person came in (the purge keeps the families of people who still come)."""
    with write_transaction(db):
        db.execute(update(User).where(User.id == person_id).values(last_login_at=now_utc())
                   .execution_options(synchronize_session=False))


@dataclass
class NewPerson:
    name: str
    role: str
    email: str | None = None
    phone: str | None = None
    password: str | None = None
    password_hash: str | None = None  # hashed already (a sign-up finished from its link)
    locale: str = "fr"
    timezone: str = "Europe/Paris"
    birth_year: int | None = None  # a student signing up says it (services/consent.py)
    school_class: str | None = None  # a student's class (catalogue.SCHOOL_CLASSES)


def _user_from(person: NewPerson) -> User:
    email = normalise_email(person.email)
    phone = phones.require(person.phone)
    user = User(
        name=person.name.strip(),
        role=person.role,
        email=email,
        phone=phone,
        notify_by=phones.default_channel(email, phone),
        locale=person.locale,
        timezone=person.timezone,
        school_class=person.school_class if person.school_class in SCHOOL_CLASSES else None,
    )
    if person.password:
        user.set_password(person.password)
    elif person.password_hash:
        user.password_hash = person.password_hash
    return user


def email_taken() -> ServiceError:
    return ServiceError(
        _l("Un compte existe déjà avec cette adresse e-mail. Connectez-vous, ou utilisez une autre adresse."),
        field="email",
    )


def register(db: Session, person: NewPerson) -> User:
    """Create a student or parent account from the sign-up form. A student gives their birth
    year; one who may be under 15 gets a family code at once, for the parent who approves."""
    if person.role not in ("student", "parent"):
        raise ServiceError(_l("Choisissez élève ou parent."), field="role")
    today = now_utc().date()
    if person.role == "student":
        consent.check_birth_year(person.birth_year, today)
    try:
        with write_transaction(db):
            if person.email and find_by_email(db, person.email):
                raise email_taken()
            user = _user_from(person)
            if person.role == "student":
                user.birth_year = person.birth_year
                if consent.may_be_under_consent_age(person.birth_year, today):
                    user.family_code = _new_family_code()
            db.add(user)
    except IntegrityError as error:
        raise email_taken() from error
    return user


@dataclass
class NewTutor(NewPerson):
    subjects: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=lambda: ["fr"])
    bio: str = ""


def create_tutor(db: Session, tutor: NewTutor) -> User:
    """A coordinator adds a tutor with what they teach."""
    try:
        with write_transaction(db):
            if tutor.email and find_by_email(db, tutor.email):
                raise email_taken()
            user = _user_from(tutor)
            user.role = "tutor"
            user.tutor_profile = TutorProfile(
                subjects=TutorProfile.pack(tutor.subjects),
                levels=TutorProfile.pack(tutor.levels),
                languages=TutorProfile.pack(tutor.languages),
                bio=tutor.bio.strip(),
            )
            db.add(user)
    except IntegrityError as error:
        raise email_taken() from error
    return user


def create_family(db: Session, parent: NewPerson, children: list[NewPerson]) -> User:
    """A coordinator adds a parent and their children, linked."""
    try:
        with write_transaction(db):
            if parent.email and find_by_email(db, parent.email):
                raise email_taken()
            parent_user = _user_from(parent)
            parent_user.role = "parent"
            db.add(parent_user)
            db.flush()
            for child in children:
                student = _user_from(child)
                student.role = "student"
                db.add(student)
                db.flush()
                db.add(Guardianship(parent_id=parent_user.id, student_id=student.id))
    except IntegrityError as error:
        raise email_taken() from error
    return parent_user


def create_contact(db: Session, person: NewPerson) -> User:
    """A coordinator adds an adult for a mediation, often with only a phone (then told by SMS)."""
    contact = create_family(db, person, [])
    if not contact.email:
        with write_transaction(db):
            contact.notify_by = "sms"
    return contact


def add_child(db: Session, parent: User, name: str, school_class: str | None = None) -> User:
    """A parent adds their child (and their class, if known), who can then be booked for and
    joins by link."""
    with write_transaction(db):
        student = User(name=name.strip(), role="student", locale=parent.locale, timezone=parent.timezone,
                       school_class=school_class if school_class in SCHOOL_CLASSES else None)
        db.add(student)
        db.flush()
        # The parent signs the child up: that is their approval (services/consent.py).
        db.add(Guardianship(parent_id=parent.id, student_id=student.id, approved_at=now_utc()))
    return student


@dataclass
class ProfileChange:
    name: str
    email: str | None
    phone: str | None
    notify_by: str
    locale: str
    timezone: str


def update_profile(db: Session, person: User, change: ProfileChange, *, email_waits: bool = False) -> User:
    """A person (or a coordinator for them) sets their name, addresses, channels and language.
    `email_waits`: a new address counts for the channels but is not saved; it waits for the
    link sent to it (services/sign_up.py), so the person's own page never says who has it."""
    try:
        with write_transaction(db):
            email = normalise_email(change.email)
            phone = phones.require(change.phone)
            phones.check_channel(change.notify_by, email, phone)
            if email_waits:
                email = person.email
            elif email and email != person.email:
                other = find_by_email(db, email)
                if other is not None and other.id != person.id:
                    raise email_taken()
            person.name = change.name.strip()
            person.email = email
            person.phone = phone
            person.notify_by = change.notify_by
            person.locale = change.locale
            person.timezone = change.timezone
    except IntegrityError as error:
        raise email_taken() from error
    return person


# Letters and digits that cannot be mistaken for one another when read out on the phone.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _new_family_code() -> str:
    import secrets

    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def issue_family_code(db: Session, student: User) -> str:
    """Give a student a code the centre hands to a parent, who links the child with it."""
    with write_transaction(db):
        student.family_code = _new_family_code()
    return student.family_code


def link_child(db: Session, parent: User, code: str) -> User:
    """A parent links a child with the centre's code; the code is used up."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    with write_transaction(db):
        student = db.scalar(select(User).where(User.family_code == cleaned, User.role == "student"))
        if student is None or len(cleaned) != 8:
            raise ServiceError(_l("Ce code ne correspond à aucun enfant. Vérifiez-le, ou demandez-le au centre."),
                               field="code")
        if db.get(Guardianship, (parent.id, student.id)) is None:
            db.add(Guardianship(parent_id=parent.id, student_id=student.id))
        student.family_code = None
    return student


def set_mediator(db: Session, by: User, person: User, mediator: bool) -> User:
    """Mark a tutor as a mediator (they may run mediations), or a coordinator for mediation
    (they may read what mediations say). Only a coordinator marked for mediation marks another
    coordinator: clearance to read is given by those who hold it."""
    if person.role not in ("tutor", "coordinator"):
        raise ServiceError(_l("Seuls les tuteurs et les coordinateurs peuvent être médiateurs."))
    if person.role == "coordinator" and not (by.role == "coordinator" and by.mediator):
        raise ServiceError(_l("Seul un coordinateur de la médiation peut en nommer un autre."))
    with write_transaction(db):
        person.mediator = mediator
    return person
