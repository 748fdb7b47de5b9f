"""Subscription feeds: every session of a person, cancelled ones kept and marked."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from calendars import Event, Person, render_feed

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
CENTRE = Person(name="Centre social Lien", email="contact@lien.example.org")
ZOE = Person(name="Zoé Martin", email="zoe.martin@example.org")


def weekly_sessions(count: int, *, first=datetime(2027, 3, 3, 14, 0, tzinfo=PARIS)) -> list[Event]:
    return [
        Event(
            uid=f"session-{number}@lien.example.org",
            sequence=0,
            starts_at=first + timedelta(weeks=number),
            ends_at=first + timedelta(weeks=number, minutes=45),
            summary="Aide aux devoirs — Maths avec Karim",
            description=f"Rejoindre : https://lien.example.org/j/zoe{number}",
            url=f"https://lien.example.org/j/zoe{number}",
            organizer=CENTRE,
            attendees=(ZOE,),
            updated_at=datetime(2027, 2, 20, 10, 0, tzinfo=UTC) + timedelta(hours=number),
        )
        for number in range(count)
    ]


def read_with_vobject(data: bytes):
    """vobject's view of `data`, with times resolved through this calendar's own VTIMEZONE."""
    # vobject keeps the first VTIMEZONE it meets for each TZID for the rest of the process;
    # forget earlier ones, or later calendars would be read with an earlier calendar's zone.
    vars(vobject.icalendar)["__tzidMap"].clear()
    return vobject.readOne(data.decode("utf-8"))


def both_parsers(data: bytes):
    return icalendar.Calendar.from_ical(data), read_with_vobject(data)


def test_feed_lists_every_session_at_its_instant_with_one_time_zone_block():
    # Three weeks across the spring change (28 March 2027) in Paris.
    sessions = weekly_sessions(5, first=datetime(2027, 3, 14, 14, 0, tzinfo=PARIS))

    ical, vcal = both_parsers(render_feed(sessions, name="Séances de Zoé", now=NOW))

    assert len(ical.walk("VTIMEZONE")) == len(vcal.vtimezone_list) == 1
    by_uid = {vevent.uid.value: vevent for vevent in vcal.vevent_list}
    assert [e["UID"] for e in ical.walk("VEVENT")] == [s.uid for s in sessions] == list(by_uid)
    for session, ical_event in zip(sessions, ical.walk("VEVENT"), strict=True):
        vevent = by_uid[session.uid]
        assert ical_event.DTSTART.astimezone(UTC) == session.starts_at.astimezone(UTC)
        assert vevent.dtstart.value.astimezone(UTC) == session.starts_at.astimezone(UTC)
        assert vevent.dtstart.value.hour == ical_event.DTSTART.hour == 14
        assert ical_event["URL"] == vevent.url.value == session.url


def test_feed_names_itself_and_asks_to_be_refreshed_every_hour():
    ical, vcal = both_parsers(render_feed(weekly_sessions(1), name="Séances de Zoé", now=NOW))

    assert "METHOD" not in ical and "method" not in vcal.contents  # a feed is no invitation
    assert ical["X-WR-CALNAME"] == vcal.x_wr_calname.value == "Séances de Zoé"
    assert ical["NAME"] == "Séances de Zoé"
    assert ical["X-WR-TIMEZONE"] == vcal.x_wr_timezone.value == "Europe/Paris"
    assert ical["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert ical["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert vcal.refresh_interval.value == "PT1H"
    assert ical["X-PUBLISHED-TTL"] == vcal.x_published_ttl.value == "PT1H"
    assert {"standard", "daylight"} <= set(vcal.vtimezone.contents)


def test_feed_after_a_cancel_keeps_the_session_marked_cancelled():
    kept, dropped_by_tutor = weekly_sessions(2)
    cancelled = replace(dropped_by_tutor, sequence=1, cancelled=True)

    ical, vcal = both_parsers(render_feed([kept, cancelled], name="Séances de Zoé", now=NOW))

    statuses = {str(e["UID"]): (str(e["STATUS"]), int(e["SEQUENCE"])) for e in ical.walk("VEVENT")}
    assert statuses == {kept.uid: ("CONFIRMED", 0), cancelled.uid: ("CANCELLED", 1)}
    assert {v.uid.value: v.status.value for v in vcal.vevent_list} == {
        kept.uid: "CONFIRMED",
        cancelled.uid: "CANCELLED",
    }


def test_feed_carries_no_reminders_because_lien_sends_its_own():
    ical, _ = both_parsers(render_feed(weekly_sessions(3), name="Zoé", now=NOW))

    assert ical.walk("VALARM") == []


def test_feed_is_byte_identical_whatever_the_time_it_is_requested():
    sessions = weekly_sessions(3)

    first = render_feed(sessions, name="Zoé", now=NOW)
    later = render_feed(sessions, name="Zoé", now=NOW + timedelta(hours=5))

    assert first == later  # so the app's ETag only changes when a session does
    ical, _ = both_parsers(first)
    assert [e.DTSTAMP for e in ical.walk("VEVENT")] == [s.updated_at for s in sessions]


def test_feed_entry_without_a_known_change_is_stamped_now():
    [session] = weekly_sessions(1)

    ical, _ = both_parsers(render_feed([replace(session, updated_at=None)], name="Zoé", now=NOW))

    [vevent] = ical.walk("VEVENT")
    assert vevent.DTSTAMP == NOW
    assert "LAST-MODIFIED" not in vevent


def test_feed_with_no_sessions_yet_is_still_a_calendar():
    ical, vcal = both_parsers(render_feed([], name="Zoé", now=NOW))

    assert ical.walk("VEVENT") == [] and "vevent" not in vcal.contents
    assert ical["X-WR-CALNAME"] == "Zoé"


def test_feed_across_new_year_gives_both_years_the_right_offsets():
    sessions = weekly_sessions(30, first=datetime(2027, 11, 3, 14, 0, tzinfo=PARIS))

    _, vcal = both_parsers(render_feed(sessions, name="Zoé", now=NOW))

    instants = {v.uid.value: v.dtstart.value.astimezone(UTC) for v in vcal.vevent_list}
    assert instants == {s.uid: s.starts_at.astimezone(UTC) for s in sessions}
    assert {s.starts_at.year for s in sessions} == {2027, 2028}


def test_feed_refuses_the_same_session_twice():
    [session] = weekly_sessions(1)

    with pytest.raises(ValueError, match="appears twice"):
        render_feed([session, replace(session, sequence=1)], name="Zoé", now=NOW)
