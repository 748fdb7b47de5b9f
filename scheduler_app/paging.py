"""Keyset pages of lists in (start, id) order: the slot browser, a family's sessions, a tutor's.

A page's "next" link carries where it ended (`?after=<start as a Unix time>-<id>`), and the
next page's query starts after that row: no OFFSET to count through, and a row that ties with
another in start time is neither lost nor shown twice.
"""

from datetime import UTC, datetime

from flask import request


def mark_of(row) -> str:
    """Where the next page starts: after this row (its start as a Unix time, and its id)."""
    return f"{int(row.starts_at.timestamp())}-{row.id}"


def page_mark() -> tuple[datetime, int] | None:
    """The (start, id) of the request's `after`, or None for the first page (or a mangled mark)."""
    start, _, row_id = request.args.get("after", "").partition("-")
    if not (start.isdigit() and row_id.isdigit()) or len(start) > 12:
        return None
    return datetime.fromtimestamp(int(start), UTC), int(row_id)
