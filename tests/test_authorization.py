"""Every route, walked as each role, on objects that belong to someone else: who gets the page
(200, or a redirect where that is the page's answer), who is sent to log in (302 to /login),
and who is refused (403/404). A route added without an entry here fails the last test."""

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from conftest import csrf_token
from factories import MEDIATION, login, make_family, make_person, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import Booking, Enrolment, JoinToken, Notification, Slot
from scheduler_app.services.availability import WeeklyPlan, save_rule
from scheduler_app.services.booking import book_slot
from scheduler_app.services.mediation import MediationPlan, plan_mediation

# "mediator": a tutor marked for mediation, who runs none of the sessions looked at;
# "mediation_coordinator": a coordinator marked for mediation. Each is walked as its role is.
ROLES = ("anonymous", "student", "parent", "tutor", "coordinator", "mediator", "mediation_coordinator")
AS_ROLE = {"mediator": "tutor", "mediation_coordinator": "coordinator"}
OK, LOGIN, REFUSED = {200}, "login", {403, 404}
EVERYONE = dict.fromkeys(ROLES, OK)


def only(*roles, ok=OK):
    """Allowed roles get `ok`; anonymous is sent to log in; other roles are refused."""
    return {role: ok if AS_ROLE.get(role, role) in roles or role in roles else (LOGIN if role == "anonymous" else REFUSED)
            for role in ROLES}


@pytest.fixture
def world(db, frozen_clock):
    """Tutor A's slot booked by family 1, and mediator M's mediation with Fatima (family 1's
    mother) as its party; the people looking are strangers to all of them."""
    from datetime import date, time

    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor_a = make_tutor(db, "Karim Haddad")
    slot = make_slot(db, tutor_a)
    parent_1, [student_1] = make_family(db, "Fatima Haddou", "Adam Haddou")
    booking = book_slot(db, slot.id, student_1, parent_1)
    rule = save_rule(db, tutor_a, WeeklyPlan(activity_id=1, weekdays=("WE",), start_time=time(9, 0),
                                               end_time=time(9, 45), session_minutes=45,
                                               valid_from=date(2027, 1, 11))).rule
    enrolment = Enrolment(student_id=student_1.id, booked_by_id=parent_1.id, rule_id=rule.id, start_time=time(9, 0),
                          first_day=date(2027, 1, 13), last_day=date(2027, 2, 3))
    db.add(enrolment)
    db.commit()
    failed = db.scalars(select(Notification)).first()
    failed.status = "failed"
    db.commit()
    mediator = make_tutor(db, "Ousmane Diallo", mediator=True)
    mediation = make_slot(db, mediator, activity_id=MEDIATION, subject="", level="", starts_in=timedelta(days=3))
    party_booking = book_slot(db, mediation.id, parent_1, parent_1, topic="la garde")
    planned = plan_mediation(db, mediator, MediationPlan(
        activity_id=MEDIATION, day=date(2027, 1, 20), start_time=time(14, 0), minutes=45,
        party_ids=(parent_1.id,), separate=False, joint=True), "Europe/Paris")[0]
    viewers = {
        "student": make_person(db, "student", "Léa Petit"),
        "parent": make_family(db, "Jean Petit", "Hugo Petit")[0],
        "tutor": make_tutor(db, "Claire Martin"),
        "coordinator": make_person(db, "coordinator", "Nadia Benali"),
        "mediator": make_tutor(db, "Aïcha Traoré", mediator=True),
        "mediation_coordinator": make_person(db, "coordinator", "Sonia Amrani", mediator=True),
    }
    student_link = db.scalar(select(JoinToken.token).where(JoinToken.user_id == student_1.id))
    party_link = db.scalar(select(JoinToken.token).where(JoinToken.booking_id == party_booking.id))
    short_link = db.scalar(select(JoinToken.short).where(JoinToken.user_id == parent_1.id))
    ids = {"slot": slot.id, "booking": booking.id, "student": student_1.id, "parent": parent_1.id,
           "tutor": tutor_a.id, "rule": rule.id, "notification": failed.id, "join": student_link,
           "coordinator": viewers["coordinator"].id, "mediation": mediation.id, "party_booking": party_booking.id,
           "party_join": party_link, "planned": planned.id, "enrolment": enrolment.id,
           "short": short_link}
    return {"viewers": viewers, "ids": ids}


