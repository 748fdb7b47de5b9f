"""A student who signs up gives their birth year. Under 15, nothing of theirs is used beyond the
account (no booking, by anyone, so no session and no message) until a parent has linked them with
the family code and approved; their page says how, in plain words."""

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import csrf_token
from factories import finish_sign_up, login, look_again, make_family, make_person, make_slot, make_tutor
from sqlalchemy import func, select

from scheduler_app.models import Booking, Guardianship, Notification, User
from scheduler_app.services import ServiceError
from scheduler_app.services.booking import book_slot
from scheduler_app.services.consent import may_be_under_consent_age, needs_approval
from scheduler_app.services.privacy import delete_person, export

MONDAY = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def register(client, mail_server):
    """Sign up through the form, then the link the email brings (the page after), or the form
    again when it has a mistake."""

    def sign_up(**fields):
        page = client.get("/register")
        data = {"role": "student", "name": "Adam Haddou", "email": "adam@example.org", "phone": "",
                "password": "un-long-mot-de-passe", "confirm": "un-long-mot-de-passe", "locale": "fr",
                "birth_year": "2014", "csrf_token": csrf_token(page.get_data(as_text=True)), **fields}
        response = client.post("/register", data=data)
        if response.status_code != 302:
            return response
        assert response.headers["Location"] == "/register/sent"
        return finish_sign_up(client, mail_server, data["email"])

    return sign_up


def test_whether_someone_may_be_under_15_is_read_from_the_year_cautiously():
    assert may_be_under_consent_age(2012, date(2027, 12, 31))  # born in December 2012: still 14
    assert not may_be_under_consent_age(2011, date(2027, 1, 1))  # 15 at the latest on 31 December 2026
    assert not may_be_under_consent_age(None, date(2027, 1, 1))  # no year said (a child a parent added)


@pytest.mark.parametrize("typed, message", [("", "Écrivez votre année de naissance, par exemple 2012."),
                                            ("deux mille", "Écrivez votre année de naissance, par exemple 2012."),
                                            ("1900", "Écrivez une année entre 1928 et 2022."),
                                            ("2026", "Écrivez une année entre 1928 et 2022."),
                                            ("99999999999999999999", "Écrivez une année entre 1928 et 2022.")])
def test_a_student_signing_up_gives_a_plausible_birth_year(register, db, frozen_clock, typed, message):
    frozen_clock(MONDAY)
    page = text_of(register(birth_year=typed))
    assert message in page and 'value="Adam Haddou"' in page
    look_again(db)
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_a_parent_signing_up_gives_no_birth_year(register, db, frozen_clock):
    frozen_clock(MONDAY)
    assert "Bienvenue sur Lien" in text_of(register(role="parent", birth_year=""))
    look_again(db)
    assert db.scalar(select(User.birth_year)) is None


def test_a_student_of_15_or_more_books_at_once(register, client, db, frozen_clock):
    frozen_clock(MONDAY)
    slot = make_slot(db, make_tutor(db))
    register(birth_year="2011")
    look_again(db)
    student = db.scalar(select(User).where(User.email == "adam@example.org"))
    assert student.birth_year == 2011 and student.family_code is None
    assert "un parent doit" not in text_of(client.get("/sessions"))
    assert book_slot(db, slot.id, student, student).status == "confirmed"


