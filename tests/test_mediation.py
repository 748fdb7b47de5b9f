"""Family mediation: activities have a kind, only mediators run mediations, and what a mediation
says is read by mediators only."""

from datetime import UTC, datetime, timedelta

import pytest
from conftest import csrf_token
from factories import HOMEWORK, MEDIATION, login, look_again, make_person, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import Activity, Slot, User
from scheduler_app.services import ServiceError


@pytest.fixture
def monday(frozen_clock):
    return frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))


def test_the_seeded_activities_have_their_kinds(db):
    kinds = dict(db.execute(select(Activity.id, Activity.kind)).all())
    assert kinds[HOMEWORK] == "homework" and kinds[MEDIATION] == "mediation"


def test_only_a_mediator_opens_a_mediation_slot(db, monday):
    volunteer = make_tutor(db, "Claire Martin")
    with pytest.raises(ServiceError) as refused:
        make_slot(db, volunteer, activity_id=MEDIATION, subject="", level="")
    assert refused.value.field == "activity_id"
    assert "médiateur" in str(refused.value.message)
    mediator = make_tutor(db, "Ousmane Diallo", mediator=True)
    slot = make_slot(db, mediator, activity_id=MEDIATION, subject="", level="")
    assert slot.activity_id == MEDIATION
    with pytest.raises(ServiceError) as crowded:
        make_slot(db, mediator, activity_id=MEDIATION, capacity=3, starts_in=timedelta(days=5))
    assert crowded.value.field == "capacity"


def test_a_volunteer_is_not_offered_mediation_but_a_mediator_is(client, db, monday):
    make_tutor(db, "Ousmane Diallo", mediator=True)
    make_tutor(db, "Claire Martin")
    login(client, "claire.martin@example.org")
    assert "Médiation familiale" not in client.get("/slots/new").get_data(as_text=True)
    assert "Médiation familiale" not in client.get("/availability/new").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/profile").get_data(as_text=True))})
    login(client, "ousmane.diallo@example.org")
    assert "Médiation familiale" in client.get("/slots/new").get_data(as_text=True)


def test_a_coordinator_marks_a_tutor_as_mediator(client, db, monday):
    tutor = make_tutor(db, "Ousmane Diallo")
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    page = client.get(f"/admin/tutors/{tutor.id}").get_data(as_text=True)
    assert "Médiateur" in page
    response = client.post(f"/admin/tutors/{tutor.id}", data={
        "csrf_token": csrf_token(page), "languages": ["fr"], "active": "y", "mediator": "y"})
    assert response.status_code == 302
    look_again(db)
    assert db.get(User, tutor.id).mediator


def test_only_a_mediation_coordinator_marks_another_coordinator(client, db, monday):
    plain = make_person(db, "coordinator", "Nadia Benali")
    other = make_person(db, "coordinator", "Paul Roux")
    login(client, plain.email)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Nommer pour la médiation" not in page
    assert client.post(f"/admin/coordinators/{other.id}/mediation",
                       data={"csrf_token": csrf_token(page), "mediator": "1"}).status_code == 403
    look_again(db)
    assert not db.get(User, other.id).mediator
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    look_again(db)
    login(client, make_person(db, "coordinator", "Sonia Amrani", mediator=True).email)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Nommer pour la médiation" in page
    client.post(f"/admin/coordinators/{other.id}/mediation", data={"csrf_token": csrf_token(page), "mediator": "1"})
    look_again(db)
    assert db.get(User, other.id).mediator