def pages(ids) -> dict[str, dict]:
    """GET routes and who may see them, for objects of family 1 and tutor A."""
    return {
        "/": {**dict.fromkeys(ROLES, {200, 302})},
        "/login": {"anonymous": OK, **{r: {302} for r in ROLES[1:]}},
        "/register": {"anonymous": OK, **{r: {302} for r in ROLES[1:]}},
        "/password/forgot": EVERYONE,
        "/password/reset/forged-token": dict.fromkeys(ROLES, {410}),
        "/register/sent": EVERYONE,  # says only to look at one's emails
        "/register/finish/forged-token": dict.fromkeys(ROLES, {410}),  # the link is the key
        "/profile/email/forged-token": dict.fromkeys(ROLES, {410}),  # the link is the key
        "/health": EVERYONE,
        "/health/live": EVERYONE,
        "/language/en?next=/health": dict.fromkeys(ROLES, {302}),
        "/static/style.css": EVERYONE,
        f"/j/{ids['join']}": EVERYONE,  # the link is the key: whoever holds it is the person
        "/j/not-a-token": dict.fromkeys(ROLES, {404}),
        "/tester": EVERYONE,  # trying the camera and microphone needs no account
        "/w/not-a-token": dict.fromkeys(ROLES, {404}),  # a waitlist offer: the link is the key
        f"/s/{ids['short']}": EVERYONE,  # the short twin of the join link
        f"/s/{ids['short']}/annuler": EVERYONE,  # asks first: cancelling is a POST with the form
        "/s/not-a-token": dict.fromkeys(ROLES, {404}),
        "/login/sms": {"anonymous": OK, **{r: {302} for r in ROLES[1:]}},
        "/login/sms/code": dict.fromkeys(ROLES, {302}),  # no code asked for in this session
        "/register/phone": dict.fromkeys(ROLES, {302}),  # no number checked in this session
        "/calendar/not-a-secret.ics": dict.fromkeys(ROLES, {404}),
        "/profile": only("student", "parent", "tutor", "coordinator"),
        "/sessions": only("student", "parent"),
        f"/sessions/{ids['booking']}": only("coordinator"),
        f"/sessions/{ids['booking']}/calendar.ics": only(),
        f"/sessions/{ids['booking']}/cancel": only("coordinator"),
        f"/slots/{ids['slot']}/cancel": only("coordinator"),
        "/slots": only("student", "parent", "coordinator"),
        f"/slots/{ids['slot']}/book": {**only("student", "parent"), "coordinator": {302}, "mediation_coordinator": {302}},
        f"/slots/{ids['slot']}/calendar.ics": only(),
        # Waiting for any slot like one: a family for its own children, a coordinator for a student.
        "/waitlist/new": {**only("student", "parent"), "coordinator": {302}, "mediation_coordinator": {302}},
        f"/waitlist/new?for={ids['student']}": only("student", "parent", "coordinator"),
        f"/waitlist/new?for={ids['parent']}": {**only("student", "parent"), "coordinator": {404},
                                               "mediation_coordinator": {404}},
        # A one-off slot in a centre without a zone: everyone allowed is sent back to book it alone.
        f"/slots/{ids['slot']}/every-week": only("student", "parent", "coordinator", ok={302}),
        f"/enrolments/{ids['enrolment']}": only("coordinator"),
        "/slots/mine": only("tutor"),
        "/slots/to-mark": only("tutor"),
        f"/slots/{ids['slot']}": only("coordinator"),  # a tutor sees their own sessions only
        f"/tutors/{ids['tutor']}": only("student", "parent", "coordinator"),
        "/slots/new": only("tutor"),
        "/children/new": only("parent"),
        "/children/link": only("parent"),
        f"/children/{ids['student']}/approve": only(),  # someone else's child
        "/agenda": only("student", "parent", "tutor", "coordinator"),
        "/availability": only("tutor"),
        "/availability/new": only("tutor"),
        f"/availability/{ids['rule']}/edit": only(),
        "/admin/": only("coordinator"),
        "/admin/activities": only("coordinator"),
        "/admin/activities/new": only("coordinator"),
        "/admin/activities/1": only("coordinator"),
        "/admin/families/new": only("coordinator"),
        "/admin/tutors/new": only("coordinator"),
        f"/admin/tutors/{ids['tutor']}": only("coordinator"),
        "/admin/messages": only("coordinator"),
        f"/admin/people/{ids['parent']}": only("coordinator"),
        f"/admin/families/{ids['parent']}": only("coordinator"),
        f"/admin/people/{ids['student']}/delete": only("coordinator"),
        f"/admin/people/{ids['student']}/export.json": only("coordinator"),
        "/admin/reports": only("coordinator"),
        "/admin/reports.csv": only("coordinator"),
        "/admin/sessions": only("coordinator"),
        "/admin/calendar": only("coordinator"),
        "/admin/absences": only("coordinator"),
        "/admin/today": only("coordinator"),
        "/admin/planning": only("coordinator"),
        f"/slots/{ids['slot']}/absence": only(),  # tutor A's own session only
        f"/admin/slots/{ids['slot']}/move": only("coordinator"),
        "/admin/contacts/new": only("coordinator"),
        "/slots/mediation/new": only("mediator"),
        # Mediation objects: the mediator's slots (opened, and planned), a party's booking and link.
        f"/j/{ids['party_join']}": EVERYONE,
        **{url: only("coordinator") for url in (
            f"/slots/{ids['mediation']}", f"/slots/{ids['planned']}", f"/sessions/{ids['party_booking']}",
            f"/admin/slots/{ids['mediation']}/move", f"/admin/slots/{ids['planned']}/move")},
        **{url: only() for url in (
            f"/slots/{ids['mediation']}/calendar.ics", f"/slots/{ids['planned']}/calendar.ics",
            f"/sessions/{ids['party_booking']}/calendar.ics")},
        # The booking form of a mediation: a parent's for themself; a student is sent back (a
        # mediation is for adults), a coordinator to choose the person first.
        f"/slots/{ids['planned']}/book": {**only("parent"), "coordinator": {302}, "mediation_coordinator": {302},
                                          "student": {302}},
        # Into the room when it is a session of the day, else back to the list with a message.
        f"/admin/slots/{ids['slot']}/enter": only("coordinator", ok={302, 303}),
    }


