"""The coordinator's day: a board of today's sessions (tutor, families, who came, failed
messages, absences) and a weekly planning per tutor and per day that prints cleanly."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from factories import login, make_family, make_person, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import Notification
from scheduler_app.services.absences import declare_absence
from scheduler_app.services.attendance import mark
from scheduler_app.services.booking import book_slot

MONDAY = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # 8:00 in Paris


def test_the_today_board_shows_each_session_with_its_people_marks_failures_and_absences(client, db, frozen_clock):
    frozen_clock(MONDAY)
    karim, claire = make_tutor(db, "Karim Haddad"), make_tutor(db, "Claire Martin")
    morning = make_slot(db, karim, starts_in=timedelta(hours=2))  # 10:00
    afternoon = make_slot(db, claire, starts_in=timedelta(hours=7))  # 15:00
    make_slot(db, karim, starts_in=timedelta(days=1))  # tomorrow: not on today's board
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    _, [lea] = make_family(db, "Jean Petit", "Léa Petit")
    came = book_slot(db, morning.id, adam, parent)
    book_slot(db, afternoon.id, lea, lea)
    failed = db.scalar(select(Notification).where(Notification.slot_id == afternoon.id))
    failed.status = "failed"
    db.commit()
    declare_absence(db, claire, afternoon.id, "malade")
    frozen_clock(MONDAY + timedelta(hours=2, minutes=5))
    mark(db, came, present=True)
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    login(client, coordinator.email)

    html = client.get("/admin/today").get_data(as_text=True)

    assert "La journée du lundi 1 mars" in html
    board = html[html.index('class="cards board"'):]
    assert board.index("Karim Haddad") < board.index("Claire Martin")  # in order of the day
    assert "Adam Haddou — présent" in board and "Léa Petit — pas encore marqué" in board
    assert "1 message non envoyé" in board and "Tuteur absent : à régler." in board
    assert board.count("<li class=\"card") == 2
    assert client.get("/admin/today?day=not-a-day").status_code == 200
    assert client.get("/admin/today?day=9999-12-31").status_code == 200


def test_the_weekly_planning_groups_sessions_per_tutor_and_day_and_prints(client, db, frozen_clock):
    frozen_clock(MONDAY)
    karim, claire = make_tutor(db, "Karim Haddad"), make_tutor(db, "Claire Martin")
    make_slot(db, karim, starts_in=timedelta(days=2, hours=7))  # Wednesday 15:00
    make_slot(db, karim, starts_in=timedelta(days=2, hours=8))  # Wednesday 16:00
    make_slot(db, claire, starts_in=timedelta(days=4, hours=3))  # Friday 11:00
    make_slot(db, claire, starts_in=timedelta(days=8))  # next week
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    login(client, coordinator.email)

    html = client.get("/admin/planning?week=2027-03-03").get_data(as_text=True)

    assert "Planning de la semaine du lundi 1 mars" in html
    assert html.index("<h2>Claire Martin</h2>") < html.index("<h2>Karim Haddad</h2>")
    karim_part = html[html.index("<h2>Karim Haddad</h2>"):]
    assert "mercredi 3 mars" in karim_part and karim_part.count("0 inscrit") == 2
    assert "lundi 8 mars" not in html
    only_claire = client.get(f"/admin/planning?week=2027-03-01&tutor={claire.id}").get_data(as_text=True)
    assert "<h2>Claire Martin</h2>" in only_claire and "<h2>Karim Haddad</h2>" not in only_claire
    css = (Path(__file__).resolve().parent.parent / "scheduler_app" / "static" / "style.css").read_text()
    print_rules = css[css.index("@media print"):]
    assert "header.top" in print_rules and ".planning { break-after: page; }" in print_rules
    assert 'class="no-print"' in html and 'class="planning"' in html
