"""Long lists come a page at a time: every slot once, in order, whatever ties in start time; a
tutor pages through their sessions."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

from factories import login, make_family, make_slot, make_tutor

from scheduler_app.services.browse import BROWSE_PAGE


def walk(client, address: str) -> tuple[list[int], int]:
    """The slot ids of every page from `address` on, following rel="next"; and how many pages."""
    seen, pages = [], 0
    while address:
        html = client.get(address).get_data(as_text=True)
        seen += [int(slot_id) for slot_id in re.findall(r'href="/slots/(\d+)/book"', html)]
        found = re.search(r'href="([^"]+)" rel="next"', html)
        address, pages = found and unescape(found.group(1)), pages + 1
    return seen, pages


def test_the_browser_shows_every_free_slot_once_in_order_a_page_at_a_time(client, db, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutors = [make_tutor(db, f"Tuteur {n}") for n in range(3)]
    # Three tutors at the same hours: ties in start time, which the pages must not lose or repeat.
    slots = [make_slot(db, tutor, starts_in=timedelta(days=1, hours=hour)) for hour in range(9) for tutor in tutors]
    fatima, _ = make_family(db, "Fatima Haddou", "Adam Haddou")
    login(client, fatima.email)

    seen, pages = walk(client, "/slots")

    expected = [slot.id for slot in sorted(slots, key=lambda slot: (slot.starts_at, slot.id))]
    assert seen == expected
    assert pages == -(-len(slots) // BROWSE_PAGE)
    # A page's filters go along to the next one.
    maths_only, _ = walk(client, "/slots?subject=maths")
    assert maths_only == expected
    assert walk(client, "/slots?subject=francais")[0] == []


def test_a_mangled_page_mark_shows_the_first_page(client, db, frozen_clock):
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    first = make_slot(db, tutor, starts_in=timedelta(days=1))
    fatima, _ = make_family(db, "Fatima Haddou", "Adam Haddou")
    login(client, fatima.email)
    # A digit that is not ASCII, a start no datetime holds, an id past what INTEGER holds.
    for mark in ("nonsense", "12-", "-3", "9" * 40 + "-1", "²-1", "999999999999-1", "1-99999999999999999999"):
        response = client.get(f"/slots?after={mark}")
        assert response.status_code == 200
        assert f'href="/slots/{first.id}/book"' in response.get_data(as_text=True)


def test_a_tutor_pages_through_their_sessions_to_come(client, db, frozen_clock):
    from scheduler_app.services.slots import cancel_slot
    from scheduler_app.services.tutor_sessions import TUTOR_PAGE

    start = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
    frozen_clock(start)
    tutor = make_tutor(db)
    over = make_slot(db, tutor, starts_in=timedelta(hours=1))
    under_way = make_slot(db, tutor, starts_in=timedelta(hours=2))
    to_come = [make_slot(db, tutor, starts_in=timedelta(days=1 + day, hours=hour)) for day in range(5) for hour in range(5)]
    cancel_slot(db, to_come[3])  # a cancelled one still shows, as cancelled
    frozen_clock(under_way.starts_at + timedelta(minutes=10))  # the first is over, the second under way
    login(client, tutor.email)

    seen, pages, address = [], 0, "/slots/mine"
    while address:
        html = client.get(address).get_data(as_text=True)
        page = [int(slot_id) for slot_id in re.findall(r'href="/slots/(\d+)"', html)]
        assert 0 < len(page) <= TUTOR_PAGE
        seen += page
        found = re.search(r'href="([^"]+)" rel="next"', html)
        address, pages = found and unescape(found.group(1)), pages + 1
    assert seen == [under_way.id] + [slot.id for slot in to_come]
    assert pages == -(-(len(to_come) + 1) // TUTOR_PAGE)
    assert "Revenir aux premières séances" in html and "Pas d'autre" not in html
    # A mangled mark shows the first page.
    assert f'href="/slots/{under_way.id}"' in client.get("/slots/mine?after=12-").get_data(as_text=True)
    assert over.id not in seen
