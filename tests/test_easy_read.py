"""Everything a family reads in French is easy to read (FALC): short sentences (15 words at most)
and a French reading-ease score of at least 60 (Flesch's formula as Kandel and Moles adapted it to
French, computed by textstat), with no jargon.

The messages are the real ones, read back from the SMTP server and the SMS gateway after a
family's booking, reminders, a move and a cancellation. The pages are the real ones too, as the
test client gets them: each page a student, a parent, a family with only a phone, or someone not
logged in reaches, from the home page to the error pages.

How a page is read: the visible text of its <main>, cut into blocks (a paragraph, a list item, a
heading, a label, a button, a choice...). Every sentence of every block, labels and buttons
included, has at most 15 words. The reading-ease score is given to the page's prose only: the
blocks of running text (paragraphs, list items) written as sentences, ending with . ! or ?,
taken together, as a message's sentences are. Headings, labels, buttons and links standing alone
name a thing or an action ("Réserver", "Mot de passe oublié") and are not sentences: a formula
made for sentences says nothing about two words. Nor about one short list item that quotes a
phone's own button (« Autorisations »), hence a score per page rather than per item. Codes and
addresses (<code>) are not words. Sentences end at . ! ? : ; and line breaks, as in messages.
"""

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import textstat
from conftest import csrf_token
from factories import login, look_again, make_family, make_person, make_slot, make_tutor
from flask import abort
from sqlalchemy import select

from scheduler_app.models import Booking, Guardianship, JoinToken, User, WaitlistEntry
from scheduler_app.services.absences import cancel_for_absence, declare_absence
from scheduler_app.services.booking import book_slot, cancel_booking
from scheduler_app.services.slots import move_slot
from scheduler_app.services.waitlist import join_waitlist
from scheduler_app.worker import make_dispatcher

SENTENCE_WORDS = 15
READING_EASE = 60
URL = re.compile(r"https?://\S+")


def sentences(text: str) -> list[str]:
    """The text's sentences: cut at . ! ? : and line ends; addresses and times are not words."""
    text = URL.sub(" ", text).replace("\xa0", " ")
    return [part.strip() for part in re.split(r"[.!?:;]\s|\n|[.!?]$", text) if re.search(r"[^\W\d_]", part)]


def words(sentence: str) -> list[str]:
    return [word for word in sentence.split() if re.search(r"[^\W\d_]", word)]


@pytest.fixture
def family_messages(app, db, mail_server, brevo, frozen_clock):
    """What Fatima (email and SMS, French) received about Adam's sessions, as read on arrival."""
    app.config.update(brevo.settings(), PUBLIC_URL="https://lien.example.org")
    frozen_clock(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    tutor = make_tutor(db)
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    parent, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    parent.phone, parent.notify_by = "+33612345678", "both"
    db.commit()
    first = make_slot(db, tutor, starts_in=timedelta(days=2, hours=4))
    second = make_slot(db, tutor, starts_in=timedelta(days=3, hours=4))
    booking = book_slot(db, first.id, adam, parent, "les fractions")
    book_slot(db, second.id, adam, coordinator, "")
    make_dispatcher(app).tick()
    for before in (timedelta(hours=24), timedelta(minutes=59)):
        frozen_clock(first.starts_at - before)
        make_dispatcher(app).tick()
    move_slot(db, second, datetime(2027, 1, 15).date(), datetime(2027, 1, 15, 15, 0).time(), "Europe/Paris",
              by=coordinator)
    make_dispatcher(app).tick()
    cancel_booking(db, booking, by=coordinator)
    make_dispatcher(app).tick()
    # The tutor falls ill: the session is cancelled and Adam waits for one like it, then is offered one.
    third = make_slot(db, tutor, starts_in=timedelta(days=5))
    book_slot(db, third.id, adam, parent)
    [absence] = declare_absence(db, tutor, third.id, "malade")
    cancel_for_absence(db, absence.id, coordinator)
    make_dispatcher(app).tick()
    make_slot(db, make_tutor(db, "Claire Martin"), starts_in=timedelta(days=6))
    make_dispatcher(app).tick()
    texts = [message.get_body(("plain",)).get_content() for message in mail_server.mailbox.to(parent.email)]
    texts += [message["Subject"] for message in mail_server.mailbox.to(parent.email)]
    texts += [request["json"]["content"] for request in brevo.requests if request["json"]["recipient"] == "33612345678"]
    return texts


def test_a_familys_french_messages_are_easy_to_read(family_messages):
    assert len(family_messages) >= 10  # confirmations, reminders, a move, a cancellation: by email and SMS
    # ... a session cancelled for an absent tutor, with the waitlist, and the offer of a place.
    assert any("est sur la liste d'attente" in text for text in family_messages)
    assert any("Une place s'est libérée pour Adam Haddou" in text for text in family_messages)
    textstat.set_lang("fr")
    too_long, hard = [], []
    for text in family_messages:
        for sentence in sentences(text):
            if len(words(sentence)) > SENTENCE_WORDS:
                too_long.append(sentence)
        prose = " ".join(sentence + "." for sentence in sentences(text))
        if prose and textstat.flesch_reading_ease(prose) < READING_EASE:
            hard.append(f"{textstat.flesch_reading_ease(prose):.0f}: {prose[:200]}")
    assert not too_long, "sentences over 15 words:\n" + "\n".join(sorted(set(too_long)))
    assert not hard, "messages under the reading-ease score of 60:\n" + "\n".join(hard)


def test_the_checks_would_see_a_hard_text():
    textstat.set_lang("fr")
    hard = ("Conformément aux dispositions réglementaires applicables, l'établissement procède à "
            "l'annulation administrative de l'intervention pédagogique initialement programmée par "
            "l'équipe éducative.")
    assert len(words(sentences(hard)[0])) > SENTENCE_WORDS
    assert textstat.flesch_reading_ease(hard) < READING_EASE
    assert textstat.flesch_reading_ease("Votre séance est annulée. Appelez le centre.") >= READING_EASE


# Words a family should not meet: the centre's own jargon, idioms, technical and rare words. Each is
# the start of a word: "créneau" finds "créneaux", "expir" finds "expiré" and "expirée".
JARGON = ("créneau", "fuseau", "jour J", "visio", "momentané", "ultérieur", "identifiant", "formulaire",
          "JavaScript", "navigateur", "expir", "valider", "modérat", "connexion")
# Elements whose text is a block of its own; of them, those that hold running text (the prose).
BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "label", "legend", "summary", "dt", "dd", "th", "td",
          "button", "option", "caption", "div", "section", "form", "fieldset", "details", "ul", "ol", "dl",
          "table", "tr", "main", "noscript"}
