"""Benchmark: Lien's pages, booking and cancelling under gunicorn, each against the floor.

    make bench            # or: .venv/bin/python bench/pages.py [--quick] [--databases D] [--scales N] [--pages K]

What it measures, how, and the targets: bench/method.md. Each run writes its figures to
docs/performance.md (a fresh file: the method, then this run's tables), and the same figures to
bench/out/pages.json; it exits non-zero while a target is missed.

Needs wrk (`apt-get install wrk`), PostgreSQL at 127.0.0.1:5432 (user postgres; the benchmark
creates and drops its own database, lien_bench) and Redis at 127.0.0.1:6379 (rate-limit storage,
as in production).
"""

import argparse
import contextlib
import gc
import http.client
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from data import PASSWORD, Fixture, generate  # noqa: E402

# Overridable so that two benchmarks on one machine do not drop each other's database or files.
OUT = Path(os.environ.get("LIEN_BENCH_OUT", ROOT / "bench" / "out"))
REPORT = Path(os.environ.get("LIEN_BENCH_REPORT", ROOT / "docs" / "performance.md"))
METHOD = ROOT / "bench" / "method.md"
POSTS_SCRIPT = ROOT / "bench" / "posts.lua"
POSTGRES = os.environ.get("LIEN_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS = os.environ.get("LIEN_BENCH_REDIS", "redis://127.0.0.1:6379")
BENCH_DATABASE = os.environ.get("LIEN_BENCH_DATABASE", "lien_bench")
USER_AGENT = "lien-bench"  # the same for logging in and for wrk: Flask-Login ties a session to it
TARGET_RATIO = 0.15
FEED_TARGET = 2.0  # the 1,000-event feed against icalendar alone
DEFAULT_RUNS = [("sqlite", 1), ("sqlite", 10), ("postgresql", 1), ("postgresql", 10), ("postgresql", 100)]
WEB_WORKERS = 2
WRK_THREADS = 2
POST_CONNECTIONS = 8
RACE_WORKERS = 8  # more processes than cores, so that the 32 posts really overlap
FEED_ROUNDS = 9


@dataclass(frozen=True)
class Page:
    key: str  # for --pages
    name: str
    who: str  # "nobody", or a key of people()
    address: str
    status: int


def pages(fixture: Fixture) -> list[Page]:
    """The floor first, then the pages measured against it."""
    filters = urlencode({"activity": 1, "subject": "maths", "level": "college", "language": "ar", "day": fixture.day})
    return [
        Page("floor", "floor: /health/live", "nobody", "/health/live", 200),
        Page("browser", "slot browser", "student", "/slots", 200),
        Page("filtered", "slot browser, filtered", "student", f"/slots?{filters}", 200),
        Page("student", "student's sessions", "student", "/sessions", 200),
        Page("parent", "parent's sessions", "parent", "/sessions", 200),
        Page("tutor", "tutor's sessions", "tutor", "/slots/mine", 200),
        Page("session", "tutor's session page", "tutor", f"/slots/{fixture.tutor_slot}", 200),
        Page("to-mark", "tutor's sessions to mark", "tutor", "/slots/to-mark", 200),
        Page("feed", "tutor's calendar feed", "nobody", f"/calendar/{fixture.tutor_feed}.ics", 200),
        Page("join", "join redirect", "nobody", f"/j/{fixture.join_token}", 303),
    ]


def people(fixture: Fixture) -> dict[str, str]:
    return {"student": fixture.busy_student, "parent": fixture.parent, "tutor": fixture.busy_tutor}


# --- databases -------------------------------------------------------------------------------

def drop_bench_database() -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
    admin.dispose()


def fresh_database(kind: str, factor: int) -> str:
    """An empty, migrated database: a new SQLite file, or PostgreSQL's lien_bench anew."""
    from sqlalchemy import create_engine, text

    from scheduler_app.db import make_engine
    from scheduler_app.schema import upgrade

    if kind == "sqlite":
        path = OUT / f"bench-{factor}x.sqlite3"
        for leftover in OUT.glob(f"bench-{factor}x.sqlite3*"):
            leftover.unlink()
        url = f"sqlite:///{path}"
    else:
        admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
        admin.dispose()
        url = f"{POSTGRES}/{BENCH_DATABASE}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def generated(kind: str, factor: int) -> tuple[str, Fixture]:
    """A fresh database (fresh_database) filled with bench/data.py's data at `factor`: its URL
    and what the benchmark visits in it."""
    from scheduler_app.db import make_engine

    url = fresh_database(kind, factor)
    engine = make_engine(url)
    fixture = generate(engine, factor)
    engine.dispose()
    return url, fixture


def settings(url: str, port: int, prefix: str, storage: str) -> dict[str, str]:
    """The environment the server runs with: production-like (Redis, signed Jitsi links)."""
    return {
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "DATABASE_URL": url,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "JITSI_DOMAIN": "meet.example.org",
        "JITSI_APP_ID": "lien-bench",
        "JITSI_APP_SECRET": "bench-jitsi-secret-that-is-long-enough",
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_STORAGE_PREFIX": prefix,
        # Every request comes from 127.0.0.1: the limits are still checked (in Redis), never reached.
        "RATELIMIT_LOGIN": "1000000 per minute",
        "RATELIMIT_JOIN": "1000000 per minute",
        "LIEN_DEMO": "0",
    }


# --- SQL statements per request (in process, same database) ----------------------------------

def logged_in_clients(app, fixture: Fixture) -> dict:
    """A test client per person the pages are read as ("nobody" too), logged in through the form."""
    clients = {"nobody": app.test_client()}
    for who, email in people(fixture).items():
        clients[who] = app.test_client()
        page = clients[who].get("/login").get_data(as_text=True)
        clients[who].post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(page)})
    return clients


