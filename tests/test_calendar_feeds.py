"""Each person's calendar subscription: their sessions (a parent's children's, a tutor's slots),
updated when they change, struck when cancelled, cheap to poll, and theirs alone."""

from datetime import UTC, datetime, time, timedelta
from email.utils import format_datetime

import pytest
from calendar_reading import both_parsers, unfolded
from conftest import csrf_token
from factories import login, look_again, make_family, make_person, make_slot, make_tutor
from sqlalchemy import event

from scheduler_app import db as database
from scheduler_app.agenda import routes as agenda_routes
from scheduler_app.cache import LRUCache
from scheduler_app.models import Activity
from scheduler_app.services.booking import book_slot, cancel_booking
from scheduler_app.services.feeds import feed_token, reset_feed_token
from scheduler_app.services.slots import cancel_slot, move_slot

PUBLIC = "https://lien.example.org"
MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def centre(app, db, frozen_clock):
    """Karim's week: Adam (Fatima's son) on Wednesday, Léa (Jean's daughter) on Thursday, a free
    slot on Friday."""
    app.config.update(PUBLIC_URL=PUBLIC, MAIL_FROM="Centre social Lien <lien@centre.example.org>")
    frozen_clock(MONDAY)
    tutor = make_tutor(db)
    wednesday = make_slot(db, tutor, starts_in=timedelta(days=2, hours=4))
    thursday = make_slot(db, tutor, starts_in=timedelta(days=3, hours=4))
    friday = make_slot(db, tutor, starts_in=timedelta(days=4, hours=4))
    fatima, [adam, yasmine] = make_family(db, "Fatima Haddou", "Adam Haddou", "Yasmine Haddou")
    jean, [lea] = make_family(db, "Jean Petit", "Léa Petit")
    adams = book_slot(db, wednesday.id, adam, fatima)
    leas = book_slot(db, thursday.id, lea, jean)
    return {"tutor": tutor, "slots": [wednesday, thursday, friday], "fatima": fatima, "adam": adam,
            "yasmine": yasmine, "jean": jean, "adams": adams, "leas": leas}


def feed_path(db, person) -> str:
    return f"/calendar/{feed_token(db, person).secret}.ics"


def events_of(data: bytes) -> dict:
    """UID -> (icalendar VEVENT, vobject VEVENT), checking both parsers see the same entries."""
    ical, vcal = both_parsers(data)
    by_uid = {str(vevent["UID"]): vevent for vevent in ical.walk("VEVENT")}
    vby_uid = {vevent.uid.value: vevent for vevent in getattr(vcal, "vevent_list", [])}
    assert by_uid.keys() == vby_uid.keys()
    return {uid: (by_uid[uid], vby_uid[uid]) for uid in by_uid}


def test_a_parent_subscribes_to_their_childrens_sessions_and_never_another_familys(app, db, centre):
    client = app.test_client()  # a calendar app: no login, the secret is the key

    response = client.get(feed_path(db, centre["fatima"]))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    events = events_of(response.data)
    assert list(events) == [f"{centre['adams'].calendar_uid}@centre.example.org"]
    ical_event, vevent = events[f"{centre['adams'].calendar_uid}@centre.example.org"]
    assert "Pour Adam Haddou" in vevent.description.value
    assert str(ical_event["STATUS"]) == vevent.status.value == "CONFIRMED"
    assert vevent.dtstart.value.hour == 14 and datetime(2027, 3, 3, 13, 0, tzinfo=UTC) == ical_event.DTSTART
    assert ical_event["URL"].startswith(f"{PUBLIC}/j/") and "jwt=" not in unfolded(response.data)
    assert "Léa" not in response.get_data(as_text=True)
    assert "METHOD" not in response.get_data(as_text=True)  # a feed is no invitation