def test_a_child_under_15_is_used_by_nobody_until_a_parent_links_and_approves(app, register, client, db,
                                                                             frozen_clock):
    frozen_clock(MONDAY)
    tutor = make_tutor(db)
    slot = make_slot(db, tutor)
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    welcome = text_of(register(birth_year="2014"))
    # The child's page says, in plain words, what to do, with the code to give.
    assert "Un parent doit d'abord donner son accord" in welcome
    code = re.search(r"Donnez ce code à votre parent : (\w{4}-\w{4})", welcome).group(1)
    assert "Lien ne vous envoie pas de message" in welcome
    look_again(db)
    adam = db.scalar(select(User).where(User.email == "adam@example.org"))
    assert adam.birth_year == 2014 and adam.family_code == code.replace("-", "")
    # Booking is refused to everyone: the child, through the page and the service, and the centre.
    response = client.get(f"/slots/{slot.id}/book", follow_redirects=True)
    assert "Avant de réserver, un parent doit donner son accord" in text_of(response)
    with pytest.raises(ServiceError, match="Avant de réserver"):
        book_slot(db, slot.id, adam, adam)
    with pytest.raises(ServiceError, match="Adam Haddou a moins de 15 ans"):
        book_slot(db, slot.id, adam, coordinator)

    # A parent links the child with the code: that alone is not the approval.
    parent = make_person(db, "parent", "Fatima Haddou")
    parents_client = app.test_client()
    login(parents_client, parent.email)
    page = parents_client.get("/children/link").get_data(as_text=True)
    response = parents_client.post("/children/link", data={"code": code, "csrf_token": csrf_token(page)},
                                   follow_redirects=True)
    approval = text_of(response)
    assert "Donner votre accord pour Adam Haddou" in approval and "Adam Haddou a moins de 15 ans" in approval
    with pytest.raises(ServiceError, match="Adam Haddou a moins de 15 ans"):
        book_slot(db, slot.id, adam, parent)
    assert "Votre compte est relié à Fatima Haddou. Votre parent doit encore dire oui" in text_of(client.get("/sessions"))
    sessions = text_of(parents_client.get("/sessions"))
    assert "donnez votre accord avant de réserver" in sessions
    look_again(db)
    assert db.scalar(select(func.count()).select_from(Booking)) == 0
    assert db.scalar(select(func.count()).select_from(Notification).where(Notification.recipient_id == adam.id)) == 0

    # The parent approves: the child books, and the messages go out.
    url = f"/children/{adam.id}/approve"
    response = parents_client.post(url, data={"csrf_token": csrf_token(parents_client.get(url).get_data(as_text=True))},
                                   follow_redirects=True)
    assert "Merci. Adam Haddou peut maintenant réserver des séances." in text_of(response)
    assert "donnez votre accord" not in text_of(response)
    assert "Un parent doit d'abord donner son accord" not in text_of(client.get("/sessions"))
    look_again(db)
    adam = db.get(User, adam.id)
    assert db.get(Guardianship, (parent.id, adam.id)).approved_at == MONDAY
    book_slot(db, slot.id, adam, adam)
    assert db.scalar(select(func.count()).select_from(Notification).where(Notification.recipient_id == adam.id)) > 0
    assert export(db, adam)["approvals"] == [{"parent": parent.id, "child": adam.id, "approved_at": MONDAY.isoformat()}]
    assert parents_client.get(url, follow_redirects=False).status_code == 302  # nothing more to approve


def test_only_a_linked_parent_approves(app, db, frozen_clock):
    frozen_clock(MONDAY)
    adam = make_person(db, "student", "Adam Haddou", birth_year=2014)
    stranger = make_person(db, "parent", "Someone Else")
    client = app.test_client()
    login(client, stranger.email)
    assert client.get(f"/children/{adam.id}/approve").status_code == 404
    page = client.get("/sessions").get_data(as_text=True)
    assert client.post(f"/children/{adam.id}/approve", data={"csrf_token": csrf_token(page)}).status_code == 404
    look_again(db)
    assert needs_approval(db, db.get(User, adam.id))


def test_a_child_a_parent_adds_needs_no_other_approval_and_the_approval_goes_with_its_parent(db, client, frozen_clock):
    frozen_clock(MONDAY)
    parent = make_person(db, "parent", "Fatima Haddou")
    login(client, parent.email)
    page = client.get("/children/new").get_data(as_text=True)
    client.post("/children/new", data={"name": "Inès Haddou", "csrf_token": csrf_token(page)})
    look_again(db)
    ines = db.scalar(select(User).where(User.name == "Inès Haddou"))
    assert db.get(Guardianship, (parent.id, ines.id)).approved_at == MONDAY
    # A child under 15 whose approving parent is deleted waits for another parent's approval.
    other, [adam] = make_family(db, "Karim Haddou", "Adam Haddou")
    adam.birth_year = 2014
    db.get(Guardianship, (other.id, adam.id)).approved_at = MONDAY
    db.add(Guardianship(parent_id=parent.id, student_id=adam.id))
    db.commit()
    assert not needs_approval(db, adam)
    delete_person(db, other)
    look_again(db)
    assert needs_approval(db, db.get(User, adam.id))
    with pytest.raises(ServiceError, match="moins de 15 ans"):
        book_slot(db, make_slot(db, make_tutor(db), starts_in=timedelta(days=3)).id, db.get(User, adam.id), parent)