def statement_counts(url: str, fixture: Fixture) -> dict[str, int]:
    """SQL statements each page sends, counted on the engine (the same pages, logged in the same
    way), the page read once before as all day long."""
    from sqlalchemy import event

    from scheduler_app import create_app
    from scheduler_app import db as database

    os.environ.update(settings(url, 5000, "lien-bench-count", "memory://"))
    app = create_app({"TESTING": True})
    clients = logged_in_clients(app, fixture)
    engine = database.engine_of(app)
    counts = {}
    for page in pages(fixture):
        clients[page.who].get(page.address)
        statements = []

        def count(*_args, statements=statements):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        response = clients[page.who].get(page.address)
        event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == page.status, (page.name, response.status_code)
        counts[page.key] = len(statements)
    engine.dispose()
    return counts


# --- the server and an HTTP client -----------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(environment: dict[str, str], port: int, workers: int, log: Path):
    """Lien under gunicorn, as `make serve` runs it; stopped (and waited for) at the end."""
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
               "scheduler_app:create_app()"]
    with open(log, "w") as output:
        server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **environment}, stdout=output,
                                  stderr=subprocess.STDOUT)
        try:
            for _ in range(200):
                try:
                    if request(port, "GET", "/health/live")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            else:
                raise RuntimeError(f"gunicorn did not start: see {log}")
            yield server
        finally:
            server.terminate()
            server.wait(30)


