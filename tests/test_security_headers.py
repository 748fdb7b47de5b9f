"""Security headers on every response, secure cookies behind HTTPS, templates that a strict
Content-Security-Policy does not break, and trusted proxies."""

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from factories import login, make_person, make_slot, make_tutor

from scheduler_app import create_app
from scheduler_app.services.booking import book_slot
from scheduler_app.services.feeds import feed_token

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@pytest.fixture
def database_url(sqlite_template, tmp_path) -> str:
    """Headers and cookies do not depend on the database: SQLite only."""
    path = tmp_path / "lien.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    found = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        found[name] = values
    return found


def assert_protected(response) -> None:
    csp = directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.fixture
def booked(db):
    tutor = make_tutor(db)
    student = make_person(db, "student", "Yasmine Haddou")
    slot = make_slot(db, tutor, starts_in=timedelta(minutes=5))
    booking = book_slot(db, slot.id, student, student, "les fractions")
    return {"tutor": tutor, "student": student, "booking": booking}


def test_every_kind_of_response_carries_the_security_headers(client, db, booked):
    secret = feed_token(db, booked["tutor"]).secret
    anonymous = ["/", "/login", "/health", "/static/style.css", "/nowhere", f"/calendar/{secret}.ics", "/sessions"]
    responses = {address: client.get(address) for address in anonymous}
    login(client, booked["student"].email)
    for address in ("/sessions", "/slots", f"/sessions/{booked['booking'].id}"):
        responses[address + " (logged in)"] = client.get(address)
    assert {address: r.status_code for address, r in responses.items()} == {
        "/": 200, "/login": 200, "/health": 200, "/static/style.css": 200, "/nowhere": 404,
        f"/calendar/{secret}.ics": 200, "/sessions": 302,
        "/sessions (logged in)": 200, "/slots (logged in)": 200, f"/sessions/{booked['booking'].id} (logged in)": 200,
    }
    for address, response in responses.items():
        assert_protected(response)
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", address


def test_the_join_redirect_sends_no_referrer_to_the_video_server(client, db, booked):
    from sqlalchemy import select

    from scheduler_app.models import JoinToken

    token = db.scalar(select(JoinToken.token).where(JoinToken.user_id == booked["student"].id))
    response = client.get(f"/j/{token}")
    assert response.status_code == 303 and response.headers["Location"].startswith("https://meet.example.org/")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert_protected(response)


def test_a_refused_form_and_a_throttled_login_carry_the_headers_too(app, client):
    app.config["RATELIMIT_LOGIN"] = "1 per minute"
    refused = client.post("/login", data={"email": "x@example.org", "password": "x"})
    assert refused.status_code == 400  # no CSRF token
    assert_protected(refused)
    login(client, "x@example.org", "wrong")
    throttled = login(client, "x@example.org", "wrong")
    assert throttled.status_code == 429
    assert_protected(throttled)


# What a strict policy (no 'unsafe-inline') would silently block on a page: inline scripts,
# event-handler attributes, javascript: URLs, <style> elements and style="" attributes.
INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "on* handler": re.compile(r"<[a-z][^>]*\s(on[a-z]+)\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "<style> element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I),
}


def test_no_page_template_has_anything_the_policy_would_block():
    pages = [path for path in TEMPLATES.rglob("*.html") if "messages" not in path.relative_to(TEMPLATES).parts]
    assert len(pages) > 20
    found = [
        f"{path.relative_to(TEMPLATES)}: {what}"
        for path in pages
        for what, pattern in INLINE.items()
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []  # email templates (templates/messages/) are not pages: mail clients need inline styles


def cookies(response) -> dict[str, str]:
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        name = header.split("=", 1)[0]
        found[name] = header
    return found


def remembered_login(client, email: str):
    from conftest import csrf_token
    from factories import PASSWORD

    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": PASSWORD, "remember": "y",
                                       "csrf_token": csrf_token(page.get_data(as_text=True))})


def test_cookies_are_httponly_and_samesite_and_not_secure_over_plain_http(client, db):
    person = make_person(db, "student", "Yasmine Haddou")
    set_cookies = cookies(remembered_login(client, person.email))
    assert set(set_cookies) == {"session", "remember_token"}
    for header in set_cookies.values():
        assert "HttpOnly" in header and "SameSite=Lax" in header
        assert "Secure" not in header  # a laptop at http://127.0.0.1 must still log in


@pytest.fixture
def https_app(database_url, tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key", "DATABASE_URL": database_url,
                      "PUBLIC_URL": "https://lien.centre.example.org", "PROXY_FIX": 1})
    app.instance_path = str(tmp_path)
    return app


def test_an_https_site_sends_secure_cookies_and_hsts(https_app, db):
    person = make_person(db, "student", "Yasmine Haddou")
    client = https_app.test_client()
    set_cookies = cookies(remembered_login(client, person.email))
    assert set(set_cookies) == {"session", "remember_token"}
    for header in set_cookies.values():
        assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
    # The reverse proxy speaks HTTPS to the browser and says so in X-Forwarded-Proto.
    behind_proxy = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert behind_proxy.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in client.get("/login").headers  # plain HTTP: HSTS means nothing


def test_secure_cookies_can_be_turned_off_or_on_by_the_environment(monkeypatch, database_url):
    monkeypatch.setenv("PUBLIC_URL", "https://lien.centre.example.org")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    app = create_app({"TESTING": True, "DATABASE_URL": database_url})
    assert app.config["SESSION_COOKIE_SECURE"] is False and app.config["REMEMBER_COOKIE_SECURE"] is False
    monkeypatch.setenv("PUBLIC_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    app = create_app({"TESTING": True, "DATABASE_URL": database_url})
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True


def test_a_proxy_setting_that_is_not_a_number_is_refused(monkeypatch, database_url):
    monkeypatch.setenv("PROXY_FIX", "nginx")
    with pytest.raises(RuntimeError, match="PROXY_FIX='nginx': write the number of reverse proxies"):
        create_app({"TESTING": True, "DATABASE_URL": database_url})


def test_behind_a_trusted_proxy_each_visitor_is_throttled_by_their_own_address(https_app):
    https_app.config["RATELIMIT_JOIN"] = "2 per minute"
    client = https_app.test_client()

    def visit(address: str) -> int:
        return client.get("/j/no-such-link", headers={"X-Forwarded-For": address}).status_code

    assert [visit("203.0.113.7") for _ in range(3)] == [404, 404, 429]
    assert visit("198.51.100.20") == 404  # someone else behind the same proxy is not locked out


def test_a_new_password_logs_out_a_remembered_device_too(app, client, db):
    person = make_person(db, "student", "Yasmine Haddou")
    remembered_login(client, person.email)
    client.delete_cookie("session")  # the browser was closed: only "stay logged in" remains
    assert client.get("/sessions").status_code == 200
    person.set_password("a-brand-new-password")
    db.commit()
    client.delete_cookie("session")
    assert client.get("/sessions").status_code == 302
