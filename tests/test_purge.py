"""`flask purge` forgets only families that have done nothing for the retention period: never
anyone linked to a session to come, and never half a family. It says what it would remove
(counts and ids, no names) unless told to go ahead."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from factories import MEDIATION, login, look_again, make_family, make_person, make_slot, make_tutor
from sqlalchemy import func, select

from scheduler_app.models import Booking, Guardianship, JoinToken, Notification, User
from scheduler_app.services.availability import WeeklyPlan, save_rule
from scheduler_app.services.booking import book_slot
from scheduler_app.services.privacy import purge

OLD = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # 875 days later: past the two years' retention
RETENTION = timedelta(days=730)


@pytest.fixture
def centre(app, db, client, frozen_clock):
    """A centre's families of every shape, most of them signed up more than two years ago."""
    frozen_clock(OLD)
    people = {"coordinator": make_person(db, "coordinator", "Nadia Benali")}
    old_tutor, tutor = make_tutor(db, "Old Tutor"), make_tutor(db, "Karim Haddad")
    people["old_tutor"], people["tutor"] = old_tutor, tutor
    people["rule_tutor"] = make_tutor(db, "Claire Martin")
    # The family: nothing since, until the coordinator books the child for next week.
    people["parent"], [people["child"]] = make_family(db, "Fatima Haddou", "Adam Haddou")
    # Sessions long ago, nothing since.
    people["old_parent"], [people["old_child"]] = make_family(db, "Jean Petit", "Léa Petit")
    book_slot(db, make_slot(db, old_tutor).id, people["old_child"], people["old_parent"], "les fractions")
    people["old_student"] = make_person(db, "student", "Sami Alone")
    book_slot(db, make_slot(db, old_tutor, starts_in=timedelta(days=3)).id, people["old_student"],
              people["old_student"], "la conjugaison")
    people["returning_student"] = make_person(db, "student", "Inès Back")
    people["lone_parent"] = make_person(db, "parent", "Paul Nochild")  # no child, no session, nothing
    # A family whose only session is a mediation, three months ago.
    people["mediation_parent"], [people["mediation_child"]] = make_family(db, "Awa Diallo", "Moussa Diallo")
    # A parent who logs in again after two years, with a child who never booked.
    people["returning_parent"], [people["returning_child"]] = make_family(db, "Samia Amrani", "Nour Amrani")
    # Guardianship chains: two parents share a child, one of them has another child.
    chains = {}
    for name in ("live", "dead"):
        first_parent, [shared] = make_family(db, f"{name} Parent One", f"{name} Shared Child")
        second_parent, [other] = make_family(db, f"{name} Parent Two", f"{name} Other Child")
        db.add(Guardianship(parent_id=second_parent.id, student_id=shared.id))
        db.commit()
        chains[name] = [first_parent, shared, second_parent, other]
    people["live_chain"], people["dead_chain"] = chains["live"], chains["dead"]

    frozen_clock(NOW)
    people["new_student"] = make_person(db, "student", "Zoé Nouvelle")
    book_slot(db, make_slot(db, tutor, starts_in=timedelta(days=7)).id, people["child"], people["coordinator"])
    book_slot(db, make_slot(db, tutor, starts_in=timedelta(days=8)).id, chains["live"][3], people["coordinator"])
    frozen_clock(NOW - timedelta(days=90))
    mediator = make_tutor(db, "Ousmane Diallo", mediator=True)
    book_slot(db, make_slot(db, mediator, starts_in=timedelta(days=1), activity_id=MEDIATION, capacity=1).id,
              people["mediation_parent"], people["mediation_parent"])  # a mediation is for the adult
    frozen_clock(NOW - timedelta(days=30))
    save_rule(db, people["rule_tutor"], WeeklyPlan(activity_id=1, weekdays=("WE",), start_time=time(14, 0),
                                                   end_time=time(15, 0), session_minutes=45,
                                                   valid_from=date(2026, 5, 1)))
    frozen_clock(NOW)
    for person in (people["returning_parent"], people["returning_student"]):
        login(client, person.email)  # through the form, which notes the login
        client.delete_cookie("session")
    return people


def ids(*people) -> list[int]:
    return sorted(person.id for person in people)


def forgotten(centre) -> list[int]:
    """Who must go: every family with nothing since two years, whole."""
    return ids(centre["old_tutor"], centre["old_parent"], centre["old_child"], centre["old_student"],
               centre["lone_parent"], *centre["dead_chain"])