def request(port: int, method: str, address: str, *, cookie: str = "", form: dict | None = None):
    """(status, headers, body) of one request over a new connection, as a browser would send it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, address, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1) or match.group(2)


def session_cookie(headers) -> str:
    for header in headers.get_all("Set-Cookie") or []:
        if header.startswith("session="):
            return header.split(";", 1)[0]
    return ""


def log_in(port: int, email: str) -> str:
    """Log in through the login form (CSRF token and all); the session cookie to send."""
    _, headers, html = request(port, "GET", "/login")
    cookie = session_cookie(headers)
    status, headers, _ = request(port, "POST", "/login", cookie=cookie,
                                 form={"email": email, "password": PASSWORD, "csrf_token": csrf_token(html)})
    if status != 302:
        raise RuntimeError(f"login of {email} answered {status}")
    return session_cookie(headers) or cookie


# --- wrk -------------------------------------------------------------------------------------

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def wrk(port: int, address: str, cookie: str, seconds: float, connections: int, script: list[str] | None = None) -> dict:
    """One wrk run: requests per second, p50 and p99 in ms, errors. `script`: a Lua script and
    its arguments (bench/posts.lua), which then says what is sent."""
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    if script:
        command += ["-s", script[0]]
    command.append(f"http://127.0.0.1:{port}{address}")
    if script:
        command += ["--", *script[1:]]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def latency(percent: str) -> float:
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M).groups()
        return float(value) * UNITS[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "bad_status": int(errors.group(1)) if errors else 0,
        "socket_errors": dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()), strict=True)) if sockets else {},
    }
    posted = re.search(r"^posts: unexpected (\d+) ran_out (\d+)$", output, re.M)
    if posted:
        # A form answered with the page again (refused) rather than its redirect; and, apart, the
        # requests of a connection that had posted all of its distinct slots (the run too long).
        result["bad_status"] += int(posted.group(1))
        result["ran_out"] = int(posted.group(2))
    return result


def problems(result: dict) -> str:
    """What went wrong in a run, in words (clean(): nothing)."""
    return (f"{result['bad_status']} unexpected answers, {result.get('ran_out', 0)} posted again after the "
            f"distinct slots ran out, socket errors {result['socket_errors']}")


def clean(result: dict) -> bool:
    return result["bad_status"] == 0 and not result.get("ran_out") and not any(result["socket_errors"].values())


def combined(runs: list[dict]) -> dict:
    """Several wrk runs of one address as one: medians of the rates and latencies, sums of the
    requests and errors."""
    errors: dict[str, int] = {}
    for run in runs:
        for kind, count in run["socket_errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    return {
        "rps": statistics.median(run["rps"] for run in runs),
        "p50_ms": statistics.median(run["p50_ms"] for run in runs),
        "p99_ms": statistics.median(run["p99_ms"] for run in runs),
        "requests": sum(run["requests"] for run in runs),
        "bad_status": sum(run["bad_status"] for run in runs),
        "ran_out": sum(run.get("ran_out", 0) for run in runs),
        "socket_errors": errors,
        "runs": len(runs),
    }


def beside_the_floor(port: int, args, run, connections: int) -> tuple[dict, list[dict]]:
    """`run()` (a wrk run) args.rounds times, each right after a run of the floor: this machine's
    speed drifts by half or more within minutes, so a ratio is only fair between neighbours.
    The combined runs, with their ratio (the median of the rounds'), and the floor's runs."""
    rounds = []
    for number in range(args.rounds):
        floor = wrk(port, "/health/live", "", args.seconds, connections)
        rounds.append((floor, run(number)))
    result = combined([measured for _, measured in rounds])
    result["ratio"] = statistics.median(measured["rps"] / floor["rps"] for floor, measured in rounds)
    result["floor_rps"] = [round(floor["rps"]) for floor, _ in rounds]
    return result, [floor for floor, _ in rounds]


# --- one database at one scale ---------------------------------------------------------------

def measure(kind: str, factor: int, args, storage: str) -> dict:
    started = time.perf_counter()
    url, fixture = generated(kind, factor)
    written = time.perf_counter() - started
    print(f"\n== {kind}, scale {factor}x: {fixture.counts['slot']:,} slots, {fixture.counts['booking']:,} bookings, "
          f"{fixture.counts['user']:,} people; written in {written:.1f} s", flush=True)
    counts = statement_counts(url, fixture)
    chosen = [page for page in pages(fixture)[1:] if not args.pages or page.key in args.pages]

    port, prefix = free_port(), f"lien-bench-{uuid.uuid4().hex[:8]}"
    results, posts = {}, {}
    with gunicorn(settings(url, port, prefix, storage), port, WEB_WORKERS, OUT / f"gunicorn-{kind}-{factor}x.log"):
        cookies = {"nobody": ""} | {who: log_in(port, email) for who, email in people(fixture).items()}
        for page in chosen:
            answered = request(port, "GET", page.address, cookie=cookies[page.who])[0]
            if answered != page.status:
                raise RuntimeError(f"{page.name}: {page.address} answered {answered}, not {page.status}")
        floors = []
        for page in chosen:
            wrk(port, page.address, cookies[page.who], args.warmup, args.connections)
            result, floor_runs = beside_the_floor(
                port, args, lambda _round, page=page: wrk(port, page.address, cookies[page.who], args.seconds,
                                                          args.connections), args.connections)
            floors += floor_runs
            results[page.key] = result | {"name": page.name, "statements": counts[page.key]}
            print(f"   {page.name:<26} {result['rps']:8.0f} req/s  ratio {result['ratio']:.2f}"
                  f"  (floor {', '.join(map(str, result['floor_rps']))})", flush=True)
        if "posts" not in args.skip:
            posts = measure_posts(port, url, fixture, args)
        if floors:
            floor = pages(fixture)[0]
            results = {floor.key: combined(floors) | {"name": floor.name, "ratio": 1.0,
                                                      "statements": counts[floor.key]}} | results
    forget_limits(storage, prefix)
    return {"database": kind, "scale": factor, "counts": fixture.counts, "pages": results, "posts": posts,
            "statements": counts}


def forget_limits(storage: str, prefix: str) -> None:
    if storage.startswith("redis://"):
        import redis

        server = redis.Redis.from_url(storage)
        keys = list(server.scan_iter(f"{prefix}:*"))
        if keys:
            server.delete(*keys)


# --- booking and cancelling under load -------------------------------------------------------

def measure_posts(port: int, url: str, fixture: Fixture, args) -> dict:
    """The booking form and the cancel form posted by wrk, POST_CONNECTIONS connections, each
    request for a slot (or a booking) of its own: the students of the race (fixture.racers, who
    have no sessions) book the free slots to come, one slot per student and start time. The
    bookings left after the booking rounds are topped up (untimed) so that the cancel rounds
    have as many to cancel; then those are cancelled."""
    from sqlalchemy import select

    from scheduler_app.db import make_engine
    from scheduler_app.models import Booking, Slot

    engine = make_engine(url)
    racers = fixture.racers
    cookies, tokens = [], []
    for email in racers:
        cookie = log_in(port, email)
        _, _, html = request(port, "GET", f"/slots/{fixture.race_slot}/book", cookie=cookie)
        cookies.append(cookie)
        tokens.append(csrf_token(html))
    # Free slots to come (an hour ahead at least, so that their bookings may still be cancelled),
    # each given to a student free at that time.
    later = datetime.now(UTC) + timedelta(hours=1)
    with engine.connect() as connection:
        free = connection.execute(select(Slot.id, Slot.starts_at).where(
            Slot.status == "open", Slot.booked < Slot.capacity, Slot.starts_at > later,
            Slot.id != fixture.race_slot).order_by(Slot.starts_at, Slot.id)).all()
    supply, taken_at = [], {}
    for slot_id, starts_at in free:
        student = taken_at.get(starts_at, 0)
        if student < len(racers):
            supply.append((student, slot_id))
            taken_at[starts_at] = student + 1

    def booking(student: int, slot_id: int) -> tuple[str, str, str]:
        return f"/slots/{slot_id}/book", cookies[student], urlencode({"csrf_token": tokens[student], "topic": "bench"})

    def booked_by_racers() -> list[tuple[int, int]]:
        """(student, booking id) of the racers' live bookings."""
        with engine.connect() as connection:
            emails = dict(zip(_user_ids(connection, racers), range(len(racers)), strict=True))
            rows = connection.execute(select(Booking.student_id, Booking.id).where(
                Booking.student_id.in_(list(emails)), Booking.status == "confirmed").order_by(Booking.id)).all()
        return [(emails[student_id], booking_id) for student_id, booking_id in rows]

    share = len(supply) // args.rounds
    with tempfile.TemporaryDirectory() as folder:
        def post_run(lines: list[tuple[str, str, str]], expected: int, seconds: float, name: str) -> dict:
            listing = Path(folder) / f"{name}.tsv"
            listing.write_text("".join(f"{path}\t{cookie}\t{body}\n" for path, cookie, body in lines))
            return wrk(port, "/", "", seconds, POST_CONNECTIONS,
                       [str(POSTS_SCRIPT), str(listing), str(expected), str(WRK_THREADS)])

        book, _ = beside_the_floor(port, args, lambda number: post_run(
            [booking(*pair) for pair in supply[number * share:(number + 1) * share]], 302, args.seconds,
            f"book-{number}"), POST_CONNECTIONS)
        made = len(booked_by_racers())
        book |= {"name": "booking POST", "distinct_slots": share, "in_database": made}
        # Twice as many again to cancel: cancelling runs up to about twice as fast as booking.
        booked_slots = _booked_slots(engine, racers)
        left = [pair for pair in supply if pair[1] not in booked_slots]
        if left:
            post_run([booking(*pair) for pair in left[:2 * made]], 302, 2 * args.seconds * args.rounds, "top-up")
        cancels = booked_by_racers()
        share_cancel = len(cancels) // args.rounds
        cancel, _ = beside_the_floor(port, args, lambda number: post_run(
            [(f"/sessions/{booking_id}/cancel", cookies[student], urlencode({"csrf_token": tokens[student]}))
             for student, booking_id in cancels[number * share_cancel:(number + 1) * share_cancel]],
            302, args.seconds, f"cancel-{number}"), POST_CONNECTIONS)
        cancel |= {"name": "cancel POST", "distinct_slots": share_cancel,
                   "in_database": len(cancels) - len(booked_by_racers())}
    engine.dispose()
    for name, result in (("booking POST", book), ("cancel POST", cancel)):
        print(f"   {name:<26} {result['rps']:8.0f} req/s  ratio {result['ratio']:.2f}"
              f"  (floor {', '.join(map(str, result['floor_rps']))}; {result['distinct_slots']} distinct slots a round)",
              flush=True)
    return {"booking": book, "cancel": cancel}


def _user_ids(connection, emails: list[str]) -> list[int]:
    from sqlalchemy import select

    from scheduler_app.models import User

    ids = dict(connection.execute(select(User.email, User.id).where(User.email.in_(emails))).all())
    return [ids[email] for email in emails]


def _booked_slots(engine, emails: list[str]) -> set[int]:
    from sqlalchemy import select

    from scheduler_app.models import Booking

    with engine.connect() as connection:
        return set(connection.scalars(select(Booking.slot_id).where(
            Booking.student_id.in_(_user_ids(connection, emails)), Booking.status == "confirmed")))


# --- the booking race over HTTP --------------------------------------------------------------

def race(storage: str) -> dict:
    """32 logged-in students post the booking form of one capacity-1 slot at the same moment."""
    from sqlalchemy import func, select

    from scheduler_app.db import make_engine
    from scheduler_app.models import Booking, Slot

    url, fixture = generated("postgresql", 1)
    port, prefix = free_port(), f"lien-bench-{uuid.uuid4().hex[:8]}"
    outcomes: list[tuple[int, str]] = []
    taken = just_taken_words(url)
    with gunicorn(settings(url, port, prefix, storage), port, RACE_WORKERS, OUT / "gunicorn-race.log"):
        forms = []
        for email in fixture.racers:
            cookie = log_in(port, email)
            _, _, html = request(port, "GET", f"/slots/{fixture.race_slot}/book", cookie=cookie)
            forms.append((cookie, {"csrf_token": csrf_token(html), "topic": "les fractions"}))
        start = threading.Barrier(len(forms))

        def post(cookie: str, form: dict) -> None:
            start.wait()
            status, headers, html = request(port, "POST", f"/slots/{fixture.race_slot}/book", cookie=cookie, form=form)
            if status in (302, 303) and "booked=1" in headers.get("Location", ""):
                outcomes.append((status, "booked"))
            elif status == 200 and taken in html.replace("&#39;", "'"):
                outcomes.append((status, "just taken"))
            else:
                outcomes.append((status, "error"))

        threads = [threading.Thread(target=post, args=form) for form in forms]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    forget_limits(storage, prefix)
    engine = make_engine(url)
    with engine.connect() as connection:
        bookings = connection.scalar(select(func.count()).select_from(Booking).where(
            Booking.slot_id == fixture.race_slot, Booking.status != "cancelled"))
        booked = connection.scalar(select(Slot.booked).where(Slot.id == fixture.race_slot))
    engine.dispose()
    kinds = [kind for _, kind in outcomes]
    return {"clients": len(forms), "gunicorn_workers": RACE_WORKERS, "booked_pages": kinds.count("booked"),
            "just_taken_pages": kinds.count("just taken"), "errors": kinds.count("error"),
            "bookings_in_database": bookings, "slot_booked_counter": booked,
            "statuses": sorted({status for status, _ in outcomes})}


def just_taken_words(url: str) -> str:
    """What the booking form says when the place went to someone else (in French): taken from
    the service, so that rewording it does not break the count."""
    from flask_babel import force_locale

    from scheduler_app import create_app
    from scheduler_app.services.booking import SlotTaken

    with create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url}).test_request_context(), \
            force_locale("fr"):
        return str(SlotTaken().message)


