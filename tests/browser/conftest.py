"""A live Lien server and a real headless Chromium (Debian's, never a downloaded one).

Every page a journey reaches is checked as it arrives (`Tab.arrive`): axe-core finds no WCAG 2.1
A or AA problem, the page weighs under 30 KB with its stylesheet and scripts, it loads no web
font, and nothing leaves 127.0.0.1 (the Jitsi room a join link redirects to is answered by the
test, never fetched). A page reached but never checked fails the test.
"""

import os
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from factories import make_slot, make_tutor, sqlite_copy
from flask_babel import force_locale, gettext, ngettext
from werkzeug.serving import make_server

from scheduler_app.models import Slot, User

CHROMIUM = os.environ.get("LIEN_CHROMIUM", "/usr/bin/chromium")
# Chromium's own background traffic has nowhere to go on a closed network: switch it off.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update",
    # Nothing but this machine resolves: a request that slipped past the checks below still goes nowhere.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
# What Lien promises: WCAG 2.1 A and AA (axe's tags for 2.0 and 2.1 rules at both levels).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGE_BUDGET = 30 * 1024  # bytes per page: HTML, stylesheet and scripts, as transferred
JITSI = "meet.example.org"  # the test app's Jitsi server (tests/conftest.py)
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}

# The heaviest transfer seen per page (path with numbers and tokens folded), for the summary.
WEIGHTS: dict[str, int] = {}


@pytest.fixture
def database_url(sqlite_template, tmp_path) -> str:
    """Browser journeys run on SQLite only: what they test is the page, not the database."""
    return sqlite_copy(sqlite_template, tmp_path)


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"  # links in messages come here
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@dataclass(frozen=True)
class Way:
    """How a journey is made: on which screen, in which language, with or without JavaScript."""

    device: str
    language: str
    javascript: bool = True

    def __str__(self) -> str:
        return f"{self.device}-{self.language}" + ("" if self.javascript else "-nojs")


# Each journey at phone and desktop width, in French and in English, and once more without
# JavaScript (on the phone, where it matters most).
WAYS = [Way("phone", "fr"), Way("phone", "en"), Way("desktop", "fr"), Way("desktop", "en"),
        Way("phone", "fr", javascript=False)]


@pytest.fixture(params=WAYS, ids=str)
def way(request) -> Way:
    return request.param


PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2027, 1, 11, 10, 0, tzinfo=PARIS)  # "now" when each journey starts
# Wednesday 13 January 2027 as people say it in each language (the page's words, not Python's).
WHEN = {
    "fr": {14: "mercredi 13 janvier, 14 h 00", 15: "mercredi 13 janvier, 15 h 00"},
    "en": {14: "Wednesday 13 January, 2:00 PM", 15: "Wednesday 13 January, 3:00 PM"},
}


class Week:
    """The journeys' week: Monday 11 January 2027, 10:00 in Paris, sessions on Wednesday."""

    def __init__(self, move):
        self._move = move
        move(MONDAY)

    @staticmethod
    def wednesday(hour: int, minute: int = 0) -> datetime:
        return datetime(2027, 1, 13, hour, minute, tzinfo=PARIS)

    @staticmethod
    def when(hour: int, language: str) -> str:
        return WHEN[language][hour]

    def now_is(self, moment: datetime) -> None:
        """Move Lien's clock (the live server runs in this process, so it sees the same)."""
        self._move(moment.astimezone(UTC))


@pytest.fixture
def week(frozen_clock) -> Week:
    return Week(frozen_clock)


@dataclass
class Tutoring:
    tutor: User
    slots: dict[int, Slot]  # by their hour on Wednesday


@pytest.fixture
def karim(db, week) -> Tutoring:
    """Karim tutors maths (collège) on Wednesday at 14:00 and 15:00, 45 minutes, one place each."""
    tutor = make_tutor(db, "Karim Haddad")
    slots = {hour: make_slot(db, tutor, starts_in=Week.wednesday(hour) - MONDAY) for hour in (14, 15)}
    return Tutoring(tutor, slots)


