"""A mother books her son every Wednesday at 14:00 until the end of the term, on her phone, sees
which weeks have no session and why, then cancels the weeks to come."""

from datetime import date, time, timedelta

import pytest
from factories import HOMEWORK, PASSWORD, look_again, make_family, make_tutor
from sqlalchemy import select
from vacances_scolaires_france import SchoolHolidayDates

from scheduler_app.models import Booking, Slot
from scheduler_app.services.availability import WeeklyPlan, save_rule
from scheduler_app.services.centre_calendar import save_calendar_settings

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("way_name", ["phone-fr", "phone-en", "phone-fr-nojs"])
def test_a_mother_books_every_wednesday_until_the_end_of_term_and_cancels_the_rest(db, week, open_tab, way_name):
    save_calendar_settings(db, "C", "")
    karim = make_tutor(db, "Karim Haddad")
    save_rule(db, karim, WeeklyPlan(activity_id=HOMEWORK, weekdays=("WE",), start_time=time(14, 0),
                                    end_time=time(14, 45), session_minutes=45, valid_from=date(2027, 1, 11),
                                    subject="maths", level="college"))
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    first = db.scalar(select(Slot).order_by(Slot.starts_at))
    # Expected from the package: Wednesdays from 13 January to the eve of zone C's spring holidays.
    dates = SchoolHolidayDates()
    spring = min(day for day in dates.data if day > date(2027, 3, 1) and dates.is_holiday_for_zone(day, "C"))
    wednesdays = [date(2027, 1, 13) + timedelta(weeks=n) for n in range(20)
                  if date(2027, 1, 13) + timedelta(weeks=n) < spring]
    holidays = [day for day in wednesdays if dates.is_holiday_for_zone(day, "C")]
    booked = len(wednesdays) - len(holidays)

    tab = open_tab(way_name)
    tab.log_in(parent.email, PASSWORD)
    tab.arrive(tab.t("Mes séances"))
    tab.choose_language()
    tab.goto(f"/slots/{first.id}/book")
    tab.arrive(tab.t("Réserver"))
    tab.click("link", tab.t("Réserver chaque semaine à cette heure"))

    tab.arrive(tab.t("Réserver chaque semaine"))
    assert tab.main.get_by_role("radio").first.is_checked()  # the end of the term, ready
    tab.main.get_by_label(tab.t("Sur quoi avez-vous besoin d'aide ?")).fill("la lecture")
    tab.main.get_by_role("button", name=tab.t("Réserver chaque semaine")).click()

    tab.arrive(tab.tn("%(num)d séance réservée pour %(name)s", "%(num)d séances réservées pour %(name)s",
                      booked, name="Adam Haddou"))
    assert tab.tn("%(num)d semaine sans séance", "%(num)d semaines sans séance", len(holidays)) in tab.text()
    assert tab.text().count(tab.t("Le centre est fermé : %(why)s.", why=tab.t("Vacances d'hiver"))) == len(holidays)
    tab.screenshot("enrolment-done", until=tab.main.locator(".missed"))
    tab.click("link", tab.t("Voir et gérer ces séances"))

    tab.arrive(tab.t("Chaque semaine pour %(name)s", name="Adam Haddou"))
    tab.click("button", tab.t("Annuler toutes les séances à venir"))
    tab.arrive(tab.t("Chaque semaine pour %(name)s", name="Adam Haddou"))
    assert tab.tn("%(num)d séance annulée. Les places sont libres pour d'autres élèves.",
                  "%(num)d séances annulées. Les places sont libres pour d'autres élèves.", booked) in tab.flash()
    look_again(db)
    assert set(db.scalars(select(Booking.status))) == {"cancelled"}