# --- a 1,000-event feed against icalendar alone ----------------------------------------------

def feed_of_a_thousand(rounds: int) -> dict:
    """A tutor's feed of 1,000 sessions, (a) rendered by calendars.render_feed from its entries
    and (b) served whole by the feed view (its statements, entries, rendering), against
    icalendar serialising the same 1,000 entries alone (the floor)."""
    from sqlalchemy import insert

    from scheduler_app import create_app
    from scheduler_app import db as database
    from scheduler_app.db import make_engine
    from scheduler_app.models import Base
    from scheduler_app.schema import upgrade

    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/feed.sqlite3"
        engine = make_engine(url)
        upgrade(engine)
        tables = Base.metadata.tables
        with engine.begin() as connection:
            connection.execute(insert(tables["user"]), [{"id": 1, "name": "Karim Haddad", "email": "karim@example.org",
                                                         "role": "tutor", "locale": "fr", "timezone": "Europe/Paris",
                                                         "active": True, "notify_by": "email", "login_key": "k",
                                                         "created_at": now}])
            slots = []
            for n in range(1000):  # ten a day from 25 days ago, 45 minutes each
                start = (now - timedelta(days=25)).replace(hour=8, minute=0, second=0) + timedelta(days=n // 10,
                                                                                                    hours=n % 10)
                slots.append({"id": n + 1, "tutor_id": 1, "activity_id": 1, "starts_at": start,
                              "ends_at": start + timedelta(minutes=45), "capacity": 1, "booked": 0,
                              "subject": "maths", "level": "college", "status": "open", "room_name": f"room{n:028d}",
                              "sequence": 0, "created_at": now, "updated_at": now})
            connection.execute(insert(tables["slot"]), slots)
            connection.execute(insert(tables["feed_token"]), [{"id": 1, "secret": "feed", "user_id": 1,
                                                               "created_at": now}])
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url})
        client = app.test_client()
        name, events = entries_of(client.get("/calendar/feed.ics").get_data())
        assert len(events) == 1000

        def served_cold() -> None:
            """The feed as a calendar app gets it after a change: the view's cache of rendered
            bodies (keyed by the feed's rows, so unchanged by a new address) emptied first."""
            app.extensions["lien_feed_cache"].clear()
            client.get("/calendar/feed.ics")

        works = {
            "floor": lambda: icalendar_alone(events),
            "rendered": lambda: render_feed_of(events, name, now),
            "served": served_cold,
        }
        # The three side by side in each round, and the median of each round's ratios: this
        # machine's speed drifts between rounds more than the three differ.
        times = [{name: timed(work) for name, work in works.items()} for _ in range(rounds)]
        database.engine_of(app).dispose()
        engine.dispose()
    best = {name: min(round_[name] for round_ in times) for name in works}
    return {"events": 1000, "rounds": rounds, "icalendar_alone_ms": best["floor"] * 1e3,
            "render_feed_ms": best["rendered"] * 1e3, "feed_view_ms": best["served"] * 1e3,
            "render_ratio": statistics.median(round_["rendered"] / round_["floor"] for round_ in times),
            "view_ratio": statistics.median(round_["served"] / round_["floor"] for round_ in times)}