def test_a_student_subscribes_to_their_own_sessions(app, db, centre):
    yasmine = make_person(db, "student", "Zoé Martin")
    booking = book_slot(db, centre["slots"][2].id, yasmine, yasmine)

    events = events_of(app.test_client().get(feed_path(db, yasmine)).data)

    assert list(events) == [f"{booking.calendar_uid}@centre.example.org"]


def test_a_tutor_subscribes_to_every_slot_booked_or_not_with_who_booked(app, db, centre):
    wednesday, thursday, friday = centre["slots"]

    events = events_of(app.test_client().get(feed_path(db, centre["tutor"])).data)

    assert list(events) == [f"{slot.calendar_uid}@centre.example.org" for slot in (wednesday, thursday, friday)]
    descriptions = {uid: vevent.description.value for uid, (_, vevent) in events.items()}
    assert "Participants : Adam Haddou" in descriptions[f"{wednesday.calendar_uid}@centre.example.org"]
    assert "Participants : Léa Petit" in descriptions[f"{thursday.calendar_uid}@centre.example.org"]
    assert "Participants" not in descriptions[f"{friday.calendar_uid}@centre.example.org"]


def test_a_feed_after_a_cancellation_strikes_the_session_instead_of_dropping_it(app, db, centre, frozen_clock):
    client = app.test_client()
    path = feed_path(db, centre["fatima"])
    client.get(path)
    frozen_clock(MONDAY + timedelta(hours=1))
    cancel_booking(db, centre["adams"])

    events = events_of(client.get(path).data)

    ical_event, vevent = events[f"{centre['adams'].calendar_uid}@centre.example.org"]
    assert str(ical_event["STATUS"]) == vevent.status.value == "CANCELLED"
    assert int(vevent.sequence.value) == ical_event["SEQUENCE"] == 1
    assert ical_event["DTSTAMP"].dt == MONDAY + timedelta(hours=1)  # the cancellation is its last change


def test_a_cancelled_slot_is_struck_in_the_tutors_feed(app, db, centre):
    wednesday = centre["slots"][0]
    cancel_slot(db, wednesday, by=centre["tutor"])

    events = events_of(app.test_client().get(feed_path(db, centre["tutor"])).data)

    assert events[f"{wednesday.calendar_uid}@centre.example.org"][1].status.value == "CANCELLED"


def test_the_feed_keeps_the_last_30_days_and_everything_ahead(app, db, centre, frozen_clock):
    frozen_clock(MONDAY + timedelta(days=32))  # Wednesday's session ended 29 days and some hours ago
    events = events_of(app.test_client().get(feed_path(db, centre["tutor"])).data)
    assert len(events) == 3
    frozen_clock(MONDAY + timedelta(days=33, hours=2))  # Wednesday's is now more than 30 days old
    events = events_of(app.test_client().get(feed_path(db, centre["tutor"])).data)
    assert f"{centre['slots'][0].calendar_uid}@centre.example.org" not in events and len(events) == 2


def test_an_unchanged_feed_reads_the_same_later_and_is_answered_304(app, db, centre, frozen_clock):
    client = app.test_client()
    path = feed_path(db, centre["fatima"])
    first = client.get(path)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    frozen_clock(MONDAY + timedelta(hours=5))

    again = client.get(path)
    by_etag = client.get(path, headers={"If-None-Match": etag})
    by_date = client.get(path, headers={"If-Modified-Since": last_modified})

    assert again.data == first.data and again.headers["ETag"] == etag  # DTSTAMP is each session's last change
    assert by_etag.status_code == 304 and by_etag.data == b""
    assert by_date.status_code == 304 and by_date.data == b""
    assert by_etag.headers["ETag"] == etag


def test_a_changed_feed_is_sent_again_to_a_conditional_request(app, db, centre, frozen_clock):
    client = app.test_client()
    path = feed_path(db, centre["fatima"])
    first = client.get(path)
    frozen_clock(MONDAY + timedelta(hours=2))
    cancel_booking(db, centre["adams"])

    by_etag = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    by_date = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})

    assert by_etag.status_code == by_date.status_code == 200
    assert b"STATUS:CANCELLED" in by_etag.data
    assert by_date.headers["Last-Modified"] == format_datetime(MONDAY + timedelta(hours=2), usegmt=True)


