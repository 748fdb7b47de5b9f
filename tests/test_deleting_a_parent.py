"""Deleting a parent whose children have sessions to come asks what becomes of them: cancelled,
with everyone concerned told as when a family cancels, or kept while another parent remains.
They are never left without a word, and nothing is deleted until the coordinator answers."""

import html
from datetime import UTC, datetime, timedelta

import pytest
from conftest import csrf_token
from factories import login, look_again, make_family, make_person, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import Booking, Guardianship, JoinToken, Notification, Slot, User
from scheduler_app.services import ServiceError
from scheduler_app.services.booking import book_slot
from scheduler_app.services.privacy import CANCEL, KEEP, delete_person


@pytest.fixture
def family(db, frozen_clock):
    """Fatima and Karim Haddou's son Adam, booked for Wednesday; Fatima's daughter Inès (from an
    earlier marriage: Karim is not her parent), booked for Thursday."""
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db, "Claire Martin")
    fatima, [adam, ines] = make_family(db, "Fatima Haddou", "Adam Haddou", "Inès Haddou")
    karim = make_person(db, "parent", "Karim Haddou")
    db.add(Guardianship(parent_id=karim.id, student_id=adam.id))
    db.commit()
    wednesday, thursday = make_slot(db, tutor, starts_in=timedelta(days=2)), make_slot(db, tutor, starts_in=timedelta(days=3))
    return {"fatima": fatima, "karim": karim, "adam": adam, "ines": ines, "tutor": tutor,
            "adam_booking": book_slot(db, wednesday.id, adam, fatima), "ines_booking": book_slot(db, thursday.id, ines, fatima)}


def messages(db, kind: str) -> set[int]:
    return set(db.scalars(select(Notification.recipient_id).where(Notification.kind == kind)))


def test_without_an_answer_for_each_child_nothing_is_deleted(db, family):
    for choices, child in ((None, "adam"), ({family["adam"].id: KEEP}, "ines")):
        with pytest.raises(ServiceError, match="Choisissez ce que deviennent les séances") as asked:
            delete_person(db, family["fatima"], choices)
        assert asked.value.field == f"child_{family[child].id}"
    with pytest.raises(ServiceError, match="n'aurait plus de parent"):
        delete_person(db, family["fatima"], {family["adam"].id: KEEP, family["ines"].id: KEEP})
    look_again(db)
    assert db.get(User, family["fatima"].id).deleted_at is None
    assert db.get(Booking, family["ines_booking"].id).status == "confirmed"


def test_kept_sessions_stay_with_the_other_parent_and_cancelled_ones_tell_everyone(db, family):
    adam, ines, karim, fatima = family["adam"], family["ines"], family["karim"], family["fatima"]
    told_before = messages(db, "booking_cancelled")
    cancelled = delete_person(db, fatima, {adam.id: KEEP, ines.id: CANCEL})
    assert [booking.id for booking in cancelled] == [family["ines_booking"].id]
    look_again(db)
    kept, gone = db.get(Booking, family["adam_booking"].id), db.get(Booking, family["ines_booking"].id)
    assert kept.status == "confirmed" and gone.status == "cancelled"
    assert db.get(Guardianship, (karim.id, adam.id)) is not None
    assert db.scalars(select(Guardianship).where(Guardianship.parent_id == fatima.id)).all() == []
    assert db.get(Slot, gone.slot_id).booked == 0  # Inès's place is free again
    # Adam's session still reaches a parent; Fatima holds no link and gets no message any more.
    assert set(db.scalars(select(JoinToken.user_id).where(JoinToken.booking_id == kept.id))) == {adam.id, karim.id}
    assert not db.scalars(select(Notification).where(Notification.recipient_id == fatima.id)).all()
    # Told as when a family cancels: the tutor (Inès has no address of her own, and no other parent).
    assert messages(db, "tutor_booking_cancelled") == {family["tutor"].id}
    assert messages(db, "booking_cancelled") == told_before


def test_cancelling_a_shared_childs_sessions_tells_the_other_parent(db, family):
    delete_person(db, family["fatima"], {family["adam"].id: CANCEL, family["ines"].id: CANCEL})
    look_again(db)
    assert db.get(Booking, family["adam_booking"].id).status == "cancelled"
    assert family["karim"].id in messages(db, "booking_cancelled")
    assert family["fatima"].id not in messages(db, "booking_cancelled")


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_coordinator_is_asked_on_the_page_and_the_answers_are_kept(client, db, family):
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    url = f"/admin/people/{family['fatima'].id}/delete"
    page = text_of(client.get(url))
    assert "Les séances à venir de Adam Haddou" in page and "Les séances à venir de Inès Haddou" in page
    assert "Les garder : Karim Haddou reste son parent sur Lien" in page
    assert "Inès Haddou n'aurait plus de parent sur Lien" in page
    assert page.count('value="keep"') == 1  # only Adam has another parent
    adam_field, ines_field = f"child_{family['adam'].id}", f"child_{family['ines'].id}"
    response = client.post(url, data={"csrf_token": csrf_token(page), adam_field: "keep"})
    again = text_of(response)
    assert response.status_code == 200
    assert "Choisissez ce que deviennent les séances à venir de Inès Haddou." in again
    assert f'<input checked id="{adam_field}-1" name="{adam_field}"' in again  # what was chosen stays chosen
    look_again(db)
    assert db.get(User, family["fatima"].id).deleted_at is None
    response = client.post(url, data={"csrf_token": csrf_token(page), adam_field: "keep", ines_field: "cancel"},
                           follow_redirects=True)
    done = text_of(response)
    assert "Les données de Fatima Haddou sont effacées." in done
    assert "1 séance à venir de ses enfants est annulée" in done
    look_again(db)
    assert db.get(User, family["fatima"].id).deleted_at is not None
    assert db.get(Booking, family["adam_booking"].id).status == "confirmed"
    assert db.get(Booking, family["ines_booking"].id).status == "cancelled"


def test_a_parent_whose_children_have_nothing_to_come_is_deleted_at_once(client, db, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    parent, [adam] = make_family(db, "Jean Petit", "Léo Petit")
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    page = text_of(client.get(f"/admin/people/{parent.id}/delete"))
    assert "Les séances à venir" not in page
    client.post(f"/admin/people/{parent.id}/delete", data={"csrf_token": csrf_token(page)})
    look_again(db)
    assert db.get(User, parent.id).deleted_at is not None and db.get(User, adam.id).deleted_at is None
