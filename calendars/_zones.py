"""Time zone names as the callers give them ("Europe/Paris")."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone_named(tz: str) -> ZoneInfo:
    """The IANA zone called `tz`, or ValueError with its name."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {tz!r}") from error
