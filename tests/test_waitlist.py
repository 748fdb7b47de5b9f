"""A full slot's waitlist: a freed place is offered to the first in line, held for them for a
while, then to the next; never offered twice, never taken twice, even when everything happens at
once."""

from datetime import UTC, datetime, timedelta

import pytest
from conftest import csrf_token
from factories import login, look_again, make_family, make_slot, make_tutor
from racing import race
from sqlalchemy import func, select

from scheduler_app.models import Booking, Notification, Slot, WaitlistEntry
from scheduler_app.services import ServiceError
from scheduler_app.services.booking import SlotTaken, book_slot, cancel_booking
from scheduler_app.services.waitlist import expire_offers, hold_for, join_waitlist, leave_waitlist, take_offer
from scheduler_app.worker import make_dispatcher

MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def full_slot(db, frozen_clock):
    """A slot for two, both places taken; three families waiting, in this order."""
    frozen_clock(MONDAY)
    slot = make_slot(db, make_tutor(db), capacity=2, starts_in=timedelta(days=2))
    holders = []
    for name in ("Adam", "Bilal"):
        parent, [child] = make_family(db, f"Parent {name}", f"{name} Haddou")
        holders.append(book_slot(db, slot.id, child, parent))
    waiting = []
    for name in ("Chloe", "Dina", "Emma"):
        parent, [child] = make_family(db, f"Parent {name}", f"{name} Petit")
        parent.phone, parent.notify_by = "+3361234567" + str(len(waiting)), "both"
        db.commit()
        waiting.append(join_waitlist(db, slot.id, child, parent))
    return {"slot": slot, "holders": holders, "waiting": waiting}


def entries(db) -> list[WaitlistEntry]:
    look_again(db)
    return list(db.scalars(select(WaitlistEntry).order_by(WaitlistEntry.id)))


def test_a_freed_place_is_held_for_the_first_in_line_and_they_take_it(app, db, full_slot, mail_server, brevo):
    app.config.update(brevo.settings(), PUBLIC_URL="https://lien.example.org")
    cancel_booking(db, full_slot["holders"][0])

    first, second, third = entries(db)
    assert (first.status, second.status, third.status) == ("offered", "waiting", "waiting")
    assert first.offer_expires_at == MONDAY + timedelta(hours=2)
    assert db.get(Slot, full_slot["slot"].id).booked == 2  # held: nobody else can book it
    _, [stranger] = make_family(db, "Jean Martin", "Léo Martin")
    with pytest.raises(SlotTaken):
        book_slot(db, full_slot["slot"].id, stranger, stranger)
    make_dispatcher(app).tick()
    [sms] = [r["json"]["content"] for r in brevo.requests if first.token in r["json"]["content"]]
    assert "une place est libre" in sms and f"https://lien.example.org/w/{first.token}" in sms
    [email] = mail_server.mailbox.to(first.added_by.email)[-1:]
    assert email["Subject"].startswith("Une place est libre")

    booking = take_offer(db, first.token)

    look_again(db)
    assert db.get(Booking, booking.id).status == "confirmed" and booking.student_id == first.student_id
    assert db.get(Slot, full_slot["slot"].id).booked == 2
    assert entries(db)[0].status == "booked"


def test_an_offer_taken_twice_or_after_it_expired_is_refused_and_changes_nothing(db, full_slot, frozen_clock):
    cancel_booking(db, full_slot["holders"][0])
    first = entries(db)[0]
    frozen_clock(first.offer_expires_at + timedelta(seconds=1))
    with pytest.raises(ServiceError, match="C'est trop tard"):
        take_offer(db, first.token)
    assert entries(db)[0].status == "offered" and db.scalar(select(func.count()).select_from(Booking)) == 2

    assert expire_offers(db, first.offer_expires_at + timedelta(seconds=1)) == 1

    first, second, third = entries(db)
    assert (first.status, second.status, third.status) == ("expired", "offered", "waiting")
    assert db.get(Slot, full_slot["slot"].id).booked == 2  # the hold moved to the next in line
    with pytest.raises(ServiceError, match="C'est trop tard"):
        take_offer(db, first.token)
    take_offer(db, second.token)
    with pytest.raises(ServiceError, match="déjà à vous"):
        take_offer(db, second.token)
    look_again(db)
    assert db.scalar(select(func.count()).select_from(Booking).where(Booking.status == "confirmed")) == 2