def actions(ids) -> dict[str, set[str]]:
    """POST routes that change someone else's things, and the roles that may do it (who are
    not walked here: the matrix must not cancel the world it stands on)."""
    return {
        f"/sessions/{ids['booking']}/cancel": {"coordinator"},
        f"/slots/{ids['slot']}/cancel": {"coordinator"},
        f"/slots/{ids['slot']}/book": {"student", "parent", "coordinator"},
        f"/slots/{ids['slot']}/every-week": {"student", "parent", "coordinator"},
        f"/slots/{ids['slot']}/waitlist": {"student", "parent", "coordinator"},
        f"/enrolments/{ids['enrolment']}/cancel": {"coordinator"},
        f"/slots/bookings/{ids['booking']}/attendance": {"coordinator"},
        f"/availability/{ids['rule']}/edit": set(),
        f"/availability/{ids['rule']}/end": set(),
        f"/children/{ids['student']}/approve": set(),
        f"/admin/messages/{ids['notification']}/retry": {"coordinator"},
        f"/admin/people/{ids['parent']}": {"coordinator"},
        f"/admin/families/{ids['parent']}/code": {"coordinator"},
        f"/admin/families/{ids['parent']}/bookings/{ids['booking']}/resend": {"coordinator"},
        f"/admin/people/{ids['student']}/code": {"coordinator"},
        f"/admin/people/{ids['student']}/delete": {"coordinator"},
        f"/admin/slots/{ids['slot']}/move": {"coordinator"},
        f"/admin/tutors/{ids['tutor']}": {"coordinator"},
        "/admin/activities/1": {"coordinator"},
        "/agenda/reset": {"student", "parent", "tutor", "coordinator"},
        # Only a coordinator marked for mediation names another.
        f"/admin/coordinators/{ids['coordinator']}/mediation": {"mediation_coordinator"},
        "/admin/contacts/new": {"coordinator", "mediation_coordinator"},
        "/slots/mediation/new": {"mediator"},
        f"/sessions/{ids['party_booking']}/cancel": {"coordinator", "mediation_coordinator"},
        f"/slots/{ids['mediation']}/cancel": {"coordinator", "mediation_coordinator"},
        f"/slots/{ids['planned']}/cancel": {"coordinator", "mediation_coordinator"},
        f"/slots/bookings/{ids['party_booking']}/attendance": {"mediation_coordinator"},
        f"/admin/slots/{ids['mediation']}/move": {"coordinator", "mediation_coordinator"},
        "/admin/calendar": {"coordinator"},
        "/admin/calendar/closures": {"coordinator"},
        "/admin/calendar/closures/1/remove": {"coordinator"},
        f"/slots/{ids['slot']}/absence": set(),
        "/admin/absences/1/give": {"coordinator"},
        "/admin/absences/1/cancel": {"coordinator"},
    }


