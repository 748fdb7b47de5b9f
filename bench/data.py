"""Benchmark data: a city's centres at scale 1 (50 tutors, 2,000 students, 8 weeks of slots ≈ 10,000
slots, 5,000 bookings), 10 or 100 (ten or a hundred times each), written with bulk inserts and the
same every time for a seed (only "now" moves: the weeks are laid around the current one).

    .venv/bin/python bench/data.py --scale 1 --database-url postgresql+psycopg://postgres@127.0.0.1/lien_bench

What one person sees stays the same at every scale (a tutor has about 25 slots a week, a busy
student about 25 bookings over the 8 weeks); only the database around them grows.
The database must be migrated and empty (bench/pages.py does both).
"""

import argparse
import random
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from argon2 import PasswordHasher  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from scheduler_app.models import Base  # noqa: E402

PASSWORD = "bench-password-lien"
ZONE = ZoneInfo("Europe/Paris")
WEEKS, WEEKS_BACK = 8, 2  # two weeks already past (attendance to mark, notes), six to come
DAYS, HOURS = 6, range(9, 19)  # Monday to Saturday, sessions starting 9:00 to 18:00
SESSION = timedelta(minutes=45)
SUBJECTS = ("maths", "francais", "anglais", "histoire-geo", "sciences", "methode")
LEVELS = ("primaire", "college", "lycee")
LANGUAGES = ("ar", "en", "es", "pt", "tr", "ro", "uk")
TOPICS = ("les fractions", "un exposé sur la Révolution", "les verbes irréguliers", "", "préparer le brevet")
RACERS = 32
CHUNK = 5_000


@dataclass(frozen=True)
class Scale:
    tutors: int
    students: int
    slots: int
    bookings: int

    @classmethod
    def times(cls, factor: int) -> "Scale":
        return cls(tutors=50 * factor, students=2_000 * factor, slots=10_000 * factor, bookings=5_000 * factor)


@dataclass(frozen=True)
class Fixture:
    """Who and what the benchmark visits in the generated data."""

    counts: dict
    busy_tutor: str  # emails (the password is PASSWORD)
    busy_student: str
    parent: str
    tutor_feed: str  # the busy tutor's feed secret
    join_token: str  # a student's link to a session happening now
    tutor_slot: int  # the busy tutor's next session with the most students booked
    race_slot: int  # a free capacity-1 slot, for the booking race
    racers: list  # RACERS students free at that time
    day: str  # a day with sessions to filter on (ISO date)