class Words:
    """What the app says in one language: a French msgid, translated by the app's catalogue."""

    def __init__(self, app, language: str):
        self.app, self.language = app, language

    def __call__(self, msgid: str, **values) -> str:
        with self.app.test_request_context(), force_locale(self.language):
            return gettext(msgid, **values)

    def plural(self, singular: str, plural: str, num: int, **values) -> str:
        with self.app.test_request_context(), force_locale(self.language):
            return ngettext(singular, plural, num, **values)


def plain(text: str) -> str:
    """Text with its no-break and narrow no-break spaces made ordinary, to compare sentences."""
    return re.sub(r"[\u00a0\u202f ]+", " ", text)


AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html, summary: n.failureSummary})),
  }));
}"""

# Where keyboard focus is: its place in document order, and whether it can be seen.
FOCUS_STATE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  return {
    order: Array.prototype.indexOf.call(document.querySelectorAll('*'), el),
    visible: outline || style.boxShadow !== 'none',
    tag: el.tagName.toLowerCase(), id: el.id, text: (el.innerText || el.value || '').trim().slice(0, 60),
  };
}"""


def describe_violations(where: str, violations: list[dict]) -> str:
    lines = [f"axe found {len(violations)} WCAG 2.1 A/AA problem(s) on {where}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  <{v['url']}>")
        for node in v["nodes"][:5]:
            lines.append(f"    at {node['target']}: {node['html'][:160]}")
            lines.append("      " + node["summary"].replace("\n", "\n      "))
    return "\n".join(lines)


def page_key(url: str) -> str:
    """A page's path with ids and tokens folded, so that one page is one line of the summary."""
    path = urlsplit(url).path
    path = re.sub(r"/([js])/[^/]+", r"/\1/<token>", path)
    return re.sub(r"/\d+(?=/|$)", "/<id>", path) or "/"


