"""Values read from the database and kept in a web process until their tables change.

Who is logged in is read on every request, and a calendar feed's version on every poll: keeping
them in each process saves that statement. Kept values are right only if the process learns of
every change to the tables they come from, whoever makes it: another web process, the outbox
worker, an administrator in psql or sqlite3.

- PostgreSQL tells it: migration 0006 puts a trigger on each such table that NOTIFYs
  `lien_changes` with the table's name after every statement that writes it, and each process
  LISTENs on a connection of its own, which it reads (without a round trip) before using
  anything it kept. Another process's change is heard a fraction of a millisecond after its
  commit; this process's own writes wait for their notification (`committed`).
- SQLite counts commits itself: `PRAGMA data_version`, asked on a connection of the process's
  own (a few microseconds, in process), changes whenever any other connection commits, in this
  process or another. Any write makes everything kept stale.

A kept value carries the stamp of its tables taken before it was read, and is used only while
the stamp is the same: a change committed while it was being read makes it stale at once. With
no way to hear of changes (a database without the triggers, PostgreSQL restarting, an
in-memory SQLite database), `stamp` answers None and nothing is kept: every request reads the
database.
"""

import logging
import os
import select
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import TypeVar

import psycopg
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from .clock import now_utc
from .lru import LeastRecentlyUsed

CHANNEL = "lien_changes"
TRIGGER = "lien_changes"  # the trigger's name on each watched table (migration 0006)
WATCHED = ("user", "guardianship", "activity", "slot", "booking", "join_token", "feed_token")
RETRY_SECONDS = 5.0  # after a failed connection, how long requests read without keeping
DEFAULT_SIZE = 10_000

log = logging.getLogger(__name__)
T = TypeVar("T")
_inherited: list = []  # connections a forked child found: never used, never closed (the parent's)


