"""Where a page's time goes, in process: mean milliseconds per request with Flask's test client
(wall clock, and this process's CPU time, steadier on a busy machine; the ratio is of CPU time),
and optionally a cProfile of one page (no gunicorn, no wrk; for finding what to speed up).

    .venv/bin/python bench/profile_pages.py [--database sqlite|postgresql] [--profile "tutor's sessions"]
"""

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cpu_split import cpu_by_group, spent  # noqa: E402
from pages import OUT, generated, logged_in_clients, pages, settings  # noqa: E402


def time_statements(app, client, address: str, rounds: int) -> None:
    """Each statement the page sends, with its mean time from the driver's call to its return;
    on PostgreSQL, also the CPU its server processes spent per request (read from /proc, as
    bench/cpu_split.py does: run it when nothing else uses that server). While these timers
    listen, the pages' reads go through SQLAlchemy (scheduler_app/db.py, `rows`), which costs
    the page more than their usual path: the statements' times are theirs, the page's is not."""
    from sqlalchemy import event

    from scheduler_app import db as database

    engine = database.engine_of(app)
    timings: dict[str, list[float]] = {}

    def before(connection, cursor, statement, parameters, context, executemany):
        context._lien_started = time.perf_counter()

    def after(connection, cursor, statement, parameters, context, executemany):
        timings.setdefault(statement, []).append(time.perf_counter() - context._lien_started)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    on_postgresql = engine.dialect.name == "postgresql"
    server_before = cpu_by_group()["postgresql"] if on_postgresql else {}
    for _ in range(rounds):
        client.get(address)
    server_after = cpu_by_group()["postgresql"] if on_postgresql else {}
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    for statement, times in timings.items():
        print(f"    {sum(times) / len(times) * 1e3:6.3f} ms  {' '.join(statement.split())[:110]}")
    if on_postgresql:
        server = spent(server_before, server_after) / rounds * 1e3
        print(f"    PostgreSQL's processes: {server:.3f} ms of CPU per request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--profile", default="", help="the name of a page to profile")
    parser.add_argument("--statements", action="store_true", help="time each SQL statement of each page")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    url, fixture = generated(args.database, args.scale)
    from scheduler_app import create_app

    os.environ.update(settings(url, 5000, "lien-profile", "memory://"))
    app = create_app()
    clients = logged_in_clients(app, fixture)
    floor = None
    for name, who, address, status in pages(fixture):
        client = clients[who]
        response = client.get(address)
        assert response.status_code == status, (name, response.status_code)
        size = len(response.get_data())
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(args.rounds):
            client.get(address)
        mean = (time.perf_counter() - started) / args.rounds * 1e3
        cpu = (time.process_time() - cpu_started) / args.rounds * 1e3  # steadier when other work runs
        floor = floor or cpu
        print(f"{name:<26} {mean:7.2f} ms  {cpu:7.2f} ms CPU  x{cpu / floor:5.1f}  {size / 1024:5.1f} KB", flush=True)
        if args.statements:
            time_statements(app, client, address, args.rounds)
        if name == args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.rounds):
                client.get(address)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    if args.statements and args.database == "postgresql":
        server_reference(app, args.rounds)


def server_reference(app, rounds: int) -> None:
    """What PostgreSQL's processes spend on the least a statement can be (SELECT 1), and on
    reading one row by its key: the part of a page's statement that is not its own work."""
    from sqlalchemy import text

    from scheduler_app import db as database

    for label, sql in (("SELECT 1", "SELECT 1"), ("one booking by its key", "SELECT * FROM booking WHERE id = 1")):
        with database.engine_of(app).connect() as connection:
            statement = text(sql)
            for _ in range(10):
                connection.execute(statement).all()
            before = cpu_by_group()["postgresql"]
            for _ in range(rounds):
                connection.execute(statement).all()
            after = cpu_by_group()["postgresql"]
        server = spent(before, after) / rounds * 1e3
        print(f"{label:<26} PostgreSQL's processes: {server:.3f} ms of CPU per statement")


if __name__ == "__main__":
    main()
