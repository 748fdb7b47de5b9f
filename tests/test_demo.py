"""`flask demo` loads the people the README lists, and running it again adds nothing."""

from factories import login
from sqlalchemy import func, select

from scheduler_app.demo import DEMO_PASSWORD
from scheduler_app.models import AvailabilityRule, Booking, Slot, User


def test_the_demo_loads_once_and_its_accounts_log_in(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    counts = [db.scalar(select(func.count()).select_from(table)) for table in (User, Slot, Booking, AvailabilityRule)]
    assert counts[0] == 9 and counts[1] > 0 and counts[2] >= 1 and counts[3] == 1
    again = runner.invoke(args=["demo"])
    assert "0 people, 0 slots, 0 bookings" in again.output
    db.expire_all()
    assert [db.scalar(select(func.count()).select_from(table)) for table in (User, Slot, Booking, AvailabilityRule)] == counts
    client = app.test_client()
    for email, heading in [("coordination@example.org", "Personnes"), ("tuteur@example.org", "Mes créneaux"),
                           ("eleve@example.org", "Mes séances"), ("parent@example.org", "Mes séances")]:
        page = login(client, email, DEMO_PASSWORD)
        assert f"<h1>{heading}</h1>" in page.get_data(as_text=True), email
        client.delete_cookie("session")
