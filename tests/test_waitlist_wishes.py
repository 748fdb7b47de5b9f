"""Waiting for any slot like the one wanted: a subject, a level, a language the tutor speaks, within
some days. A place freed by a cancellation, or a slot a tutor opens (one-off or weekly), goes to
the first in line however they wait, with the same time-limited offer as a slot's own waitlist;
never offered twice, never taken twice, even when everything happens at once."""

import threading
import time as time_module
from contextlib import ExitStack
from datetime import UTC, date, datetime, time, timedelta

import pytest
from conftest import csrf_token
from factories import HOMEWORK, login, look_again, make_family, make_person, make_slot, make_tutor
from racing import race
from sqlalchemy import func, select, text

from scheduler_app import db as database
from scheduler_app.db import write_transaction
from scheduler_app.models import Booking, Notification, Slot, WaitlistEntry
from scheduler_app.services import ServiceError
from scheduler_app.services.availability import WeeklyPlan, materialise, save_rule
from scheduler_app.services.booking import book_slot, cancel_booking, give_back_place
from scheduler_app.services.privacy import delete_person
from scheduler_app.services.slots import cancel_slot
from scheduler_app.services.waitlist import (
    Wish,
    expire_offers,
    join_waitlist,
    join_wish,
    leave_waitlist,
    offer_freed_place,
    take_offer,
    wish_days,
)
from scheduler_app.worker import make_dispatcher

MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
TODAY = date(2027, 3, 1)
PARIS = "Europe/Paris"


def wish(days: int = 14, **criteria) -> Wish:
    """From today to `days` days on, Paris time."""
    starts_from, starts_until = wish_days(TODAY, TODAY + timedelta(days=days), TODAY, PARIS)
    return Wish(starts_from=starts_from, starts_until=starts_until, **criteria)


def entry(db, entry_id: int) -> WaitlistEntry:
    look_again(db)
    return db.get(WaitlistEntry, entry_id)


def booked(db, slot_id: int) -> int:
    look_again(db)
    return db.get(Slot, slot_id).booked


@pytest.fixture
def centre(db, frozen_clock):
    """Karim teaches maths at collège in French and Arabic; Claire in French only. A family of
    two children, and a coordinator."""
    frozen_clock(MONDAY)
    parent, [lina, sami] = make_family(db, "Fatima Haddou", "Lina Haddou", "Sami Haddou")
    return {"karim": make_tutor(db, "Karim Haddad"), "claire": make_tutor(db, "Claire Martin", languages=("fr",)),
            "parent": parent, "lina": lina, "sami": sami,
            "coordinator": make_person(db, "coordinator", "Nadia Benali")}


def phone_family(db):
    """A family with a phone only, as the coordinator enters it after a call."""
    parent, [child] = make_family(db, "Awa Diallo", "Moussa Diallo")
    parent.email, parent.phone, parent.notify_by = None, "+33761223344", "sms"
    db.commit()
    return parent, child


def use_brevo(app, brevo):
    app.config.update(brevo.settings(), PUBLIC_URL="https://lien.example.org")


def test_a_freed_place_goes_to_the_first_in_line_whether_waiting_for_this_slot_or_one_like_it(
        app, db, centre, frozen_clock, brevo):
    use_brevo(app, brevo)
    slot = make_slot(db, centre["karim"], starts_in=timedelta(days=2))
    holder = book_slot(db, slot.id, centre["lina"], centre["parent"])
    awa, moussa = phone_family(db)
    wished = join_wish(db, moussa, centre["coordinator"], wish(subject="maths", level="college", language="ar"))
    frozen_clock(MONDAY + timedelta(minutes=1))
    parent, [chloe] = make_family(db, "Marie Petit", "Chloé Petit")
    waiting = join_waitlist(db, slot.id, chloe, parent)

    cancel_booking(db, holder)

    offered = entry(db, wished.id)
    assert (offered.status, offered.slot_id) == ("offered", slot.id)
    assert offered.offer_expires_at == MONDAY + timedelta(minutes=1, hours=2)
    assert entry(db, waiting.id).status == "waiting"
    assert booked(db, slot.id) == 1  # held for Moussa
    make_dispatcher(app).tick()
    [sms] = [r["json"]["content"] for r in brevo.requests if r["json"]["recipient"] == "33761223344"]
    assert "une place est libre" in sms and f"https://lien.example.org/w/{wished.token}" in sms

    booking = take_offer(db, wished.token)

    assert booking.student_id == moussa.id and entry(db, wished.id).status == "booked"
    assert booked(db, slot.id) == 1 and entry(db, waiting.id).status == "waiting"


