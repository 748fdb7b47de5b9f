"""Attendance reports for the centre and its funders: per month, activity, tutor or student."""

import csv
import io
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Activity, Booking, Slot, User

# A cancellation this close to the start counts against attendance: the place was lost.
LATE_CANCELLATION = timedelta(hours=24)
GROUPINGS = ("month", "activity", "tutor", "student")


@dataclass
class Line:
    """One line of the report: a month, an activity, a tutor or a student."""

    label: str
    booked: int = 0
    attended: int = 0
    absent: int = 0
    cancelled_late: int = 0
    not_marked: int = 0

    @property
    def rate(self) -> float | None:
        """Share of marked sessions attended, or None before any is marked."""
        marked = self.attended + self.absent
        return self.attended / marked if marked else None


@dataclass
class Report:
    grouping: str
    lines: list[Line] = field(default_factory=list)
    total: Line = field(default_factory=lambda: Line(label=""))


def attendance(db: Session, *, start: datetime, end: datetime, grouping: str, tz: str,
               month_name=lambda moment: moment.strftime("%Y-%m")) -> Report:
    """Bookings of sessions between start and end, counted per group, in one query.

    booked: every booking except those cancelled early (more than 24 h before);
    attended / absent: as the tutor marked them; cancelled_late: cancelled within 24 h;
    not_marked: still confirmed (the session is to come, or the tutor has not marked it)."""
    if grouping not in GROUPINGS:
        raise ValueError(f"grouping must be one of {GROUPINGS}")
    Student = User.__table__.alias("student")
    Tutor = User.__table__.alias("tutor")
    rows = db.execute(
        select(Booking.status, Booking.starts_at, Booking.cancelled_at, Activity.name, Tutor.c.name, Student.c.name,
               Student.c.id, Activity.kind)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(Activity, Activity.id == Slot.activity_id)
        .join(Tutor, Tutor.c.id == Slot.tutor_id)
        .join(Student, Student.c.id == Booking.student_id)
        .where(Booking.starts_at >= start, Booking.starts_at < end)
        .order_by(Booking.starts_at)
    ).all()
    zone = ZoneInfo(tz)
    lines: dict[str, Line] = OrderedDict()
    report = Report(grouping=grouping)
    for status, starts_at, cancelled_at, activity, tutor, student, _student_id, kind in rows:
        late = status == "cancelled" and cancelled_at is not None and starts_at - cancelled_at < LATE_CANCELLATION
        if status == "cancelled" and not late:
            continue
        if grouping == "month":
            label = month_name(starts_at.astimezone(zone))
        elif grouping == "student":
            # Mediations are counted, never named: who came to one is the mediator's to know.
            label = activity if kind == "mediation" else student
        else:
            label = activity if grouping == "activity" else tutor
        line = lines.setdefault(label, Line(label=label))
        for target in (line, report.total):
            target.booked += 1
            if late:
                target.cancelled_late += 1
            elif status == "attended":
                target.attended += 1
            elif status == "absent":
                target.absent += 1
            else:
                target.not_marked += 1
    report.lines = list(lines.values()) if grouping == "month" else sorted(lines.values(), key=lambda l: l.label)
    return report


# A spreadsheet reads a cell that begins with one of these as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# ... and a formula may begin after a field separator or a quote inside a text, for a reader that
# splits the cell there: `Adam;=HYPERLINK(...)`.
_INNER_FORMULA = re.compile(r"""(?<=[;,'"])(\s*)(?=[=+\-@])""")


def neutralise(text: str) -> str:
    """A text as a spreadsheet shows it and never runs it: a single quote before a formula's
    first character, at the start and after a separator or quote (OWASP's CSV Injection rule;
    defusedcsv leaves out tab, carriage return, line feed and "-2")."""
    text = _INNER_FORMULA.sub(r"\1'", text)
    return "'" + text if text.lstrip(" ").startswith(FORMULA_START) else text


def to_csv(report: Report, headings: list[str], total_label: str) -> bytes:
    """The report as CSV a French spreadsheet opens right: UTF-8 with a BOM, ';' between fields.

    Every text is neutralised and quoted, its quotes doubled (OWASP); counts stay numbers."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([neutralise(heading) for heading in headings])
    for line in [*report.lines, Line(total_label, report.total.booked, report.total.attended, report.total.absent,
                                     report.total.cancelled_late, report.total.not_marked)]:
        writer.writerow([neutralise(line.label), line.booked, line.attended, line.absent, line.cancelled_late,
                         line.not_marked])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")
