"""Error pages in the user's language, never a bare traceback."""

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError


def init_app(app: Flask) -> None:
    for code in (400, 403, 404, 405, 429, 500):
        app.register_error_handler(code, _render_error)
    app.register_error_handler(CSRFError, _render_csrf_error)


def _render_error(error):
    code = getattr(error, "code", 500) or 500
    return render_template("error.html", code=code), code


def _render_csrf_error(_error):
    return render_template("error.html", code="csrf"), 400