def test_a_feed_costs_the_same_few_queries_however_many_sessions(app, db, centre, frozen_clock):
    client = app.test_client()
    statements = []

    def count(*_args):
        statements.append(1)

    def queries_for(person) -> int:
        path = feed_path(db, person)
        statements.clear()
        event.listen(database.engine_of(app), "before_cursor_execute", count)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(database.engine_of(app), "before_cursor_execute", count)
        return len(statements)

    tutor_with_three = queries_for(centre["tutor"])
    family_with_one = queries_for(centre["fatima"])
    for day in range(5, 11):
        slot = make_slot(db, centre["tutor"], starts_in=timedelta(days=day, hours=4))
        book_slot(db, slot.id, centre["adam"] if day % 2 else centre["yasmine"], centre["fatima"])

    assert queries_for(centre["tutor"]) == tutor_with_three
    assert queries_for(centre["fatima"]) == family_with_one


def test_the_agenda_page_gives_the_address_as_https_and_webcal_with_help(app, db, centre):
    client = app.test_client()
    login(client, centre["fatima"].email)

    page = client.get("/agenda").get_data(as_text=True)

    look_again(db)
    secret = feed_token(db, centre["fatima"]).secret
    assert f'value="{PUBLIC}/calendar/{secret}.ics"' in page
    assert f'href="webcal://lien.example.org/calendar/{secret}.ics"' in page
    assert "Ajouter à Google Agenda" in page and "iPhone" in page and "Outlook" in page
    assert app.test_client().get(f"/calendar/{secret}.ics").status_code == 200


def test_resetting_the_address_stops_the_old_one_at_once(app, db, centre):
    client = app.test_client()
    login(client, centre["fatima"].email)
    page = client.get("/agenda").get_data(as_text=True)
    old = f"/calendar/{feed_token(db, centre['fatima']).secret}.ics"

    response = client.post("/agenda/reset", data={"csrf_token": csrf_token(page)}, follow_redirects=True)

    look_again(db)
    new = f"/calendar/{feed_token(db, centre['fatima']).secret}.ics"
    assert new != old and new in response.get_data(as_text=True)
    assert "ne marche plus" in response.get_data(as_text=True)
    calendar_app = app.test_client()
    assert calendar_app.get(old).status_code == 404
    assert calendar_app.get(new).status_code == 200


def test_a_reset_needs_the_form_token(app, db, centre):
    client = app.test_client()
    login(client, centre["fatima"].email)
    old = feed_token(db, centre["fatima"]).secret
    assert client.post("/agenda/reset").status_code == 400
    look_again(db)
    assert feed_token(db, centre["fatima"]).secret == old


def test_an_unknown_address_or_an_inactive_person_gets_nothing(app, db, centre):
    path = feed_path(db, centre["jean"])
    assert app.test_client().get("/calendar/not-a-real-secret.ics").status_code == 404
    centre["jean"].active = False
    db.commit()
    assert app.test_client().get(path).status_code == 404


def test_a_coordinators_agenda_page_is_the_centres_and_a_visitor_is_sent_to_log_in(app, db, centre):
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    client = app.test_client()
    login(client, coordinator.email)
    page = client.get("/agenda")
    assert page.status_code == 200 and "Agenda du centre" in page.get_data(as_text=True)
    anonymous = app.test_client().get("/agenda")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_each_person_has_one_live_address(db, centre):
    first = feed_token(db, centre["fatima"])
    assert feed_token(db, centre["fatima"]).id == first.id
    assert feed_token(db, centre["jean"]).secret != first.secret