def test_an_activity_keeps_its_kind_once_it_has_sessions(client, db, monday):
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    page = client.get("/admin/activities/new").get_data(as_text=True)
    client.post("/admin/activities/new", data={"csrf_token": csrf_token(page), "name": "Écrivain public",
                                                "kind": "mediation", "duration_minutes": "30", "capacity": "1",
                                                "active": "y"})
    look_again(db)
    activity = db.scalar(select(Activity).where(Activity.name == "Écrivain public"))
    assert activity.kind == "mediation"
    make_slot(db, make_tutor(db, "Ousmane Diallo", mediator=True), activity_id=activity.id, subject="", level="")
    page = client.get(f"/admin/activities/{activity.id}").get_data(as_text=True)
    response = client.post(f"/admin/activities/{activity.id}", data={
        "csrf_token": csrf_token(page), "name": "Écrivain public", "kind": "homework", "duration_minutes": "30",
        "capacity": "1", "active": "y"})
    assert response.status_code == 200
    assert "son genre ne peut plus changer" in response.get_data(as_text=True)
    look_again(db)
    assert db.get(Activity, activity.id).kind == "mediation"
    assert db.scalar(select(Slot.id).where(Slot.activity_id == activity.id)) is not None


# --- Adults as parties, invited separately ---------------------------------------------------

from datetime import date, time  # noqa: E402

from factories import make_family  # noqa: E402

from rooms import JitsiSettings, fragment_values, verify_token  # noqa: E402
from scheduler_app.models import Booking, Guardianship, JoinToken  # noqa: E402
from scheduler_app.services.booking import book_slot  # noqa: E402
from scheduler_app.services.join import JoinOpening, answer, find_link  # noqa: E402
from scheduler_app.services.mediation import MediationPlan, plan_mediation  # noqa: E402
from scheduler_app.worker import make_dispatcher  # noqa: E402


def _mediator(db):
    return make_tutor(db, "Ousmane Diallo", mediator=True, subjects=(), levels=())


def test_a_parent_books_a_mediation_for_herself_and_no_page_or_email_says_eleve(app, client, db, mail_server,
                                                                                monday):
    slot = make_slot(db, _mediator(db), activity_id=MEDIATION, subject="", level="")
    fatima, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    with pytest.raises(ServiceError):
        book_slot(db, slot.id, adam, fatima)  # never for a child
    login(client, fatima.email)
    page = client.get(f"/slots/{slot.id}/book").get_data(as_text=True)
    assert "Pour qui ?" not in page and "Seul le médiateur le lira" in page
    response = client.post(f"/slots/{slot.id}/book", data={"csrf_token": csrf_token(page), "student_id": fatima.id,
                                                            "topic": "Un dossier de la CAF"}, follow_redirects=True)
    confirmation = response.get_data(as_text=True)
    assert "Rendez-vous au centre social" in confirmation and "Élève" not in confirmation
    look_again(db)
    booking = db.scalar(select(Booking).where(Booking.slot_id == slot.id))
    assert booking.student_id == fatima.id and booking.topic == "Un dossier de la CAF"
    make_dispatcher(app).tick()
    [email] = mail_server.mailbox.to(fatima.email)
    text = email.get_body(("plain",)).get_content()
    assert "Rendez-vous au centre social" in text and "Élève" not in text and "Adam" not in text


def test_a_student_cannot_book_a_mediation(client, db, monday):
    slot = make_slot(db, _mediator(db), activity_id=MEDIATION, subject="", level="")
    student = make_person(db, "student", "Yasmine Haddou")
    login(client, student.email)
    response = client.get(f"/slots/{slot.id}/book", follow_redirects=True)
    assert "jamais pour un enfant" in response.get_data(as_text=True)
    look_again(db)
    assert db.scalar(select(Booking.id)) is None


