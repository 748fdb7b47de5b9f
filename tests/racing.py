"""Running things at the same instant: threads with their own database sessions, released
together by a barrier, so that they really race on SQLite and on PostgreSQL alike."""

import threading

from scheduler_app import db as database


def race(app, attempts):
    """Run each attempt(session) in its own thread, all released at once; collect outcomes."""
    barrier = threading.Barrier(len(attempts))
    outcomes = [None] * len(attempts)

    def run(index, attempt):
        with app.app_context():
            session = database.new_session()
            try:
                barrier.wait()
                outcomes[index] = attempt(session)
            except Exception as outcome:  # refusals and crashes alike: the test sorts them out
                outcomes[index] = outcome
            finally:
                session.close()

    threads = [threading.Thread(target=run, args=(i, attempt)) for i, attempt in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes
