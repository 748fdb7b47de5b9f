"""Materialisation runs at the same instant (several worker processes, a tutor saving while the
daily job runs) open each slot once, on SQLite and on PostgreSQL.

Each run is a thread with its own database session, released together by a barrier."""

from datetime import UTC, date, datetime, time

import pytest
from factories import HOMEWORK, look_again, make_tutor
from racing import race
from sqlalchemy import func, select

from scheduler_app.models import AvailabilityRule, JoinToken, Slot
from scheduler_app.services import availability
from scheduler_app.services.availability import Materialised, materialise

pytestmark = pytest.mark.slow

MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
RUNS = 4


@pytest.fixture
def weekly_rules(db, frozen_clock):
    """Two tutors' Wednesday and Saturday afternoons, saved but not yet materialised."""
    frozen_clock(MONDAY)
    rules = []
    for name in ("Karim Haddad", "Claire Martin"):
        tutor = make_tutor(db, name)
        rule = AvailabilityRule(tutor_id=tutor.id, activity_id=HOMEWORK, rrule="FREQ=WEEKLY;BYDAY=WE,SA",
                                start_time=time(14, 0), end_time=time(17, 0), session_minutes=45,
                                timezone="Europe/Paris", valid_from=date(2027, 3, 1))
        db.add(rule)
        rules.append(rule)
    db.commit()
    return rules


EXPECTED = 2 * 8 * 4  # two tutors, eight afternoons in four weeks, four sessions each


def assert_each_slot_once(db, outcomes):
    assert [o for o in outcomes if not isinstance(o, Materialised)] == []
    assert sum(len(report.created) for report in outcomes) == EXPECTED
    assert [report.overlapping for report in outcomes] == [[]] * len(outcomes)
    look_again(db)
    assert db.scalar(select(func.count()).select_from(Slot)) == EXPECTED
    distinct = select(Slot.rule_id, Slot.starts_at).distinct().subquery()
    assert db.scalar(select(func.count()).select_from(distinct)) == EXPECTED
    assert db.scalar(select(func.count()).select_from(JoinToken)) == EXPECTED


def test_simultaneous_materialisation_runs_open_each_slot_once(app, db, weekly_rules):
    outcomes = race(app, [lambda session: materialise(session, MONDAY)] * RUNS)
    assert_each_slot_once(db, outcomes)


def test_without_the_rule_lock_the_schema_alone_still_opens_each_slot_once(app, db, weekly_rules, monkeypatch):
    # Take away the row lock (as if it were forgotten): the runs now read the same empty week at
    # the same time, and the unique (rule_id, starts_at) index is what refuses the duplicates.
    monkeypatch.setattr(availability, "_locked", lambda session, rule_id: session.get(AvailabilityRule, rule_id))

    outcomes = race(app, [lambda session: materialise(session, MONDAY)] * RUNS)

    assert_each_slot_once(db, outcomes)