def test_a_coordinator_adds_a_phone_only_contact_and_books_them_a_mediation_told_by_sms(app, client, db, brevo,
                                                                                       monday):
    app.config.update(brevo.settings(), PUBLIC_URL="https://lien.example.org")
    slot = make_slot(db, _mediator(db), activity_id=MEDIATION, subject="", level="")
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    page = client.get("/admin/contacts/new").get_data(as_text=True)
    refused = client.post("/admin/contacts/new", data={"csrf_token": csrf_token(page), "name": "Samir Haddou"})
    assert "Écrivez le numéro de téléphone." in refused.get_data(as_text=True)
    assert 'value="Samir Haddou"' in refused.get_data(as_text=True)  # the form keeps what was typed
    client.post("/admin/contacts/new", data={"csrf_token": csrf_token(page), "name": "Samir Haddou",
                                             "phone": "06 12 34 56 78"})
    look_again(db)
    samir = db.scalar(select(User).where(User.name == "Samir Haddou"))
    assert (samir.role, samir.phone, samir.email, samir.notify_by) == ("parent", "+33612345678", None, "sms")
    page = client.get(f"/slots/{slot.id}/book?for={samir.id}").get_data(as_text=True)
    client.post(f"/slots/{slot.id}/book?for={samir.id}", data={"csrf_token": csrf_token(page),
                                                               "student_id": samir.id, "topic": ""})
    make_dispatcher(app).tick()
    to_samir = [r["json"]["content"] for r in brevo.requests if r["json"]["recipient"] == "33612345678"]
    assert len(to_samir) == 1 and to_samir[0].startswith("Lien : rendez-vous au centre social")
    look_again(db)
    token = db.scalar(select(JoinToken.token).where(JoinToken.user_id == samir.id))
    assert to_samir[0].endswith(f"/j/{token}")


def test_a_parent_linked_to_the_child_never_sees_the_other_parents_mediation(app, client, db, monday):
    slot = make_slot(db, _mediator(db), activity_id=MEDIATION, subject="", level="")
    fatima, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    samir = make_person(db, "parent", "Samir Haddou")
    db.add(Guardianship(parent_id=samir.id, student_id=adam.id))
    db.commit()
    booking = book_slot(db, slot.id, fatima, fatima, topic="la garde")
    login(client, samir.email)
    assert "Rendez-vous au centre social" not in client.get("/sessions").get_data(as_text=True)
    assert client.get(f"/sessions/{booking.id}").status_code == 403
    assert client.get(f"/sessions/{booking.id}/calendar.ics").status_code in (403, 404)
    assert client.post(f"/sessions/{booking.id}/cancel",
                       data={"csrf_token": csrf_token(client.get("/profile").get_data(as_text=True))}
                       ).status_code == 403


@pytest.fixture
def parties(db):
    fatima = make_person(db, "parent", "Fatima Haddou", phone="+33611111111")
    samir = make_person(db, "parent", "Samir Haddou", email=None, phone="+33622222222", notify_by="sms")
    return fatima, samir


def test_a_mediator_plans_separate_sessions_then_a_joint_one_each_party_invited_alone(app, client, db, monday,
                                                                                    mail_server, brevo, parties):
    app.config.update(brevo.settings())
    fatima, samir = parties
    ousmane = _mediator(db)
    login(client, ousmane.email)
    page = client.get("/slots/mediation/new").get_data(as_text=True)
    assert "Samir Haddou" in page and "Fatima Haddou" in page
    form = {"csrf_token": csrf_token(page), "activity_id": MEDIATION, "parties": [fatima.id, samir.id],
            "sessions": "both", "day": "2027-01-13", "start_time": "14:00", "minutes": "45",
            "reason": "Conflit autour de la garde"}
    wrong = client.post("/slots/mediation/new", data={**form, "sessions": "", "minutes": "500"})
    assert wrong.status_code == 200 and "Conflit autour de la garde" in wrong.get_data(as_text=True)
    assert client.post("/slots/mediation/new", data=form).status_code == 302
    look_again(db)
    slots = db.scalars(select(Slot).where(Slot.tutor_id == ousmane.id).order_by(Slot.starts_at)).all()
    assert [(s.starts_at.hour, s.starts_at.minute, s.joint, s.capacity) for s in slots] == [
        (13, 0, False, 1), (13, 45, False, 1), (14, 30, True, 2)]  # 14:00 in Paris is 13:00 UTC
    people = {s.id: sorted(b.student_id for b in db.scalars(select(Booking).where(Booking.slot_id == s.id)))
              for s in slots}
    assert people == {slots[0].id: [fatima.id], slots[1].id: [samir.id], slots[2].id: sorted([fatima.id, samir.id])}
    links = db.scalars(select(JoinToken).where(JoinToken.booking_id.is_not(None))).all()
    assert len({link.token for link in links}) == 4 and {link.user_id for link in links} == {fatima.id, samir.id}

    make_dispatcher(app).tick()
    to_fatima = "\n".join(m.get_body(("plain",)).get_content() for m in mail_server.mailbox.to(fatima.email))
    to_samir = "\n".join(r["json"]["content"] for r in brevo.requests if r["json"]["recipient"] == "33622222222")
    assert to_fatima.count("Rendez-vous au centre social") == 2 and len(to_samir.splitlines()) == 2
    for text, other in ((to_fatima, samir), (to_samir, fatima)):
        for detail in (other.name, other.phone, other.email or "@", "Samir" if other is samir else "Fatima",
                       "Conflit"):
            assert detail not in text
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    login(client, fatima.email)
    sessions = client.get("/sessions").get_data(as_text=True)
    assert "Samir" not in sessions and "33622222222" not in sessions
    hers = {b.slot_id: b.id for b in db.scalars(select(Booking).where(Booking.student_id == fatima.id))}
    alone = client.get(f"/sessions/{hers[slots[0].id]}").get_data(as_text=True)
    together = client.get(f"/sessions/{hers[slots[2].id]}").get_data(as_text=True)
    assert "Séance commune" not in alone and "Séance commune" in together and "Samir" not in together


