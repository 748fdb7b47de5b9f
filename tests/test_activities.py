"""The centre's activities, through their service: what is offered, and the coordinator's changes."""

import pytest
from factories import HOMEWORK, MEDIATION, look_again

from scheduler_app.models import Activity
from scheduler_app.services import ServiceError
from scheduler_app.services.activities import ActivityChange, active_activities, all_activities, save_activity


def test_a_coordinator_adds_an_activity_and_every_form_offers_it_with_its_usual_length(db):
    added = save_activity(db, None, ActivityChange(name="  Atelier numérique ", duration_minutes=60, capacity=6,
                                                   active=True))
    look_again(db)
    assert db.get(Activity, added.id).name == "Atelier numérique"
    offered = active_activities(db)
    assert [row.id for row in offered] == [HOMEWORK, MEDIATION, added.id]
    assert (offered[-1].name, offered[-1].duration_minutes) == ("Atelier numérique", 60)


def test_an_activity_no_longer_offered_leaves_the_forms_but_stays_in_the_coordinators_list(db):
    # A new activity: the two the first migration creates stay as they are for the next tests.
    workshop = save_activity(db, None, ActivityChange(name="Atelier numérique", duration_minutes=60, capacity=6,
                                                      active=True))
    save_activity(db, workshop, ActivityChange(name="Atelier numérique", duration_minutes=60, capacity=6,
                                               active=False))
    look_again(db)
    assert [row.id for row in active_activities(db)] == [HOMEWORK, MEDIATION]
    assert [(activity.id, activity.active) for activity in all_activities(db)] == [
        (HOMEWORK, True), (MEDIATION, True), (workshop.id, False)]


def test_a_name_another_activity_has_is_refused_and_the_activity_keeps_its_own(db):
    mediation = db.get(Activity, MEDIATION)
    with pytest.raises(ServiceError) as refused:
        save_activity(db, mediation, ActivityChange(name="Aide aux devoirs", duration_minutes=30, capacity=2,
                                                    active=True))
    assert refused.value.field == "name" and "porte déjà ce nom" in str(refused.value.message)
    look_again(db)
    assert (db.get(Activity, MEDIATION).name, db.get(Activity, MEDIATION).duration_minutes) == (
        "Médiation familiale", 60)


@pytest.mark.parametrize(("change", "field"), [
    (ActivityChange(name="   ", duration_minutes=45, capacity=1, active=True), "name"),
    (ActivityChange(name="Atelier", duration_minutes=241, capacity=1, active=True), "duration_minutes"),
    (ActivityChange(name="Atelier", duration_minutes=45, capacity=0, active=True), "capacity"),
])
def test_an_activity_without_a_name_a_possible_length_or_a_place_is_refused_on_its_field(db, change, field):
    with pytest.raises(ServiceError) as refused:
        save_activity(db, None, change)
    assert refused.value.field == field
    assert len(all_activities(db)) == 2
