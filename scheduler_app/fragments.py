"""Cards rendered once per distinct input, then taken from a cache.

A card on a list page is a pure function of the row of exactly the columns it shows, of the
viewer's language and time zone, and of nothing else; rendering it (a dozen translated strings,
dates said in words, links) costs far more than reading it, and the same cards are seen again and
again. So a card is cached under (template, language, zone, values): the key holds every input,
so nothing is ever invalidated. Keys are built from database rows and server-side values only,
never from a URL or other text a visitor chooses.

A fragment is rendered without request globals (`request`, `session`, `g`, `current_user`,
`config`): using one is an error, so a card can never show who is logged in. A form in a
fragment writes `{{ csrf_token() }}` as usual: it renders as a placeholder, which each request
fills in with its own token.
"""

import re
from collections.abc import Hashable, Iterable

from flask import Flask, current_app, g
from flask_wtf.csrf import generate_csrf
from jinja2 import StrictUndefined
from markupsafe import Markup

from .cache import LRUCache
from .i18n import locale_name, select_timezone

CSRF_HOLE = "\x1ecsrf\x1e"  # a control character no template or user text contains
CACHE_SIZE = 20_000  # cards are ~1 KB: about 20 MB per process at most
# Names Flask and Flask-Login give templates that depend on the request: undefined in fragments.
REQUEST_GLOBALS = ("request", "session", "g", "current_user", "config", "get_flashed_messages")
_NO_REQUEST = {name: StrictUndefined(name=name, hint=f"a fragment cannot use {name}: pass the value it needs")
               for name in REQUEST_GLOBALS}
_INDENTATION = re.compile(r"\n\s+")


def _cache() -> LRUCache:
    return current_app.extensions["lien_fragment_cache"]


def _viewer() -> tuple[str, str]:
    """The request's (language, time zone), the part of every key that is not the card's own."""
    return locale_name(), select_timezone()


def _render(template_name: str, values: dict) -> Markup:
    """The template's HTML, its indentation taken out (a newline stays, so words never run
    together) except where white space is the user's own."""
    context = {**_NO_REQUEST, **values, "csrf_token": lambda: CSRF_HOLE}
    html = current_app.jinja_env.get_template(template_name).render(context)
    if "<textarea" not in html and "<pre" not in html:
        html = _INDENTATION.sub("\n", html)
    return Markup(html)


def _with_csrf(html: Markup) -> Markup:
    """Cached HTML with this request's CSRF token in place of the placeholder."""
    if CSRF_HOLE not in html:
        return html
    if "_lien_csrf" not in g:
        g._lien_csrf = generate_csrf()  # the same for the whole request
    return Markup(html.replace(CSRF_HOLE, g._lien_csrf))


def fragment(template_name: str, *, inputs: Hashable = None, **values) -> Markup:
    """`template_name` rendered with `values` (numbers, strings, dates, tuples, database rows)
    in the viewer's language and zone, from the cache when it was rendered before. `inputs`,
    when given, stands for the values in the key (a form object is not hashable): the caller
    vouches that they determine the HTML, and that they are bounded in size."""
    key = (template_name, _viewer(), tuple(values.items()) if inputs is None else inputs)
    return _with_csrf(_cache().get_or_make(key, lambda: _render(template_name, values)))


def fragments(template_name: str, name: str, items: Iterable[Hashable], **shared: Hashable) -> Markup:
    """The same template once per item (passed as `name`), joined: a list of cards."""
    cache, viewer, common = _cache(), _viewer(), tuple(shared.items())
    parts = [
        cache.get_or_make((template_name, viewer, common, item),
                          lambda item=item: _render(template_name, {name: item, **shared}))
        for item in items
    ]
    return _with_csrf(Markup("").join(parts))


def init_app(app: Flask) -> None:
    app.extensions["lien_fragment_cache"] = LRUCache(app.config.get("FRAGMENT_CACHE_SIZE", CACHE_SIZE))
    app.jinja_env.globals["fragment"] = fragment
    app.jinja_env.globals["fragments"] = fragments