def test_planning_refuses_a_child_and_a_non_mediator(db, monday, parties):
    fatima, _samir = parties
    _parent, [adam] = make_family(db, "Jean Petit", "Léa Petit")
    plan = MediationPlan(activity_id=MEDIATION, day=date(2027, 1, 13), start_time=time(14, 0), minutes=45,
                         party_ids=(fatima.id, adam.id), separate=True, joint=False)
    with pytest.raises(ServiceError) as child:
        plan_mediation(db, _mediator(db), plan, "Europe/Paris")
    assert child.value.field == "parties"
    with pytest.raises(ServiceError) as volunteer:
        plan_mediation(db, make_tutor(db, "Claire Martin"), plan, "Europe/Paris")
    assert volunteer.value.field == "activity_id"
    look_again(db)
    assert db.scalar(select(Slot.id)) is None


def _joint_session(db, parties):
    """Ousmane, a joint session with both parties on Wednesday 13 January at 14:00 (Paris), and
    each person's join token by their id."""
    ousmane = _mediator(db)
    [slot] = plan_mediation(db, ousmane, MediationPlan(
        activity_id=MEDIATION, day=date(2027, 1, 13), start_time=time(14, 0), minutes=45,
        party_ids=tuple(party.id for party in parties), separate=False, joint=True), "Europe/Paris")
    tokens = {row.user_id: row.token for row in db.scalars(select(JoinToken).where(JoinToken.slot_id == slot.id))}
    return ousmane, slot, tokens


def test_the_mediator_opens_the_room_first_and_the_parties_come_in_from_the_start(app, db, monday, parties):
    from scheduler_app.join.routes import jitsi_settings

    fatima, samir = parties
    ousmane, slot, tokens = _joint_session(db, parties)
    with app.app_context():
        jitsi = jitsi_settings()

        def state(person, moment):
            link = find_link(db, tokens[person.id])
            return answer(link, now=moment, opening=JoinOpening.from_config(app.config), jitsi=jitsi).state

        start = slot.starts_at
        assert state(ousmane, start - timedelta(minutes=16)) == "early"
        assert state(ousmane, start - timedelta(minutes=15)) == "open"
        assert state(fatima, start - timedelta(minutes=1)) == "early"
        assert state(samir, start - timedelta(minutes=1)) == "early"
        assert state(fatima, start) == "open" and state(samir, start) == "open"
    page = app.test_client().get(f"/j/{tokens[fatima.id]}").get_data(as_text=True)
    assert "Rendez-vous au centre social" in page and "Ousmane" not in page
    assert "salle d&#39;attente" not in page  # no lobby on this server: nobody is told to wait in one