def client_as(app, world, role):
    client = app.test_client()
    if role != "anonymous":
        login(client, world["viewers"][role].email)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role_as_it_should(app, world, role):
    client = client_as(app, world, role)
    wrong = {}
    for url, expected in pages(world["ids"]).items():
        response = client.get(url)
        want = expected[role]
        if want == LOGIN:
            if not (response.status_code == 302 and response.headers["Location"].startswith("/login")):
                wrong[url] = response.status_code
        elif response.status_code not in want:
            wrong[url] = response.status_code
    assert wrong == {}


@pytest.mark.parametrize("role", ROLES)
def test_nobody_changes_what_is_not_theirs(app, db, world, role):
    client = client_as(app, world, role)
    token = csrf_token(client.get("/login" if role == "anonymous" else "/profile").get_data(as_text=True))
    wrong = {}
    for url, allowed in actions(world["ids"]).items():
        if role in allowed or AS_ROLE.get(role) in allowed:
            continue
        response = client.post(url, data={"csrf_token": token})
        refused = (response.status_code in REFUSED if role != "anonymous"
                   else response.status_code == 302 and response.headers["Location"].startswith("/login"))
        if not refused:
            wrong[url] = response.status_code
    assert wrong == {}
    db.expire_all()
    ids = world["ids"]
    assert db.get(Booking, ids["booking"]).status == "confirmed"
    assert db.get(Booking, ids["party_booking"]).status == "confirmed"
    assert db.get(Booking, ids["party_booking"]).tutor_note == ""
    for slot in ("slot", "mediation", "planned"):
        assert db.get(Slot, ids[slot]).status == "open"


def test_the_owners_reach_their_own_things(app, db, world):
    ids = world["ids"]
    owners = {
        "Adam's mother": ("fatima.haddou@example.org", [f"/sessions/{ids['booking']}", f"/sessions/{ids['booking']}/calendar.ics"]),
        "the tutor": ("karim.haddad@example.org", [f"/slots/{ids['slot']}/calendar.ics", f"/availability/{ids['rule']}/edit"]),
        "the mediator": ("ousmane.diallo@example.org", [f"/slots/{ids['mediation']}", f"/slots/{ids['planned']}",
                                                        f"/slots/{ids['planned']}/calendar.ics", "/slots/mediation/new"]),
        "the party": ("fatima.haddou@example.org", [f"/sessions/{ids['party_booking']}",
                                                    f"/sessions/{ids['party_booking']}/calendar.ics"]),
    }
    for who, (email, urls) in owners.items():
        client = app.test_client()
        login(client, email)
        for url in urls:
            assert client.get(url).status_code == 200, (who, url)


def test_every_route_of_the_app_is_in_the_matrix(app, world):
    walked = {url.split("?")[0] for url in pages(world["ids"])} | set(actions(world["ids"]))
    adapter = app.url_map.bind("localhost")
    endpoints = set()
    for url in walked:
        for method in ("GET", "POST"):
            with contextlib.suppress(Exception):  # not every address answers both methods
                endpoints.add(adapter.match(url, method=method)[0])
    # The waitlist offer's buttons answer to the link's key alone (tests/test_waitlist.py).
    # join.short_book_other: the short link is the key, whoever holds it (tests/test_short_links.py).
    # inbound.twilio: signed by the provider, not a role (tests/test_sms_replies.py).
    # inbound.brevo_status: the webhook's secret, not a role (tests/test_sms_delivery.py).
    known_elsewhere = {"auth.logout", "auth.choose_password", "agenda.feed", "join.join", "bookings.take",
                       "bookings.leave", "join.short_book_other", "inbound.twilio", "inbound.brevo_status"}
    missing = {rule.endpoint for rule in app.url_map.iter_rules()} - endpoints - known_elsewhere
    assert missing == set(), "add these routes to the authorisation matrix"
