"""Each page makes as many SQL statements with 30 sessions on it as with 3: a page that loads
something per row (an N+1) fails here. Counted with an engine event on every statement sent.

The pages are the ones bench/pages.py measures: the slot browser (with and without filters),
a student's and a parent's sessions, a tutor's sessions (with the page of one of them and the
page to mark attendance), calendar feeds, and the join redirect.
"""

import re
from datetime import timedelta
from html import unescape

import pytest
from factories import counting, login, make_person, make_slot, make_tutor
from sqlalchemy import select

from scheduler_app.models import Booking, Guardianship, JoinToken
from scheduler_app.services.attendance import mark
from scheduler_app.services.booking import book_slot
from scheduler_app.services.family import SESSIONS_PAGE
from scheduler_app.services.feeds import feed_token
from scheduler_app.services.tutor_sessions import MARK_SHOWN, TUTOR_PAGE

SMALL, LARGE = 3, 30
NOW_TO_MEASURE = timedelta(hours=70)  # past sessions (to mark) behind, this week and later ahead


class Centre:
    """A tutor, a family (a parent with many children, one of whom logs in) and other tutors,
    with `n` of everything added on demand."""

    def __init__(self, app, db, frozen_clock):
        self.app, self.db, self.clock = app, db, frozen_clock
        self.start = frozen_clock(_now())
        self.tutor = make_tutor(db, "Karim Haddad", subjects=("maths",), levels=("college",), languages=("fr", "ar"))
        self.parent = make_person(db, "parent", "Fatima Haddou")
        self.student = make_person(db, "student", "Yasmine Haddou")
        db.add(Guardianship(parent_id=self.parent.id, student_id=self.student.id))
        db.commit()
        live = make_slot(db, self.tutor, starts_in=NOW_TO_MEASURE - timedelta(minutes=5))
        book_slot(db, live.id, self.student, self.student)
        self.live_link = db.scalar(select(JoinToken.token).where(JoinToken.slot_id == live.id,
                                                                 JoinToken.user_id == self.student.id))
        self.size = 0

    def grow_to(self, size: int) -> None:
        """Add sessions up to `size` of each kind: past ones (marked, with notes), booked and
        free ones to come, each past and booked one shared with a student of its own."""
        self.clock(self.start)
        past_marks = []
        for i in range(self.size, size):
            # Rows that differ on each card (another child, another tutor), so that a relation
            # loaded one row at a time shows as more statements.
            other = make_person(self.db, "student", f"Élève {i}")
            self.db.add(Guardianship(parent_id=self.parent.id, student_id=other.id))
            self.db.commit()
            past = make_slot(self.db, self.tutor, starts_in=timedelta(hours=1 + 2 * i), capacity=2)
            booked = make_slot(self.db, self.tutor, starts_in=timedelta(days=3, hours=5 * i), capacity=2)
            tutor = make_tutor(self.db, f"Tuteur {i}")
            free = make_slot(self.db, tutor, starts_in=timedelta(days=3, hours=5 * i + 2), capacity=2)
            for slot in (past, booked):
                book_slot(self.db, slot.id, other, other, "les fractions")
                book_slot(self.db, slot.id, self.student, self.parent, "")
            book_slot(self.db, free.id, self.student, self.student, "")  # with another tutor each time
            past_marks.append(past)
            if i == 0:
                self.first_booked = booked
        self.clock(self.start + NOW_TO_MEASURE)
        for slot in past_marks:
            # The other student marked, with a note; Yasmine is still to be marked.
            for booking in self.db.scalars(select(Booking).where(Booking.slot_id == slot.id,
                                                                 Booking.student_id != self.student.id)):
                mark(self.db, booking, present=True, note="A revu les fractions.")
        self.size = size

    def pages(self) -> dict[str, tuple[str, str, int]]:
        """name -> (who, address, expected status)."""
        return {
            "floor (/health/live)": ("nobody", "/health/live", 200),
            "slot browser": ("student", "/slots", 200),
            "slot browser, filtered": ("student", "/slots?activity=1&subject=maths&level=college&language=ar", 200),
            "student's sessions": ("student", "/sessions", 200),
            "parent's sessions": ("parent", "/sessions", 200),
            "tutor's sessions": ("tutor", "/slots/mine", 200),
            "tutor's session page": ("tutor", f"/slots/{self.first_booked.id}", 200),
            "tutor's sessions to mark": ("tutor", "/slots/to-mark", 200),
            "tutor's calendar feed": ("nobody", f"/calendar/{feed_token(self.db, self.tutor).secret}.ics", 200),
            "parent's calendar feed": ("nobody", f"/calendar/{feed_token(self.db, self.parent).secret}.ics", 200),
            "join link": ("nobody", f"/j/{self.live_link}", 303),
        }