# The server opens a lobby (docs/deploy.md), and Jitsi's moderator is the token's: the rule
# `flask check` asks for with JITSI_LOBBY.
LOBBY = {"JITSI_LOBBY": True, "JITSI_MODERATOR_FROM_TOKEN": True}


def _lobby_claims(user):
    return {key: user[key] for key in ("moderator", "lobby_bypass", "lobby") if key in user}


@pytest.mark.parametrize(("app_settings", "party_opens", "mediator", "party"), [
    ({}, timedelta(0), {"moderator": True}, {"moderator": False}),
    (LOBBY, timedelta(minutes=5), {"moderator": True, "lobby_bypass": True},
     {"moderator": False, "lobby_bypass": False, "lobby": True}),
], ids=["no-lobby", "lobby"])
def test_the_mediator_lets_the_parties_in_from_the_lobby_where_there_is_one(
        app, client, db, monday, frozen_clock, parties, app_settings, party_opens, mediator, party):
    fatima, samir = parties
    ousmane, slot, tokens = _joint_session(db, parties)
    jitsi = JitsiSettings.from_mapping(app.config)

    def visit(person, moment):
        frozen_clock(moment)
        return client.get(f"/j/{tokens[person.id]}")

    def claims(person, moment):
        response = visit(person, moment)
        assert response.status_code == 303, response.status_code
        token = fragment_values(response.headers["Location"])["jwt"]
        return _lobby_claims(verify_token(jitsi, token, slot.room_name, now=moment)["context"]["user"])

    start = slot.starts_at
    assert visit(ousmane, start - timedelta(minutes=16)).status_code == 200
    assert claims(ousmane, start - timedelta(minutes=15)) == mediator
    for person in (fatima, samir):
        assert visit(person, start - party_opens - timedelta(minutes=1)).status_code == 200
        assert claims(person, start - party_opens) == party


@pytest.mark.parametrize("app_settings", [LOBBY], ids=["lobby"])
def test_with_a_lobby_the_waiting_pages_say_in_easy_words_who_lets_whom_in(
        app, client, db, monday, frozen_clock, parties, app_settings):
    import textstat
    from test_easy_read import READING_EASE, SENTENCE_WORDS, sentences, words

    fatima, samir = parties
    ousmane, slot, tokens = _joint_session(db, parties)
    frozen_clock(slot.starts_at - timedelta(minutes=30))
    pages = {person.name: client.get(f"/j/{tokens[person.id]}").get_data(as_text=True).replace("&#39;", "'")
             for person in (fatima, ousmane)}
    told = "Vous attendrez d'abord dans la salle d'attente. Le médiateur vous fera entrer."
    assert told in pages["Fatima Haddou"] and "C'est vous qui les faites entrer" not in pages["Fatima Haddou"]
    assert "Les personnes attendent dans la salle d'attente. C'est vous qui les faites entrer." in pages[
        "Ousmane Diallo"] and told not in pages["Ousmane Diallo"]
    assert "Ousmane" not in pages["Fatima Haddou"]  # "the mediator", never their name
    textstat.set_lang("fr")
    assert all(len(words(sentence)) <= SENTENCE_WORDS for sentence in sentences(told))
    assert textstat.flesch_reading_ease(told) >= READING_EASE