def test_leaving_the_list_passes_a_held_place_on_and_the_last_one_frees_it(db, full_slot):
    cancel_booking(db, full_slot["holders"][0])
    first, second, third = entries(db)
    leave_waitlist(db, third.token)
    leave_waitlist(db, first.token)
    assert [entry.status for entry in entries(db)] == ["left", "offered", "left"]
    leave_waitlist(db, second.token)
    look_again(db)
    assert db.get(Slot, full_slot["slot"].id).booked == 1  # nobody waiting: free for all again
    with pytest.raises(ServiceError, match="plus sur la liste"):
        leave_waitlist(db, second.token)


def test_a_place_freed_close_to_the_session_is_held_less_or_just_freed():
    start = MONDAY + timedelta(hours=1)
    assert hold_for(MONDAY + timedelta(days=1), MONDAY) == timedelta(hours=2)
    assert hold_for(start, MONDAY) == timedelta(minutes=30)
    assert hold_for(MONDAY + timedelta(minutes=15), MONDAY) is None


def test_joining_twice_or_a_slot_with_places_left_is_refused(db, full_slot):
    entry = full_slot["waiting"][0]
    with pytest.raises(ServiceError, match="déjà sur la liste"):
        join_waitlist(db, full_slot["slot"].id, entry.student, entry.added_by)
    other = make_slot(db, make_tutor(db, "Claire Martin"))
    with pytest.raises(ServiceError, match="Il reste une place"):
        join_waitlist(db, other.id, entry.student, entry.added_by)
    assert len(entries(db)) == 3


@pytest.mark.slow
def test_two_places_freed_at_once_with_three_waiting_are_each_offered_once_and_taken_once(app, db, full_slot):
    holders = full_slot["holders"]

    outcomes = race(app, [lambda session, b=booking: cancel_booking(session, session.get(Booking, b.id))
                          for booking in holders])

    assert all(isinstance(outcome, Booking) for outcome in outcomes), outcomes
    first, second, third = entries(db)
    assert (first.status, second.status, third.status) == ("offered", "offered", "waiting")
    assert db.get(Slot, full_slot["slot"].id).booked == 2
    offers = db.execute(select(Notification.slot_id, Notification.dedupe_key).where(
        Notification.kind == "waitlist_offer")).all()
    assert len({key.split("|")[-1] for _, key in offers}) == 2  # one offer per place

    # Each of the two offered takes their place from two tabs at once; a stranger tries too.
    _, [stranger] = make_family(db, "Jean Martin", "Léo Martin")
    attempts = [lambda session, t=entry.token: take_offer(session, t) for entry in (first, second) for _ in range(2)]
    attempts.append(lambda session: book_slot(session, full_slot["slot"].id, session.merge(stranger),
                                              session.merge(stranger)))
    outcomes = race(app, attempts)

    booked = [outcome for outcome in outcomes if isinstance(outcome, Booking)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, ServiceError)]
    assert len(booked) == 2 and len(refused) == 3, outcomes
    assert {booking.student_id for booking in booked} == {first.student_id, second.student_id}
    look_again(db)
    assert db.get(Slot, full_slot["slot"].id).booked == 2
    live = db.scalars(select(Booking.student_id).where(Booking.slot_id == full_slot["slot"].id,
                                                       Booking.status == "confirmed")).all()
    assert sorted(live) == sorted([first.student_id, second.student_id])
    assert [entry.status for entry in entries(db)] == ["booked", "booked", "waiting"]


@pytest.mark.slow
def test_an_offer_expiring_while_it_is_taken_is_either_taken_or_passed_on_never_both(app, db, full_slot):
    cancel_booking(db, full_slot["holders"][0])
    first = entries(db)[0]
    at = first.offer_expires_at - timedelta(microseconds=1)

    outcomes = race(app, [lambda session: take_offer(session, first.token, now=at),
                          lambda session: expire_offers(session, first.offer_expires_at)])

    first, second, _ = entries(db)
    if isinstance(outcomes[0], Booking):
        assert (first.status, second.status) == ("booked", "waiting")
    else:
        assert (first.status, second.status) == ("expired", "offered")
    assert db.get(Slot, full_slot["slot"].id).booked == 2