def timed(work) -> float:
    # Each from a collected heap: otherwise a full collection that the work before made due
    # lands in this one, in the same place every round.
    gc.collect()
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def entries_of(feed: bytes) -> tuple[str, list]:
    """The feed's name and its entries as calendars.Event values, read back from its text."""
    import icalendar

    from calendars import Event, Person

    def person(address) -> Person:
        return Person(name=str(address.params.get("CN", "")), email=str(address).removeprefix("mailto:"))

    calendar = icalendar.Calendar.from_ical(feed)
    events = []
    for entry in calendar.walk("VEVENT"):
        attendees = entry.get("attendee", [])
        events.append(Event(
            uid=str(entry["uid"]), sequence=int(entry.get("sequence", 0)),
            starts_at=entry.decoded("dtstart"), ends_at=entry.decoded("dtend"),
            summary=str(entry.get("summary", "")), description=str(entry.get("description", "")),
            url=str(entry["url"]) if "url" in entry else None,
            location=str(entry["location"]) if "location" in entry else None,
            organizer=person(entry["organizer"]) if "organizer" in entry else None,
            attendees=tuple(person(a) for a in (attendees if isinstance(attendees, list) else [attendees])),
            cancelled=str(entry.get("status", "")) == "CANCELLED",
            updated_at=entry.decoded("last-modified") if "last-modified" in entry else None,
        ))
    return str(calendar.get("name") or calendar.get("x-wr-calname") or ""), events