def test_a_mediation_booked_for_a_child_before_kinds_existed_stays_out_of_homework_and_other_parents_pages(
        app, client, db, monday):
    """Data from before this rule: the issue's mediation booked "for" Adam, with its note."""
    from scheduler_app.services.attendance import mark
    from scheduler_app.services.feeds import feed_token

    karim, ousmane = make_tutor(db, "Karim Haddad"), _mediator(db)
    fatima, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    samir = make_person(db, "parent", "Samir Haddou")
    db.add(Guardianship(parent_id=samir.id, student_id=adam.id))
    db.commit()
    earlier_lesson = book_slot(db, make_slot(db, karim, starts_in=timedelta(days=1)).id, adam, fatima)
    mediation = make_slot(db, ousmane, activity_id=MEDIATION, subject="", level="", starts_in=timedelta(days=2))
    old = Booking(slot_id=mediation.id, student_id=adam.id, booked_by_id=fatima.id, topic="conflit avec son père",
                  starts_at=mediation.starts_at, ends_at=mediation.ends_at)
    db.add(old)
    mediation.booked = 1
    db.add(JoinToken(slot_id=mediation.id, booking_id=old.id, user_id=samir.id))
    db.commit()
    lesson = make_slot(db, karim, starts_in=timedelta(days=5))
    book_slot(db, lesson.id, adam, fatima)
    # The mediator also helps with homework: there too, only homework notes.
    his_lesson = make_slot(db, ousmane, starts_in=timedelta(days=6))
    book_slot(db, his_lesson.id, adam, fatima)
    monday_after = mediation.ends_at + timedelta(hours=1)
    from scheduler_app import clock
    clock.set_now(monday_after)
    mark(db, old, present=True, note="Conflit autour de la garde ; père absent.")
    mark(db, earlier_lesson, present=True, note="Les fractions sont comprises.")

    login(client, karim.email)
    page = client.get(f"/slots/{lesson.id}").get_data(as_text=True)
    assert "Les fractions sont comprises." in page  # a homework note reaches the next homework tutor
    assert "garde" not in page and "conflit" not in page
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    login(client, ousmane.email)
    page = client.get(f"/slots/{his_lesson.id}").get_data(as_text=True)
    assert "Les fractions sont comprises." in page and "garde" not in page
    assert "conflit avec son père" in client.get(f"/slots/{mediation.id}").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(page)})

    login(client, samir.email)
    sessions = client.get("/sessions").get_data(as_text=True)
    assert "Médiation familiale" not in sessions and "Karim Haddad" in sessions
    assert client.get(f"/sessions/{old.id}").status_code == 403
    look_again(db)
    feed = client.get(f"/calendar/{feed_token(db, samir).secret}.ics").get_data(as_text=True)
    assert "Rendez-vous au centre social" not in feed and "Aide aux devoirs" in feed
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/profile").get_data(as_text=True))})
    login(client, fatima.email)  # who booked it still finds it
    assert client.get(f"/sessions/{old.id}").status_code == 200


def test_the_first_mediation_coordinator_is_marked_from_the_command_line(app, db):
    nadia = make_person(db, "coordinator", "Nadia Benali")
    make_family(db, "Fatima Haddou", "Adam Haddou")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["mediator", "fatima.haddou@example.org"]).exit_code != 0  # not staff
    result = runner.invoke(args=["mediator", "Nadia.Benali@example.org"])
    assert result.exit_code == 0, result.output
    look_again(db)
    assert db.get(User, nadia.id).mediator
    runner.invoke(args=["mediator", "nadia.benali@example.org", "--off"])
    look_again(db)
    assert not db.get(User, nadia.id).mediator


def test_students_are_offered_homework_help_and_a_coordinator_booking_for_an_adult_mediation(client, db, monday):
    mediation = make_slot(db, _mediator(db), activity_id=MEDIATION, subject="", level="")
    homework = make_slot(db, make_tutor(db), starts_in=timedelta(days=3))
    fatima, _kids = make_family(db, "Fatima Haddou", "Adam Haddou")
    login(client, make_person(db, "student", "Yasmine Haddou").email)
    offered = client.get("/slots").get_data(as_text=True)
    assert f"/slots/{homework.id}/book" in offered and f"/slots/{mediation.id}/book" not in offered
    client.post("/logout", data={"csrf_token": csrf_token(offered)})
    login(client, fatima.email)
    offered = client.get("/slots").get_data(as_text=True)
    assert f"/slots/{homework.id}/book" in offered and f"/slots/{mediation.id}/book" in offered
    client.post("/logout", data={"csrf_token": csrf_token(offered)})
    look_again(db)
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    offered = client.get(f"/slots?for={fatima.id}").get_data(as_text=True)
    assert f"/slots/{mediation.id}/book" in offered and f"/slots/{homework.id}/book" not in offered
