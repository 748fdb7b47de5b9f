"""A tutor publishes a term's availability in one form, reads it back in plain words, and changes
or ends it; mistakes are explained next to the field with what they typed kept."""

import html
import re
from datetime import UTC, date, datetime, time

import pytest
from conftest import csrf_token
from factories import login, look_again, make_family, make_person, make_tutor
from sqlalchemy import func, select

from scheduler_app.models import AvailabilityRule, Slot
from scheduler_app.services.availability import WeeklyPlan, save_rule
from scheduler_app.services.booking import book_slot

MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)

A_TERM = {
    "activity_id": "1",
    "weekdays": ["WE", "SA"],
    "start_time": "14:00",
    "end_time": "17:00",
    "session_minutes": "45",
    "capacity": "1",
    "subject": "maths",
    "level": "college",
    "valid_from": "2027-03-01",
    "valid_until": "2027-06-30",
    "skipped_dates": "07/04/2027\n2027-04-14, 17/04/2027",
}


@pytest.fixture
def tutor_client(app, db, frozen_clock):
    frozen_clock(MONDAY)
    tutor = make_tutor(db)
    client = app.test_client()
    login(client, tutor.email)
    return tutor, client


def post_form(client, url, data):
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_token(page)}, follow_redirects=True)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_tutor_publishes_a_terms_availability_in_one_form_and_reads_it_back(db, tutor_client):
    tutor, client = tutor_client

    response = post_form(client, "/availability/new", A_TERM)

    page = text_of(response)
    assert response.status_code == 200 and response.request.path == "/availability"
    assert ("Chaque mercredi et samedi, de 14\u00a0h\u00a000 à 17\u00a0h\u00a000 : séances de 45 minutes, "
            "du 1 mars 2027 au 30 juin 2027.") in page
    assert "Sauf les 7 avril 2027, 14 avril 2027 et 17 avril 2027." in page
    assert "32 créneaux ouverts." in page  # 8 afternoons in 4 weeks, 4 sessions each
    look_again(db)
    rule = db.scalar(select(AvailabilityRule).where(AvailabilityRule.tutor_id == tutor.id))
    assert rule.rrule == "FREQ=WEEKLY;BYDAY=WE,SA" and rule.timezone == "Europe/Paris"
    assert rule.skipped == [date(2027, 4, 7), date(2027, 4, 14), date(2027, 4, 17)]
    assert db.scalar(select(func.count()).select_from(Slot).where(Slot.rule_id == rule.id)) == 32


def test_the_weekly_availability_is_reachable_from_the_tutors_pages(tutor_client):
    _, client = tutor_client
    assert 'href="/availability"' in client.get("/slots/mine").get_data(as_text=True)


def test_mistakes_are_explained_and_what_was_typed_is_kept(tutor_client):
    _, client = tutor_client

    response = post_form(client, "/availability/new",
                         {**A_TERM, "weekdays": [], "skipped_dates": "07/04/2027\nles vacances"})

    page = text_of(response)
    assert response.status_code == 200 and response.request.path == "/availability/new"
    assert "Il y a un problème" in page
    assert "Cochez au moins un jour de la semaine." in page
    assert "« les vacances » n'est pas une date : écrivez-la comme 22/04/2027." in page
    assert "07/04/2027\nles vacances</textarea>" in page
    assert 'value="14:00"' in page and 'value="17:00"' in page and 'value="2027-06-30"' in page
    assert 'aria-invalid="true"' in page


def test_a_window_too_short_or_backwards_is_explained_next_to_the_field(tutor_client):
    _, client = tutor_client

    backwards = text_of(post_form(client, "/availability/new", {**A_TERM, "end_time": "13:00"}))
    too_short = text_of(post_form(client, "/availability/new", {**A_TERM, "end_time": "14:30"}))
    ended = text_of(post_form(client, "/availability/new", {**A_TERM, "valid_until": "2027-02-01"}))

    assert "L'heure de fin doit venir après l'heure de début." in backwards and 'value="13:00"' in backwards
    assert "Une séance de 45 minutes ne tient pas entre l'heure de début et l'heure de fin." in too_short
    assert "La date de fin doit venir après la date de début." in ended