PROSE = {"p", "li", "dd", "td", "div", "noscript"}
UNREAD = {"script", "style", "template", "code", "svg"}  # code: addresses and codes, not words
SPOKEN = ("aria-label", "alt", "title", "placeholder")  # attributes a screen reader says


class PageText(HTMLParser):
    """A page as a person meets it: the blocks of its <main> as (tag, text), and every word on it
    (title, header, footer and the attributes a screen reader says included)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []
        self.everything: list[str] = []
        self._open: list[tuple[str, list[str]]] = []
        self._unread = 0
        self._in_main = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.everything += [attrs[name] for name in SPOKEN if attrs.get(name)]
        if tag in UNREAD:
            self._unread += 1
        if tag == "main":
            self._in_main = True
        if tag == "br" and self._open:
            self._open[-1][1].append("\n")
        if tag in BLOCKS and self._in_main:
            self._open.append((tag, []))

    def handle_endtag(self, tag):
        if tag in UNREAD:
            self._unread -= 1
        if tag in BLOCKS and self._in_main:
            while self._open:  # HTML may leave a <p> or <li> unclosed: close up to this tag
                name, parts = self._open.pop()
                text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parts)).strip()
                if text:
                    self.blocks.append((name, text))
                if name == tag:
                    break
        if tag == "main":
            self._in_main = False

    def handle_data(self, data):
        if self._unread:
            return
        self.everything.append(data)
        if self._open:
            self._open[-1][1].append(data)


def read_page(html: str) -> PageText:
    reader = PageText()
    reader.feed(html)
    reader.close()
    return reader


def prose_of(blocks: list[tuple[str, str]]) -> list[str]:
    """The sentences of a page's running text: paragraphs and list items written as sentences."""
    return [sentence for tag, text in blocks if tag in PROSE and re.search(r"[.!?…]\)?$", text)
            for sentence in sentences(text)]


def jargon_in(text: str) -> list[str]:
    return [word for word in JARGON if re.search(rf"\b{word}", text, re.IGNORECASE)]


def test_the_page_reader_scores_sentences_and_leaves_labels_out():
    page = read_page("""<title>Lien</title><header><a href="/">Lien</a></header><main>
        <h1>Réserver</h1><form aria-label="Filtrer les créneaux"><label for="d">Jour</label>
        <p>Choisissez un jour.<br>Puis touchez « Voir ».</p><button>Voir les séances</button></form>
        <ul><li>Une séance<li>Deux séances</ul><p><a href="/x">Mot de passe oublié</a></p>
        <p>Votre code : <code>KD4M-7QPA</code>.</p><svg><title>Icône</title></svg></main>""")
    assert {("h1", "Réserver"), ("label", "Jour"), ("p", "Choisissez un jour.\nPuis touchez « Voir »."),
            ("button", "Voir les séances"), ("li", "Une séance"), ("li", "Deux séances")} <= set(page.blocks)
    # Written as sentences: scored. A heading, a label, a button, a list of things, a link alone: not.
    assert prose_of(page.blocks) == ["Choisissez un jour", "Puis touchez « Voir »", "Votre code"]
    assert jargon_in(" ".join(page.everything)) == ["créneau"]  # the form's name, said by a screen reader
    assert "Icône" not in page.everything and "KD4M-7QPA" not in " ".join(page.everything)


NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)  # a Monday


def sms_code(brevo, number: str) -> str:
    """The login code last sent by SMS to this number."""
    [text] = [r["json"]["content"] for r in brevo.requests
              if r["json"]["recipient"] == number and "code" in r["json"]["content"]][-1:]
    return re.search(r"\b(\d{6})\b", text).group(1)


@pytest.fixture
def family_pages(app, db, brevo, frozen_clock):
    """Every page a family reaches, in French, as (who and where, html): a student, a parent, a
    family with only a phone, and anyone with a link from a message or no account yet."""
    app.config.update(brevo.settings(), PUBLIC_URL="https://lien.example.org", CENTRE_PHONE="+33142345678",
                      PROPAGATE_EXCEPTIONS=False)
    for code in (400, 429, 500):  # the error pages, from routes added before the first request
        app.add_url_rule(f"/fails/{code}", f"fails_{code}", lambda code=code: abort(code))
    frozen_clock(NOW)
    tutor = make_tutor(db, "Karim Haddad", levels=("college", "lycee"))
    wednesday, thursday, friday, saturday, sunday, _monday = (
        make_slot(db, tutor, starts_in=timedelta(days=days, hours=4)) for days in range(2, 8))
    fatima, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    awa, [moussa] = make_family(db, "Awa Diallo", "Moussa Diallo", phone="+33612345678")
    yasmine = make_person(db, "student", "Yasmine Benali", birth_year=2009, school_class="1re")
    lina = make_person(db, "student", "Lina Petit", birth_year=2015)  # under 15: waits for her mother's consent
    sami = make_person(db, "student", "Sami Petit", birth_year=2014, family_code="KD4M7QPA")  # for a parent's
    db.add(Guardianship(parent_id=fatima.id, student_id=lina.id))
    db.commit()
    adams = book_slot(db, wednesday.id, adam, fatima, "les fractions")
    moussas = book_slot(db, thursday.id, moussa, awa)
    yasmines = book_slot(db, friday.id, yasmine, yasmine)
    waiting = join_waitlist(db, friday.id, adam, fatima)
    links = {(link.booking_id, link.user_id): link for link in db.scalars(select(JoinToken))}
    pages: list[tuple[str, str]] = []

    def get(who, client, url, status=200):
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code)
        pages.append((f"{who} {url}", response.get_data(as_text=True)))
        return response.get_data(as_text=True)

    def post(who, client, url, data, page):
        response = client.post(url, data={"csrf_token": csrf_token(page), **data}, follow_redirects=True)
        assert response.status_code == 200, (url, response.status_code)
        pages.append((f"{who} POST {url}", response.get_data(as_text=True)))
        return response.get_data(as_text=True)

    # Someone without an account, or not logged in.
    anyone = app.test_client()
    for url in ("/", "/tester"):
        get("anyone", anyone, url)
    post("anyone", anyone, "/register", {"role": "student"}, get("anyone", anyone, "/register"))
    post("anyone", anyone, "/login", {"email": "x@example.org", "password": "wrong"}, get("anyone", anyone, "/login"))
    post("anyone", anyone, "/password/forgot", {"email": "x@example.org"}, get("anyone", anyone, "/password/forgot"))
    get("anyone", anyone, "/password/reset/not-a-token", 410)
    get("anyone", anyone, "/nowhere", 404)
    for code in (400, 429, 500):
        get("anyone", anyone, f"/fails/{code}", code)
    response = anyone.post("/login", data={"email": "x@example.org"})  # no CSRF token: the page says what to do
    pages.append(("anyone /login without its token", response.get_data(as_text=True)))

    # A family with only a phone logs in with a code by SMS (a wrong one first); a new number signs up.
    phone = app.test_client()
    html = post("phone", phone, "/login/sms", {"phone": "06 12 34 56 78"}, get("phone", phone, "/login/sms"))
    make_dispatcher(app).tick()
    post("phone", phone, "/login/sms/code", {"code": "000000"}, html)
    post("phone", phone, "/login/sms/code", {"code": sms_code(brevo, "33612345678")}, html)
    for url in ("/sessions", "/slots", f"/sessions/{moussas.id}", f"/sessions/{moussas.id}/cancel", "/profile"):
        get("phone", phone, url)
    newcomer = app.test_client()
    html = post("newcomer", newcomer, "/login/sms", {"phone": "07 61 22 33 44"}, get("newcomer", newcomer, "/login/sms"))
    make_dispatcher(app).tick()
    post("newcomer", newcomer, "/login/sms/code", {"code": sms_code(brevo, "33761223344")}, html)

    # The links in a family's messages, which need no login.
    short, token = links[(moussas.id, awa.id)].short, links[(adams.id, fatima.id)].token
    for url in (f"/s/{short}", f"/s/{short}/annuler", "/s/AAAAAAAAAAAA", f"/j/{token}", f"/j/{token}?connexion=faible",
                f"/w/{waiting.token}", "/w/not-a-token"):
        get("link", anyone, url, 404 if "AAAA" in url or "not-a" in url else 200)

    # A student with an account of their own, and two under 15 who wait for a parent.
    student = app.test_client()
    login(student, yasmine.email)
    for url in ("/slots", "/slots?subject=maths&level=college", f"/tutors/{tutor.id}",
                "/slots?day=2027-01-12"):  # no session that day
        get("student", student, url)
    post("student", student, f"/slots/{saturday.id}/book", {"student_id": str(yasmine.id), "topic": "les équations"},
         get("student", student, f"/slots/{saturday.id}/book"))
    for url in ("/sessions", f"/sessions/{yasmines.id}/cancel", "/profile", "/agenda"):
        get("student", student, url)
    for child in (lina, sami):
        young = app.test_client()
        login(young, child.email)
        get("young", young, "/sessions")

    # A parent, for their child: a full session, one taken while they choose, a cancellation.
    parent = app.test_client()
    login(parent, fatima.email)
    for url in ("/sessions", f"/sessions/{adams.id}", f"/slots/{friday.id}/book", "/children/link",
                f"/children/{lina.id}/approve", "/profile"):
        get("parent", parent, url)
    html = get("parent", parent, f"/slots/{sunday.id}/book")
    look_again(db)
    nour = make_person(db, "student", "Nour Haddad", birth_year=2008)
    book_slot(db, sunday.id, nour, nour)
    post("parent", parent, f"/slots/{sunday.id}/book", {"student_id": str(adam.id), "topic": ""}, html)
    post("parent", parent, "/children/new", {"name": ""}, get("parent", parent, "/children/new"))
    post("parent", parent, f"/sessions/{adams.id}/cancel", {"reason": ""},
         get("parent", parent, f"/sessions/{adams.id}/cancel"))

    # The links again, once the session is cancelled or over; the waitlist's offer when a place frees.
    get("link", anyone, f"/j/{token}", 410)
    get("link", anyone, f"/s/{links[(adams.id, fatima.id)].short}")
    look_again(db)
    cancel_booking(db, db.get(Booking, yasmines.id), by=db.get(User, yasmine.id))
    look_again(db)
    assert db.get(WaitlistEntry, waiting.id).status == "offered"
    post("link", anyone, f"/w/{waiting.token}/take", {}, get("link", anyone, f"/w/{waiting.token}"))
    frozen_clock(thursday.ends_at + timedelta(hours=1))
    get("link", anyone, f"/s/{short}")
    get("link", anyone, f"/j/{links[(moussas.id, awa.id)].token}", 410)
    return pages