def generate(engine: Engine, factor: int, *, seed: int = 2026, now: datetime | None = None) -> Fixture:
    """Fill an empty, migrated database at scale `factor` (1, 10 or 100); returns what to visit."""
    rng = random.Random(seed)
    scale = Scale.times(factor)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    local_today = now.astimezone(ZONE).date()
    first_monday = local_today - timedelta(days=local_today.weekday(), weeks=WEEKS_BACK)
    password_hash = PasswordHasher().hash(PASSWORD)
    rows: dict[str, list[dict]] = {name: [] for name in
                                   ("user", "tutor_profile", "guardianship", "slot", "booking", "join_token", "feed_token")}
    ids = {name: 0 for name in ("user", "slot", "booking", "join_token", "feed_token")}

    def new_id(table: str) -> int:
        ids[table] += 1
        return ids[table]

    def secret() -> str:
        return rng.randbytes(24).hex()

    def person(role: str, name: str, email: str | None) -> int:
        user_id = new_id("user")
        rows["user"].append({"id": user_id, "name": name, "email": email, "phone": None, "password_hash": password_hash,
                             "role": role, "locale": "fr", "timezone": "Europe/Paris", "active": True,
                             "notify_by": "email", "family_code": None, "deleted_at": None,
                             "login_key": secret(), "created_at": now - timedelta(days=90)})
        return user_id

    # Tutors: what they teach; about 25 weekly starts each (15 to 35), the first the busiest.
    tutors = []
    weekly_starts = scale.slots / scale.tutors / WEEKS
    for n in range(scale.tutors):
        tutor_id = person("tutor", f"Tuteur {n}", f"tuteur{n}@bench.example.org")
        subjects = rng.sample(SUBJECTS, rng.randint(1, 3))
        levels = rng.sample(LEVELS, rng.randint(1, 2))
        languages = ["fr", *rng.sample(LANGUAGES, rng.randint(0, 2))]
        rows["tutor_profile"].append({"user_id": tutor_id, "subjects": "," + ",".join(subjects) + ",",
                                      "levels": "," + ",".join(levels) + ",",
                                      "languages": "," + ",".join(languages) + ",", "bio": ""})
        per_week = round(weekly_starts * 1.4) if n == 0 else rng.randint(round(weekly_starts * 0.6),
                                                                         round(weekly_starts * 1.4))
        tutors.append((tutor_id, subjects, levels, sorted(rng.sample(range(DAYS * len(HOURS)), per_week))))

    students = [person("student", f"Élève {n}", f"eleve{n}@bench.example.org") for n in range(scale.students)]
    parents = []
    for n in range(scale.students // 2):  # one parent for every two students
        parent_id = person("parent", f"Parent {n}", f"parent{n}@bench.example.org")
        parents.append(parent_id)
        for child in students[2 * n:2 * n + 2]:
            rows["guardianship"].append({"parent_id": parent_id, "student_id": child})
    parent_of = {child["student_id"]: child["parent_id"] for child in rows["guardianship"]}

    def add_slot(tutor_id: int, start: datetime, *, subject: str, level: str, capacity: int, status: str = "open",
                 ends: datetime | None = None) -> dict:
        slot = {"id": new_id("slot"), "tutor_id": tutor_id, "activity_id": 1, "starts_at": start,
                "ends_at": ends or start + SESSION, "capacity": capacity, "booked": 0, "subject": subject,
                "level": level, "status": status, "room_name": rng.randbytes(16).hex(), "sequence": 0,
                "rule_id": None, "created_at": start - timedelta(days=20), "updated_at": start - timedelta(days=20),
                "cancelled_at": start - timedelta(days=2) if status == "cancelled" else None}
        rows["slot"].append(slot)
        return slot

    for tutor_id, subjects, levels, starts in tutors:
        for week in range(WEEKS):
            for start in starts:
                day = first_monday + timedelta(weeks=week, days=start // len(HOURS))
                local = datetime.combine(day, time(HOURS[start % len(HOURS)]), ZONE)
                add_slot(tutor_id, local.astimezone(UTC), subject=rng.choice(subjects), level=rng.choice(levels),
                         capacity=3 if rng.random() < 0.15 else 1,
                         status="cancelled" if rng.random() < 0.02 else "open")

    # Bookings: most students now and then, a few (10 per scale unit) often.
    busy = students[:10 * factor]
    taken: set[tuple[int, datetime]] = set()  # (student, start): nobody is in two places at once
    open_slots = [slot for slot in rows["slot"] if slot["status"] == "open"]
    while ids["booking"] < scale.bookings:
        slot = rng.choice(open_slots)
        student = rng.choice(busy) if rng.random() < 0.05 else rng.choice(students)
        if slot["booked"] >= slot["capacity"] or (student, slot["starts_at"]) in taken:
            continue
        taken.add((student, slot["starts_at"]))
        past = slot["ends_at"] <= now
        cancelled = not past and rng.random() < 0.05
        status = ("cancelled" if cancelled else
                  rng.choices(("attended", "absent", "confirmed"), (60, 15, 25))[0] if past else "confirmed")
        booked_by = parent_of.get(student) if rng.random() < 0.5 else student
        booking = {"id": new_id("booking"), "slot_id": slot["id"], "student_id": student,
                   "booked_by_id": booked_by or student, "status": status, "topic": rng.choice(TOPICS),
                   "tutor_note": "A bien avancé sur les fractions." if status == "attended" and rng.random() < 0.5 else "",
                   "starts_at": slot["starts_at"], "ends_at": slot["ends_at"], "sequence": 0,
                   "created_at": slot["created_at"] + timedelta(days=1),
                   "updated_at": slot["created_at"] + timedelta(days=1),
                   "cancelled_at": now - timedelta(days=1) if cancelled else None}
        rows["booking"].append(booking)
        if not cancelled:
            slot["booked"] += 1
            add_links(rows, new_id, secret, slot, booking, parent_of.get(student))

    for slot in rows["slot"]:  # the tutor's own link to each booked session
        if slot["booked"]:
            rows["join_token"].append({"id": new_id("join_token"), "token": secret(), "slot_id": slot["id"],
                                       "booking_id": None, "user_id": slot["tutor_id"], "created_at": slot["created_at"]})

    for tutor_id, *_ in tutors:
        rows["feed_token"].append({"id": new_id("feed_token"), "secret": secret(), "user_id": tutor_id,
                                   "created_at": now - timedelta(days=30), "revoked_at": None})

    # Outside the scale's counts: a session happening now (for the join link), and a free
    # capacity-1 slot with RACERS students free at that time (for the booking race).
    live_tutor = person("tutor", "Tutrice du direct", "direct@bench.example.org")
    live_student = person("student", "Élève du direct", "eleve-direct@bench.example.org")
    live = add_slot(live_tutor, now - timedelta(minutes=10), ends=now + timedelta(hours=3), subject="maths",
                    level="college", capacity=1)
    live["booked"] = 1
    live_booking = {"id": new_id("booking"), "slot_id": live["id"], "student_id": live_student,
                    "booked_by_id": live_student, "status": "confirmed", "topic": "", "tutor_note": "",
                    "starts_at": live["starts_at"], "ends_at": live["ends_at"], "sequence": 0,
                    "created_at": now - timedelta(days=1), "updated_at": now - timedelta(days=1), "cancelled_at": None}
    rows["booking"].append(live_booking)
    add_links(rows, new_id, secret, live, live_booking, None)
    race = add_slot(live_tutor, now + timedelta(days=2), subject="maths", level="college", capacity=1)
    racers = [person("student", f"Élève pressé {n}", f"presse{n}@bench.example.org") for n in range(RACERS)]

    write(engine, rows)
    by_id = {row["id"]: row for row in rows["user"]}
    sessions_of = Counter(student for student, _ in taken)
    busiest_student = max(busy, key=lambda student: sessions_of[student])
    first_student_day = min(slot["starts_at"] for slot in open_slots if slot["starts_at"] > now)
    return Fixture(
        counts={name: len(table) for name, table in rows.items()},
        busy_tutor=by_id[tutors[0][0]]["email"],
        busy_student=by_id[busiest_student]["email"],
        parent=by_id[parent_of[busiest_student]]["email"],
        tutor_feed=rows["feed_token"][0]["secret"],
        join_token=next(link["token"] for link in rows["join_token"] if link["user_id"] == live_student),
        tutor_slot=max((slot for slot in rows["slot"] if slot["tutor_id"] == tutors[0][0] and slot["starts_at"] > now),
                       key=lambda slot: (slot["booked"], -slot["starts_at"].timestamp()))["id"],
        race_slot=race["id"],
        racers=[by_id[racer]["email"] for racer in racers],
        day=(first_student_day.astimezone(ZONE).date() + timedelta(days=1)).isoformat(),
    )


def add_links(rows, new_id, secret, slot: dict, booking: dict, parent: int | None) -> None:
    """The student's (and their parent's) own join links to a booking."""
    for holder in (booking["student_id"], parent):
        if holder is not None:
            rows["join_token"].append({"id": new_id("join_token"), "token": secret(), "slot_id": slot["id"],
                                       "booking_id": booking["id"], "user_id": holder,
                                       "created_at": booking["created_at"]})


def write(engine: Engine, rows: dict[str, list[dict]]) -> None:
    """Bulk inserts in one transaction, in the order foreign keys need; then, on PostgreSQL,
    the id sequences are moved past the ids written here."""
    tables = Base.metadata.tables
    with engine.begin() as connection:
        for name in ("user", "tutor_profile", "guardianship", "slot", "booking", "join_token", "feed_token"):
            for start in range(0, len(rows[name]), CHUNK):
                connection.execute(insert(tables[name]), rows[name][start:start + CHUNK])
        if connection.dialect.name == "postgresql":
            for name in ("user", "slot", "booking", "join_token", "feed_token"):
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), (SELECT max(id) FROM \"{name}\"))"))
            connection.execute(text("ANALYZE"))
        else:
            connection.exec_driver_sql("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--database-url", required=True, help="a migrated, empty database")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    import time as clock

    from scheduler_app.db import make_engine

    engine = make_engine(args.database_url)
    started = clock.perf_counter()
    fixture = generate(engine, args.scale, seed=args.seed)
    print(f"scale {args.scale}x written in {clock.perf_counter() - started:.1f} s: {fixture.counts}")
    print(asdict(fixture) | {"racers": f"{len(fixture.racers)} students"})
    engine.dispose()


if __name__ == "__main__":
    main()
