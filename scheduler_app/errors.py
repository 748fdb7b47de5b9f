"""Error pages in the user's language, never a bare traceback, and none that needs the database.

A refused or missing page (4xx) is the usual page, header and all. A failure (500) or an
unavailable database (503) is a page that needs nothing else: rendered from its template alone
(not through render_template, whose context processors load the logged-in user, a database
read), inside bare.html (no header or footer fragment), in the language already chosen for the
request, else the session's, else the browser's. If even that fails, a fixed page in French and
English is sent; and a 4xx page that cannot be rendered falls back to the bare one.

A database that is down, restarting or out of connections is not a bug in the page: it gets a
503 that says to try again in a few minutes, with a Retry-After.
"""

from flask import Flask, Response, current_app, g, render_template, request, session
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc

from . import db

RETRY_AFTER_SECONDS = 120  # "réessayez dans quelques minutes"

# What is sent when the error page itself cannot be rendered (a template or a catalogue missing).
FIXED_PAGE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lien</title>
</head>
<body>
<main>
<h1>Lien ne marche pas en ce moment</h1>
<p>Essayez encore dans quelques minutes.</p>
<div lang="en">
<h2>Lien is not working right now</h2>
<p>Please try again in a few minutes.</p>
</div>
<p><a href="/">Lien</a></p>
</main>
</body>
</html>
"""


def init_app(app: Flask) -> None:
    for code in (400, 403, 404, 405, 429, 500):
        app.register_error_handler(code, _render_error)
    app.register_error_handler(CSRFError, _render_csrf_error)
    # SQLAlchemy's errors, the pool's, and the driver's own (a read run by the driver itself
    # raises them unwrapped).
    for error in (exc.DBAPIError, exc.DisconnectionError, exc.TimeoutError,
                  db.engine_of(app).dialect.loaded_dbapi.OperationalError):
        app.register_error_handler(error, _database_error)


def database_unavailable(error: BaseException | None) -> bool:
    """Whether an exception says the database cannot be reached or used just now (rather than a
    mistake in a statement): a lost or refused connection, the server shutting down, no free
    connection in the pool, a lock or statement timeout."""
    if isinstance(error, exc.DBAPIError):
        return isinstance(error, exc.OperationalError) or error.connection_invalidated
    if isinstance(error, (exc.DisconnectionError, exc.TimeoutError)):
        return True
    return isinstance(error, db.engine().dialect.loaded_dbapi.OperationalError)


def what_the_driver_said(error: BaseException) -> str:
    """The database driver's error and the first line of its message, for the log: SQLAlchemy's
    own message carries the statement and its values (an address, a name)."""
    driver_error = getattr(error, "orig", None) or error
    return f"{type(driver_error).__name__}: {(str(driver_error).strip().splitlines() or [''])[0]}"


def _database_error(error: Exception):
    if not database_unavailable(error):
        raise error  # a mistake, not an outage: Flask logs it and answers with the 500 page
    current_app.logger.error("The database is unavailable (%s): answered 503", what_the_driver_said(error))
    return unavailable_page()


def unavailable_page() -> Response:
    """The 503 page, with the time after which to try again."""
    response = bare_page(503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _render_error(error):
    code = getattr(error, "code", 500) or 500
    if code < 500:
        return _usual_page(code, code)
    if database_unavailable(getattr(error, "original_exception", None)):  # raised where no handler sees it
        return unavailable_page()
    return bare_page(code)


def _render_csrf_error(_error):
    return _usual_page("csrf", 400)


def _usual_page(code: int | str, status: int):
    try:
        return render_template("error.html", code=code, layout="base.html"), status
    except Exception as error:  # the header needs the logged-in user, hence the database
        if database_unavailable(error):
            return unavailable_page()
        current_app.logger.exception("The %s page could not be rendered in full: the bare one was sent", code)
        return bare_page(code, status)


def bare_page(code: int | str, status: int | None = None) -> Response:
    """The error page for `code` (an HTTP status, or "csrf"), rendered without the database."""
    try:
        _choose_language()
        html = current_app.jinja_env.get_template("error.html").render(
            code=code, layout="bare.html", path=request.full_path)
    except Exception:  # the page that says something is wrong must not be one more thing that is
        current_app.logger.exception("The error page could not be rendered: the fixed page was sent")
        html = FIXED_PAGE
    return current_app.response_class(html, status or code, mimetype="text/html")


def _choose_language() -> None:
    """The page's language, chosen without the database: the one this request already speaks (a
    view may have set it), else the one chosen with the language links, else the account's as
    remembered at login, else the browser's. Flask-Babel keeps a language it has already worked
    out for the request."""
    languages = current_app.config["LANGUAGES"]
    if g.get("locale") in languages:
        return
    chosen = session.get("locale") or session.get("account_locale")
    g.locale = chosen if chosen in languages else request.accept_languages.best_match(languages) or languages[0]
