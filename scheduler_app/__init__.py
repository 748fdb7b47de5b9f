"""Lien: tutors open slots, families book them, everyone joins a signed Jitsi room."""

from pathlib import Path

from flask import Flask

from . import config as settings

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: defaults, environment, test overrides, then each concern."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_mapping(settings.defaults())
    app.config.from_mapping(settings.from_environment())
    if test_config:
        app.config.from_mapping(test_config)
    settings.derive(app.config, app.instance_path)
    settings.validate(app.config, debug=app.debug, testing=app.testing, checking=_running_check_command())
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from . import db, errors, fragments, i18n, security

    db.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    fragments.init_app(app)
    errors.init_app(app)
    register_blueprints(app)
    register_commands(app)
    return app


def _running_check_command() -> bool:
    """Whether this process is `flask … check`, which loads the app to list broken settings and
    must not be refused by them. Flask's CLI builds the app before it runs the command, so the
    command line is the only place to tell."""
    import sys

    program = Path(sys.argv[0])
    if "flask" not in (program.name, program.parent.name):  # `flask …` or `python -m flask …`
        return False
    arguments = iter(sys.argv[1:])
    for argument in arguments:
        if argument in ("--app", "-A", "--env-file", "-e"):
            next(arguments, None)  # the option's value
        elif not argument.startswith("-"):
            return argument == "check"
    return False


def create_dev_app() -> Flask:
    """The development server's app (`make run`): the outbox ticks inside the same process."""
    import os

    from .worker import log_to_terminal, start_in_background

    # The console channels write messages to the log: show them in the terminal.
    log_to_terminal()
    app = create_app()
    # Under the reloader, only the child that serves requests ticks.
    if os.environ.get("WERKZEUG_RUN_MAIN") == "true" or not app.debug:
        start_in_background(app)
    return app


def register_blueprints(app: Flask) -> None:
    from .admin.routes import bp as admin
    from .agenda.routes import bp as agenda
    from .auth.routes import bp as auth
    from .availability.routes import bp as availability
    from .bookings.routes import bp as bookings
    from .inbound.routes import bp as inbound
    from .join.routes import bp as join
    from .main.routes import bp as main
    from .slots.routes import bp as slots

    for blueprint in (main, auth, slots, availability, bookings, join, agenda, admin, inbound):
        app.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    from .cli import commands

    for command in commands:
        app.cli.add_command(command)