class Tab:
    """One person's browser tab. `arrive` checks each page they reach; `tab_to` moves by keyboard."""

    def __init__(self, context, base: str, way: Way, app):
        self.context, self.base, self.way, self.app = context, base, way, app
        self.page = context.new_page()
        self.finished = []  # every request that completed, in order
        self.outside: list[str] = []  # requests that tried to leave this machine
        self.fonts: list[str] = []
        self.jitsi: list[str] = []  # join redirects, answered here and never fetched
        self.checked: set[int] = set()  # ids of the document requests already checked
        self.axe_source = AXE.read_text(encoding="utf-8") if way.javascript else ""
        context.route("**/*", self._route)
        # Routing misses the hops of a redirect that page.goto started: watch every request too.
        context.on("request", self._watch)
        self.page.on("requestfinished", lambda request: self.finished.append(request))

    def _watch(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https") and parts.hostname not in ("127.0.0.1", JITSI):
            self.outside.append(request.url)

    def _route(self, route) -> None:
        request = route.request
        host = urlsplit(request.url).hostname
        if request.resource_type == "font":
            self.fonts.append(request.url)
        if host == "127.0.0.1":
            route.continue_()
        elif host == JITSI:
            self.jitsi.append(request.url)
            route.fulfill(status=200, content_type="text/html",
                          body="<!doctype html><title>Jitsi</title><h1>Jitsi</h1>")
        else:  # already noted by _watch
            route.abort("blockedbyclient")

    # Reading ---------------------------------------------------------------------------------

    @property
    def lang(self) -> str:
        """The language of the page on screen (its <html lang>)."""
        return self.page.locator("html").get_attribute("lang")

    def t(self, msgid: str, **values) -> str:
        """What the page says for a French msgid, in the page's language."""
        return Words(self.app, self.lang)(msgid, **values)

    def tn(self, singular: str, plural: str, num: int, **values) -> str:
        """The same for a msgid with a plural."""
        return Words(self.app, self.lang).plural(singular, plural, num, **values)

    def flash(self) -> str:
        return plain(self.page.locator(".flashes").inner_text())

    def text(self) -> str:
        return plain(self.main.inner_text())

    # Moving around -----------------------------------------------------------------------------

    @property
    def main(self):
        return self.page.locator("main")

    def goto(self, address: str) -> None:
        self.page.goto(address if "://" in address else self.base + address)

    def click(self, role: str, name: str, **options) -> None:
        """Click the (first) link or button with this accessible name."""
        self.page.get_by_role(role, name=name, **options).first.click()

    def read_email(self, message) -> None:
        """Show a received email's HTML in the tab, as a mail app would, to click its links."""
        self.page.set_content(message.get_body(("html",)).get_content())

    def log_in(self, email: str, password: str) -> None:
        self.goto("/login")
        self.arrive(self.t("Se connecter"))
        self.page.get_by_label(self.t("Adresse e-mail")).fill(email)
        self.page.get_by_label(self.t("Mot de passe"), exact=True).fill(password)
        self.page.get_by_role("button", name=self.t("Se connecter")).click()

    def choose_language(self) -> None:
        """Switch to the journey's language with the footer's link, if it is not French."""
        from playwright.sync_api import expect

        if self.way.language != "fr":
            self.page.get_by_role("contentinfo").get_by_role("link", name="English").click()
            expect(self.page.locator("html")).to_have_attribute("lang", "en")
            self.arrive(self.page.get_by_role("heading", level=1).inner_text())

    # Checking each page ------------------------------------------------------------------------

    def arrive(self, heading: str) -> None:
        """Wait for the page whose <h1> says `heading`, then check it: accessibility (axe,
        with JavaScript), weight, fonts, requests, and that it fits the screen's width."""
        from playwright.sync_api import expect

        expect(self.page.get_by_role("heading", level=1, name=heading, exact=True)).to_be_visible()
        self.page.wait_for_load_state("load")
        document = self._current_document()
        where = f"{page_key(document.url)} ({self.way})"
        self.checked.add(id(document))
        weight = self._weight_from(document)
        key = page_key(document.url)
        WEIGHTS[key] = max(WEIGHTS.get(key, 0), weight)
        assert weight < PAGE_BUDGET, f"{where} weighs {weight} bytes: the budget is {PAGE_BUDGET}"
        assert not self.fonts, f"web fonts requested: {self.fonts}"
        assert not self.outside, f"requests left this machine: {self.outside}"
        assert len(self.page.locator("h1").all()) == 1, f"{where}: one <h1> per page"
        width = self.page.evaluate("document.documentElement.scrollWidth")
        viewport = self.page.viewport_size["width"]
        assert width <= viewport, f"{where} is {width} px wide on a {viewport} px screen"
        if self.way.javascript:
            self.check_accessibility(where)

    def check_accessibility(self, where: str) -> None:
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            # Evaluated, not added as a <script>: a Content-Security-Policy without inline
            # scripts would (rightly) refuse the tag, and the page is tested as users get it.
            self.page.evaluate(self.axe_source)
        violations = self.page.evaluate(AXE_RUN, WCAG_TAGS)
        assert not violations, describe_violations(where, violations)

    def _documents(self):
        """The pages this tab showed: main-frame documents from this server, redirects left out."""
        found = []
        for request in self.finished:
            if request.resource_type != "document" or request.frame != self.page.main_frame:
                continue
            if urlsplit(request.url).hostname != "127.0.0.1":
                continue
            response = request.response()
            if response is not None and not 300 <= response.status < 400:
                found.append(request)
        return found

    def _current_document(self):
        documents = self._documents()
        assert documents, "no page has loaded yet"
        current = documents[-1]
        assert current.url.split("#")[0] == self.page.url.split("#")[0], (current.url, self.page.url)
        return current

    def _weight_from(self, document) -> int:
        """Bytes transferred for a page: its HTML and every request after it (stylesheet, scripts)."""
        start = next(i for i, request in enumerate(self.finished) if request is document)
        total = 0
        for request in self.finished[start:]:
            if urlsplit(request.url).hostname != "127.0.0.1":
                continue
            sizes = request.sizes()
            total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        return total

    def unchecked_pages(self) -> list[str]:
        return [request.url for request in self._documents() if id(request) not in self.checked]

    # Keyboard ----------------------------------------------------------------------------------

    def focus_state(self) -> dict:
        return self.page.evaluate(FOCUS_STATE)

    def tab_to(self, locator, limit: int = 80) -> None:
        """Press Tab until `locator` has focus; every stop along the way must show its focus and
        come after the one before in reading order."""
        previous = self.focus_state()["order"]
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            state = self.focus_state()
            assert state["visible"], f"focus is not visible on {state}"
            assert state["order"] > previous, f"focus went back in reading order to {state}"
            previous = state["order"]
            if locator.evaluate("element => element === document.activeElement"):
                return
        raise AssertionError(f"{locator} was not reached in {limit} presses of Tab")

    def skip_to_main(self) -> None:
        """The first Tab stop is the skip link, and it moves focus to the main content.

        After a form sent from a page reached by the skip link, the browser keeps its #main on
        the next address and starts there: then the first Tab stop is already in the content."""
        self.page.evaluate("document.activeElement && document.activeElement.blur()")
        if urlsplit(self.page.url).fragment == "main":
            self.page.keyboard.press("Tab")
            assert self.page.evaluate("document.getElementById('main').contains(document.activeElement)")
            self.page.keyboard.press("Shift+Tab")
            return
        self.page.keyboard.press("Tab")
        state = self.focus_state()
        assert "skip" in self.page.evaluate("document.activeElement.className"), f"first Tab stop: {state}"
        assert state["visible"], "the skip link must be seen when it has focus"
        assert self.page.evaluate("document.activeElement.getBoundingClientRect().top >= 0")
        self.page.keyboard.press("Enter")
        assert self.page.evaluate("document.activeElement.id") == "main"

    # Pictures ----------------------------------------------------------------------------------

    def screenshot(self, name: str, until=None) -> None:
        """The page at phone width, from the top down to `until` (a locator), for the README."""
        if self.way.device != "phone" or not self.way.javascript:
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        clip = None
        if until is not None:
            bottom = until.evaluate("element => element.getBoundingClientRect().bottom + window.scrollY")
            clip = {"x": 0, "y": 0, "width": self.page.viewport_size["width"], "height": round(bottom) + 16}
        # Personal links differ at each run: painted over, so the picture stays the same.
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}-{self.way.language}.png"), full_page=True,
                             clip=clip, mask=[self.page.locator("code.break")], mask_color="#d9dee4",
                             animations="disabled", caret="hide")


