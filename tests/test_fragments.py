"""Cards rendered once and kept (scheduler_app/fragments.py): each person still gets their own
CSRF tokens, their own language, and a card that changes as soon as what it shows changes."""

import re
from datetime import timedelta

from factories import login, make_family, make_slot, make_tutor

from scheduler_app.cache import LRUCache
from scheduler_app.services.booking import book_slot

TOKEN = re.compile(r'name="[\w-]*csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="[\w-]*csrf_token"')


def tokens(html: str) -> set[str]:
    return {first or second for first, second in TOKEN.findall(html)}


def test_each_person_gets_their_own_csrf_token_in_kept_cards(app, db, frozen_clock):
    karim = make_tutor(db)
    slots = [make_slot(db, karim, starts_in=timedelta(days=1, hours=h)) for h in range(3)]
    fatima, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    for slot in slots:
        book_slot(db, slot.id, adam, fatima, "les fractions")
    frozen_clock(slots[0].ends_at + timedelta(minutes=5))  # the first is to be marked now
    pages = {}
    for who, address in ((karim, "/slots/to-mark"), (fatima, "/sessions")):
        first, second = app.test_client(), app.test_client()
        login(first, who.email)
        login(second, who.email)
        pages[who.email] = [client.get(address).get_data(as_text=True) for client in (first, second)]
    for email, (first, second) in pages.items():
        # Every form on a page carries that session's token: cancel buttons, attendance forms
        # and the logout button alike, though the cards came from the store the second time.
        assert len(tokens(first)) == 1 and len(tokens(second)) == 1, email
        assert tokens(first) != tokens(second), email
    assert 'id="booking-' in pages[karim.email][0]  # the attendance forms were there


def test_a_card_changes_as_soon_as_its_slot_does(client, db, app):
    karim = make_tutor(db)
    slot = make_slot(db, karim, starts_in=timedelta(days=2), capacity=2)
    fatima, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    login(client, fatima.email)
    assert "2 places libres" in client.get("/slots").get_data(as_text=True)
    book_slot(db, slot.id, adam, fatima, "")
    assert "1 place libre" in client.get("/slots").get_data(as_text=True)
    karim.name = "Karim Haddad-Roux"
    db.commit()
    assert "Avec Karim Haddad-Roux" in client.get("/slots").get_data(as_text=True)


def test_the_same_card_in_another_language_is_rendered_in_it(client, db):
    karim = make_tutor(db)
    make_slot(db, karim, starts_in=timedelta(days=2))
    fatima, _ = make_family(db, "Fatima Haddou", "Adam Haddou")
    login(client, fatima.email)
    french = client.get("/slots").get_data(as_text=True)
    fatima.locale = "en"
    db.commit()
    english = client.get("/slots").get_data(as_text=True)
    assert "1 place libre" in french and "Avec Karim Haddad" in french
    assert "1 place left" in english and "With Karim Haddad" in english


def test_the_store_keeps_at_most_its_size_and_drops_the_least_recently_used():
    store = LRUCache(size=2)
    rendered = []

    def render(text):
        return lambda: rendered.append(text) or text

    store.get_or_make("a", render("A"))
    store.get_or_make("b", render("B"))
    store.get_or_make("a", render("A"))  # cached: not rendered again, and now the most recent
    store.get_or_make("c", render("C"))  # drops "b"
    store.get_or_make("b", render("B"))
    assert rendered == ["A", "B", "C", "B"]
    assert (store.hits, store.misses) == (1, 4)
    assert store.get_or_make("a", render("A")) == "A" and rendered[-1] == "A"  # "a" went when "b" came back


def test_a_fragment_cannot_show_who_is_logged_in(app):
    import pytest
    from jinja2 import ChoiceLoader, DictLoader, UndefinedError

    from scheduler_app.fragments import fragment

    app.jinja_env.loader = ChoiceLoader([DictLoader({"_whoami.html": "{{ current_user.name }}",
                                                     "_where.html": "{{ request.path }}"}), app.jinja_env.loader])
    with app.test_request_context("/"):
        for name, used in (("_whoami.html", "current_user"), ("_where.html", "request")):
            with pytest.raises(UndefinedError, match=used):
                fragment(name)


def test_visiting_many_addresses_does_not_grow_the_cache(client, db, app):
    karim = make_tutor(db)
    make_slot(db, karim, starts_in=timedelta(days=2))
    fatima, _ = make_family(db, "Fatima Haddou", "Adam Haddou")
    login(client, fatima.email)
    assert client.get("/slots").status_code == 200
    cached = len(app.extensions["lien_fragment_cache"])
    for number in range(50):
        assert client.get(f"/slots?x{number}=something-new").status_code == 200
        assert client.get(f"/sessions?after=junk{number}").status_code == 200
    assert client.get("/sessions").status_code == 200
    assert len(app.extensions["lien_fragment_cache"]) <= cached + 2  # the sessions page's own cards, once