def test_a_slot_opened_like_a_wish_is_offered_to_it_and_slots_unlike_it_are_not(db, centre):
    lina = join_wish(db, centre["lina"], centre["parent"], wish(7, subject="maths", level="college", language="ar"))
    sami = join_wish(db, centre["sami"], centre["parent"], wish(7, subject="maths"))

    # Claire speaks no Arabic: only Sami, who asked for any language, is offered her slot.
    claire_slot = make_slot(db, centre["claire"], starts_in=timedelta(days=2))
    assert (entry(db, sami.id).status, entry(db, sami.id).slot_id) == ("offered", claire_slot.id)
    assert entry(db, lina.id).status == "waiting" and booked(db, claire_slot.id) == 1

    unlike = [make_slot(db, centre["karim"], starts_in=timedelta(days=3), subject="francais"),
              make_slot(db, centre["karim"], starts_in=timedelta(days=4), level="lycee"),
              make_slot(db, centre["karim"], starts_in=timedelta(days=9))]  # after Lina's last day
    assert entry(db, lina.id).status == "waiting"
    assert [booked(db, slot.id) for slot in unlike] == [0, 0, 0]

    like = make_slot(db, centre["karim"], starts_in=timedelta(days=5), capacity=2)

    assert (entry(db, lina.id).status, entry(db, lina.id).slot_id) == ("offered", like.id)
    assert booked(db, like.id) == 1  # one place held for Lina, the other free for all


def test_weekly_availability_offers_a_wish_its_first_matching_week_and_only_one(db, centre):
    lina = join_wish(db, centre["lina"], centre["parent"], wish(21, subject="maths", level="college"))

    save_rule(db, centre["karim"], WeeklyPlan(
        activity_id=HOMEWORK, weekdays=("WE",), start_time=time(14, 0), end_time=time(15, 30), session_minutes=45,
        valid_from=TODAY, subject="maths", level="college"))

    look_again(db)
    slots = db.scalars(select(Slot).where(Slot.tutor_id == centre["karim"].id).order_by(Slot.starts_at)).all()
    assert len(slots) > 2 and [slot.booked for slot in slots] == [1] + [0] * (len(slots) - 1)
    assert entry(db, lina.id).slot_id == slots[0].id
    materialise(db, MONDAY + timedelta(days=1), weeks=6)  # more weeks: Lina already has her offer
    look_again(db)
    assert db.scalar(select(func.sum(Slot.booked))) == 1
    assert db.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "waitlist_offer")) == 1


def test_a_wish_passes_over_a_student_busy_then_and_ends_with_its_offer_or_its_last_day(db, centre, frozen_clock):
    slot = make_slot(db, centre["karim"], starts_in=timedelta(days=2))
    parent, [adam] = make_family(db, "Jean Martin", "Adam Martin")
    holder = book_slot(db, slot.id, adam, parent)
    same_time = make_slot(db, centre["claire"], starts_in=timedelta(days=2), subject="francais")
    book_slot(db, same_time.id, centre["lina"], centre["parent"])
    lina = join_wish(db, centre["lina"], centre["parent"], wish(subject="maths"))
    sami = join_wish(db, centre["sami"], centre["parent"], wish(subject="maths"))

    cancel_booking(db, holder)

    assert entry(db, lina.id).status == "waiting"  # Lina has a session then: passed over
    offered = entry(db, sami.id)
    assert (offered.status, offered.slot_id) == ("offered", slot.id)
    expire_offers(db, offered.offer_expires_at)
    assert entry(db, sami.id).status == "expired"  # his wish ends with the offer he let go
    assert booked(db, slot.id) == 0  # Lina still busy then: the place is free for all
    with pytest.raises(ServiceError, match="trop tard"):
        take_offer(db, sami.token)

    frozen_clock(MONDAY + timedelta(days=15))
    expire_offers(db, MONDAY + timedelta(days=15))
    assert entry(db, lina.id).status == "expired"  # her last day has passed


def test_a_wish_offered_a_place_in_a_slot_then_cancelled_waits_again_in_its_place(db, centre):
    lina = join_wish(db, centre["lina"], centre["parent"], wish(subject="maths"))
    sami = join_wish(db, centre["sami"], centre["parent"], wish(subject="maths"))
    first = make_slot(db, centre["karim"], starts_in=timedelta(days=2), capacity=2)
    assert [entry(db, w.id).slot_id for w in (lina, sami)] == [first.id, first.id]
    lina_again = join_wish(db, centre["lina"], centre["parent"], wish(subject="maths"))  # the first is offered

    cancel_slot(db, db.get(Slot, first.id), by=centre["karim"])

    assert (entry(db, sami.id).status, entry(db, sami.id).slot_id) == ("waiting", None)
    assert entry(db, lina.id).status == "offered"  # her wish made again waits in its stead
    second = make_slot(db, centre["claire"], starts_in=timedelta(days=3))
    assert entry(db, sami.id).slot_id == second.id  # he was in line before Lina's second wish
    assert entry(db, lina_again.id).status == "waiting"


