"""Invites and cancellations, read back by icalendar and by vobject (an independent parser)."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from calendars import Event, Person, render_cancel, render_invite

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
JOIN_LINK = "https://lien.example.org/j/k3v9q2"
CENTRE = Person(name="Centre social Lien", email="contact@lien.example.org")
ZOE = Person(name="Zoé Martin", email="zoe.martin@example.org")
PARENT = Person(name="Amina Martin", email="amina.martin@example.org")
KARIM_NO_EMAIL = Person(name="Karim")


def a_session(**changes) -> Event:
    starts_at = changes.pop("starts_at", datetime(2027, 5, 12, 14, 0, tzinfo=PARIS))
    values = {
        "uid": "session-41@lien.example.org",
        "sequence": 0,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=45),
        "summary": "Aide aux devoirs — Maths avec Karim",
        "description": f"Rejoindre la séance : {JOIN_LINK}",
        "url": JOIN_LINK,
        "organizer": CENTRE,
        "attendees": (ZOE, PARENT, KARIM_NO_EMAIL),
    }
    values.update(changes)
    return Event(**values)


def read_with_vobject(data: bytes):
    """vobject's view of `data`, with times resolved through this calendar's own VTIMEZONE."""
    # vobject keeps the first VTIMEZONE it meets for each TZID for the rest of the process;
    # forget earlier ones, or later calendars would be read with an earlier calendar's zone.
    vars(vobject.icalendar)["__tzidMap"].clear()
    return vobject.readOne(data.decode("utf-8"))


def both_parsers(data: bytes):
    """The one VEVENT as icalendar and as vobject see it, with their calendars."""
    ical = icalendar.Calendar.from_ical(data)
    vcal = read_with_vobject(data)
    [ical_event] = ical.walk("VEVENT")
    return ical, ical_event, vcal, vcal.vevent


def attendee_list(ical_event) -> list:
    found = ical_event.get("ATTENDEE", [])
    return found if isinstance(found, list) else [found]


def test_invite_reads_back_the_same_in_icalendar_and_vobject():
    event = a_session(sequence=3)

    ical, ical_event, vcal, vevent = both_parsers(render_invite(event, now=NOW))

    assert ical["METHOD"] == vcal.method.value == "REQUEST"
    assert ical["VERSION"] == vcal.version.value == "2.0"
    assert ical["CALSCALE"] == vcal.calscale.value == "GREGORIAN"
    assert ical["PRODID"] == vcal.prodid.value == "-//Lien//Lien//FR"
    assert ical_event["UID"] == vevent.uid.value == event.uid
    assert int(ical_event["SEQUENCE"]) == int(vevent.sequence.value) == event.sequence
    assert ical_event["SUMMARY"] == vevent.summary.value == event.summary
    assert ical_event["DESCRIPTION"] == vevent.description.value == event.description
    assert ical_event["URL"] == vevent.url.value == event.url
    # Without a location of its own, the join link is where the session happens.
    assert ical_event["LOCATION"] == vevent.location.value == event.url
    assert ical_event["STATUS"] == vevent.status.value == "CONFIRMED"
    assert ical_event["TRANSP"] == vevent.transp.value == "OPAQUE"
    assert ical_event.DTSTAMP == vevent.dtstamp.value == NOW


@pytest.mark.parametrize(
    "starts_at",
    [datetime(2027, 1, 13, 14, 0, tzinfo=PARIS), datetime(2027, 7, 7, 14, 0, tzinfo=PARIS)],
    ids=["winter", "summer"],
)
def test_invite_start_is_paris_wall_time_at_the_right_utc_instant(starts_at):
    event = a_session(starts_at=starts_at)

    _, ical_event, _, vevent = both_parsers(render_invite(event, now=NOW))

    assert ical_event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert vevent.dtstart.params["X-VOBJ-ORIGINAL-TZID"] == ["Europe/Paris"]
    # vobject builds its zone from our VTIMEZONE, so this also checks the VTIMEZONE's offsets.
    for start, end in [(ical_event.DTSTART, ical_event.DTEND), (vevent.dtstart.value, vevent.dtend.value)]:
        assert (start.hour, start.minute) == (14, 0)
        assert start.astimezone(UTC) == event.starts_at.astimezone(UTC)
        assert end.astimezone(UTC) == event.ends_at.astimezone(UTC)


def test_invite_time_zone_block_describes_paris_summer_and_winter_time():
    # A January session: Paris is on winter time, yet the block shows both rules.
    event = a_session(starts_at=datetime(2027, 1, 13, 14, 0, tzinfo=PARIS))

    ical, _, vcal, _ = both_parsers(render_invite(event, now=NOW))

    [timezone] = ical.walk("VTIMEZONE")
    assert timezone["TZID"] == vcal.vtimezone.tzid.value == "Europe/Paris"
    offsets = {
        part.name: part["TZOFFSETTO"].td for part in timezone.subcomponents if part.name in ("STANDARD", "DAYLIGHT")
    }
    assert offsets == {"STANDARD": timedelta(hours=1), "DAYLIGHT": timedelta(hours=2)}
    assert {"standard", "daylight"} <= set(vcal.vtimezone.contents)


def test_invite_names_the_organizer_and_every_attendee_who_has_an_email():
    event = a_session()

    _, ical_event, _, vevent = both_parsers(render_invite(event, now=NOW))

    organizer = ical_event["ORGANIZER"]
    assert str(organizer) == vevent.organizer.value == f"mailto:{CENTRE.email}"
    assert organizer.params["CN"] == vevent.organizer.params["CN"][0] == CENTRE.name
    with_email = [person for person in event.attendees if person.email]
    assert [str(a) for a in attendee_list(ical_event)] == [f"mailto:{p.email}" for p in with_email]
    assert [a.value for a in vevent.attendee_list] == [f"mailto:{p.email}" for p in with_email]
    for ical_attendee, vobject_attendee, person in zip(
        attendee_list(ical_event), vevent.attendee_list, with_email, strict=True
    ):
        assert ical_attendee.params["CN"] == vobject_attendee.params["CN"][0] == person.name
        for name, value in {"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "FALSE"}.items():
            assert ical_attendee.params[name] == vobject_attendee.params[name][0] == value


def test_a_name_with_double_quotes_reads_the_same_in_both_parsers():
    centre = Person(name='Association "Gardons le lien"', email="contact@lien.example.org")

    _, ical_event, _, vevent = both_parsers(render_invite(a_session(organizer=centre), now=NOW))

    expected = centre.name.replace('"', "'")
    assert ical_event["ORGANIZER"].params["CN"] == vevent.organizer.params["CN"][0] == expected


def test_invite_reminds_fifteen_minutes_before_in_the_recipients_words():
    data = render_invite(a_session(), now=NOW, alarm_text="Reminder: tutoring")

    _, ical_event, _, vevent = both_parsers(data)

    [alarm] = ical_event.walk("VALARM")
    assert alarm["ACTION"] == vevent.valarm.action.value == "DISPLAY"
    assert alarm["DESCRIPTION"] == vevent.valarm.description.value == "Reminder: tutoring"
    assert alarm["TRIGGER"].dt == vevent.valarm.trigger.value == -timedelta(minutes=15)


def test_invite_without_alarm_minutes_has_no_reminder():
    _, ical_event, _, vevent = both_parsers(render_invite(a_session(), now=NOW, alarm_minutes=None))

    assert ical_event.walk("VALARM") == []
    assert "valarm" not in vevent.contents


def test_invite_written_for_a_family_in_another_zone_keeps_the_instant():
    event = a_session()

    _, ical_event, vcal, vevent = both_parsers(render_invite(event, tz="America/Toronto", now=NOW))

    assert ical_event["DTSTART"].params["TZID"] == vcal.vtimezone.tzid.value == "America/Toronto"
    assert vevent.dtstart.value.astimezone(UTC) == event.starts_at.astimezone(UTC)
    assert ical_event.DTSTART.utcoffset() == event.starts_at.astimezone(ZoneInfo("America/Toronto")).utcoffset()


def test_invite_in_utc_needs_no_time_zone_block():
    event = a_session()

    ical, ical_event, _, vevent = both_parsers(render_invite(event, tz="UTC", now=NOW))

    assert ical.walk("VTIMEZONE") == []
    assert "TZID" not in ical_event["DTSTART"].params
    assert vevent.dtstart.value == event.starts_at


def test_download_without_organizer_email_leaves_organizer_out():
    event = a_session(organizer=KARIM_NO_EMAIL)

    _, ical_event, vcal, vevent = both_parsers(render_invite(event, method="PUBLISH", now=NOW))

    assert vcal.method.value == "PUBLISH"
    assert "ORGANIZER" not in ical_event
    assert "organizer" not in vevent.contents


@pytest.mark.parametrize("organizer", [None, KARIM_NO_EMAIL], ids=["none", "without email"])
def test_an_invitation_refuses_an_organizer_it_cannot_address(organizer):
    with pytest.raises(ValueError, match="organizer with an email"):
        render_invite(a_session(organizer=organizer), now=NOW)


def test_an_invitation_refuses_to_go_to_nobody():
    with pytest.raises(ValueError, match="at least one attendee"):
        render_invite(a_session(attendees=(KARIM_NO_EMAIL,)), now=NOW)


def test_a_cancelled_session_is_not_sent_as_an_invitation():
    with pytest.raises(ValueError, match="render_cancel"):
        render_invite(a_session(cancelled=True), now=NOW)


def test_cancel_after_invite_shares_the_uid_with_a_higher_sequence():
    invited = a_session(sequence=0)
    invite = render_invite(invited, now=NOW)
    cancelled = replace(invited, sequence=invited.sequence + 1, cancelled=True)

    cancel = render_cancel(cancelled, now=NOW + timedelta(days=2))

    _, first, _, _ = both_parsers(invite)
    ical, second, vcal, vevent = both_parsers(cancel)
    assert ical["METHOD"] == vcal.method.value == "CANCEL"
    assert second["UID"] == vevent.uid.value == first["UID"]
    assert int(second["SEQUENCE"]) == int(vevent.sequence.value) > int(first["SEQUENCE"])
    assert second["STATUS"] == vevent.status.value == "CANCELLED"
    assert NOW + timedelta(days=2) == second.DTSTAMP
    assert second.walk("VALARM") == []
    assert "valarm" not in vevent.contents
    assert str(second["ORGANIZER"]) == f"mailto:{CENTRE.email}"


def test_cancel_keeps_the_sequence_the_app_gives_it():
    _, ical_event, _, _ = both_parsers(render_cancel(a_session(sequence=4), now=NOW))

    assert int(ical_event["SEQUENCE"]) == 4


def test_last_change_of_the_session_becomes_last_modified():
    changed = datetime(2027, 2, 27, 18, 5, tzinfo=PARIS)

    _, ical_event, _, vevent = both_parsers(render_invite(a_session(updated_at=changed), now=NOW))

    assert ical_event["LAST-MODIFIED"].dt == vevent.last_modified.value == changed
    assert ical_event.DTSTAMP == NOW  # a message's DTSTAMP is when it was written (RFC 5545 §3.8.7.2)


def test_long_french_text_is_folded_without_cutting_a_letter_in_two():
    description = "Révisions : équations, fractions, géométrie — apporte ton cahier. " * 6
    data = render_invite(a_session(description=description), now=NOW)

    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75  # octets, RFC 5545 §3.1
    for line in lines:
        line.decode("utf-8")  # raises if a fold split a multi-byte character
    _, ical_event, _, vevent = both_parsers(data)
    assert ical_event["DESCRIPTION"] == vevent.description.value == description


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"starts_at": datetime(2027, 5, 12, 14, 0)}, "timezone-aware"),
        ({"ends_at": datetime(2027, 5, 12, 13, 0, tzinfo=PARIS)}, "end after it starts"),
        ({"sequence": -1}, "SEQUENCE"),
        ({"uid": ""}, "UID"),
    ],
    ids=["naive start", "ends before start", "negative sequence", "empty uid"],
)
def test_a_session_that_cannot_be_a_calendar_entry_is_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        a_session(**changes)


def test_a_person_with_a_malformed_email_is_refused():
    with pytest.raises(ValueError, match="not an email"):
        Person(name="Zoé", email="zoe at example.org")


def test_an_unknown_time_zone_is_reported_by_name():
    with pytest.raises(ValueError, match="Europe/Pariss"):
        render_invite(a_session(), tz="Europe/Pariss", now=NOW)


def test_invite_dates_stay_on_the_calendar_day_people_expect():
    # 23:30 in Paris on 31 December is already the next year in UTC; the entry keeps Paris's day.
    late = datetime(2027, 12, 31, 23, 30, tzinfo=PARIS)

    _, ical_event, _, vevent = both_parsers(render_invite(a_session(starts_at=late), now=NOW))

    assert ical_event.DTSTART.date() == vevent.dtstart.value.date() == date(2027, 12, 31)
    assert vevent.dtend.value.astimezone(UTC) == (late + timedelta(minutes=45)).astimezone(UTC)


def _observances(ical) -> dict[str, list]:
    [timezone] = ical.walk("VTIMEZONE")
    found: dict[str, list] = {}
    for part in timezone.subcomponents:
        found.setdefault(part.name, []).append(part)
    return found


def test_paris_time_zone_block_is_written_as_the_yearly_eu_rule():
    # Outlook reads a VTIMEZONE's RRULEs but not its RDATEs ([MS-STANOICAL] §2.2.47). EU summer
    # time: from the last Sunday of March, 02:00 winter time, to the last Sunday of October,
    # 03:00 summer time.
    ical, _, _, _ = both_parsers(render_invite(a_session(), now=NOW))

    observances = _observances(ical)
    [daylight], [standard] = observances["DAYLIGHT"], observances["STANDARD"]
    for part, month, hour, offsets in [(daylight, 3, 2, (1, 2)), (standard, 10, 3, (2, 1))]:
        rule = part["RRULE"]
        assert (rule["FREQ"], rule["BYMONTH"], rule["BYDAY"]) == (["YEARLY"], [month], ["-1SU"])
        assert part.DTSTART.hour == hour
        assert part.DTSTART.year < a_session().starts_at.year  # covers January of that year too
        assert (part["TZOFFSETFROM"].td, part["TZOFFSETTO"].td) == tuple(timedelta(hours=h) for h in offsets)
        assert "RDATE" not in part


def test_new_york_time_zone_block_follows_the_second_and_first_sundays():
    ical, _, _, _ = both_parsers(render_invite(a_session(), tz="America/New_York", now=NOW))

    observances = _observances(ical)
    assert [p["RRULE"]["BYDAY"] for p in observances["DAYLIGHT"]] == [["2SU"]]
    assert [p["RRULE"]["BYMONTH"] for p in observances["DAYLIGHT"]] == [[3]]
    assert [p["RRULE"]["BYDAY"] for p in observances["STANDARD"]] == [["1SU"]]
    assert [p["RRULE"]["BYMONTH"] for p in observances["STANDARD"]] == [[11]]


def test_a_zone_without_summer_time_has_one_standard_observance():
    event = a_session()

    ical, _, _, vevent = both_parsers(render_invite(event, tz="Asia/Tokyo", now=NOW))

    observances = _observances(ical)
    assert list(observances) == ["STANDARD"] and len(observances["STANDARD"]) == 1
    assert observances["STANDARD"][0]["TZOFFSETTO"].td == timedelta(hours=9)
    assert vevent.dtstart.value.astimezone(UTC) == event.starts_at.astimezone(UTC)


@pytest.mark.parametrize("day", [date(2027, 1, 15), date(2027, 2, 20), date(2027, 6, 2)])
def test_a_zone_without_a_yearly_rule_still_gives_the_right_instants(day):
    # Morocco leaves +01:00 for +00:00 during Ramadan: no yearly RRULE describes that.
    casablanca = ZoneInfo("Africa/Casablanca")
    event = a_session(starts_at=datetime(day.year, day.month, day.day, 14, 0, tzinfo=casablanca))

    _, ical_event, _, vevent = both_parsers(render_invite(event, tz="Africa/Casablanca", now=NOW))

    assert vevent.dtstart.value.astimezone(UTC) == event.starts_at.astimezone(UTC)
    assert ical_event.DTSTART.astimezone(UTC) == event.starts_at.astimezone(UTC)
    assert (vevent.dtstart.value.hour, ical_event.DTSTART.hour) == (14, 14)