def render_feed_of(events: list, name: str, now: datetime) -> bytes:
    from calendars import render_feed

    return render_feed(events, name=name, tz="Europe/Paris", now=now)


def icalendar_alone(events: list) -> bytes:
    """The same entries written by icalendar with no more than each entry's own properties."""
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//bench//icalendar//")
    calendar.add("version", "2.0")
    for entry in events:
        vevent = icalendar.Event()
        vevent.add("uid", entry.uid)
        vevent.add("sequence", entry.sequence)
        vevent.add("dtstamp", entry.updated_at or entry.starts_at)
        vevent.add("dtstart", entry.starts_at)
        vevent.add("dtend", entry.ends_at)
        vevent.add("summary", entry.summary)
        if entry.description:
            vevent.add("description", entry.description)
        if entry.url:
            vevent.add("url", entry.url)
        if entry.location:
            vevent.add("location", entry.location)
        if entry.organizer:
            vevent.add("organizer", icalendar.vCalAddress(f"mailto:{entry.organizer.email}"))
        for person in entry.attendees:
            vevent.add("attendee", icalendar.vCalAddress(f"mailto:{person.email}"))
        vevent.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
        calendar.add_component(vevent)
    return calendar.to_ical()


# --- report ----------------------------------------------------------------------------------

def verdicts(runs: list[dict], feed: dict | None, race_result: dict | None) -> list[tuple[str, bool]]:
    """Each target this run checked, and whether it was met."""
    checked = []
    for run in runs:
        where = f"{run['database']} {run['scale']}x"
        for key, result in run["pages"].items():
            if key != "floor":
                checked.append((f"{where}: {result['name']} at least {TARGET_RATIO} of the floor "
                                f"({result['ratio']:.2f})", result["ratio"] >= TARGET_RATIO))
            if not clean(result):
                checked.append((f"{where}: {result['name']} answered without errors ({problems(result)})", False))
        for post in run["posts"].values():
            if not clean(post):
                checked.append((f"{where}: a {post['name']} answered without errors ({problems(post)})", False))
    for kind in sorted({run["database"] for run in runs}):
        by_scale = [run for run in runs if run["database"] == kind]
        if len(by_scale) > 1:
            grows = [key for key in by_scale[0]["statements"]
                     if len({run["statements"][key] for run in by_scale}) > 1]
            scales = ", ".join(f"{run['scale']}x" for run in by_scale)
            checked.append((f"{kind}: statements per page the same at {scales}"
                            + (f" (they change for: {', '.join(grows)})" if grows else ""), not grows))
    if feed:
        checked.append((f"1,000-event feed at most {FEED_TARGET:g}x icalendar alone (render_feed "
                        f"{feed['render_ratio']:.2f}x, the whole view {feed['view_ratio']:.2f}x)",
                        feed["render_ratio"] <= FEED_TARGET and feed["view_ratio"] <= FEED_TARGET))
    if race_result:
        checked.append((f"booking race: 1 booking, {race_result['clients'] - 1} 'just taken' pages, 0 errors "
                        f"({race_result['booked_pages']}, {race_result['just_taken_pages']}, "
                        f"{race_result['errors']}; {race_result['bookings_in_database']} in the database)",
                        (race_result["booked_pages"], race_result["just_taken_pages"], race_result["errors"],
                         race_result["bookings_in_database"]) == (1, race_result["clients"] - 1, 0, 1)))
    return checked