def test_every_page_a_family_reaches_is_easy_to_read(family_pages):
    assert len(family_pages) >= 50
    textstat.set_lang("fr")
    too_long, hard = [], []
    for what, html in family_pages:
        blocks = read_page(html).blocks
        for _tag, text in blocks:
            too_long += [f"{what}: {sentence}" for sentence in sentences(text) if len(words(sentence)) > SENTENCE_WORDS]
        prose = " ".join(sentence + "." for sentence in prose_of(blocks))
        if prose and textstat.flesch_reading_ease(prose) < READING_EASE:
            hard.append(f"{what}: {textstat.flesch_reading_ease(prose):.0f}: {prose[:300]}")
    assert not too_long, "sentences over 15 words:\n" + "\n".join(sorted(set(too_long)))
    assert not hard, "pages under the reading-ease score of 60:\n" + "\n".join(hard)


def test_no_family_page_uses_jargon(family_pages):
    found = [f"{what}: {word}" for what, html in family_pages for word in jargon_in(" ".join(read_page(html).everything))]
    assert not found, "jargon on family pages:\n" + "\n".join(found)


def test_no_family_message_uses_jargon(family_messages):
    found = [f"{word}: {text[:120]}" for text in family_messages for word in jargon_in(text)]
    assert not found, "jargon in family messages:\n" + "\n".join(found)
