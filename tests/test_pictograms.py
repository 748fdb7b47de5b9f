"""Pictograms beside the main actions: inline SVG (no request), hidden from screen readers, the
action's words always there too."""

import re
from datetime import timedelta

from factories import login, make_family, make_slot, make_tutor

from scheduler_app.services.booking import book_slot


def test_book_join_and_cancel_carry_a_pictogram_beside_their_words(client, db, frozen_clock):
    karim = make_tutor(db)
    free = make_slot(db, karim, starts_in=timedelta(days=2))
    taken = make_slot(db, karim, starts_in=timedelta(minutes=10))
    fatima, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    book_slot(db, taken.id, adam, fatima, "")
    login(client, fatima.email)
    pages = {"/slots": "Réserver", "/sessions": "Rejoindre la séance"}
    for address, words in pages.items():
        html = client.get(address).get_data(as_text=True)
        button = re.search(r'<a class="button[^"]*"[^>]*>(<svg class="icon"[^>]*>.*?</svg>)' + re.escape(words), html, re.S)
        assert button, address
        assert 'aria-hidden="true"' in button.group(1) and 'focusable="false"' in button.group(1)
    assert f"/slots/{free.id}/book" in client.get("/slots").get_data(as_text=True)
    assert re.search(r'<svg class="icon"[^>]*>.*?</svg>Annuler', client.get("/sessions").get_data(as_text=True), re.S)