def _now():
    from scheduler_app.clock import now_utc

    return now_utc().replace(second=0, microsecond=0)


def statements_per_page(app, centre: Centre) -> dict[str, int]:
    clients = {"nobody": app.test_client()}
    for who in ("student", "parent", "tutor"):
        clients[who] = app.test_client()
        login(clients[who], getattr(centre, who).email)
    counts = {}
    for name, (who, address, status) in centre.pages().items():
        # Cold (nothing cached: rendered cards and feeds), then warm, as read all day long.
        app.extensions["lien_feed_cache"].clear()
        app.extensions["lien_fragment_cache"].clear()
        for state in ("cold", "warm"):
            with counting(app) as statements:
                response = clients[who].get(address)
            assert response.status_code == status, (name, response.status_code)
            counts[f"{name} ({state})"] = len(statements)
    return counts


def test_every_page_makes_as_many_statements_for_30_sessions_as_for_3(app, db, frozen_clock):
    centre = Centre(app, db, frozen_clock)
    centre.grow_to(SMALL)
    small = statements_per_page(app, centre)
    centre.grow_to(LARGE)
    large = statements_per_page(app, centre)
    assert large == small, f"{SMALL} sessions: {small}\n{LARGE} sessions: {large}"
    assert small["floor (/health/live) (cold)"] == small["floor (/health/live) (warm)"] == 0
    assert all(count <= 12 for count in small.values()), small  # and a handful each


@pytest.fixture
def centre_pages_show_everything(app, db, frozen_clock):
    """The larger centre really shows its 30 sessions (the counts above compare full pages)."""
    centre = Centre(app, db, frozen_clock)
    centre.grow_to(LARGE)
    return centre


def test_the_pages_counted_show_every_session(app, centre_pages_show_everything):
    centre = centre_pages_show_everything
    client = app.test_client()
    login(client, centre.student.email)
    # A page at a time (SESSIONS_PAGE cards and a link to the next): walked to the end, every one.
    cards, address, pages = [], "/sessions", 0
    while address:
        html = client.get(address).get_data(as_text=True)
        page = re.findall(r'href="/sessions/(\d+)"', html)
        assert page and len(page) <= SESSIONS_PAGE
        cards += page
        found = re.search(r'href="([^"]+)" rel="next"', html)
        address, pages = found and unescape(found.group(1)), pages + 1
    assert len(set(cards)) == len(cards) >= LARGE + 1  # + the live one
    assert pages >= (LARGE + 1) / SESSIONS_PAGE
    tutor = app.test_client()
    login(tutor, centre.tutor.email)
    html = tutor.get("/slots/mine").get_data(as_text=True)
    assert f"{LARGE + 1} séances passées à marquer" in html and len(re.findall(r'href="/slots/(\d+)"', html)) == TUTOR_PAGE  # + the live one, begun
    html = tutor.get(f"/slots/{centre.first_booked.id}").get_data(as_text=True)
    assert "A revu les fractions." in html  # the earlier note beside the student to come
    html = tutor.get("/slots/to-mark").get_data(as_text=True)
    # The latest MARK_SHOWN, each with both students (the marked one too), but the live one: Yasmine's alone.
    assert html.count('id="booking-') == 2 * MARK_SHOWN - 1
    feed = app.test_client().get(centre.pages()["tutor's calendar feed"][1]).get_data(as_text=True)
    assert feed.count("BEGIN:VEVENT") == 2 * LARGE + 1