# --- a feed is written once per version: each change shows at once, polls cost one statement ---
#
# The clock stays frozen in these tests: no updated_at moves, so the feed has to see each change
# itself (its SEQUENCE, its rows, the names it shows), not the time of the change.

def feeds_after(app, db, people, change) -> list[tuple]:
    """Each person's feed fetched (and so kept by the app), then `change`, then fetched again by
    a calendar app that sends the ETag it has: (entries before, entries after) per person."""
    client = app.test_client()
    before = [client.get(feed_path(db, person)) for person in people]
    change()
    look_again(db)
    after = [client.get(feed_path(db, person), headers={"If-None-Match": first.headers["ETag"]})
             for person, first in zip(people, before, strict=True)]
    for first, second in zip(before, after, strict=True):
        assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
    return [(events_of(first.data), events_of(second.data)) for first, second in zip(before, after, strict=True)]


def descriptions(events: dict) -> dict[str, str]:
    return {uid: vevent.description.value if hasattr(vevent, "description") else ""
            for uid, (_, vevent) in events.items()}


def test_a_new_booking_shows_at_once_in_the_familys_and_the_tutors_feeds(app, db, centre):
    friday = centre["slots"][2]
    booking = {}

    def book():
        booking["yasmine"] = book_slot(db, friday.id, centre["yasmine"], centre["fatima"])

    [(family_before, family_after), (_, tutor_after)] = feeds_after(
        app, db, [centre["fatima"], centre["tutor"]], book)

    assert f"{booking['yasmine'].calendar_uid}@centre.example.org" in set(family_after) - set(family_before)
    assert "Participants : Yasmine Haddou" in descriptions(tutor_after)[f"{friday.calendar_uid}@centre.example.org"]


def test_a_cancelled_booking_shows_at_once_in_the_familys_and_the_tutors_feeds(app, db, centre):
    [(_, family_after), (_, tutor_after)] = feeds_after(
        app, db, [centre["fatima"], centre["tutor"]], lambda: cancel_booking(db, centre["adams"]))

    assert family_after[f"{centre['adams'].calendar_uid}@centre.example.org"][1].status.value == "CANCELLED"
    assert "Adam" not in descriptions(tutor_after)[f"{centre['slots'][0].calendar_uid}@centre.example.org"]


def test_a_student_who_cancels_and_books_again_is_listed_last_in_the_tutors_feed(app, db, centre, frozen_clock):
    # The same two names before and after, in the order they booked.
    group = make_slot(db, centre["tutor"], starts_in=timedelta(days=5, hours=4), capacity=3)
    adams = book_slot(db, group.id, centre["adam"], centre["fatima"])
    book_slot(db, group.id, centre["leas"].student, centre["jean"])
    uid = f"{group.calendar_uid}@centre.example.org"

    def cancel_and_book_again():
        cancel_booking(db, adams)
        frozen_clock(MONDAY + timedelta(hours=1))
        book_slot(db, group.id, centre["adam"], centre["fatima"])

    [(tutor_before, tutor_after)] = feeds_after(app, db, [centre["tutor"]], cancel_and_book_again)

    assert "Participants : Adam Haddou, Léa Petit" in descriptions(tutor_before)[uid]
    assert "Participants : Léa Petit, Adam Haddou" in descriptions(tutor_after)[uid]


def test_a_moved_session_shows_at_once_in_the_familys_and_the_tutors_feeds(app, db, centre):
    wednesday = centre["slots"][0]
    tuesday = (MONDAY + timedelta(days=1)).date()

    [(_, family_after), (_, tutor_after)] = feeds_after(
        app, db, [centre["fatima"], centre["tutor"]],
        lambda: move_slot(db, wednesday, tuesday, time(16, 0), "Europe/Paris", by=centre["tutor"]))

    moved = datetime(2027, 3, 2, 15, 0, tzinfo=UTC)  # 16:00 in Paris
    assert moved == family_after[f"{centre['adams'].calendar_uid}@centre.example.org"][0].DTSTART
    assert moved == tutor_after[f"{wednesday.calendar_uid}@centre.example.org"][0].DTSTART


