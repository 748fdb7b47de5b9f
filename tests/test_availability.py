"""Weekly availability: a tutor says once when they are free each week, and bookable slots open
some weeks ahead, at the same wall-clock time all year, never twice, never over a booked session."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from factories import HOMEWORK, look_again, make_family, make_slot, make_tutor
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from scheduler_app.models import AvailabilityRule, Booking, JoinToken, Slot
from scheduler_app.services import ServiceError
from scheduler_app.services.availability import WeeklyPlan, check_plan, end_rule, materialise, save_rule
from scheduler_app.services.booking import book_slot, cancel_booking
from scheduler_app.services.slots import cancel_slot
from scheduler_app.worker import _run_once_at_start, _schedule

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def plan(**changes) -> WeeklyPlan:
    """Every Wednesday 14:00–16:00 in 45-minute sessions (14:00 and 14:45), from 1 March 2027."""
    fields = dict(activity_id=HOMEWORK, weekdays=("WE",), start_time=time(14, 0), end_time=time(16, 0),
                  session_minutes=45, valid_from=date(2027, 3, 1), subject="maths", level="college")
    return WeeklyPlan(**{**fields, **changes})


def slots_of(db, rule, status="open") -> list[Slot]:
    look_again(db)
    return list(db.scalars(select(Slot).where(Slot.rule_id == rule.id, Slot.status == status).order_by(Slot.starts_at)))


def local(slot: Slot) -> datetime:
    return slot.starts_at.astimezone(PARIS).replace(tzinfo=None)


def test_a_weekly_window_opens_back_to_back_sessions_for_the_next_four_weeks(db, frozen_clock):
    frozen_clock(MONDAY)
    tutor = make_tutor(db)

    change = save_rule(db, tutor, plan())

    slots = slots_of(db, change.rule)
    assert [local(slot) for slot in slots] == [
        datetime(2027, 3, day, hour, minute) for day in (3, 10, 17, 24) for hour, minute in ((14, 0), (14, 45))
    ]  # 15:30 would end at 16:15, after the window; 31 March is past the four weeks
    assert {(slot.ends_at - slot.starts_at) for slot in slots} == {timedelta(minutes=45)}
    assert {(slot.subject, slot.level, slot.capacity, slot.tutor_id) for slot in slots} == {("maths", "college", 1, tutor.id)}
    assert len(change.created) == 8 and change.overlapping == []
    tutor_links = db.scalar(select(func.count()).select_from(JoinToken).where(JoinToken.user_id == tutor.id))
    assert tutor_links == 8  # the tutor's own join link to each, as for slots opened by hand


@pytest.mark.parametrize(
    "first_sunday, utc_hours",
    [
        (date(2027, 3, 21), [13, 12, 12]),  # clocks go forward on Sunday 28 March 2027
        (date(2027, 10, 24), [12, 13, 13]),  # and back on Sunday 31 October 2027
    ],
)
def test_a_rule_across_a_dst_change_keeps_14_00_in_paris(db, frozen_clock, first_sunday, utc_hours):
    frozen_clock(datetime.combine(first_sunday - timedelta(days=6), time(8, 0), UTC))
    tutor = make_tutor(db)

    change = save_rule(db, tutor, plan(weekdays=("SU",), start_time=time(14, 0), end_time=time(15, 0),
                                       session_minutes=60, valid_from=first_sunday - timedelta(days=6),
                                       valid_until=first_sunday + timedelta(weeks=2)))

    slots = slots_of(db, change.rule)
    assert [local(slot) for slot in slots] == [
        datetime.combine(first_sunday + timedelta(weeks=week), time(14, 0)) for week in range(3)
    ]
    assert [slot.starts_at.hour for slot in slots] == utc_hours
    assert {slot.ends_at - slot.starts_at for slot in slots} == {timedelta(hours=1)}


def test_skipped_dates_and_the_end_date_are_left_out(db, frozen_clock):
    frozen_clock(MONDAY)
    change = save_rule(db, make_tutor(db), plan(skipped=(date(2027, 3, 10),), valid_until=date(2027, 3, 17)))
    assert sorted({local(slot).date() for slot in slots_of(db, change.rule)}) == [date(2027, 3, 3), date(2027, 3, 17)]


def test_running_the_materialisation_again_creates_nothing_twice(db, frozen_clock):
    frozen_clock(MONDAY)
    change = save_rule(db, make_tutor(db), plan())

    again = materialise(db, MONDAY)
    once_more = materialise(db, MONDAY + timedelta(hours=3))

    assert again.created == once_more.created == []
    assert len(slots_of(db, change.rule)) == 8


def test_each_day_the_materialisation_opens_one_more_day_of_the_horizon(db, frozen_clock):
    frozen_clock(MONDAY)
    change = save_rule(db, make_tutor(db), plan())
    a_week_later = frozen_clock(MONDAY + timedelta(days=7))

    report = materialise(db, a_week_later)

    assert [local(slot) for slot in report.created] == [datetime(2027, 3, 31, 14, 0), datetime(2027, 3, 31, 14, 45)]
    assert len(slots_of(db, change.rule)) == 10


def test_the_horizon_follows_the_configured_number_of_weeks(app, db, frozen_clock):
    app.config["AVAILABILITY_WEEKS_AHEAD"] = 2
    frozen_clock(MONDAY)
    with app.app_context():
        change = save_rule(db, make_tutor(db), plan())
    assert sorted({local(slot).date() for slot in slots_of(db, change.rule)}) == [date(2027, 3, 3), date(2027, 3, 10)]


def test_the_schema_refuses_a_second_slot_of_one_rule_at_one_start(db, frozen_clock):
    frozen_clock(MONDAY)
    change = save_rule(db, make_tutor(db), plan())
    first = slots_of(db, change.rule)[0]
    # Cancelled, so that on PostgreSQL only the unique index (not the overlap exclusion) can object.
    db.add(Slot(tutor_id=first.tutor_id, activity_id=first.activity_id, starts_at=first.starts_at,
                ends_at=first.ends_at, status="cancelled", room_name="anotherroomname0000000000000",
                rule_id=change.rule.id))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_changing_a_rule_keeps_booked_sessions_and_replaces_the_free_ones(db, frozen_clock):
    frozen_clock(MONDAY)
    tutor = make_tutor(db)
    rule = save_rule(db, tutor, plan()).rule
    booked, retracted, *_ = slots_of(db, rule)
    parent, [adam, lea] = make_family(db, "Fatima Haddou", "Adam Haddou", "Léa Haddou")
    book_slot(db, booked.id, adam, parent)
    cancel_booking(db, book_slot(db, retracted.id, lea, parent))  # booked, then given back

    change = save_rule(db, tutor, plan(weekdays=("TH",)), rule)

    assert [slot.id for slot in change.still_booked] == [booked.id]
    assert change.removed == 7
    still_open = slots_of(db, rule)
    assert booked.id in {slot.id for slot in still_open}
    assert db.get(Slot, booked.id).booked == 1 and db.get(Slot, booked.id).status == "open"
    assert {local(slot).date().weekday() for slot in still_open if slot.id != booked.id} == {3}  # Thursdays
    assert len(still_open) == 1 + 8
    # The slot with a cancelled booking is kept, cancelled and detached, so its history stays whole.
    kept = db.get(Slot, retracted.id)
    assert kept.status == "cancelled" and kept.rule_id is None
    assert db.scalar(select(func.count()).select_from(Booking).where(Booking.slot_id == retracted.id)) == 1
    # The others, never booked, are gone with their join links.
    assert db.scalar(select(func.count()).select_from(Slot).where(Slot.rule_id.is_(None))) == 1
    assert db.scalar(select(func.count()).select_from(JoinToken).where(JoinToken.user_id == tutor.id)) == 1 + 1 + 8


def test_changing_a_rule_never_touches_past_slots(db, frozen_clock):
    frozen_clock(MONDAY)
    tutor = make_tutor(db)
    rule = save_rule(db, tutor, plan()).rule
    later = frozen_clock(MONDAY + timedelta(days=8))  # the two sessions of 3 March are over

    change = save_rule(db, tutor, plan(start_time=time(15, 0), end_time=time(16, 30)), rule, now=later)

    assert change.removed == 6
    assert [local(slot) for slot in slots_of(db, rule)][:2] == [datetime(2027, 3, 3, 14, 0), datetime(2027, 3, 3, 14, 45)]


def test_ending_a_rule_removes_its_free_slots_and_says_which_booked_ones_stay(db, frozen_clock):
    frozen_clock(MONDAY)
    tutor = make_tutor(db)
    rule = save_rule(db, tutor, plan()).rule
    booked = slots_of(db, rule)[3]
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    book_slot(db, booked.id, adam, parent)

    change = end_rule(db, rule)

    assert [slot.id for slot in change.still_booked] == [booked.id] and change.removed == 7
    assert [slot.id for slot in slots_of(db, rule)] == [booked.id]
    assert materialise(db, MONDAY + timedelta(days=1)).created == []  # an ended rule opens nothing
    assert db.get(AvailabilityRule, rule.id).active is False


def test_slots_that_overlap_the_tutors_own_are_listed_and_not_opened(db, frozen_clock):
    frozen_clock(MONDAY)
    tutor = make_tutor(db)
    own = make_slot(db, tutor, starts_in=timedelta(days=16, hours=4, minutes=30))  # Wed 17 March 14:30

    change = save_rule(db, tutor, plan())

    assert [(local_start(start), local_start(end)) for _rule, start, end in change.overlapping] == [
        (datetime(2027, 3, 17, 14, 0), datetime(2027, 3, 17, 14, 45)),
        (datetime(2027, 3, 17, 14, 45), datetime(2027, 3, 17, 15, 30)),
    ]
    assert len(change.created) == 6
    look_again(db)
    assert db.get(Slot, own.id).status == "open"


def test_two_rules_of_one_tutor_do_not_overlap_each_other(db, frozen_clock):
    frozen_clock(MONDAY)
    tutor = make_tutor(db)
    save_rule(db, tutor, plan())

    second = save_rule(db, tutor, plan(start_time=time(15, 0), end_time=time(17, 0), session_minutes=60))

    # 15:00–16:00 overlaps the first rule's 14:45–15:30 each week; 16:00–17:00 is free.
    assert [local_start(start).time() for _rule, start, _end in second.overlapping] == [time(15, 0)] * 4
    assert {local(slot).time() for slot in second.created} == {time(16, 0)}


def test_a_session_the_tutor_cancelled_by_hand_does_not_come_back(db, frozen_clock):
    frozen_clock(MONDAY)
    tutor = make_tutor(db)
    rule = save_rule(db, tutor, plan()).rule
    cancelled = slots_of(db, rule)[0]
    cancel_slot(db, cancelled, by=tutor)

    assert materialise(db, MONDAY + timedelta(hours=1)).created == []
    assert cancelled.id not in {slot.id for slot in slots_of(db, rule)}


def test_a_slot_already_started_is_not_opened(db, frozen_clock):
    during = frozen_clock(datetime(2027, 3, 3, 13, 30, tzinfo=UTC))  # Wednesday 14:30 in Paris
    change = save_rule(db, make_tutor(db), plan(valid_from=date(2027, 3, 3)), now=during)
    assert local(slots_of(db, change.rule)[0]) == datetime(2027, 3, 3, 14, 45)


def test_the_materialise_command_opens_the_slots(app, db, frozen_clock):
    frozen_clock(MONDAY)
    tutor = make_tutor(db)
    db.add(AvailabilityRule(tutor_id=tutor.id, activity_id=HOMEWORK, rrule="FREQ=WEEKLY;BYDAY=WE",
                            start_time=time(14, 0), end_time=time(16, 0), session_minutes=45,
                            timezone="Europe/Paris", valid_from=date(2027, 3, 1)))
    db.commit()

    first = app.test_cli_runner().invoke(args=["materialise"])
    second = app.test_cli_runner().invoke(args=["materialise"])

    assert first.exit_code == 0 and first.output.startswith("8 slots opened, 0 left out")
    assert second.output.startswith("0 slots opened")


def test_the_worker_materialises_at_start_then_every_day(app):
    scheduler = BackgroundScheduler(timezone="UTC")
    dispatcher = _schedule(scheduler, app, 30)
    _run_once_at_start(scheduler, app, dispatcher)
    scheduler.start(paused=True)  # nothing runs: the test only reads the schedule
    try:
        daily = scheduler.get_job("availability-materialise")
        assert daily.trigger.interval == timedelta(hours=24)
        assert daily.coalesce is True and daily.max_instances == 1
        assert daily.next_run_time is not None  # scheduled, not added paused
        assert scheduler.get_job("outbox-tick").next_run_time is not None
        assert scheduler.get_job("availability-first-run") is not None
    finally:
        scheduler.shutdown(wait=False)


def local_start(moment: datetime) -> datetime:
    return moment.astimezone(PARIS).replace(tzinfo=None)


@pytest.mark.parametrize("minutes", [4, 241])
def test_a_weekly_session_outside_the_lengths_of_one_off_slots_is_refused(minutes):
    with pytest.raises(ServiceError, match="de 5 à 240 minutes") as refused:
        check_plan(plan(session_minutes=minutes), date(2027, 1, 11))
    assert refused.value.field == "session_minutes"
