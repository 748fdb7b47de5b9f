"""The one clock of the application: every "now" goes through here, so tests can set it."""

from datetime import UTC, datetime

_frozen: datetime | None = None


def now_utc() -> datetime:
    """The current time, timezone-aware, in UTC (or the time a test has set)."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def set_now(moment: datetime | None) -> None:
    """Freeze the clock at an aware moment, or unfreeze it with None (tests only)."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("set_now needs an aware datetime")
    _frozen = moment.astimezone(UTC) if moment is not None else None