def test_changing_the_days_tells_the_tutor_which_booked_sessions_stay(db, tutor_client):
    tutor, client = tutor_client
    rule = save_rule(db, tutor, WeeklyPlan(activity_id=1, weekdays=("WE",), start_time=time(14, 0),
                                            end_time=time(15, 30), session_minutes=45,
                                            valid_from=date(2027, 3, 1))).rule
    first = db.scalars(select(Slot).where(Slot.rule_id == rule.id).order_by(Slot.starts_at)).first()
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    book_slot(db, first.id, adam, parent)

    edit_page = client.get(f"/availability/{rule.id}/edit").get_data(as_text=True)
    assert re.search(r'<input checked[^>]* value="WE"', edit_page)  # the form starts from the rule
    assert not re.search(r'<input checked[^>]* value="TH"', edit_page)
    response = post_form(client, f"/availability/{rule.id}/edit",
                         {**A_TERM, "weekdays": ["TH"], "end_time": "15:30", "valid_until": "", "skipped_dates": ""})

    page = text_of(response)
    assert "1 séance réservée reste prévue : mercredi 3 mars, 14\u00a0h\u00a000 (Adam Haddou)." in page
    assert "7 créneaux libres à venir ont été retirés." in page
    assert "Chaque jeudi, de 14\u00a0h\u00a000 à 15\u00a0h\u00a030 : séances de 45 minutes, à partir du 1 mars 2027." in page


def test_ending_availability_keeps_booked_sessions_and_says_so(db, tutor_client):
    tutor, client = tutor_client
    rule = save_rule(db, tutor, WeeklyPlan(activity_id=1, weekdays=("WE",), start_time=time(14, 0),
                                            end_time=time(14, 45), session_minutes=45,
                                            valid_from=date(2027, 3, 1))).rule
    first = db.scalars(select(Slot).where(Slot.rule_id == rule.id).order_by(Slot.starts_at)).first()
    student = make_person(db, "student", "Yasmine Haddou")
    book_slot(db, first.id, student, student)
    page = client.get("/availability").get_data(as_text=True)

    response = client.post(f"/availability/{rule.id}/end", data={"csrf_token": csrf_token(page)},
                           follow_redirects=True)

    text = text_of(response)
    assert "Ces disponibilités sont arrêtées" in text
    assert "1 séance réservée reste prévue : mercredi 3 mars, 14\u00a0h\u00a000 (Yasmine Haddou)." in text
    assert "Chaque mercredi" not in text  # no longer listed
    look_again(db)
    assert db.get(Slot, first.id).status == "open"


def test_overlapping_sessions_are_listed_after_saving(db, tutor_client):
    tutor, client = tutor_client
    save_rule(db, tutor, WeeklyPlan(activity_id=1, weekdays=("WE",), start_time=time(15, 0),
                                    end_time=time(15, 30), session_minutes=30, valid_from=date(2027, 3, 1)))

    page = text_of(post_form(client, "/availability/new", {**A_TERM, "weekdays": ["WE"], "valid_until": "2027-03-05"}))

    assert ("1 créneau n'a pas été ouvert, car vous avez déjà un créneau à ce moment-là : "
            "mercredi 3 mars, 14\u00a0h\u00a045.") in page
    assert "3 créneaux ouverts." in page  # 14:00, 15:30 and 16:15; 14:45–15:30 would overlap 15:00–15:30


def test_another_tutor_cannot_see_change_or_end_my_availability(app, db, tutor_client):
    tutor, _ = tutor_client
    rule = save_rule(db, tutor, WeeklyPlan(activity_id=1, weekdays=("WE",), start_time=time(14, 0),
                                            end_time=time(15, 0), session_minutes=60,
                                            valid_from=date(2027, 3, 1))).rule
    other = app.test_client()
    login(other, make_tutor(db, "Claire Martin").email)
    token = csrf_token(other.get("/availability").get_data(as_text=True))

    assert other.get(f"/availability/{rule.id}/edit").status_code == 403
    assert other.post(f"/availability/{rule.id}/edit", data={**A_TERM, "csrf_token": token}).status_code == 403
    assert other.post(f"/availability/{rule.id}/end", data={"csrf_token": token}).status_code == 403
    assert other.get("/availability/999999/edit").status_code == 404
    assert "Chaque mercredi" not in text_of(other.get("/availability"))
    look_again(db)
    assert db.get(AvailabilityRule, rule.id).active is True


@pytest.mark.parametrize("role", ["student", "parent", "coordinator"])
def test_only_tutors_have_weekly_availability(app, db, role):
    person = make_person(db, role, "Quelqu'un")
    client = app.test_client()
    login(client, person.email)
    assert client.get("/availability").status_code == 403
    assert client.get("/availability/new").status_code == 403