def test_a_wish_twice_or_with_wrong_days_or_choices_is_refused_and_changes_nothing(db, centre):
    join_wish(db, centre["lina"], centre["parent"], wish(subject="maths"))
    with pytest.raises(ServiceError, match="attend déjà une séance de ce genre"):
        join_wish(db, centre["lina"], centre["parent"], wish(3, subject="maths"))
    join_wish(db, centre["lina"], centre["parent"], wish(subject="francais"))  # another subject: another wish
    with pytest.raises(ServiceError, match="après le premier jour") as refused:
        wish_days(TODAY + timedelta(days=3), TODAY, TODAY, PARIS)
    assert refused.value.field == "last_day"
    with pytest.raises(ServiceError, match="déjà passé") as refused:
        wish_days(TODAY - timedelta(days=1), TODAY, TODAY, PARIS)
    assert refused.value.field == "first_day"
    with pytest.raises(ServiceError, match="dernier jour avant"):
        wish_days(TODAY, TODAY + timedelta(days=61), TODAY, PARIS)
    with pytest.raises(ServiceError, match="matière de la liste"):
        join_wish(db, centre["sami"], centre["parent"], wish(subject="astrologie"))
    other_parent, [stranger] = make_family(db, "Jean Martin", "Adam Martin")
    with pytest.raises(ServiceError, match="pour cette personne"):
        join_wish(db, stranger, centre["parent"], wish())
    with pytest.raises(ServiceError, match="Seul un élève"):
        join_wish(db, other_parent, other_parent, wish())
    look_again(db)
    assert db.scalar(select(func.count()).select_from(WaitlistEntry)) == 2


def test_leaving_a_wish_before_or_after_its_offer_and_a_student_forgotten(client, db, centre):
    lina = join_wish(db, centre["lina"], centre["parent"], wish(subject="maths"))
    page = client.get(f"/w/{lina.token}").get_data(as_text=True)
    assert "<h1>Liste d'attente</h1>" in page and "Mathématiques" in page and "Jusqu'au" in page
    assert "lundi 15 mars" in page.replace("\xa0", " ")
    left = client.post(f"/w/{lina.token}/leave", data={"csrf_token": csrf_token(page)}).get_data(as_text=True)
    assert "Vous avez quitté la liste d" in left and entry(db, lina.id).status == "left"
    again = client.post(f"/w/{lina.token}/leave", data={"csrf_token": csrf_token(page)}).get_data(as_text=True)
    assert "plus sur la liste d" in again

    sami = join_wish(db, centre["sami"], centre["parent"], wish(subject="maths"))
    parent, [adam] = make_family(db, "Jean Martin", "Adam Martin")
    adam_wish = join_wish(db, adam, parent, wish(subject="maths"))
    slot = make_slot(db, centre["karim"], starts_in=timedelta(days=2))
    assert entry(db, sami.id).slot_id == slot.id
    leave_waitlist(db, sami.token)  # the place he held goes to the next in line
    assert (entry(db, adam_wish.id).status, entry(db, adam_wish.id).slot_id) == ("offered", slot.id)

    delete_person(db, adam)
    assert entry(db, adam_wish.id).status == "left" and booked(db, slot.id) == 0


