"""A child's class, from CP to Terminale: recorded when a parent adds the child, when a student
signs up, or when the coordinator creates the family on the phone; the slot browser then shows
that level first; after filtering, the page lands on the results."""

import re
from datetime import timedelta

from conftest import csrf_token
from factories import login, logout, look_again, make_family, make_person, make_slot, make_tutor
from sqlalchemy import select

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
    assert "Choisissez une classe dans la liste." in response.get_data(as_text=True)
    look_again(db)
    assert db.get(User, fatima.id).children == []


def test_the_filter_form_sends_the_person_to_the_results(client, db):
    fatima, _ = make_family(db, "Fatima Haddou", "Adam Haddou")
    login(client, fatima.email)
    html = client.get("/slots").get_data(as_text=True)
    assert 'action="/slots#results"' in html and 'id="results"' in html


def class_options(html: str, name: str) -> list[str]:
    """The (value, label) options of a page's <select name=...>, in order."""
    select = re.search(rf'<select[^>]* name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select)


def test_the_coordinator_records_each_childs_class_while_on_the_phone(client, db):
    make_person(db, "coordinator", "Nadia Benali")
    fatima, _ = make_family(db, "Fatima Haddou")
    login(client, fatima.email)
    parents_choices = class_options(client.get("/children/new").get_data(as_text=True), "school_class")
    logout(client)
    login(client, "nadia.benali@example.org")
    page = client.get("/admin/families/new").get_data(as_text=True)
    # The same classes as a parent's "add a child" (and a student's sign-up), CP to Terminale.
    for field in ("child_1_class", "child_2_class", "child_3_class"):
        assert class_options(page, field) == parents_choices
    assert parents_choices[1] == ("cp", "CP") and parents_choices[-1] == ("term", "Terminale")
    response = client.post("/admin/families/new", data={
        "parent_name": "Awa Diallo", "parent_phone": "06 12 34 56 78", "child_1": "Moussa Diallo",
        "child_1_class": "cm2", "child_2": "Aminata Diallo", "child_2_class": "4e", "child_3": "Ibrahim Diallo",
        "csrf_token": csrf_token(page)}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Réserver pour Moussa Diallo" in html  # straight on to booking, at the first child's level
    assert '<option selected value="primaire">' in html
    look_again(db)
    parent = db.scalar(select(User).where(User.name == "Awa Diallo"))
    assert {child.name: child.school_class for child in parent.children} == {
        "Moussa Diallo": "cm2", "Aminata Diallo": "4e", "Ibrahim Diallo": None}


def test_a_class_that_is_not_one_is_refused_on_the_coordinators_form_and_the_form_kept(client, db):
    make_person(db, "coordinator", "Nadia Benali")
    login(client, "nadia.benali@example.org")
    page = client.get("/admin/families/new").get_data(as_text=True)
    response = client.post("/admin/families/new", data={
        "parent_name": "Awa Diallo", "parent_phone": "06 12 34 56 78", "child_1": "Moussa Diallo",
        "child_1_class": "99e", "csrf_token": csrf_token(page)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'value="Moussa Diallo"' in html
    assert "Choisissez une classe dans la liste." in html
    look_again(db)
    assert db.scalar(select(User).where(User.name == "Awa Diallo")) is None