def test_a_family_joins_from_the_full_slot_and_takes_the_offer_from_the_message_link(client, db, full_slot):
    parent, [child] = make_family(db, "Fatima Haddou", "Farah Haddou")
    login(client, parent.email)
    page = client.get(f"/slots/{full_slot['slot'].id}/book").get_data(as_text=True)
    assert "Prévenez-moi si une place se libère" in page
    response = client.post(f"/slots/{full_slot['slot'].id}/waitlist", follow_redirects=True,
                           data={"student_id": str(child.id), "csrf_token": csrf_token(page)})
    assert "si une place se libère, nous prévenons Farah Haddou" in response.get_data(as_text=True)
    response = client.post(f"/slots/{full_slot['slot'].id}/waitlist", follow_redirects=True,
                           data={"student_id": str(child.id), "csrf_token": csrf_token(page)})
    assert "déjà sur la liste" in response.get_data(as_text=True)

    cancel_booking(db, full_slot["holders"][0])
    first = entries(db)[0]
    anonymous = client.application.test_client()
    page = anonymous.get(f"/w/{first.token}").get_data(as_text=True)
    assert "Je prends la place" in page and "Quitter la liste d" in page
    taken = anonymous.post(f"/w/{first.token}/take", data={"csrf_token": csrf_token(page)}).get_data(as_text=True)
    assert "C&#39;est réservé" in taken
    again = anonymous.post(f"/w/{first.token}/take", data={"csrf_token": csrf_token(page)}).get_data(as_text=True)
    assert "Cette place est déjà à vous" in again
    assert anonymous.get("/w/not-a-token").status_code == 404
    look_again(db)
    assert db.scalar(select(func.count()).select_from(Booking).where(Booking.student_id == first.student_id)) == 1


def test_no_waitlist_for_a_mediation_nor_for_a_child_a_parent_has_not_approved(db, full_slot):
    """Merged rules: a mediation is for adults (no student waits for one), and a child under 15
    waits for a place only once a parent agreed (services/consent.py), as for booking."""
    from factories import MEDIATION, make_person

    mediator = make_tutor(db, "Ousmane Diallo", mediator=True)
    mediation = make_slot(db, mediator, activity_id=MEDIATION, subject="", level="")
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    book_slot(db, mediation.id, parent, parent)
    with pytest.raises(ServiceError, match="médiation est pour un adulte"):
        join_waitlist(db, mediation.id, adam, parent)
    lea = make_person(db, "student", "Léa Petit", birth_year=2014)
    with pytest.raises(ServiceError, match="un parent doit donner son accord"):
        join_waitlist(db, full_slot["slot"].id, lea, lea)
    assert len(entries(db)) == 3


def test_a_student_forgotten_leaves_the_list_and_their_place_goes_to_the_next_in_line(db, full_slot):
    """Merged rule (services/privacy.py): a person forgotten is never offered a place again; the
    place held for them, and the one they booked, go to the next ones waiting."""
    from scheduler_app.services.privacy import delete_person

    cancel_booking(db, full_slot["holders"][0])
    first, _, _ = entries(db)
    assert first.status == "offered"
    delete_person(db, first.student)  # Chloe, first in line: her held place goes to Dina
    first, second, third = entries(db)
    assert (first.status, second.status, third.status) == ("left", "offered", "waiting")
    delete_person(db, db.get(Booking, full_slot["holders"][1].id).student)  # Bilal's place: to Emma

    first, second, third = entries(db)
    assert (first.status, second.status, third.status) == ("left", "offered", "offered")
    assert db.get(Slot, full_slot["slot"].id).booked == 2  # both places held, for Dina and Emma
    with pytest.raises(ServiceError):
        take_offer(db, first.token)
    take_offer(db, third.token)
    look_again(db)
    assert db.get(Slot, full_slot["slot"].id).booked == 2
