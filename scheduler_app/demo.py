"""Demo data for `make run`: a coordinator, three tutors, two families, two weeks of slots."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from rooms import new_room_name

from .clock import now_utc
from .models import Activity, Booking, Guardianship, JoinToken, Slot, TutorProfile, User
from .services import ServiceError
from .services.localtime import local_to_utc

DEMO_PASSWORD = "demo-lien-2026"
ZONE = "Europe/Paris"

PEOPLE = [
    # email, name, role
    ("coordination@example.org", "Nadia Benali", "coordinator"),
    ("tuteur@example.org", "Karim Haddad", "tutor"),
    ("claire.martin@example.org", "Claire Martin", "tutor"),
    ("ousmane.diallo@example.org", "Ousmane Diallo", "tutor"),
    ("parent@example.org", "Fatima Haddou", "parent"),
    ("eleve@example.org", "Yasmine Haddou", "student"),
    (None, "Adam Haddou", "student"),
    ("jean.petit@example.org", "Jean Petit", "parent"),
    (None, "Léa Petit", "student"),
]
FAMILIES = {"Fatima Haddou": ["Yasmine Haddou", "Adam Haddou"], "Jean Petit": ["Léa Petit"]}
TUTORS = {
    # name: subjects, levels, languages, bio, activity, weekday times (local)
    "Karim Haddad": (["maths", "sciences"], ["college", "lycee"], ["fr", "ar"],
                     "Ingénieur à la retraite, bénévole depuis 2019.", "Aide aux devoirs",
                     [(0, time(17, 0)), (2, time(14, 0)), (2, time(15, 0)), (4, time(17, 0))]),
    "Claire Martin": (["francais", "anglais", "methode"], ["primaire", "college"], ["fr", "en"],
                      "Professeure des écoles.", "Aide aux devoirs",
                      [(1, time(17, 30)), (3, time(17, 30)), (5, time(10, 0))]),
    "Ousmane Diallo": (["numerique", "autre"], ["adulte"], ["fr", "wo", "ff"],
                       "Médiateur du centre social.", "Médiation familiale",
                       [(1, time(10, 0)), (3, time(14, 0))]),
}
SUBJECT_ROTATION = {"Karim Haddad": ["maths", "sciences"], "Claire Martin": ["francais", "anglais"],
                    "Ousmane Diallo": ["numerique"]}


def load_demo(db: Session) -> dict[str, int]:
    """Create what is missing of the demo set; returns how many of each were created."""
    created = {"people": 0, "slots": 0, "bookings": 0}
    with db.begin():
        people = {}
        for email, name, role in PEOPLE:
            user = db.scalar(select(User).where(User.name == name, User.role == role))
            if user is None:
                user = User(name=name, email=email, role=role, timezone=ZONE, locale="fr")
                if email:
                    user.set_password(DEMO_PASSWORD)
                # The centre's mediator runs the mediations; the coordinator reads them.
                user.mediator = name in ("Ousmane Diallo", "Nadia Benali")
                db.add(user)
                created["people"] += 1
            people[name] = user
        db.flush()
        for parent, children in FAMILIES.items():
            for child in children:
                if db.get(Guardianship, (people[parent].id, people[child].id)) is None:
                    db.add(Guardianship(parent_id=people[parent].id, student_id=people[child].id))
        activities = {a.name: a for a in db.scalars(select(Activity))}
        zone = ZoneInfo(ZONE)
        today = now_utc().astimezone(zone).date()
        for name, (subjects, levels, languages, bio, activity_name, times) in TUTORS.items():
            tutor = people[name]
            if db.get(TutorProfile, tutor.id) is None:
                db.add(TutorProfile(user_id=tutor.id, subjects=TutorProfile.pack(subjects),
                                    levels=TutorProfile.pack(levels),
                                    languages=TutorProfile.pack(languages), bio=bio))
            activity = activities[activity_name]
            created["slots"] += _open_demo_slots(db, tutor, activity, times, today, zone,
                                                 SUBJECT_ROTATION[name], levels)
        db.flush()
        created["bookings"] += _book_demo(db, people)
    created["slots"] += _weekly_demo(db, people["Claire Martin"])
    return created


def _weekly_demo(db: Session, tutor: User) -> int:
    """Claire's weekly availability: every Wednesday 16:00–17:30, two 45-minute sessions."""
    from .models import AvailabilityRule
    from .services.availability import WeeklyPlan, save_rule

    if db.scalar(select(AvailabilityRule.id).where(AvailabilityRule.tutor_id == tutor.id)):
        return 0
    today = now_utc().astimezone(ZoneInfo(ZONE)).date()
    change = save_rule(db, tutor, WeeklyPlan(
        activity_id=1, weekdays=("WE",), start_time=time(16, 0), end_time=time(17, 30), session_minutes=45,
        valid_from=today, valid_until=today + timedelta(weeks=12), subject="francais", level="college"))
    return len(change.created)


def _open_demo_slots(db, tutor, activity, times, today: date, zone, subjects, levels) -> int:
    count = 0
    for offset in range(1, 15):
        day = today + timedelta(days=offset)
        for index, (_weekday, at) in enumerate(t for t in times if t[0] == day.weekday()):
            starts_at = _aware(day, at, zone)
            if starts_at is None or db.scalar(
                select(Slot.id).where(Slot.tutor_id == tutor.id, Slot.starts_at == starts_at)
            ):
                continue
            slot = Slot(tutor_id=tutor.id, activity_id=activity.id, starts_at=starts_at,
                        ends_at=starts_at + timedelta(minutes=activity.duration_minutes),
                        capacity=2 if activity.name == "Aide aux devoirs" and index == 1 else 1,
                        subject=subjects[(offset + index) % len(subjects)], level=levels[0],
                        room_name=new_room_name())
            db.add(slot)
            db.flush()
            db.add(JoinToken(slot_id=slot.id, user_id=tutor.id))
            count += 1
    return count


def _aware(day, at, zone):
    """The UTC moment of a demo time, skipped when a DST change makes it doubtful."""
    try:
        return local_to_utc(day, at, zone.key)
    except ServiceError:
        return None


def _book_demo(db: Session, people) -> int:
    """One or two bookings per demo student, unless they already have some."""
    count = 0
    plan = [("Yasmine Haddou", "Karim Haddad", "Les équations du premier degré", "Yasmine Haddou"),
            ("Adam Haddou", "Claire Martin", "Lire plus vite", "Fatima Haddou"),
            ("Léa Petit", "Claire Martin", "Les verbes irréguliers en anglais", "Jean Petit")]
    for student_name, tutor_name, topic, booker in plan:
        student = people[student_name]
        if db.scalar(select(Booking.id).where(Booking.student_id == student.id)):
            continue
        taken = select(Booking.slot_id).where(Booking.status != "cancelled")
        slot = db.scalar(
            select(Slot).where(Slot.tutor_id == people[tutor_name].id, Slot.status == "open",
                               Slot.booked < Slot.capacity, Slot.id.not_in(taken))
            .order_by(Slot.starts_at).offset(1).limit(1)
        )
        if slot is None:
            continue
        slot.booked += 1
        booking = Booking(slot_id=slot.id, student_id=student.id, booked_by_id=people[booker].id,
                          topic=topic, starts_at=slot.starts_at, ends_at=slot.ends_at)
        db.add(booking)
        db.flush()
        parents = [p for p, kids in FAMILIES.items() if student_name in kids]
        for person in [student, *(people[p] for p in parents)]:
            db.add(JoinToken(slot_id=slot.id, booking_id=booking.id, user_id=person.id))
        count += 1
    return count