def test_a_renamed_student_shows_at_once_in_the_familys_and_the_tutors_feeds(app, db, centre):
    def rename():
        centre["adam"].name = "Adam Benali"
        db.commit()

    [(_, family_after), (_, tutor_after)] = feeds_after(app, db, [centre["fatima"], centre["tutor"]], rename)

    assert "Pour Adam Benali" in descriptions(family_after)[f"{centre['adams'].calendar_uid}@centre.example.org"]
    assert "Participants : Adam Benali" in descriptions(tutor_after)[f"{centre['slots'][0].calendar_uid}@centre.example.org"]


def test_a_renamed_tutor_shows_at_once_in_the_familys_feed(app, db, centre):
    def rename():
        centre["tutor"].name = "Karim Haddad-Roux"
        db.commit()

    [(_, family_after)] = feeds_after(app, db, [centre["fatima"]], rename)

    summary = str(family_after[f"{centre['adams'].calendar_uid}@centre.example.org"][0]["SUMMARY"])
    assert summary.endswith("avec Karim Haddad-Roux")


def test_a_renamed_activity_shows_at_once(app, db, centre):
    activity = db.get(Activity, centre["slots"][0].activity_id)
    first_name = activity.name  # a seeded activity, which the tests' reset keeps: named back after

    def rename():
        activity.name = "Soutien scolaire"
        db.commit()

    try:
        [(_, family_after), (_, tutor_after)] = feeds_after(app, db, [centre["fatima"], centre["tutor"]], rename)
    finally:
        activity.name = first_name
        db.commit()

    assert str(family_after[f"{centre['adams'].calendar_uid}@centre.example.org"][0]["SUMMARY"]).startswith(
        "Soutien scolaire")
    assert str(tutor_after[f"{centre['slots'][2].calendar_uid}@centre.example.org"][0]["SUMMARY"]).startswith(
        "Soutien scolaire")


def test_a_cancelled_slot_shows_at_once_in_the_tutors_feed(app, db, centre):
    friday = centre["slots"][2]

    [(_, tutor_after)] = feeds_after(app, db, [centre["tutor"]], lambda: cancel_slot(db, friday, by=centre["tutor"]))

    assert tutor_after[f"{friday.calendar_uid}@centre.example.org"][1].status.value == "CANCELLED"


def test_a_new_language_or_time_zone_shows_at_once(app, db, centre):
    def move_to_london_in_english():
        centre["fatima"].locale, centre["fatima"].timezone = "en", "Europe/London"
        db.commit()

    [(_, family_after)] = feeds_after(app, db, [centre["fatima"]], move_to_london_in_english)

    ical_event, vevent = family_after[f"{centre['adams'].calendar_uid}@centre.example.org"]
    assert vevent.dtstart.value.hour == 13 and "For Adam Haddou" in vevent.description.value


def test_a_poll_of_an_unchanged_feed_reads_its_rows_but_is_not_written_again(app, db, centre, monkeypatch):
    written = []
    render_feed = agenda_routes.render_feed
    monkeypatch.setattr(agenda_routes, "render_feed", lambda *args, **kw: written.append(1) or render_feed(*args, **kw))
    statements = []

    def count(_connection, _cursor, statement, *_args):
        if statement != "BEGIN":  # SQLite's explicit BEGIN
            statements.append(statement)

    client = app.test_client()
    path = feed_path(db, centre["tutor"])
    first = client.get(path)
    event.listen(database.engine_of(app), "before_cursor_execute", count)
    try:
        by_etag = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        by_date = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
        again = client.get(path)
    finally:
        event.remove(database.engine_of(app), "before_cursor_execute", count)

    assert by_etag.status_code == by_date.status_code == 304 and by_etag.data == b""
    assert by_etag.headers["ETag"] == first.headers["ETag"]
    assert again.status_code == 200 and again.data == first.data  # the copy kept
    assert again.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"] == "private, no-cache"
    assert again.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert len(written) == 1  # the calendar was written once, for the first request
    assert statements  # each poll reads what the feed shows: nothing is kept between requests


