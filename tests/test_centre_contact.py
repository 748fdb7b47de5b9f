"""The centre's name and number (CENTRE_NAME, CENTRE_PHONE) wherever Lien says to call it."""

from datetime import UTC, datetime, timedelta

import pytest
from factories import make_family, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import JoinToken
from scheduler_app.services.booking import book_slot


@pytest.fixture
def app_settings():
    return {"CENTRE_NAME": "Centre social des Tilleuls", "CENTRE_PHONE": "+33142345678"}


def test_the_home_page_names_the_centre_and_its_number(client):
    html = client.get("/").get_data(as_text=True)
    assert "Centre social des Tilleuls" in html
    assert '<a class="tel" href="tel:+33142345678">01 42 34 56 78</a>' in html


def test_a_join_page_and_the_confirmation_give_the_number(app, client, db, frozen_clock, mail_server):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    slot = make_slot(db, make_tutor(db), starts_in=timedelta(days=2))
    parent, [child] = make_family(db, "Fatima Haddou", "Adam Haddou")
    book_slot(db, slot.id, child, parent)
    token = db.scalar(select(JoinToken.token).where(JoinToken.user_id == parent.id))
    html = client.get(f"/j/{token}").get_data(as_text=True)
    assert "Appelez le centre au" in html and "tel:+33142345678" in html
    from scheduler_app.worker import make_dispatcher

    make_dispatcher(app).tick()
    to_parent = mail_server.mailbox.to(parent.email)
    assert to_parent and "01 42 34 56 78" in to_parent[0].get_body(("plain",)).get_content()


def test_without_a_number_the_pages_still_say_to_call_the_centre(app, client):
    app.config["CENTRE_PHONE"] = None
    html = client.get("/").get_data(as_text=True)
    assert "Appelez le centre." in html and "tel:" not in html
