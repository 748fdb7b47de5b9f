"""Calendars for Lien: iCalendar invites, cancellations and feeds, and weekly availability.

Pure library: plain values in, bytes and plain values out; no Flask, no database."""

from .events import Event, Person
from .recurrence import expand_weekly, split_into_sessions
from .render import render_cancel, render_feed, render_invite

__all__ = [
    "Event",
    "Person",
    "expand_weekly",
    "render_cancel",
    "render_feed",
    "render_invite",
    "split_into_sessions",
]