def changes_for(url: URL) -> "Changes":
    """How this process hears of changes to the database at `url`."""
    if url.get_backend_name() == "postgresql":
        return ListeningChanges(url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return CountedChanges(url.database)
    return Changes()


class Changes:
    """A database whose changes this process cannot hear of: nothing is kept."""

    def stamp(self, *tables: str) -> tuple[int, ...] | None:
        """A value that changes whenever one of `tables` does; None if changes cannot be heard."""
        return None

    def fresh(self, session: Session) -> bool:
        """Whether what `session` reads next is the database as it is now, not as it was when
        its transaction began (and so may be kept under a stamp taken now)."""
        return True

    def committed(self) -> None:
        """This process committed a write."""

    def close(self) -> None:
        """Let go of what the process holds to hear of changes."""


class CountedChanges(Changes):
    """SQLite: every commit by another connection, in any process, changes `data_version`."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._epoch = 0  # raised when the connection is opened: nothing counted before counts
        self._version = None
        self._commits = 0

    def stamp(self, *tables: str) -> tuple[int, ...] | None:
        with self._lock:
            try:
                if self._connection is None or self._pid != os.getpid():
                    # A forked child opens its own (SQLite connections do not cross a fork).
                    self._connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                    self._pid, self._epoch = os.getpid(), self._epoch + 1
                version = self._connection.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error:
                self._connection = None
                return None
            if version != self._version:
                self._version, self._commits = version, self._commits + 1
            return (self._epoch, self._commits)

    def fresh(self, session: Session) -> bool:
        # A request's reads are one transaction, which sees the database as it was at its first
        # read: only a first read is as new as the stamp.
        return not session.in_transaction()

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None


class ListeningChanges(Changes):
    """PostgreSQL: how many times each watched table changed, as far as this process has heard."""

    def __init__(self, url: URL):
        # psycopg's own address for the database.
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._lock = threading.Lock()
        self._connection: psycopg.Connection | None = None
        self._poller = select.poll()
        self._pid = 0
        self._retry_at = 0.0
        # Raised when listening starts or stops: nothing heard before counts.
        self._epoch = 0
        self._counts = dict.fromkeys(WATCHED, 0)
        self.last_marker = ""  # the latest notification that named no table (`committed`'s own)

    def stamp(self, *tables: str) -> tuple[int, ...] | None:
        with self._lock:
            if not self._listening():
                return None
            return (self._epoch, *(self._counts[table] for table in tables))

    def committed(self) -> None:
        """This process committed a write: wait (one round trip) until the listening connection
        has heard of every change committed so far, this one included, so that the next
        request here sees it."""
        with self._lock:
            if self._connection is None or self._pid != os.getpid():
                return  # never listened here (an outbox worker, say), so nothing was kept
            if not self._listening():
                return  # nothing is kept meanwhile; listening again starts a new epoch
            marker = f"{os.getpid()}-{uuid.uuid4().hex}"
            try:
                # Our own notification comes back before the statement's end, after every one
                # committed before it (PostgreSQL delivers them in commit order).
                self._connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, marker))
                if self.last_marker != marker:
                    raise psycopg.OperationalError("our own notification did not come back")
            except psycopg.Error:
                self._lost()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _heard(self, notice: psycopg.Notify) -> None:
        """Each notification, read by `_listening` or during a statement on the connection."""
        if notice.payload in self._counts:
            self._counts[notice.payload] += 1
        else:
            self.last_marker = notice.payload  # names no table: changes nothing

    def _listening(self) -> bool:
        """Read what has arrived, or connect; False if not listening now."""
        if self._connection is not None and self._pid != os.getpid():
            _inherited.append(self._connection)  # the parent's socket: closing it would end theirs
            self._connection = None
        if self._connection is None and not self._connect():
            return False
        pgconn = self._connection.pgconn
        try:
            pgconn.consume_input()  # what the socket holds; never waits
            if self._poller.poll(0):
                # Still readable: more came meanwhile, or the server hung up (a notice of why
                # first, then the end of the stream, which this second read raises on).
                pgconn.consume_input()
            while (notice := pgconn.notifies()) is not None:
                pgconn.notify_handler(notice)  # psycopg's, which calls _heard
        except psycopg.Error:
            self._lost()
            return False
        return True

    def _connect(self) -> bool:
        if time.monotonic() < self._retry_at:
            return False
        self._retry_at = time.monotonic() + RETRY_SECONDS
        try:
            connection = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
        except psycopg.Error:
            log.warning("cannot listen for database changes; reading without keeping", exc_info=True)
            return False
        try:
            triggers = connection.execute(
                "SELECT count(*) FROM pg_trigger JOIN pg_class ON pg_class.oid = pg_trigger.tgrelid"
                " WHERE tgname = %s AND relname = ANY(%s) AND tgenabled <> 'D'",
                (TRIGGER, list(WATCHED)),
            ).fetchone()[0]
            if triggers != len(WATCHED):
                log.warning("the database lacks the triggers of migration 0006: nothing is kept")
                connection.close()
                return False
            connection.add_notify_handler(self._heard)
            connection.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error:
            log.warning("cannot listen for database changes; reading without keeping", exc_info=True)
            connection.close()
            return False
        self._connection, self._pid = connection, os.getpid()
        self._poller = select.poll()
        self._poller.register(connection.fileno(), select.POLLIN)
        self._epoch += 1  # nothing heard before counts
        return True

    def _lost(self) -> None:
        log.warning("lost the connection that hears of database changes; reading without keeping")
        self._drop()
        self._epoch += 1
        self._retry_at = time.monotonic() + RETRY_SECONDS

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and self._pid == os.getpid():
            try:
                connection.close()
            except psycopg.Error:
                pass


class KeptUntilChanged:
    """A bounded least-recently-used store of values read from `tables`, each used while those
    tables have not changed since it was read (and for at most `max_age`, for values that
    also depend on the time)."""

    def __init__(self, changes: Changes, tables: tuple[str, ...], *, size: int = DEFAULT_SIZE,
                 max_age: timedelta | None = None):
        self.changes, self.tables, self.max_age = changes, tables, max_age
        self._kept = LeastRecentlyUsed(size)  # key -> (stamp, when read, value)

    def get(self, key: Hashable, read: Callable[[], T], session: Session) -> T:
        """The value kept for `key` if still current, or `read()`'s (read through `session`;
        kept if not None)."""
        stamp = self.changes.stamp(*self.tables) if self.changes.fresh(session) else None
        if stamp is None:
            return read()
        now = now_utc()
        kept = self._kept.get(key)
        if kept is not None and kept[0] == stamp and self._young(kept[1], now):
            return kept[2]
        value = read()  # the stamp was taken before it, so a change meanwhile shows
        if value is not None:
            self._kept.put(key, (stamp, now, value))
        return value

    def clear(self) -> None:
        self._kept.clear()

    def _young(self, read_at: datetime, now: datetime) -> bool:
        return self.max_age is None or timedelta(0) <= now - read_at < self.max_age
