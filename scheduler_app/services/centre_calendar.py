"""The centre's calendar: the days weekly availability skips, and the school year's bounds.

A day is closed when it falls in the school holidays of the centre's zone (from
`vacances-scolaires-france`, whose data ships inside the package), on a public holiday of its
subdivision (from `holidays`: Alsace-Moselle keeps Good Friday and 26 December, overseas
departments their own days), or on a closure day the coordinator added (Corsica's and overseas
school holidays, which neither package holds, are entered that way).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..clock import now_utc
from ..db import write_transaction
from ..models import HOLIDAY_ZONES, CentreCalendar, ClosureDay, Slot
from . import ServiceError
from .localtime import check_day, say_day

# The `holidays` subdivisions of France a centre may follow for its public holidays.
PUBLIC_HOLIDAY_AREAS = {
    "": _l("France (hors Alsace et Moselle)"),
    "6AE": _l("Alsace (Bas-Rhin, Haut-Rhin)"),
    "57": _l("Moselle"),
    "971": _l("Guadeloupe"),
    "972": _l("Martinique"),
    "973": _l("Guyane"),
    "974": _l("La Réunion"),
    "976": _l("Mayotte"),
}

# The names vacances-scolaires-france gives, said in the reader's language.
SCHOOL_HOLIDAY_NAMES = {
    "Vacances de la Toussaint": _l("Vacances de la Toussaint"),
    "Vacances de Noël": _l("Vacances de Noël"),
    "Vacances d'hiver": _l("Vacances d'hiver"),
    "Vacances de printemps": _l("Vacances de printemps"),
    "Pont de l'Ascension": _l("Pont de l'Ascension"),
    "Vacances d'été": _l("Vacances d'été"),
}

# The three terms end where these holidays begin.
TERM_ENDING_HOLIDAYS = ("Vacances de Noël", "Vacances de printemps", "Vacances d'été")


@dataclass(frozen=True)
class ClosedDay:
    day: date
    kind: str  # "school", "public" or "closure"
    name: str


@cache
def _school_holidays():
    """The package's table, read from its CSV once per process, when first needed."""
    from vacances_scolaires_france import SchoolHolidayDates

    return SchoolHolidayDates()


def centre_calendar(db: Session) -> CentreCalendar:
    """The centre's settings (unsaved defaults until the coordinator saves them)."""
    return db.get(CentreCalendar, 1) or CentreCalendar(id=1, holiday_zone=None, public_holidays="")


def closure_days(db: Session, since: date) -> list[ClosureDay]:
    """The closure days from `since` on, soonest first."""
    return list(db.scalars(select(ClosureDay).where(ClosureDay.day >= since).order_by(ClosureDay.day)))


def refuse_closure_days(db: Session, days: list[date], field: str | Callable[[date], str]) -> None:
    """A ServiceError naming the first of `days` the coordinator closed the centre on, and why:
    no session is opened on such a day. `field` is the form field to name, or gives it for the
    day. School and public holidays are left to the tutor: weekly availability skips them, but
    a session chosen for one of them is meant (a revision day before an exam)."""
    closure = db.scalar(select(ClosureDay).where(ClosureDay.day.in_(set(days))).order_by(ClosureDay.day).limit(1))
    if closure is not None:
        raise ServiceError(_l("Le centre est fermé le %(day)s : %(why)s. Choisissez un autre jour.",
                              day=say_day(closure.day), why=closure.reason or _l("fermeture")),
                           field=field(closure.day) if callable(field) else field)


def school_holidays(zone: str | None, first: date, last: date) -> dict[date, str]:
    """The school-holiday days of `zone` from `first` to `last`, with their holiday's name."""
    if zone is None:
        return {}
    table = _school_holidays()
    found = {}
    day = max(first, date(table.min_year, 1, 1))
    last = min(last, date(table.max_year, 12, 31))
    while day <= last:
        row = table.data.get(day)
        if row is not None and row[table.zone_key(zone)]:
            found[day] = row["nom_vacances"]
        day += timedelta(days=1)
    return found


def public_holidays(area: str, first: date, last: date, language: str = "fr") -> dict[date, str]:
    """France's public holidays in `area` (a subdivision code, "" for mainland France)."""
    import holidays

    days = holidays.France(subdiv=area or None, years=range(first.year, last.year + 1),
                           language="fr" if language == "fr" else "en_US")
    return {day: name for day, name in sorted(days.items()) if first <= day <= last}


