"""Lien's rules, tested without HTTP: views parse, call one of these, and render."""


class ServiceError(Exception):
    """A rule said no; `message` says so to the user, `field` names the form field if any."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