def test_a_login_is_noted(db, centre):
    look_again(db)
    assert db.get(User, centre["returning_parent"].id).last_login_at == NOW
    assert db.get(User, centre["parent"].id).last_login_at is None


def test_the_purge_says_first_what_it_would_forget_and_changes_nothing(db, centre):
    messages = db.scalar(select(func.count()).select_from(Notification))
    plan = purge(db, older_than=RETENTION)
    assert plan.people == forgotten(centre)
    assert plan.counts()["people"] == len(forgotten(centre)) and plan.sessions == 2 and plan.messages > 0
    look_again(db)
    assert db.scalar(select(func.count()).select_from(User).where(User.deleted_at.is_not(None))) == 0
    assert db.scalar(select(func.count()).select_from(Notification)) == messages
    assert db.scalar(select(Booking.topic).where(Booking.student_id == centre["old_child"].id)) == "les fractions"


def test_the_purge_forgets_whole_inactive_families_and_keeps_every_family_that_is_active(db, centre):
    plan = purge(db, older_than=RETENTION, apply=True)
    assert plan.people == forgotten(centre)
    look_again(db)
    gone = set(db.scalars(select(User.id).where(User.deleted_at.is_not(None))))
    assert gone == set(forgotten(centre))
    # The family is whole: the parent still linked, both still hold their join links.
    parent, child = centre["parent"], centre["child"]
    assert db.get(Guardianship, (parent.id, child.id)) is not None
    assert db.scalar(select(Booking.status).where(Booking.student_id == child.id)) == "confirmed"
    holders = set(db.scalars(select(JoinToken.user_id).join(Booking, Booking.id == JoinToken.booking_id)
                             .where(Booking.student_id == child.id)))
    assert holders == {parent.id, child.id}
    # So are the chain with a session to come, the mediation family, and the returning parent's.
    kept = [*centre["live_chain"], centre["mediation_parent"], centre["mediation_child"], centre["returning_parent"],
            centre["returning_child"], centre["returning_student"], centre["new_student"], centre["tutor"],
            centre["rule_tutor"], centre["coordinator"]]
    assert not gone & set(ids(*kept))
    first, shared, second, other = centre["live_chain"]
    assert db.get(Guardianship, (first.id, shared.id)) and db.get(Guardianship, (second.id, shared.id))
    # Nothing is left to forget: a second run finds nobody.
    assert purge(db, older_than=RETENTION, apply=True).people == []


def test_nobody_linked_to_a_session_to_come_is_forgotten_whatever_the_retention(db, centre):
    plan = purge(db, older_than=timedelta(0))
    linked = ids(centre["parent"], centre["child"], centre["tutor"], centre["rule_tutor"], *centre["live_chain"])
    assert not set(plan.people) & set(linked)
    assert set(forgotten(centre)) <= set(plan.people)


def test_the_purge_command_shows_ids_and_no_names_until_told_to_go_ahead(app, db, centre):
    runner = app.test_cli_runner()
    said = runner.invoke(args=["purge", "--days", "730"])
    assert said.exit_code == 0, said.output
    assert said.output.startswith("Would purge") and "Run again with --yes" in said.output
    assert "ids: " + " ".join(str(person) for person in forgotten(centre)) + "." in said.output
    names = [person.name for person in (centre["old_parent"], centre["old_child"], centre["old_student"])]
    assert not [name for name in names if name in said.output]
    look_again(db)
    assert db.get(User, centre["old_parent"].id).deleted_at is None
    done = runner.invoke(args=["purge", "--days", "730", "--yes"])
    assert done.exit_code == 0 and done.output.startswith("Purged") and not [n for n in names if n in done.output]
    look_again(db)
    assert db.get(User, centre["old_parent"].id).deleted_at is not None
    assert runner.invoke(args=["purge", "--days", "-1"]).exit_code != 0  # a retention is never negative


def test_coming_back_through_stay_logged_in_is_noted_too(client, db, frozen_clock):
    from conftest import csrf_token
    from factories import PASSWORD

    frozen_clock(OLD)
    parent = make_person(db, "parent", "Fatima Haddou")
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": parent.email, "password": PASSWORD, "remember": "y",
                                "csrf_token": csrf_token(page)})
    frozen_clock(NOW)
    client.delete_cookie("session")  # the browser was closed; the "stay logged in" cookie remains
    assert client.get("/sessions").status_code == 200
    look_again(db)
    assert db.get(User, parent.id).last_login_at == NOW