@pytest.mark.slow
def test_two_places_freed_at_once_with_three_wishes_are_each_offered_once_and_taken_once(app, db, centre):
    """The issue's example, with families waiting for any slot like these two."""
    slots = [make_slot(db, centre["karim"], starts_in=timedelta(days=days)) for days in (2, 3)]
    parent, [adam, bilal] = make_family(db, "Jean Martin", "Adam Martin", "Bilal Martin")
    holders = [book_slot(db, slot.id, child, parent) for slot, child in zip(slots, (adam, bilal), strict=True)]
    marie, [chloe] = make_family(db, "Marie Petit", "Chloé Petit")
    wishes = [join_wish(db, child, by, wish(subject="maths"))
              for child, by in ((centre["lina"], centre["parent"]), (centre["sami"], centre["parent"]), (chloe, marie))]

    outcomes = race(app, [lambda session, b=holder: cancel_booking(session, session.get(Booking, b.id))
                          for holder in holders])

    assert all(isinstance(outcome, Booking) for outcome in outcomes), outcomes
    first, second, third = (entry(db, w.id) for w in wishes)
    assert (first.status, second.status, third.status) == ("offered", "offered", "waiting")
    assert {first.slot_id, second.slot_id} == {slot.id for slot in slots}
    assert [booked(db, slot.id) for slot in slots] == [1, 1]
    offers = db.scalars(select(Notification.dedupe_key).where(Notification.kind == "waitlist_offer")).all()
    assert len({key.split("|")[-1] for key in offers}) == 2  # one offer per place

    outcomes = race(app, [lambda session, t=w.token: take_offer(session, t) for w in (first, second) for _ in range(2)])

    taken = [outcome for outcome in outcomes if isinstance(outcome, Booking)]
    assert len(taken) == 2 and sum(isinstance(outcome, ServiceError) for outcome in outcomes) == 2, outcomes
    assert {booking.student_id for booking in taken} == {first.student_id, second.student_id}
    assert [booked(db, slot.id) for slot in slots] == [1, 1]
    assert [entry(db, w.id).status for w in wishes] == ["booked", "booked", "waiting"]


@pytest.mark.slow
def test_two_tutors_opening_slots_at_once_offer_one_wish_a_single_place(app, db, centre):
    lina = join_wish(db, centre["lina"], centre["parent"], wish(subject="maths"))
    day = (MONDAY + timedelta(days=2)).date()

    def open_for(tutor_id, hour):
        from scheduler_app.models import User
        from scheduler_app.services.slots import SlotPlan, open_slots

        def attempt(session):
            tutor = session.get(User, tutor_id)
            return open_slots(session, tutor, SlotPlan(activity_id=HOMEWORK, day=day, start_time=time(hour, 0),
                                                       duration_minutes=45, subject="maths", level="college"), PARIS)
        return attempt

    outcomes = race(app, [open_for(centre["karim"].id, 14), open_for(centre["claire"].id, 16)])

    assert all(isinstance(outcome, list) for outcome in outcomes), outcomes
    offered = entry(db, lina.id)
    assert offered.status == "offered"
    look_again(db)
    assert db.scalar(select(func.sum(Slot.booked))) == 1 and db.get(Slot, offered.slot_id).booked == 1


def test_a_wish_left_while_a_slot_claims_it_never_leaves_the_place_held(app, db, centre):
    """The family leaves just as a freed place is offered to them: the leaving waits for the
    offer, then gives the place back. On PostgreSQL the leaving is seen waiting on the offer's
    lock before the offer commits; SQLite queues the two writers whole."""
    slot = make_slot(db, centre["karim"], starts_in=timedelta(days=2))
    parent, [adam] = make_family(db, "Jean Martin", "Adam Martin")
    holder = book_slot(db, slot.id, adam, parent)
    lina = join_wish(db, centre["lina"], centre["parent"], wish(subject="maths"))
    with app.app_context():
        offering, watch = database.new_session(), database.new_session()
    try:
        with ExitStack() as transaction:
            transaction.enter_context(write_transaction(offering))
            give_back_place(offering, offering.get(Booking, holder.id))
            assert offer_freed_place(offering, offering.get(Slot, slot.id), MONDAY).id == lina.id
            leaving = [None]

            def leave():
                with app.app_context():
                    session = database.new_session()
                    try:
                        leaving[0] = leave_waitlist(session, lina.token)
                    except Exception as error:  # sorted out below
                        leaving[0] = error
                    finally:
                        session.close()

            thread = threading.Thread(target=leave)
            thread.start()
            if db.get_bind().dialect.name == "postgresql":
                wait_until(lambda: waiting_on_a_lock(watch, "UPDATE waitlist_entry"))
        thread.join(timeout=60)
    finally:
        offering.close()
        watch.close()

    assert isinstance(leaving[0], WaitlistEntry), leaving[0]
    assert entry(db, lina.id).status == "left"
    assert booked(db, slot.id) == 0  # not held for a family that left: free for all


def waiting_on_a_lock(watch, statement: str) -> bool:
    """Whether a PostgreSQL session waits on a row lock in `statement` (read afresh each time:
    within one transaction PostgreSQL shows the same statistics again)."""
    try:
        return watch.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query ILIKE :statement"), {"statement": statement + "%"}) == 1
    finally:
        watch.rollback()


def wait_until(condition, seconds: float = 30) -> None:
    """Until the state is reached (a safety limit only: nothing is timed)."""
    deadline = time_module.monotonic() + seconds
    while not condition():
        assert time_module.monotonic() < deadline, "the state never came"
        time_module.sleep(0.01)