def figures(runs: list[dict], feed: dict | None, race_result: dict | None, context: dict) -> str:
    """This run's figures as Markdown: the machine, one table per database and scale, the
    statements by scale, the feed, the race, and each target met or missed."""
    lines = [
        "## Figures of the last run",
        "",
        f"- **When**: {context['when']} (UTC), {context['minutes']:.0f} minutes.",
        f"- **Command**: `{context['command']}` ({context['settings']}).",
        f"- **Machine**: {context['machine']}.",
        f"- **Load average** (1 min) at the start and the end: {context['load'][0]:.2f}, {context['load'][1]:.2f}"
        " (other work on the machine slows the floor and the pages alike; the ratios are what is compared).",
        "",
    ]
    for run in runs:
        counts = run["counts"]
        lines += [f"### {run['database']}, scale {run['scale']}x", "",
                  f"{counts['slot']:,} slots, {counts['booking']:,} bookings, {counts['user']:,} people.", "",
                  "| page | req/s | p50 ms | p99 ms | ratio | SQL | target |", "|---|---:|---:|---:|---:|---:|---|"]
        for key, result in run["pages"].items():
            target = "" if key == "floor" else "met" if result["ratio"] >= TARGET_RATIO else "**missed**"
            if not clean(result):
                target += f" **errors: {problems(result)}**"
            lines.append(f"| {result['name']} | {result['rps']:,.0f} | {result['p50_ms']:.1f} | "
                         f"{result['p99_ms']:.1f} | {result['ratio']:.2f} | {result['statements']} | {target} |")
        for post in run["posts"].values():
            note = "measured" + ("" if clean(post) else f" **errors: {problems(post)}**")
            lines.append(f"| {post['name']} ({post['distinct_slots']:,} distinct slots a round) | {post['rps']:,.0f} | "
                         f"{post['p50_ms']:.1f} | {post['p99_ms']:.1f} | {post['ratio']:.2f} | | {note} |")
        lines.append("")
    kinds = sorted({run["database"] for run in runs})
    if any(len([run for run in runs if run["database"] == kind]) > 1 for kind in kinds):
        lines += ["### SQL statements per page, by scale", ""]
        for kind in kinds:
            by_scale = [run for run in runs if run["database"] == kind]
            lines += [f"| {kind} | " + " | ".join(f"{run['scale']}x" for run in by_scale) + " |",
                      "|---|" + "---:|" * len(by_scale)]
            for key, result in by_scale[0]["pages"].items():
                lines.append(f"| {result['name']} | "
                             + " | ".join(str(run["statements"][key]) for run in by_scale) + " |")
            lines.append("")
    if feed:
        lines += ["### Calendar feed of 1,000 events", "",
                  f"Best of {feed['rounds']} rounds: icalendar alone {feed['icalendar_alone_ms']:.1f} ms; "
                  f"`calendars.render_feed` {feed['render_feed_ms']:.1f} ms (**{feed['render_ratio']:.2f}x**); "
                  f"the whole feed view {feed['feed_view_ms']:.1f} ms (**{feed['view_ratio']:.2f}x**). "
                  "Ratios: the median of the rounds'.", ""]
    if race_result:
        lines += ["### Booking race", "",
                  f"{race_result['clients']} students post the same capacity-1 slot at once (PostgreSQL, "
                  f"gunicorn {race_result['gunicorn_workers']} workers): {race_result['booked_pages']} booked, "
                  f"{race_result['just_taken_pages']} 'just taken' pages, {race_result['errors']} errors; "
                  f"{race_result['bookings_in_database']} booking in the database (the slot's counter: "
                  f"{race_result['slot_booked_counter']}).", ""]
    checked = verdicts(runs, feed, race_result)
    missed = [text for text, met in checked if not met]
    lines += ["### Targets", "",
              "Every target checked in this run was met." if not missed else
              f"**Missed: {len(missed)} of the {len(checked)} targets checked in this run.**", ""]
    lines += [f"- {'met' if met else '**missed**'}: {text}" for text, met in checked]
    if context["not_run"]:
        lines += ["", f"Not run this time: {context['not_run']}."]
    return "\n".join(lines) + "\n"


