"""Pieces of pages rendered once per distinct input, then reused.

A card on a list page is a pure function of a few plain values (the row of exactly the columns it
shows), of the viewer's language and time zone, and of nothing else. Rendering it (a dozen
translated strings, dates said in words, links) costs far more than fetching it, and the same
cards are seen again and again: by the next request of the same person, by every student browsing
the same week. So a card is rendered once per distinct (template, language, zone, values) and kept
in a bounded least-recently-used store in each process.

The key holds every input, so nothing is ever invalidated: a slot that changes is a different row,
hence a new key, and entries nobody asks for fall off the end. A fragment template therefore sees
only the values it is given, the language and the zone (through `_`, `url_for` and the date
filters): never `current_user`, `request`, `session` or `g`. A form in a fragment writes
`{{ csrf_token() }}` as usual: it renders as a placeholder, which each request fills in with its
own token.
"""

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable

from flask import Flask, current_app, g
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from .i18n import locale_name, select_timezone

CSRF_HOLE = "\x1ecsrf\x1e"  # a control character no template or user text contains
DEFAULT_SIZE = 20_000  # cards are ~1 KB: about 20 MB per process at most


class FragmentStore:
    """A bounded, thread-safe least-recently-used mapping from keys to what was made for them."""

    def __init__(self, size: int = DEFAULT_SIZE):
        self.size = size
        self.hits = self.misses = 0
        self._kept: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, key: Hashable, compute: Callable[[], object]) -> object:
        """What was kept for `key`, or what `compute` makes of it, kept from now on."""
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                self.hits += 1
                return self._kept[key]
            self.misses += 1
        value = compute()  # outside the lock: two threads may both make a new key's, harmlessly
        with self._lock:
            self._kept[key] = value
            if len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return value

    def get(self, key: Hashable, render: Callable[[], str]) -> Markup:
        """The HTML kept for `key`, or `render`'s."""
        return self.remember(key, lambda: Markup(render()))

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self.hits = self.misses = 0


def _store() -> FragmentStore:
    return current_app.extensions["lien_fragments"]


def _viewer() -> tuple[str, str]:
    """(language, time zone) of the request, worked out once per request: a page asks for it
    with every list it shows. A forced language or zone (g.timezone) asks again."""
    language, zone_override = locale_name(), g.get("timezone")
    kept = g.get("_lien_viewer")
    if kept is None or kept[0] != language or kept[1] != zone_override:
        kept = g._lien_viewer = (language, zone_override, (language, select_timezone()))
    return kept[2]


_INDENTATION = re.compile(r"\n\s+")


def _render(template_name: str, context: dict) -> str:
    """The template's HTML, its indentation and blank lines taken out (a newline stays, so
    words never run together): the busiest tutor's page was ~10% lighter for it."""
    html = current_app.jinja_env.get_template(template_name).render(csrf_token=lambda: CSRF_HOLE, **context)
    if "<textarea" in html or "<pre" in html:  # where white space is the user's own
        return html
    return _INDENTATION.sub("\n", html)


def filled(html: Markup) -> Markup:
    """Kept HTML with this request's CSRF token in place of the placeholder."""
    if CSRF_HOLE in html:
        token = g.get("_lien_csrf")
        if token is None:
            token = g._lien_csrf = generate_csrf()  # the same for the whole request
        return Markup(html.replace(CSRF_HOLE, token))
    return html


def fragment(template_name: str, **values: Hashable) -> Markup:
    """`template_name` rendered with `values` (numbers, strings, dates, tuples, database rows)
    in the viewer's language and zone: rendered once, then taken from the store."""
    key = (template_name, _viewer(), tuple(values.items()))
    return filled(_store().get(key, lambda: _render(template_name, values)))


def fragments(template_name: str, name: str, items: Iterable[Hashable], **shared: Hashable) -> Markup:
    """The same template once per item (passed as `name`), joined: a list of cards."""
    store, viewer, common = _store(), _viewer(), tuple(shared.items())
    parts = []
    for item in items:
        key = (template_name, viewer, common, item)
        parts.append(store.get(key, lambda item=item: _render(template_name, {name: item, **shared})))
    return filled(Markup("").join(parts))


def remembered(key: Hashable, compute: Callable[[], object]) -> object:
    """What `compute` returns, computed once per `key` and viewer (language and zone): the
    caller vouches that these determine it. For a form read from a query string and its HTML,
    say; HTML in it is to be rendered with `render_piece`."""
    return _store().remember((_viewer(), key), compute)


def render_piece(template_name: str, **context) -> Markup:
    """A template's HTML for `remembered` (with the CSRF placeholder, filled by `filled`)."""
    return Markup(_render(template_name, context))


def init_app(app: Flask) -> None:
    app.extensions["lien_fragments"] = FragmentStore(app.config.get("FRAGMENT_CACHE_SIZE", DEFAULT_SIZE))
    app.jinja_env.globals["fragment"] = fragment
    app.jinja_env.globals["fragments"] = fragments
