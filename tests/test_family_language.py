"""The coordinator sets a family's message language while creating it on the phone: the parent and
the children get it, so every SMS and email reaches them in that language from the first one."""

from conftest import csrf_token
from factories import login, look_again, make_person
from sqlalchemy import select

from scheduler_app.catalogue import LANGUAGES
from scheduler_app.models import User


def new_family_page(client, db) -> str:
    make_person(db, "coordinator", "Nadia Benali")
    login(client, "nadia.benali@example.org")
    return client.get("/admin/families/new").get_data(as_text=True)


def test_the_coordinator_creates_a_family_that_reads_its_messages_in_turkish(client, db):
    page = new_family_page(client, db)
    for code, name in LANGUAGES.items():  # each language named in its own words
        assert f'<option value="{code}">{name}</option>' in page or f'<option selected value="{code}">{name}</option>' in page
    client.post("/admin/families/new", data={
        "parent_name": "Elif Yılmaz", "parent_phone": "06 12 34 56 78", "parent_locale": "tr",
        "child_1": "Deniz Yılmaz", "csrf_token": csrf_token(page)})
    look_again(db)
    parent = db.scalar(select(User).where(User.name == "Elif Yılmaz"))
    assert parent.locale == "tr"
    assert [child.locale for child in parent.children] == ["tr"]


def test_without_a_choice_the_family_reads_french(client, db):
    page = new_family_page(client, db)
    client.post("/admin/families/new", data={
        "parent_name": "Awa Diallo", "parent_phone": "06 12 34 56 78", "child_1": "Moussa Diallo",
        "csrf_token": csrf_token(page)})
    look_again(db)
    assert db.scalar(select(User.locale).where(User.name == "Awa Diallo")) == "fr"


def test_a_language_lien_does_not_have_is_refused_and_the_form_kept(client, db):
    page = new_family_page(client, db)
    response = client.post("/admin/families/new", data={
        "parent_name": "Awa Diallo", "parent_phone": "06 12 34 56 78", "parent_locale": "xx",
        "child_1": "Moussa Diallo", "csrf_token": csrf_token(page)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'value="Awa Diallo"' in html
    look_again(db)
    assert db.scalar(select(User).where(User.name == "Awa Diallo")) is None
