"""Attendance for the funders: counted per month, activity, tutor or student, and a CSV that a
French spreadsheet opens with its accents right."""

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from factories import MEDIATION, login, make_family, make_person, make_slot, make_tutor
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
    bookings = [book_slot(db, slot.id, kid, parent) for slot, kid in zip(slots[:3], kids)]
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