def test_a_reset_address_gets_nothing_at_once_even_though_its_feed_was_kept(app, db, centre):
    client = app.test_client()
    old = feed_path(db, centre["fatima"])
    assert client.get(old).status_code == 200  # written and kept

    reset_feed_token(db, centre["fatima"])

    assert client.get(old).status_code == 404
    assert client.get(feed_path(db, centre["fatima"])).status_code == 200


def test_the_feed_of_a_person_made_inactive_is_gone_at_once_even_though_it_was_kept(app, db, centre):
    client = app.test_client()
    path = feed_path(db, centre["tutor"])
    assert client.get(path).status_code == 200
    centre["tutor"].active = False
    db.commit()
    assert client.get(path).status_code == 404


def test_a_process_keeps_a_few_feeds_the_least_recently_asked_going_first():
    kept = LRUCache(2)
    kept.put(("a", "1"), b"A")
    kept.put(("b", "1"), b"B")
    assert kept.get(("a", "1")) == b"A"  # asked again: now the most recent
    kept.put(("c", "1"), b"C")
    assert kept.get(("b", "1")) is None
    assert kept.get(("a", "1")) == b"A" and kept.get(("c", "1")) == b"C"


def test_a_coordinator_subscribes_to_the_centres_sessions_of_one_activity_or_one_tutor(app, db, client, centre):
    import re
    from html import unescape

    inès = make_tutor(db, "Inès Roux", email="ines.roux@example.org", mediator=True)
    mediation = make_slot(db, inès, starts_in=timedelta(days=2, hours=6), activity_id=2, subject="", capacity=1)
    nadia = make_person(db, "coordinator", "Nadia Benali")
    login(client, nadia.email)
    page = client.get(f"/agenda?tutor={inès.id}").get_data(as_text=True)
    assert "Agenda du centre" in page
    feed_url = unescape(re.search(r'id="feed-url" type="url" value="([^"]+)"', page).group(1))
    assert feed_url.endswith(f"?tutor={inès.id}")
    calendar_app = app.test_client()  # no login: the secret is the key

    everything = events_of(calendar_app.get(feed_path(db, nadia)).data)
    assert set(everything) == {f"{slot.calendar_uid}@centre.example.org" for slot in (*centre["slots"], mediation)}
    wednesday = everything[f"{centre['slots'][0].calendar_uid}@centre.example.org"]
    assert str(wednesday[0]["SUMMARY"]) == "Aide aux devoirs — Mathématiques avec Karim Haddad"
    assert "Participants : Adam Haddou" in wednesday[1].description.value

    by_tutor = events_of(calendar_app.get(feed_url.removeprefix(PUBLIC)).data)
    assert list(by_tutor) == [f"{mediation.calendar_uid}@centre.example.org"]
    # A mediation says where and when only, in every calendar (services/confidential.py)
    assert str(by_tutor[f"{mediation.calendar_uid}@centre.example.org"][0]["SUMMARY"]) == "Rendez-vous au centre social"
    by_activity = events_of(calendar_app.get(feed_path(db, nadia) + "?activity=1").data)
    assert set(by_activity) == {f"{slot.calendar_uid}@centre.example.org" for slot in centre["slots"]}
    assert calendar_app.get(feed_path(db, nadia) + "?tutor=karim").status_code == 400


def test_only_a_coordinators_feed_takes_the_centres_filters(app, db, centre):
    calendar_app = app.test_client()
    mine = events_of(calendar_app.get(feed_path(db, centre["fatima"]) + f"?tutor={centre['tutor'].id}").data)
    assert list(mine) == [f"{centre['adams'].calendar_uid}@centre.example.org"]
