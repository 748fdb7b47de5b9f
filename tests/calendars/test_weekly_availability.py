"""Weekly availability: "every Sunday at 14:00 in Paris" stays 14:00 in Paris all year."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from calendars import expand_weekly, split_into_sessions

PARIS = ZoneInfo("Europe/Paris")
# Summer time in Paris, 2027: from Sunday 28 March, 01:00 UTC, to Sunday 31 October, 01:00 UTC.
SPRING_FORWARD = date(2027, 3, 28)
FALL_BACK = date(2027, 10, 31)
THREE_QUARTERS = timedelta(minutes=45)


def every_day(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def sundays_at_two_pm(first_day: date, until: date, **options):
    return expand_weekly(
        "FREQ=WEEKLY;BYDAY=SU",
        first_day=first_day,
        local_start=time(14, 0),
        duration=THREE_QUARTERS,
        tz="Europe/Paris",
        until=until,
        **options,
    )


def test_sunday_sessions_keep_two_pm_in_paris_across_the_spring_change():
    first, last = date(2027, 3, 14), date(2027, 4, 18)

    occurrences = sundays_at_two_pm(first, last)

    sundays = [day for day in every_day(first, last) if day.weekday() == 6]
    assert [start.astimezone(PARIS).date() for start, _ in occurrences] == sundays
    for (start, end), sunday in zip(occurrences, sundays, strict=True):
        assert start.tzinfo is UTC and end - start == THREE_QUARTERS
        assert start.astimezone(PARIS).time() == time(14, 0)
        # 14:00 is 13:00Z on winter time (+01:00), 12:00Z on summer time (+02:00).
        assert start.hour == (12 if sunday >= SPRING_FORWARD else 13)
    assert {start.hour for start, _ in occurrences} == {12, 13}


def test_sunday_sessions_keep_two_pm_in_paris_across_the_autumn_change():
    first, last = date(2027, 10, 10), date(2027, 11, 14)

    occurrences = sundays_at_two_pm(first, last)

    sundays = [day for day in every_day(first, last) if day.weekday() == 6]
    assert [start.astimezone(PARIS).date() for start, _ in occurrences] == sundays
    for (start, _), sunday in zip(occurrences, sundays, strict=True):
        assert start.astimezone(PARIS).time() == time(14, 0)
        assert start.hour == (13 if sunday >= FALL_BACK else 12)


def test_school_holidays_and_absences_are_left_out():
    first, last = date(2027, 10, 10), date(2027, 11, 14)
    holidays = {date(2027, 10, 24), date(2027, 10, 31)}

    occurrences = sundays_at_two_pm(first, last, skip=holidays)

    expected = [d for d in every_day(first, last) if d.weekday() == 6 and d not in holidays]
    assert [start.astimezone(PARIS).date() for start, _ in occurrences] == expected
    assert len(expected) == len(sundays_at_two_pm(first, last)) - len(holidays)


def test_until_includes_its_own_day():
    until = date(2027, 4, 4)  # a Sunday

    last_days = [
        occurrences[-1][0].astimezone(PARIS).date()
        for occurrences in (
            sundays_at_two_pm(date(2027, 3, 14), until),
            sundays_at_two_pm(date(2027, 3, 14), until - timedelta(days=1)),
        )
    ]

    assert last_days == [until, until - timedelta(weeks=1)]


def test_horizon_stops_before_a_session_starting_exactly_at_it():
    horizon = datetime(2027, 4, 4, 14, 0, tzinfo=PARIS)

    occurrences = expand_weekly(
        "FREQ=WEEKLY;BYDAY=SU",
        first_day=date(2027, 3, 14),
        local_start=time(14, 0),
        duration=THREE_QUARTERS,
        tz="Europe/Paris",
        horizon_end=horizon,
    )

    assert all(start < horizon for start, _ in occurrences)
    assert occurrences[-1][0] == horizon - timedelta(weeks=1)
    assert len(occurrences) == 3  # 14, 21 and 28 March


def test_a_start_that_the_spring_change_skips_is_left_out():
    first, last = date(2027, 3, 14), date(2027, 4, 11)

    occurrences = expand_weekly(
        "FREQ=WEEKLY;BYDAY=SU",
        first_day=first,
        local_start=time(2, 30),
        duration=THREE_QUARTERS,
        tz="Europe/Paris",
        until=last,
    )

    # On 28 March 2027 Paris clocks go from 01:59:59 to 03:00: 02:30 never happens that day.
    expected = [d for d in every_day(first, last) if d.weekday() == 6 and d != SPRING_FORWARD]
    assert [start.astimezone(PARIS).date() for start, _ in occurrences] == expected
    assert all(start.astimezone(PARIS).time() == time(2, 30) for start, _ in occurrences)


def test_a_start_that_the_autumn_change_repeats_happens_once_on_summer_time():
    occurrences = expand_weekly(
        "FREQ=WEEKLY;BYDAY=SU",
        first_day=FALL_BACK,
        local_start=time(2, 30),
        duration=THREE_QUARTERS,
        tz="Europe/Paris",
        until=FALL_BACK,
    )

    # 02:30 happens at 00:30Z (still +02:00) and again at 01:30Z (+01:00): the first is kept.
    assert occurrences == [
        (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), datetime(2027, 10, 31, 1, 15, tzinfo=UTC)),
    ]


def test_every_other_week_on_monday_and_wednesday():
    first, last = date(2027, 1, 4), date(2027, 2, 17)  # a Monday, seven weeks on

    occurrences = expand_weekly(
        "FREQ=WEEKLY;BYDAY=MO,WE;INTERVAL=2",
        first_day=first,
        local_start=time(17, 0),
        duration=timedelta(hours=1),
        tz="Europe/Paris",
        until=last,
    )

    on_weeks = [
        day for day in every_day(first, last) if (day - first).days // 7 % 2 == 0 and day.weekday() in (0, 2)
    ]
    assert [start.astimezone(PARIS).date() for start, _ in occurrences] == on_weeks
    assert all(start.astimezone(PARIS).time() == time(17, 0) for start, _ in occurrences)


@pytest.mark.parametrize(
    "week_start, expected_days",
    [("MO", [5, 10, 19, 24]), ("SU", [5, 17, 19, 31])],
)
def test_week_start_decides_which_weeks_are_on_as_in_rfc_5545(week_start, expected_days):
    # The example of RFC 5545 §3.3.10: from Tuesday 5 August 1997, every other week on TU and SU.
    occurrences = expand_weekly(
        f"FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST={week_start}",
        first_day=date(1997, 8, 5),
        local_start=time(9, 0),
        duration=timedelta(hours=1),
        tz="America/New_York",
        until=date(1997, 8, 31),
    )

    local = [start.astimezone(ZoneInfo("America/New_York")) for start, _ in occurrences]
    assert [moment.date() for moment in local] == [date(1997, 8, day) for day in expected_days]
    assert all(moment.time() == time(9, 0) for moment in local)


def test_a_rule_without_byday_repeats_on_the_first_days_weekday():
    first = date(2027, 5, 6)  # a Thursday

    occurrences = expand_weekly(
        "RRULE:FREQ=WEEKLY", first_day=first, local_start=time(10, 0), duration=THREE_QUARTERS,
        tz="Europe/Paris", until=date(2027, 5, 27),
    )

    assert [start.astimezone(PARIS).date() for start, _ in occurrences] == [
        first + timedelta(weeks=week) for week in range(4)
    ]


def test_a_pattern_starting_mid_week_begins_on_its_first_day():
    first = date(2027, 5, 6)  # Thursday: this week's Monday and Wednesday are before it

    occurrences = expand_weekly(
        "FREQ=WEEKLY;BYDAY=MO,WE,TH,FR", first_day=first, local_start=time(10, 0),
        duration=THREE_QUARTERS, tz="Europe/Paris", until=date(2027, 5, 12),
    )

    assert [start.astimezone(PARIS).date() for start, _ in occurrences] == [
        d for d in every_day(first, date(2027, 5, 12)) if d.weekday() in (0, 2, 3, 4)
    ]


@pytest.mark.parametrize(
    "rrule, message",
    [
        ("FREQ=DAILY", "only weekly"),
        ("BYDAY=MO", "only weekly"),
        ("", "only weekly"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a weekday"),
        ("FREQ=WEEKLY;BYDAY=1MO", "not a weekday"),
        ("FREQ=WEEKLY;WKST=XX", "not a weekday"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL"),
        ("FREQ=WEEKLY;INTERVAL=two", "INTERVAL"),
        ("FREQ=WEEKLY;COUNT=10", "unsupported RRULE part"),
        ("FREQ=WEEKLY;UNTIL=20270601T000000Z", "unsupported RRULE part"),
        ("FREQ=WEEKLY;BYHOUR=14", "unsupported RRULE part"),
        ("FREQ=WEEKLY;BYDAY", "malformed"),
        ("FREQ=WEEKLY;BYDAY=MO;BYDAY=TU", "given twice"),
    ],
)
def test_rules_that_are_not_a_plain_weekly_pattern_are_refused(rrule, message):
    with pytest.raises(ValueError, match=message):
        expand_weekly(
            rrule, first_day=date(2027, 3, 14), local_start=time(14, 0), duration=THREE_QUARTERS,
            tz="Europe/Paris", until=date(2027, 4, 18),
        )


def test_a_pattern_with_no_end_is_refused():
    with pytest.raises(ValueError, match="needs an end"):
        expand_weekly(
            "FREQ=WEEKLY;BYDAY=WE", first_day=date(2027, 3, 3), local_start=time(14, 0),
            duration=THREE_QUARTERS, tz="Europe/Paris",
        )


def test_a_wednesday_afternoon_becomes_four_45_minute_sessions():
    window_start = datetime(2027, 3, 3, 14, 0, tzinfo=PARIS)
    window_end = datetime(2027, 3, 3, 17, 0, tzinfo=PARIS)

    sessions = split_into_sessions(window_start, window_end, THREE_QUARTERS)

    whole = (window_end - window_start) // THREE_QUARTERS
    assert sessions == [
        (window_start + k * THREE_QUARTERS, window_start + (k + 1) * THREE_QUARTERS)
        for k in range(whole)
    ]
    assert [start.time() for start, _ in sessions] == [time(14, 0), time(14, 45), time(15, 30), time(16, 15)]


def test_sessions_last_their_real_length_across_a_clock_change():
    # 01:00 to 04:00 on the spring-forward night is two real hours.
    window_start = datetime(2027, 3, 28, 1, 0, tzinfo=PARIS)
    window_end = datetime(2027, 3, 28, 4, 0, tzinfo=PARIS)

    sessions = split_into_sessions(window_start, window_end, timedelta(hours=1))

    assert len(sessions) == 2
    for start, end in sessions:
        assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=1)
    assert sessions[-1][1].astimezone(UTC) == window_end.astimezone(UTC)


def test_every_wednesday_afternoon_for_a_month_becomes_slots():
    windows = expand_weekly(
        "FREQ=WEEKLY;BYDAY=WE", first_day=date(2027, 3, 1), local_start=time(14, 0),
        duration=timedelta(hours=3), tz="Europe/Paris", until=date(2027, 3, 31),
    )

    slots = [slot for start, end in windows for slot in split_into_sessions(start, end, THREE_QUARTERS)]

    wednesdays = [d for d in every_day(date(2027, 3, 1), date(2027, 3, 31)) if d.weekday() == 2]
    assert len(slots) == 4 * len(wednesdays)
    assert sorted({start.astimezone(PARIS).time() for start, _ in slots}) == [
        time(14, 0), time(14, 45), time(15, 30), time(16, 15),
    ]


@pytest.mark.parametrize(
    "start, end, length",
    [
        (datetime(2027, 3, 3, 14, 0), datetime(2027, 3, 3, 17, 0), THREE_QUARTERS),
        (
            datetime(2027, 3, 3, 14, 0, tzinfo=PARIS),
            datetime(2027, 3, 3, 17, 0, tzinfo=PARIS),
            timedelta(0),
        ),
    ],
    ids=["naive", "zero length"],
)
def test_splitting_refuses_naive_times_and_empty_sessions(start, end, length):
    with pytest.raises(ValueError):
        split_into_sessions(start, end, length)