def closed_days(db: Session, first: date, last: date) -> dict[date, ClosedDay]:
    """Every day from `first` to `last` on which the centre opens no weekly session."""
    settings = centre_calendar(db)
    language = str(get_locale() or "fr") if _has_request() else "fr"
    closed: dict[date, ClosedDay] = {}
    for day, name in school_holidays(settings.holiday_zone, first, last).items():
        closed[day] = ClosedDay(day, "school", str(SCHOOL_HOLIDAY_NAMES.get(name, name)))
    # A public holiday inside the school holidays is named as the public holiday.
    for day, name in public_holidays(settings.public_holidays, first, last, language).items():
        closed[day] = ClosedDay(day, "public", name)
    for closure in db.scalars(select(ClosureDay).where(ClosureDay.day >= first, ClosureDay.day <= last)):
        closed[closure.day] = ClosedDay(closure.day, "closure", closure.reason)
    return dict(sorted(closed.items()))


def school_year(zone: str, day: date) -> tuple[date, date]:
    """The first and last school days of the school year `day` belongs to (summer counts
    with the year that follows it)."""
    summers = _summers(zone)
    for summer_start, _summer_end in summers:
        if day < summer_start:
            previous = [end for start, end in summers if end < summer_start]
            if not previous:
                break
            return previous[-1] + timedelta(days=1), summer_start - timedelta(days=1)
    raise ServiceError(_l("Les dates de vacances scolaires de cette année ne sont pas encore connues."))


def term_end(zone: str, day: date) -> date:
    """The last school day of the term holding `day`: the day before Christmas, spring or summer
    holidays."""
    table = _school_holidays()
    for holiday_day in sorted(table.data):
        row = table.data[holiday_day]
        if (holiday_day > day and row[table.zone_key(zone)] and row["nom_vacances"] in TERM_ENDING_HOLIDAYS
                and not row_is_holiday(table, zone, holiday_day - timedelta(days=1))):
            return holiday_day - timedelta(days=1)
    raise ServiceError(_l("Les dates de vacances scolaires de cette année ne sont pas encore connues."))


def row_is_holiday(table, zone: str, day: date) -> bool:
    row = table.data.get(day)
    return row is not None and row[table.zone_key(zone)]


def _summers(zone: str) -> list[tuple[date, date]]:
    """The summer holidays of `zone`, as (first day, last day), oldest first."""
    table = _school_holidays()
    runs: list[list[date]] = []
    for day in sorted(table.data):
        row = table.data[day]
        if row["nom_vacances"] != "Vacances d'été" or not row[table.zone_key(zone)]:
            continue
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(start, end) for start, end in runs]


def save_calendar_settings(db: Session, zone: str | None, area: str, *, now: datetime | None = None) -> list[Slot]:
    """Set the zone and the public-holiday area; weekly availability follows at once. Returns the
    booked sessions that now fall on a closed day (kept, for the coordinator to move or cancel)."""
    if zone not in HOLIDAY_ZONES:
        raise ServiceError(_l("Choisissez la zone A, B ou C."), field="holiday_zone")
    if area not in PUBLIC_HOLIDAY_AREAS:
        raise ServiceError(_l("Choisissez une région de la liste."), field="public_holidays")
    with write_transaction(db):
        settings = db.get(CentreCalendar, 1)
        if settings is None:
            settings = CentreCalendar(id=1)
            db.add(settings)
        settings.holiday_zone, settings.public_holidays = zone, area
    return _follow(db, now or now_utc())


def add_closure_day(db: Session, day: date, reason: str, today: date, *,
                    now: datetime | None = None) -> list[Slot]:
    """Close the centre on `day`; returns the booked sessions on that day (kept, as above)."""
    if day < today:
        raise ServiceError(_l("Ce jour est déjà passé."), field="day")
    check_day(day, today, field="day")  # within the bounds of any typed date (services/localtime.py)
    try:
        with write_transaction(db):
            db.add(ClosureDay(day=day, reason=reason.strip()))
    except IntegrityError:
        raise ServiceError(_l("Ce jour est déjà fermé."), field="day") from None
    return _follow(db, now or now_utc())


def remove_closure_day(db: Session, closure_id: int, *, now: datetime | None = None) -> None:
    """Open the centre again on a closure day: weekly availability opens its slots again."""
    with write_transaction(db):
        closure = db.get(ClosureDay, closure_id)
        if closure is None:
            raise ServiceError(_l("Ce jour de fermeture n'existe plus."))
        db.delete(closure)
    _follow(db, now or now_utc())


def _follow(db: Session, now: datetime) -> list[Slot]:
    from .availability import materialise, release_closed_days

    still_booked = release_closed_days(db, now)
    materialise(db, now)
    return still_booked


def _has_request() -> bool:
    from flask import has_request_context

    return has_request_context()
