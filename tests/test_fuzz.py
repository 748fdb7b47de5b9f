"""Hostile input on every route and form, as every role, on both databases: never a 5xx.

The routes come from the app's own URL map, so a new route is fuzzed without touching this file.
Each route is asked with hostile path values; each page's forms (found in its HTML, with the
page's CSRF token) are posted back with a hostile value in every field in turn, and the query
string gets hostile values for every parameter the page's links and forms use.
"""

import io
import re
from datetime import timedelta
from html import unescape

import pytest
from factories import PASSWORD, login, make_family, make_person, make_slot, make_tutor

from scheduler_app.services.booking import book_slot

HOSTILE = (
    "\x00",
    "a\x00b",
    "line\nbreak\r\n",
    "99999999999999999999999999",
    "-1",
    "²",
    "1e308",
    "9999-12-31",
    "0001-01-01",
    "99:99",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "é" * 5000,
    "x" * 100_000,
    "=HYPERLINK(\"http://evil\")",
    "   ",
    "",
)
PATH_VALUES = ("0", "99999999999999999999999", "2147483648", "-1")
TEXT_PATH_VALUES = ("\x00", "%00", "a" * 3000, "..%2F..", "é", "not-a-real-token")
FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', re.S)
FORM = re.compile(r'<form\b([^>]*)>(.*?)</form>', re.S)
ACTION = re.compile(r'action="([^"]*)"')
QUERY_KEYS = re.compile(r'[?&]([\w-]+)=')


def server_errors(response, what: str) -> list[str]:
    return [f"{response.status_code} {what}"] if response.status_code >= 500 else []


def filled_path(rule, ids: dict[str, int]) -> list[str]:
    """Addresses for a rule: its arguments as real ids (where there is one) and hostile values."""
    addresses = []
    int_args = [name for name, converter in rule._converters.items() if type(converter).__name__ != "UnicodeConverter"]
    text_args = [name for name in rule.arguments if name not in int_args]
    real = {name: ids.get(name, 1) for name in int_args}
    real.update({name: "fr" if name == "code" else "x" for name in text_args})
    addresses.append(_build(rule, real))
    for name in int_args:
        for value in PATH_VALUES:
            addresses.append(_build(rule, {**real, name: value}))
    for name in text_args:
        for value in TEXT_PATH_VALUES:
            addresses.append(_build(rule, {**real, name: value}))
    return addresses


def _build(rule, values: dict) -> str:
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
    return path


@pytest.fixture
def app_settings():
    # Thousands of requests from one address: no throttling; a server error answers 500, not raises.
    return {"RATELIMIT_ENABLED": False, "PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def centre(app, db, frozen_clock):
    """One of each role, a slot booked by a child, and its ids for the routes' arguments."""
    tutor = make_tutor(db)
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    parent, [child] = make_family(db, "Fatima Haddou", "Adam Haddou")
    student = make_person(db, "student", "Yasmine Haddou")
    slot = make_slot(db, tutor, starts_in=timedelta(days=2))
    free = make_slot(db, tutor, starts_in=timedelta(days=3))
    booking = book_slot(db, slot.id, child, parent, "les fractions")
    ids = {"slot_id": free.id, "booking_id": booking.id, "tutor_id": tutor.id, "person_id": child.id,
           "activity_id": 1, "notification_id": 1, "rule_id": 1}
    people = {"nobody": None, "student": student, "parent": parent, "tutor": tutor, "coordinator": coordinator}
    return people, ids


def fuzz_as(app, person, ids) -> list[str]:
    client = app.test_client()
    if person is not None:
        login(client, person.email, PASSWORD)
    errors: list[str] = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint == "auth.logout":
            continue
        for address in filled_path(rule, ids):
            if "GET" in rule.methods:
                response = client.get(address)
                errors += server_errors(response, f"GET {address[:80]!r}")
                if response.status_code == 200 and "html" in response.content_type:
                    errors += fuzz_page(client, address, response.get_data(as_text=True))
            if "POST" in rule.methods:
                for value in HOSTILE[:4]:
                    errors += server_errors(client.post(address, data={"csrf_token": value}), f"POST {address[:80]!r}")
            if person is not None and client.get("/profile").status_code != 200:
                login(client, person.email, PASSWORD)  # a form logged us out (a new password): back in
    return errors


def fuzz_page(client, address: str, html: str) -> list[str]:
    """The page's query parameters and forms, each value hostile in turn."""
    errors: list[str] = []
    base = address.split("?")[0]
    for key in set(QUERY_KEYS.findall(unescape(html))) | {"after", "for", "next", "q", "day", "grouping"}:
        for value in HOSTILE:
            response = client.get(base, query_string={key: value})
            errors += server_errors(response, f"GET {base} {key}={value[:20]!r}")
    for attributes, body in FORM.findall(html):
        if "post" not in attributes.lower():
            continue
        action = unescape(ACTION.search(attributes).group(1)) if ACTION.search(attributes) else base
        if "/logout" in action:
            continue
        fields = sorted(set(FIELD.findall(body)) - {"csrf_token"})
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body)
        for field in fields:
            for value in HOSTILE:
                data = {name: "1" for name in fields} | {field: value}
                if token:
                    data["csrf_token"] = token.group(1)
                response = client.post(action, data=data)
                errors += server_errors(response, f"POST {action} {field}={value[:20]!r}")
            # a file where text is expected
            data = {name: "1" for name in fields} | {field: (io.BytesIO(b"\x00\x01 not text"), "x.bin")}
            if token:
                data["csrf_token"] = token.group(1)
            response = client.post(action, data=data, content_type="multipart/form-data")
            errors += server_errors(response, f"POST {action} {field}=<file>")
    return errors


@pytest.mark.slow
@pytest.mark.parametrize("role", ["nobody", "student", "parent", "tutor", "coordinator"])
def test_no_route_answers_hostile_input_with_a_server_error(app, centre, role):
    people, ids = centre
    errors = fuzz_as(app, people[role], ids)
    assert not errors, f"{len(errors)} server errors as {role}:\n" + "\n".join(sorted(set(errors))[:40])