@pytest.fixture
def open_tab(browser, live_server, app):
    """Open a tab in a fresh browser (own cookies) for one person, the journey's way."""
    contexts, tabs = [], []
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE}): run `npm ci --prefix tests/browser` (make test does)",
                    pytrace=False)

    def open_one(way: Way | str) -> Tab:
        if isinstance(way, str):  # "desktop-en", "phone-fr-nojs"
            device, language, *rest = way.split("-")
            way = Way(device, language, javascript=rest != ["nojs"])
        context = browser.new_context(viewport=VIEWPORTS[way.device], locale="fr-FR",
                                      timezone_id="Europe/Paris", java_script_enabled=way.javascript)
        contexts.append(context)
        tab = Tab(context, live_server, way, app)
        tabs.append(tab)
        return tab

    yield open_one
    unchecked = [url for tab in tabs for url in tab.unchecked_pages()]
    outside = [url for tab in tabs for url in tab.outside]
    for context in contexts:
        context.close()
    assert not unchecked, f"pages reached but never checked with Tab.arrive: {unchecked}"
    assert not outside, f"requests left this machine: {outside}"


def pytest_terminal_summary(terminalreporter):
    if not WEIGHTS:
        return
    terminalreporter.section("page weights (bytes transferred, heaviest first)")
    for key, weight in sorted(WEIGHTS.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{weight / 1024:6.1f} KB  {key}")
