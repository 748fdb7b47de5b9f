"""The coordinator's day ("today" board) and the printable weekly planning."""

from datetime import date, timedelta

from flask import render_template, request

from .. import db
from ..access import role_required
from ..clock import now_utc
from ..forms import as_id
from ..i18n import viewer_zone
from ..services.centre_day import day_board, week_planning
from ..services.people import tutor_names
from .routes import bp


def _day_from(text: str | None, default: date) -> date:
    """A day from ?day=YYYY-MM-DD; anything else (or out of range) is `default`."""
    try:
        chosen = date.fromisoformat(text or "")
    except ValueError:
        return default
    return chosen if date(2000, 1, 1) <= chosen <= date(2100, 12, 31) else default


@bp.route("/today")
@role_required("coordinator")
def today():
    zone = viewer_zone()
    day = _day_from(request.args.get("day"), now_utc().astimezone(zone).date())
    return render_template("admin/today.html", day=day, rows=day_board(db.session(), day, zone),
                           previous=day - timedelta(days=1), following=day + timedelta(days=1))


@bp.route("/planning")
@role_required("coordinator")
def planning():
    zone = viewer_zone()
    chosen = _day_from(request.args.get("week"), now_utc().astimezone(zone).date())
    monday = chosen - timedelta(days=chosen.weekday())
    tutor_id = as_id(request.args.get("tutor"))
    return render_template("admin/planning.html", monday=monday, days=[monday + timedelta(days=n) for n in range(7)],
                           planning=week_planning(db.session(), monday, zone, tutor_id),
                           tutors=tutor_names(db.session()), tutor_id=tutor_id,
                           previous=monday - timedelta(days=7), following=monday + timedelta(days=7))