def test_a_family_asks_from_the_slot_browser_when_nothing_matches(client, db, centre):
    login(client, centre["parent"].email)
    browser = client.get("/slots?subject=maths&level=lycee&language=ar").get_data(as_text=True)
    assert "Il n'y a pas de séance libre pour ce choix" in browser
    assert "/waitlist/new?subject=maths&amp;level=lycee&amp;language=ar" in browser
    page = client.get("/waitlist/new?subject=maths&level=lycee&language=ar").get_data(as_text=True)
    assert 'selected value="maths"' in page and 'selected value="lycee"' in page and 'selected value="ar"' in page
    assert 'value="2027-03-01"' in page and 'value="2027-03-15"' in page

    form = {"student_id": str(centre["sami"].id), "subject": "maths", "level": "lycee", "language": "ar",
            "first_day": "2027-03-10", "last_day": "2027-03-05", "csrf_token": csrf_token(page)}
    refused = client.post("/waitlist/new", data=form).get_data(as_text=True)
    assert "Le dernier jour doit venir après le premier jour." in refused and 'aria-invalid="true"' in refused
    assert 'value="2027-03-10"' in refused and 'value="2027-03-05"' in refused and 'selected value="lycee"' in refused
    done = client.post("/waitlist/new", data={**form, "last_day": "2027-03-20"}, follow_redirects=True)
    assert "nous prévenons Sami Haddou par message" in done.get_data(as_text=True)
    again = client.post("/waitlist/new", data={**form, "last_day": "2027-03-20"}).get_data(as_text=True)
    assert "Sami Haddou attend déjà une séance de ce genre" in again
    _, [stranger] = make_family(db, "Jean Martin", "Adam Martin")
    client.post("/waitlist/new", data={**form, "student_id": str(stranger.id), "language": ""})
    look_again(db)
    [saved] = db.scalars(select(WaitlistEntry)).all()
    assert (saved.student_id, saved.subject, saved.level, saved.language) == (centre["sami"].id, "maths", "lycee", "ar")
    assert saved.wish_from == datetime(2027, 3, 9, 23, 0, tzinfo=UTC)
    assert saved.wish_until == datetime(2027, 3, 20, 23, 0, tzinfo=UTC)


def test_a_full_slot_offers_waiting_for_it_or_for_one_like_it(client, db, centre):
    slot = make_slot(db, centre["karim"], starts_in=timedelta(days=2))
    parent, [adam] = make_family(db, "Jean Martin", "Adam Martin")
    book_slot(db, slot.id, adam, parent)
    login(client, centre["parent"].email)
    page = client.get(f"/slots/{slot.id}/book").get_data(as_text=True)
    assert "Prévenez-moi si une place se libère" in page
    assert "/waitlist/new?subject=maths&amp;level=college" in page and "un autre jour" in page


def test_the_coordinator_puts_a_phone_only_family_on_the_waitlist_and_the_offer_comes_by_sms(
        app, client, db, centre, brevo):
    use_brevo(app, brevo)
    awa, moussa = phone_family(db)
    login(client, centre["coordinator"].email)
    assert client.get("/waitlist/new").headers["Location"] == "/admin/"  # for whom? chosen first
    assert client.get(f"/waitlist/new?for={awa.id}").status_code == 404  # a student waits, not an adult
    browser = client.get(f"/slots?for={moussa.id}&subject=maths").get_data(as_text=True)
    assert f"/waitlist/new?subject=maths&amp;level=&amp;language=&amp;for={moussa.id}" in browser
    page = client.get(f"/waitlist/new?for={moussa.id}&subject=maths").get_data(as_text=True)
    assert "Pour Moussa Diallo" in page and "SMS" in page
    response = client.post(f"/waitlist/new?for={moussa.id}", data={
        "student_id": str(moussa.id), "subject": "maths", "level": "", "language": "", "first_day": "2027-03-01",
        "last_day": "2027-03-08", "csrf_token": csrf_token(page)})
    assert response.headers["Location"] == "/admin/"
    look_again(db)
    [saved] = db.scalars(select(WaitlistEntry)).all()
    assert (saved.student_id, saved.added_by_id) == (moussa.id, centre["coordinator"].id)

    make_slot(db, centre["claire"], starts_in=timedelta(days=3))
    make_dispatcher(app).tick()

    [sms] = [r["json"]["content"] for r in brevo.requests if r["json"]["recipient"] == "33761223344"]
    assert f"https://lien.example.org/w/{saved.token}" in sms and "Moussa Diallo" in sms
    offer = client.application.test_client().get(f"/w/{saved.token}").get_data(as_text=True)
    assert "Je prends la place" in offer and "Claire Martin" in offer
