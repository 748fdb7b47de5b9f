"""Lien's commands: `flask --app scheduler_app db upgrade`, `... demo`."""

import click
from flask.cli import with_appcontext

from . import db as database
from . import schema


@click.group("db", help="Database schema migrations.")
def db_group():
    pass


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str):
    """Bring the database schema up to date."""
    schema.upgrade(database.engine(), revision)
    click.echo(f"Database at revision {revision}.")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def downgrade(revision: str):
    """Take the database schema back to an earlier revision."""
    schema.downgrade(database.engine(), revision)
    click.echo(f"Database at revision {revision}.")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def revision(message: str):
    """Write a new migration from the models (for developers)."""
    schema.make_revision(database.engine(), message)


@click.command("demo")
@with_appcontext
def demo():
    """Load demo people, slots and bookings (running it again adds nothing twice)."""
    from .demo import load_demo

    # Closed, not left to the garbage collector: a second run reads outside a transaction block,
    # and the open read would hold its lock (PostgreSQL's TRUNCATE in the tests waits on it).
    session = database.new_session()
    try:
        counts = load_demo(session)
    finally:
        session.close()
    click.echo("Demo data: " + ", ".join(f"{count} {what}" for what, count in counts.items()))


@click.command("materialise")
@click.option("--weeks", type=int, default=None, help="Weeks ahead (default AVAILABILITY_WEEKS_AHEAD, 4).")
@with_appcontext
def materialise(weeks: int | None):
    """Open the slots of tutors' weekly availability for the coming weeks (the worker does it
    daily); running it again opens nothing twice."""
    from .clock import now_utc
    from .services.availability import materialise as materialise_rules

    session = database.new_session()
    try:
        report = materialise_rules(session, now_utc(), weeks=weeks)
    finally:
        session.close()
    click.echo(f"{len(report.created)} slots opened, {len(report.overlapping)} left out "
               "(the tutor already has a slot at that time).")


@click.command("worker")
@click.option("--once", is_flag=True, help="Send what is due now, then stop.")
@click.option("--interval", type=float, default=None, help="Seconds between ticks (default 30).")
@with_appcontext
def worker(once: bool, interval: float | None):
    """Send the outbox's due messages; any number of workers may run at once."""
    from flask import current_app

    from .worker import log_to_terminal, make_dispatcher, run_forever

    log_to_terminal()
    app = current_app._get_current_object()
    if once:
        report = make_dispatcher(app).tick()
        click.echo(f"{report.sent} sent, {report.retried} to retry, {report.failed} failed")
        return
    run_forever(app, interval or app.config["WORKER_INTERVAL_SECONDS"])


@click.command("purge")
@click.option("--days", type=click.IntRange(min=0), default=None, help="Retention in days (default RETENTION_DAYS, 730).")
@click.option("--yes", is_flag=True, help="Remove it; without this, only say what would be removed.")
@with_appcontext
def purge(days: int | None, yes: bool):
    """Remove personal data older than the retention period (default: two school years); a
    family with any activity since, or a session to come, is kept whole."""
    from datetime import timedelta

    from flask import current_app

    from .services.privacy import purge as purge_old

    retention = days if days is not None else current_app.config["RETENTION_DAYS"]
    session = database.new_session()
    try:
        plan = purge_old(session, older_than=timedelta(days=retention), apply=yes)
    finally:
        session.close()
    counts = ", ".join(f"{count} {what}" for what, count in plan.counts().items())
    people = " ".join(str(person) for person in plan.people) or "none"  # ids only: no names in logs
    click.echo(f"{'Purged' if yes else 'Would purge'} (nothing since {plan.since:%Y-%m-%d}): {counts}. "
               f"People's ids: {people}.")
    if not yes:
        click.echo("Nothing was changed. Run again with --yes to remove it.")


@click.command("mediator")
@click.argument("email")
@click.option("--off", is_flag=True, help="No longer a mediator.")
@with_appcontext
def mediator(email: str, off: bool):
    """Mark a tutor as a mediator, or a coordinator for mediation (the first one is marked here;
    after that a coordinator marked for mediation marks the others in the app)."""
    from sqlalchemy import select

    from .db import write_transaction
    from .models import User

    session = database.new_session()
    try:
        person = session.scalar(select(User).where(User.email == email.strip().lower()))
        if person is None or person.role not in ("tutor", "coordinator"):
            raise click.ClickException("No tutor or coordinator has this email address.")
        with write_transaction(session):
            person.mediator = not off
        click.echo(f"{person.role} {person.id}: mediator={person.mediator}")
    finally:
        session.close()


@click.command("check")
@with_appcontext
def check():
    """Check every Jitsi, mail and SMS setting before the first lesson: each problem says which
    variable, what is wrong and what to write. Exits with 1 when a setting cannot work."""
    from flask import current_app

    from .checks import problems, warnings

    app = current_app._get_current_object()
    production = not (app.debug or app.testing)
    found = problems(app.config, production=production)
    for problem in found:
        click.echo(f"problem: {problem}.")
    for warning in warnings(app.config):
        click.echo(f"warning: {warning}.")
    if found:
        click.echo(f"{len(found)} setting(s) to change: Lien refuses to start in production until they are fixed.")
        raise SystemExit(1)
    click.echo("Settings checked: Lien can start.")


commands = [db_group, demo, materialise, worker, purge, mediator, check]
