"""The reminder worker: one APScheduler interval job per process that ticks the outbox, and
one that opens tutors' weekly availability as slots (daily, and once at start).

One job per process with a memory job store, coalesce and max_instances=1: a job store
shared by several processes is exactly what APScheduler's FAQ says cannot work, and the
outbox's claims (and the materialisation's unique slots) already make any number of
processes safe.
"""

import logging
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from notifications import email_channel_from_mapping, sms_channel_from_mapping

from . import db as database
from .clock import now_utc
from .dispatch import Dispatcher
from .messages import Composer
from .services.availability import materialise

log = logging.getLogger(__name__)


def log_to_terminal() -> None:
    """Show what a person running Lien wants to read: the messages the console channels write,
    requests, what the outbox sent. Alembic's set-up lines and the scheduler's two lines per tick
    are left out; their warnings and errors still show."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for chatty in ("alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def make_dispatcher(app: Flask, **options) -> Dispatcher:
    """A dispatcher wired to the app's database, channels and message templates."""
    options.setdefault("lease", timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"]))
    options.setdefault("batch_size", app.config["OUTBOX_BATCH_SIZE"])
    return Dispatcher(
        sessions=app.extensions["lien_sessions"],
        email_channel=email_channel_from_mapping(app.config),
        sms_channel=sms_channel_from_mapping(app.config),
        compose=Composer(app),
        **options,
    )


def _tick(dispatcher: Dispatcher) -> None:
    try:
        report = dispatcher.tick()
    except Exception:  # the next tick tries again; a crash must not stop the scheduler
        log.exception("outbox tick failed")
        return
    if report.sent or report.failed or report.retried:
        log.info("outbox: %d sent, %d to retry, %d failed", report.sent, report.retried, report.failed)


def _materialise(app: Flask) -> None:
    """Open the coming weeks' slots of every weekly availability."""
    with app.app_context():
        session = database.new_session()
        try:
            report = materialise(session, now_utc(), weeks=app.config["AVAILABILITY_WEEKS_AHEAD"])
        except Exception:  # tomorrow's run tries again; a crash must not stop the scheduler
            log.exception("availability materialisation failed")
            return
        finally:
            session.close()
    if report.created or report.overlapping:
        log.info("availability: %d slots opened, %d left out (overlap)", len(report.created), len(report.overlapping))


def _expire_offers(app: Flask) -> None:
    """Waitlist offers not taken in time go to the next one waiting."""
    from .services.waitlist import expire_offers

    with app.app_context():
        session = database.new_session()
        try:
            expired = expire_offers(session, now_utc())
        except Exception:  # the next run tries again; a crash must not stop the scheduler
            log.exception("waitlist offers: expiry failed")
            return
        finally:
            session.close()
    if expired:
        log.info("waitlist: %d offers expired and passed on", expired)


def _schedule(scheduler, app: Flask, interval: float):
    dispatcher = make_dispatcher(app)
    # No next_run_time=None here: APScheduler adds such a job paused, and it would never run
    # again after the one-off run at start.
    scheduler.add_job(_tick, "interval", args=[dispatcher], seconds=interval, coalesce=True,
                      max_instances=1, id="outbox-tick")
    scheduler.add_job(_materialise, "interval", args=[app], hours=24, coalesce=True,
                      max_instances=1, id="availability-materialise")
    scheduler.add_job(_expire_offers, "interval", args=[app], seconds=max(interval, 60), coalesce=True,
                      max_instances=1, id="waitlist-expire")
    return dispatcher


def _run_once_at_start(scheduler, app: Flask, dispatcher: Dispatcher) -> None:
    scheduler.add_job(_tick, args=[dispatcher], id="outbox-first-tick")
    scheduler.add_job(_materialise, args=[app], id="availability-first-run")


def start_in_background(app: Flask) -> BackgroundScheduler:
    """Tick inside this process (the development server)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    dispatcher = _schedule(scheduler, app, app.config["WORKER_INTERVAL_SECONDS"])
    scheduler.start()
    _run_once_at_start(scheduler, app, dispatcher)  # once, right away
    return scheduler


def run_forever(app: Flask, interval: float) -> None:
    """Tick in the foreground until stopped (`flask worker`)."""
    scheduler = BlockingScheduler(timezone="UTC")
    dispatcher = _schedule(scheduler, app, interval)
    _run_once_at_start(scheduler, app, dispatcher)
    log.info("outbox worker started: it looks for due messages every %g seconds (Ctrl-C stops it)", interval)
    scheduler.start()
