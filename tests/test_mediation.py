"""Family mediation: activities have a kind, only mediators run mediations, and what a mediation
says is read by mediators only."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from conftest import csrf_token
from factories import HOMEWORK, MEDIATION, look_again, login, make_person, make_slot, make_tutor
from scheduler_app.models import Activity, Slot, User
from scheduler_app.services import ServiceError


@pytest.fixture
def monday(frozen_clock):
    return frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))


def test_the_seeded_activities_have_their_kinds(db):
    kinds = dict(db.execute(select(Activity.id, Activity.kind)).all())
    assert kinds[HOMEWORK] == "homework" and kinds[MEDIATION] == "mediation"


def test_only_a_mediator_opens_a_mediation_slot(db, monday):
    volunteer = make_tutor(db, "Claire Martin")
    with pytest.raises(ServiceError) as refused:
        make_slot(db, volunteer, activity_id=MEDIATION, subject="", level="")
    assert refused.value.field == "activity_id"
    assert "médiateur" in str(refused.value.message)
    mediator = make_tutor(db, "Ousmane Diallo", mediator=True)
    slot = make_slot(db, mediator, activity_id=MEDIATION, subject="", level="")
    assert slot.activity_id == MEDIATION
    with pytest.raises(ServiceError) as crowded:
        make_slot(db, mediator, activity_id=MEDIATION, capacity=3, starts_in=timedelta(days=5))
    assert crowded.value.field == "capacity"


def test_a_volunteer_is_not_offered_mediation_but_a_mediator_is(client, db, monday):
    make_tutor(db, "Ousmane Diallo", mediator=True)
    make_tutor(db, "Claire Martin")
    login(client, "claire.martin@example.org")
    assert "Médiation familiale" not in client.get("/slots/new").get_data(as_text=True)
    assert "Médiation familiale" not in client.get("/availability/new").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/profile").get_data(as_text=True))})
    login(client, "ousmane.diallo@example.org")
    assert "Médiation familiale" in client.get("/slots/new").get_data(as_text=True)


def test_a_coordinator_marks_a_tutor_as_mediator(client, db, monday):
    tutor = make_tutor(db, "Ousmane Diallo")
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    page = client.get(f"/admin/tutors/{tutor.id}").get_data(as_text=True)
    assert "Médiateur" in page
    response = client.post(f"/admin/tutors/{tutor.id}", data={
        "csrf_token": csrf_token(page), "languages": ["fr"], "active": "y", "mediator": "y"})
    assert response.status_code == 302
    look_again(db)
    assert db.get(User, tutor.id).mediator


def test_only_a_mediation_coordinator_marks_another_coordinator(client, db, monday):
    plain = make_person(db, "coordinator", "Nadia Benali")
    other = make_person(db, "coordinator", "Paul Roux")
    login(client, plain.email)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Nommer pour la médiation" not in page
    assert client.post(f"/admin/coordinators/{other.id}/mediation",
                       data={"csrf_token": csrf_token(page), "mediator": "1"}).status_code == 403
    look_again(db)
    assert not db.get(User, other.id).mediator
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    look_again(db)
    login(client, make_person(db, "coordinator", "Sonia Amrani", mediator=True).email)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Nommer pour la médiation" in page
    client.post(f"/admin/coordinators/{other.id}/mediation", data={"csrf_token": csrf_token(page), "mediator": "1"})
    look_again(db)
    assert db.get(User, other.id).mediator


def test_an_activity_keeps_its_kind_once_it_has_sessions(client, db, monday):
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    page = client.get("/admin/activities/new").get_data(as_text=True)
    client.post("/admin/activities/new", data={"csrf_token": csrf_token(page), "name": "Écrivain public",
                                                "kind": "mediation", "duration_minutes": "30", "capacity": "1",
                                                "active": "y"})
    look_again(db)
    activity = db.scalar(select(Activity).where(Activity.name == "Écrivain public"))
    assert activity.kind == "mediation"
    make_slot(db, make_tutor(db, "Ousmane Diallo", mediator=True), activity_id=activity.id, subject="", level="")
    page = client.get(f"/admin/activities/{activity.id}").get_data(as_text=True)
    response = client.post(f"/admin/activities/{activity.id}", data={
        "csrf_token": csrf_token(page), "name": "Écrivain public", "kind": "homework", "duration_minutes": "30",
        "capacity": "1", "active": "y"})
    assert response.status_code == 200
    assert "son genre ne peut plus changer" in response.get_data(as_text=True)
    look_again(db)
    assert db.get(Activity, activity.id).kind == "mediation"
    assert db.scalar(select(Slot.id).where(Slot.activity_id == activity.id)) is not None
