"""A child's class, from CP to Terminale: recorded when the child is added or signs up, and the slot
browser then shows that level first; after filtering, the page lands on the results."""

from datetime import timedelta

from conftest import csrf_token
from factories import login, look_again, make_family, make_slot, make_tutor

from scheduler_app.models import User


def test_a_parent_adds_a_child_with_their_class_and_the_browser_shows_that_level(client, db):
    karim = make_tutor(db, levels=("primaire", "college"))
    college = make_slot(db, karim, starts_in=timedelta(days=2), level="college", subject="maths")
    primary = make_slot(db, karim, starts_in=timedelta(days=3), level="primaire", subject="francais")
    fatima, _ = make_family(db, "Fatima Haddou")
    login(client, fatima.email)
    page = client.get("/children/new").get_data(as_text=True)
    assert "CM2" in page and "Terminale" in page
    client.post("/children/new", data={"name": "Adam Haddou", "school_class": "4e", "csrf_token": csrf_token(page)})
    look_again(db)
    [adam] = [child for child in db.get(User, fatima.id).children]
    assert adam.school_class == "4e"
    html = client.get("/slots").get_data(as_text=True)
    assert '<option selected value="college">' in html
    assert f"/slots/{college.id}/book" in html and f"/slots/{primary.id}/book" not in html
    everything = client.get("/slots?level=").get_data(as_text=True)  # the family can still see every level
    assert f"/slots/{college.id}/book" in everything and f"/slots/{primary.id}/book" in everything


def test_a_class_that_is_not_one_is_refused_and_the_form_kept(client, db):
    fatima, _ = make_family(db, "Fatima Haddou")
    login(client, fatima.email)
    page = client.get("/children/new").get_data(as_text=True)
    response = client.post("/children/new", data={"name": "Adam Haddou", "school_class": "99e",
                                                  "csrf_token": csrf_token(page)})
    assert response.status_code == 200 and 'value="Adam Haddou"' in response.get_data(as_text=True)
    look_again(db)
    assert db.get(User, fatima.id).children == []


def test_the_filter_form_sends_the_person_to_the_results(client, db):
    fatima, _ = make_family(db, "Fatima Haddou", "Adam Haddou")
    login(client, fatima.email)
    html = client.get("/slots").get_data(as_text=True)
    assert 'action="/slots#results"' in html and 'id="results"' in html