def machine() -> str:
    model = memory = ""
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as cpuinfo:
        model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    with contextlib.suppress(OSError, StopIteration), open("/proc/meminfo") as meminfo:
        kilobytes = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
        memory = f", {kilobytes / 1024 ** 2:.0f} GB of memory"
    postgresql = ""
    try:
        from sqlalchemy import create_engine, text

        admin = create_engine(f"{POSTGRES}/postgres")
        with admin.connect() as connection:
            postgresql = ", PostgreSQL " + connection.scalar(text("SHOW server_version")).split()[0]
        admin.dispose()
    except Exception:
        pass
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()[1:2]
    return (f"{os.cpu_count()} cores{f' ({model})' if model else ''}{memory}; {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
            f"{postgresql}, wrk {' '.join(wrk_version)}; the load generator, the server and the databases on "
            "this one machine")


def write_report(runs: list[dict], feed: dict | None, race_result: dict | None, context: dict) -> bool:
    """Print this run's figures, and write docs/performance.md anew: bench/method.md, then them."""
    text = figures(runs, feed, race_result, context)
    print("\n" + text)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(METHOD.read_text() + "\n" + text)
    print(f"Written to {REPORT.relative_to(ROOT) if REPORT.is_relative_to(ROOT) else REPORT}.")
    return all(met for _, met in verdicts(runs, feed, race_result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", help="sqlite,postgresql: with --scales, every database at every scale")
    parser.add_argument("--scales", help="1,10,100 (default: 1 and 10 on both databases, 100 on PostgreSQL)")
    parser.add_argument("--pages", default="", help="keys of the pages to measure: browser, filtered, student, "
                                                    "parent, tutor, session, to-mark, feed, join (default: all)")
    parser.add_argument("--seconds", type=int, default=3, help="wrk duration of each run (whole seconds)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each page, each after a run of the floor")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk on each page before measuring")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="scale 1 only, 2 runs of 2 s per page")
    parser.add_argument("--skip", default="", help="comma-separated: pages, posts, feed, race")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.warmup = 2, 2, 1
        args.scales = args.scales or "1"
    if args.databases or args.scales:
        databases = (args.databases or "sqlite,postgresql").split(",")
        scales = [int(scale) for scale in (args.scales or "1,10").split(",")]
        plan = [(kind, factor) for kind in databases for factor in scales]
    else:
        plan = DEFAULT_RUNS
    args.pages = set(filter(None, args.pages.split(",")))
    args.skip = set(filter(None, args.skip.split(",")))
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    OUT.mkdir(exist_ok=True)
    storage = REDIS
    try:
        import redis

        redis.Redis.from_url(REDIS).ping()
    except Exception:
        print(f"Redis is not answering at {REDIS}: the rate limits are kept in memory instead.")
        storage = "memory://"

    started, load = time.monotonic(), os.getloadavg()[0]
    context = {"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), "machine": machine(),
               "command": " ".join(["bench/pages.py", *sys.argv[1:]]),
               "settings": f"{args.rounds} run{'s' if args.rounds > 1 else ''} of {args.seconds} s per page, "
                           "each after a run of the floor, "
                           f"{args.warmup} s of warm-up, wrk with 2 threads and {args.connections} connections "
                           f"({POST_CONNECTIONS} for the forms), gunicorn with {WEB_WORKERS} workers"}
    runs = []
    if "pages" not in args.skip:
        for kind, factor in plan:
            runs.append(measure(kind, factor, args, storage))
    feed = None if "feed" in args.skip else feed_of_a_thousand(FEED_ROUNDS)
    race_result = None if "race" in args.skip else race(storage)
    if any(kind == "postgresql" for kind, _ in plan) or race_result:
        drop_bench_database()
    measured = {(run["database"], run["scale"]) for run in runs}
    context |= {"minutes": (time.monotonic() - started) / 60, "load": (load, os.getloadavg()[0]),
                "not_run": "; ".join(filter(None, [
                    ", ".join(f"{kind} {factor}x" for kind, factor in DEFAULT_RUNS if (kind, factor) not in measured),
                    "the pages " + ", ".join(sorted(args.pages)) + " only" if args.pages else "",
                    "the forms" if "posts" in args.skip else "",
                    "the 1,000-event feed" if feed is None else "",
                    "the booking race" if race_result is None else ""]))}
    (OUT / "pages.json").write_text(json.dumps({"runs": runs, "feed": feed, "race": race_result} | context,
                                               indent=2, default=str))
    sys.exit(0 if write_report(runs, feed, race_result, context) else 1)


if __name__ == "__main__":
    main()
