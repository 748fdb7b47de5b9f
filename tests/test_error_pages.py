"""Error pages: a failure (500) says so in the visitor's language without reading the database,
a mistake in a statement is a failure and not an outage, and when even the error page cannot be
rendered, a fixed page says it in French and English."""

import jinja2
from factories import PASSWORD, counting, login, make_person
from sqlalchemy import text

from scheduler_app import db as database


def test_a_failing_page_answers_in_the_visitors_language_without_reading_the_database(app, db):
    def failing():
        raise RuntimeError("a bug in a page")

    app.add_url_rule("/failing", view_func=failing)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the 500 page, not the traceback
    parent = make_person(db, "parent", "Fatima Haddou", locale="en")
    client = app.test_client()
    login(client, parent.email, PASSWORD)
    parent.name = "Fatima Haddou-Benali"  # the account changed: nothing read before still stands for it
    db.commit()
    with counting(app) as statements:
        page = client.get("/failing")
    assert page.status_code == 500
    html = page.get_data(as_text=True)
    assert "<h1>Something went wrong</h1>" in html and '<html lang="en"' in html
    assert statements == []  # not even the logged-in user: the page needs no database


def test_a_statement_the_database_refuses_is_a_failure_not_an_outage(app, client):
    def duplicating():
        database.session().execute(text("INSERT INTO activity (id) VALUES (1)"))  # the first activity's id

    app.add_url_rule("/duplicating", view_func=duplicating)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    page = client.get("/duplicating")
    assert page.status_code == 500 and "Retry-After" not in page.headers
    assert "<h1>Quelque chose s'est mal passé</h1>" in page.get_data(as_text=True)


def test_when_the_error_page_itself_cannot_be_rendered_a_fixed_page_says_it_in_french_and_english(
        app, client, tmp_path):
    app.jinja_env.loader = jinja2.FileSystemLoader(str(tmp_path))  # a deployment that lost its templates
    page = client.get("/nowhere")
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "Lien ne marche pas en ce moment" in html and "Lien is not working right now" in html
