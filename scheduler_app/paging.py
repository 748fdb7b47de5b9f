"""Keyset pages of lists in (start, id) order: the slot browser, a family's sessions, a tutor's.

A page's "next" link carries where it ended (`?after=<start as a Unix time>-<id>`), and the
next page's query starts after that row: no OFFSET to count through, and a row that ties with
another in start time is neither lost nor shown twice.
"""

from datetime import UTC, datetime

from flask import request
from sqlalchemy import and_, bindparam, literal_column, or_

from .forms import as_id


def mark_of(row) -> str:
    """Where the next page starts: after this row (its start as a Unix time, and its id)."""
    return f"{int(row.starts_at.timestamp())}-{row.id}"


def page_mark() -> tuple[datetime, int] | None:
    """The (start, id) of the request's `after`, or None for the first page (or a mangled mark)."""
    start, _, row_id = request.args.get("after", "").partition("-")
    if not (start.isascii() and start.isdigit()) or len(start) > 11 or as_id(row_id) is None:
        return None
    moment = int(start)
    return (datetime.fromtimestamp(moment, UTC), int(row_id)) if moment <= LATEST_MARK else None


LATEST_MARK = 253402300799  # 9999-12-31 23:59:59 UTC, the last moment a datetime holds
AFTER_START, AFTER_ID = bindparam("after_start"), bindparam("after_id")


def after_mark(starts_at, row_id):
    """Rows after the previous page's last one, in (start, id) order, its values bound as
    after_start and after_id (`mark_values`): a row that ties in start time is not lost."""
    return or_(starts_at > AFTER_START, and_(starts_at == AFTER_START, row_id > AFTER_ID))


def mark_values(after: tuple[datetime, int] | None) -> dict:
    """The values `after_mark` binds, for a page that starts after `after` (none for the first)."""
    return {} if after is None else {"after_start": after[0], "after_id": after[1]}


def literal_limit(number: int):
    """A LIMIT written into the statement rather than bound, so the planner knows how few rows
    it needs and reads them in index order."""
    return literal_column(str(int(number)))
