"""Lien's tables. Times are stored in UTC and come back timezone-aware on every database.

Integrity rules live in the schema (named constraints, partial unique indexes, and on
PostgreSQL exclusion constraints added by the migration), so a race cannot break them.
"""

import secrets
from datetime import UTC, date, datetime, time, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    and_,
    literal,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, query_expression, relationship

from .catalogue import LANGUAGES
from .clock import now_utc

password_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters


class UTCDateTime(TypeDecorator):
    """An aware datetime stored as UTC; SQLite gives naive values back, so UTC is put back on."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Lien stores aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


ROLES = ("student", "parent", "tutor", "coordinator")
ACTIVITY_KINDS = ("homework", "mediation")  # homework help is for students; mediation for adults


def new_secret() -> str:
    """A URL-safe secret with 192 bits of randomness (join links, feed URLs, login keys)."""
    return secrets.token_urlsafe(24)


def new_unique_key() -> str:
    """128 random bits in hex: the left part of a calendar UID or a Message-ID, unique across
    every copy of the database (ids repeat after a restore or on a second instance)."""
    return secrets.token_hex(16)


def new_short() -> str:
    """12 URL-safe characters (72 random bits): "https://lien.centre.fr/s/" and it stay under 60."""
    return secrets.token_urlsafe(9)


class User(Base):
    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES}", name="role"),
        CheckConstraint(f"locale IN {tuple(LANGUAGES)}", name="locale"),
        CheckConstraint("notify_by IN ('email', 'sms', 'both')", name="notify_by"),
        Index("uq_user_family_code", "family_code", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The channels this person reads: messages go where they will be seen.
    notify_by: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
    # A student's code, given by the centre, with which a parent links the child to their account.
    family_code: Mapped[str | None] = mapped_column(String(12))
    # Set when the person was deleted: the row stays, emptied, so reports keep their counts.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Staff marked for family mediation: a tutor who may run mediation activities, or a
    # coordinator who may read what mediations say (services/confidential.py).
    mediator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Part of the login session's identity: changing it (new password) logs out every device.
    login_key: Mapped[str] = mapped_column(String(64), default=new_secret)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # The last time the person logged in: the purge keeps people who still come.
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The year a student who signed up themself was born: under 15, a parent approves first.
    birth_year: Mapped[int | None] = mapped_column(Integer)
    # A student's class ("cm2", "4e"; catalogue.SCHOOL_CLASSES): the slot browser's level.
    school_class: Mapped[str | None] = mapped_column(String(8))

    tutor_profile: Mapped["TutorProfile | None"] = relationship(back_populates="user")
    children: Mapped[list["User"]] = relationship(
        secondary="guardianship",
        primaryjoin="User.id == Guardianship.parent_id",
        secondaryjoin="User.id == Guardianship.student_id",
        order_by="User.name",
        viewonly=True,
    )

    def set_password(self, password: str) -> None:
        """Store an Argon2id hash of the password and log out every other session."""
        self.password_hash = password_hasher.hash(password)
        self.login_key = new_secret()

    def log_out_everywhere(self) -> None:
        """A new login key: every session and "stay logged in" cookie of the account ends."""
        self.login_key = new_secret()

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash."""
        if not self.password_hash:
            return False
        try:
            return password_hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    # Flask-Login's protocol: the session holds the login key, not the bare id.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.login_key}"


class Guardianship(Base):
    """A parent (or guardian) looks after a student."""

    __tablename__ = "guardianship"

    parent_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    # Indexed alone too: the primary key finds a parent's children, this a child's parents.
    student_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
    # When this parent agreed that the child uses Lien: a child under 15 who signed up alone is
    # booked and written to only once a parent has (services/consent.py).
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TutorProfile(Base):
    """What a tutor teaches. Lists are stored as ",a,b," so a LIKE '%,a,%' filter is exact."""

    __tablename__ = "tutor_profile"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    subjects: Mapped[str] = mapped_column(String(255), default=",")
    levels: Mapped[str] = mapped_column(String(255), default=",")
    languages: Mapped[str] = mapped_column(String(255), default=",fr,")
    bio: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(back_populates="tutor_profile")

    @staticmethod
    def pack(values) -> str:
        return "," + ",".join(values) + "," if values else ","

    @staticmethod
    def unpack(packed: str) -> list[str]:
        return [value for value in packed.split(",") if value]


class Activity(Base):
    """Homework help, family mediation, …: what a slot is for."""

    __tablename__ = "activity"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint(f"kind IN {ACTIVITY_KINDS}", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="homework", server_default="homework")
    # The name English readers see; empty: Lien's own translation of a seeded name, else `name`.
    name_en: Mapped[str] = mapped_column(String(120), default="", server_default="")
    duration_minutes: Mapped[int] = mapped_column(Integer, default=45)
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


FREE_SLOT_SQL = "status = 'open' AND booked < capacity"  # a slot someone can still book


class Slot(Base):
    """A time a tutor offers. `booked` counts live bookings; the schema keeps it <= capacity."""

    __tablename__ = "slot"
    __table_args__ = (
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("status IN ('open', 'cancelled')", name="status"),
        Index("ix_slot_status_starts_at", "status", "starts_at"),
        # The slot browser: the free slots in its order (start, then id), so that a page reads
        # its ten and stops, however many slots the centre has and however many start at the
        # same time; and the same by subject, its most asked filter. Partial: the queries say
        # FREE_SLOT, written out, so that both databases see they may use them.
        Index("ix_slot_free_starts_at_id", "starts_at", "id",
              sqlite_where=text(FREE_SLOT_SQL), postgresql_where=text(FREE_SLOT_SQL)),
        Index("ix_slot_free_subject_starts_at_id", "subject", "starts_at", "id",
              sqlite_where=text(FREE_SLOT_SQL), postgresql_where=text(FREE_SLOT_SQL)),
        # The browser filtered by subject and level (and a day): read in order, it stops at the
        # page's end however many tutors the centre has (migration 0008).
        Index("ix_slot_free_subject_level_starts_at_id", "subject", "level", "starts_at", "id",
              sqlite_where=text(FREE_SLOT_SQL), postgresql_where=text(FREE_SLOT_SQL)),
        Index("ix_slot_tutor_id_starts_at", "tutor_id", "starts_at"),
        # A weekly rule makes at most one slot per start, however many materialisation runs
        # race. A unique index rather than a table constraint: SQLite can add an index to a
        # table that holds bookings without rebuilding it.
        Index("uq_slot_rule_id_starts_at", "rule_id", "starts_at", unique=True),
        Index("uq_slot_calendar_uid", "calendar_uid", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    subject: Mapped[str] = mapped_column(String(40), default="")
    level: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    room_name: Mapped[str] = mapped_column(String(64), unique=True)
    # A mediation session where the parties meet: only then may they see each other's names.
    joint: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # RFC 5545 SEQUENCE of the tutor's invitation for this slot: grows with every change.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What the person who cancelled said, if anything, for the messages that tell the others.
    cancel_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Left part of the tutor's calendar UID (<key>@<domain>). NULL for slots made before
    # migration 0012, whose calendars already hold slot-<id>@<domain> (see calendar_entries).
    calendar_uid: Mapped[str | None] = mapped_column(String(64), default=new_unique_key)
    # The weekly availability this slot was materialised from, if any.
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("availability_rule.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # Last change of what calendars show (DTSTAMP and LAST-MODIFIED of feeds); NULL never
    # after migration 0003, which fills it in without rebuilding the table.
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tutor: Mapped[User] = relationship()
    activity: Mapped[Activity] = relationship()
    rule: Mapped["AvailabilityRule | None"] = relationship(back_populates="slots")

    @property
    def places_left(self) -> int:
        return self.capacity - self.booked


class Booking(Base):
    """A student's place in a slot. The slot's times are copied here so that PostgreSQL can
    refuse, by an exclusion constraint, a student holding two sessions at the same time."""

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint(
            "status IN ('confirmed', 'cancelled', 'attended', 'absent')", name="status"
        ),
        # One live booking per student per slot; a cancelled one may be booked again.
        Index(
            "uq_booking_live_student_slot",
            "slot_id",
            "student_id",
            unique=True,
            sqlite_where=text("status <> 'cancelled'"),
            postgresql_where=text("status <> 'cancelled'"),
        ),
        Index("ix_booking_student_id_starts_at", "student_id", "starts_at"),
        Index("uq_booking_calendar_uid", "calendar_uid", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    booked_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(20), default="confirmed")
    topic: Mapped[str] = mapped_column(String(500), default="")
    # The tutor's private note after the session ("worked on fractions"), for the next tutor.
    tutor_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # RFC 5545 SEQUENCE of this session's invitation: grows with every change.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # What the person who cancelled said, if anything (see Slot.cancel_reason).
    cancel_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Left part of the family's calendar UID; NULL before migration 0012 (booking-<id>@<domain>).
    calendar_uid: Mapped[str | None] = mapped_column(String(64), default=new_unique_key)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # Last change of what calendars show (see Slot.updated_at).
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the family answered OUI by SMS: they will come.
    family_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The topic as the reader may read it: loaded only through services/confidential.readable,
    # "" otherwise, so a page that lists bookings cannot show a topic by mistake.
    shown_topic: Mapped[str] = query_expression(default_expr=literal(""))

    slot: Mapped[Slot] = relationship()
    student: Mapped[User] = relationship(foreign_keys=[student_id])
    booked_by: Mapped[User] = relationship(foreign_keys=[booked_by_id])


# A slot someone can still book, written out (see LIVE_BOOKING) for the partial indexes above.
FREE_SLOT = and_(Slot.status == literal_column("'open'"), Slot.booked < Slot.capacity)


# A live booking, with 'cancelled' written into the statement rather than bound: PostgreSQL
# (after a few runs, with a generic plan) and SQLite use the partial indexes on live bookings
# only when they can read the value in the statement itself; bound, they scan every booking.
LIVE_BOOKING = Booking.status != literal_column("'cancelled'")


class JoinToken(Base):
    """A person's own link to one session (/j/<token>): opens the room without a password.

    Students and parents hold one per booking; the tutor holds one per slot (booking_id NULL).
    """

    __tablename__ = "join_token"
    # An index rather than a constraint: SQLite adds it without rebuilding the table. A person's
    # link to a slot is found by (slot, person); the slot alone by the same index's first column.
    __table_args__ = (
        Index("uq_join_token_short", "short", unique=True),
        Index("ix_join_token_slot_id_user_id", "slot_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_secret)
    # The same link, short enough for an SMS (/s/<short>): 72 random bits, set when first needed.
    short: Mapped[str | None] = mapped_column(String(16), default=new_short)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    slot: Mapped[Slot] = relationship()
    booking: Mapped[Booking | None] = relationship()
    user: Mapped[User] = relationship()


class LoginCode(Base):
    """A 6-digit code sent by SMS to log in (or sign up) with a mobile number. Only its keyed
    hash is kept; it lasts 10 minutes and allows 5 attempts."""

    __tablename__ = "login_code"
    __table_args__ = (
        CheckConstraint("attempts_left >= 0", name="attempts_left"),
        Index("ix_login_code_phone_created_at", "phone", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts_left: Mapped[int] = mapped_column(Integer, default=5)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class InboundSms(Base):
    """An SMS a family sent back (ANNULER, OUI, …), kept once per provider message id: a provider
    that delivers the same message twice finds it here, and nothing happens twice."""

    __tablename__ = "inbound_sms"
    __table_args__ = (Index("uq_inbound_sms_provider_message_id", "provider", "message_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(String(1600))
    # What Lien did: cancelled, confirmed, nothing_to_do, unknown_answer, unknown_number.
    outcome: Mapped[str] = mapped_column(String(20), default="")
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


NOTIFICATION_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")
# What the SMS provider's delivery reports said of a sent message (NULL: nothing yet).
DELIVERIES = ("delivered", "undelivered")


class Notification(Base):
    """The outbox: one message to one person on one channel, written in the same transaction
    as the change that causes it, and sent later by a worker that claims it with a lease."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'sms')", name="channel"),
        CheckConstraint(f"status IN {NOTIFICATION_STATUSES}", name="status"),
        CheckConstraint(f"delivery IS NULL OR delivery IN {DELIVERIES}", name="delivery"),
        Index("ix_notification_status_due_at", "status", "due_at"),
        # A delivery report names the message by the provider's id.
        Index("ix_notification_provider_message_id", "provider_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # Where it goes, as it was when the message was written (the profile may change later).
    address: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), index=True)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slot.id"), index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set just before an SMS goes to the provider: a crash after it means "maybe sent", and an
    # SMS is never sent twice (email, with its stable Message-ID, is sent at least once instead).
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # (kind, booking or slot, recipient, channel[, version]): the same message is never written twice.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    # Left part of the email's Message-ID, the same at every attempt; NULL before migration
    # 0012, whose rows keep the Message-ID hashed from dedupe_key.
    message_key: Mapped[str | None] = mapped_column(String(64), default=new_unique_key)
    # The id the SMS provider gave the message when it accepted it (Brevo's messageId), then
    # whether it reached the phone, as the provider's delivery report says, and when it said so.
    provider_message_id: Mapped[str | None] = mapped_column(String(64))
    delivery: Mapped[str | None] = mapped_column(String(12))
    delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[User | None] = relationship()
    booking: Mapped[Booking | None] = relationship()
    slot: Mapped[Slot | None] = relationship()


class AvailabilityRule(Base):
    """A tutor's weekly availability: "every Wednesday 14:00–17:00, 45-minute sessions, from
    <date> to <date>, except <dates>". Its slots are materialised some weeks ahead
    (services/availability.py); times are wall-clock times in the rule's time zone."""

    __tablename__ = "availability_rule"
    __table_args__ = (
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("session_minutes > 0", name="session_minutes_positive"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="valid_dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"))
    subject: Mapped[str] = mapped_column(String(40), default="")
    level: Mapped[str] = mapped_column(String(40), default="")
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    # A weekly RRULE without bounds or times (RFC 5545 §3.3.10), e.g. "FREQ=WEEKLY;BYDAY=WE,SA":
    # the window, the dates and the exceptions are the columns below.
    rrule: Mapped[str] = mapped_column(String(100))
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    session_minutes: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # ISO dates ("2027-04-21") left out: school holidays, a tutor's absence.
    skipped_dates: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    tutor: Mapped[User] = relationship()
    activity: Mapped[Activity] = relationship()
    slots: Mapped[list[Slot]] = relationship(back_populates="rule")

    @property
    def weekdays(self) -> list[str]:
        """The BYDAY codes of the rule, Monday first ("MO", "WE")."""
        for part in self.rrule.split(";"):
            name, _, value = part.partition("=")
            if name.strip().upper() == "BYDAY":
                found = {code.strip().upper() for code in value.split(",")}
                return [code for code in WEEKDAY_CODES if code in found]
        return []

    @property
    def skipped(self) -> list[date]:
        return sorted(date.fromisoformat(day) for day in self.skipped_dates or [])


WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class FeedToken(Base):
    """The secret of a person's calendar subscription (/calendar/<secret>.ics). One live token
    per person; resetting revokes it (the old address stops at once) and issues a new one."""

    __tablename__ = "feed_token"
    __table_args__ = (
        Index(
            "uq_feed_token_live_user_id",
            "user_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    secret: Mapped[str] = mapped_column(String(64), unique=True, default=new_secret)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


HOLIDAY_ZONES = ("A", "B", "C")


class CentreCalendar(Base):
    """The centre's calendar settings, one row: its school-holiday zone and the subdivision whose
    public holidays it keeps (services/centre_calendar.py)."""

    __tablename__ = "centre_calendar"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint(f"holiday_zone IS NULL OR holiday_zone IN {HOLIDAY_ZONES}", name="holiday_zone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # NULL until the coordinator chooses: no school holidays are skipped then.
    holiday_zone: Mapped[str | None] = mapped_column(String(1))
    # A subdivision of the `holidays` package for France ("57", "6AE", "974"…); "" is mainland.
    public_holidays: Mapped[str] = mapped_column(String(10), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)


class ClosureDay(Base):
    """A day the centre is closed, set by the coordinator (a bridge day, Corsica's or overseas
    holidays the packages don't hold): no weekly availability opens slots on it."""

    __tablename__ = "closure_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    reason: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class Enrolment(Base):
    """An "inscription": a student booked every week at the same time with the same tutor, from
    one day to another. Each week is an ordinary booking, listed in EnrolmentOccurrence."""

    __tablename__ = "enrolment"
    __table_args__ = (CheckConstraint("last_day >= first_day", name="days_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    booked_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("availability_rule.id"))
    # The wall-clock time of every session, in the rule's zone.
    start_time: Mapped[time] = mapped_column(Time)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    booked_by: Mapped[User] = relationship(foreign_keys=[booked_by_id])
    rule: Mapped[AvailabilityRule] = relationship()


class EnrolmentOccurrence(Base):
    """One week of an enrolment: its booking. A table of its own rather than a column on booking,
    so that booking (which join links and messages point at) is never rebuilt on SQLite."""

    __tablename__ = "enrolment_occurrence"

    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id"), primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), index=True)


WAITLIST_STATUSES = ("waiting", "offered", "booked", "left", "expired")
# A wish still waiting for its slot (see WaitlistEntry).
WAITING_WISH_SQL = "status = 'waiting' AND slot_id IS NULL"


class WaitlistEntry(Base):
    """A student waiting for a place: in one full slot, or in any slot like the one they wish for
    (a "wish": subject, level, a language of the tutor's, within some days). When a place frees,
    the first waiting is offered it: the place is held for them (counted in slot.booked) until
    `offer_expires_at`; a wish's entry then points at the slot offered."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        CheckConstraint(f"status IN {WAITLIST_STATUSES}", name="status"),
        # A waiting wish has no slot yet; every other entry has one.
        CheckConstraint("slot_id IS NOT NULL OR wish_until IS NOT NULL", name="slot_or_wish"),
        CheckConstraint("wish_until IS NULL OR wish_until > wish_from", name="wish_days_in_order"),
        # One live entry per student and slot.
        Index("uq_waitlist_entry_live_slot_student", "slot_id", "student_id", unique=True,
              sqlite_where=text("status IN ('waiting', 'offered')"),
              postgresql_where=text("status IN ('waiting', 'offered')")),
        Index("ix_waitlist_entry_slot_id_status", "slot_id", "status"),
        # The wishes still waiting, first come first: read for every place freed or slot opened.
        Index("ix_waitlist_entry_waiting_wish_created_at_id", "created_at", "id",
              sqlite_where=text(WAITING_WISH_SQL), postgresql_where=text(WAITING_WISH_SQL)),
        # One waiting wish per student for the same subject, level and language.
        Index("uq_waitlist_entry_waiting_wish", "student_id", "subject", "level", "language", unique=True,
              sqlite_where=text(WAITING_WISH_SQL), postgresql_where=text(WAITING_WISH_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slot.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(12), default="waiting")
    # The key of the link in the offer message: take the place, or leave the list.
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_secret)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # A wish: what the slot must be ("" for any), and when it starts (from, until: UTC).
    subject: Mapped[str] = mapped_column(String(40), default="", server_default="")
    level: Mapped[str] = mapped_column(String(40), default="", server_default="")
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    wish_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wish_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    slot: Mapped[Slot | None] = relationship()
    student: Mapped[User] = relationship(foreign_keys=[student_id])
    added_by: Mapped[User] = relationship(foreign_keys=[added_by_id])

    @property
    def is_wish(self) -> bool:
        return self.wish_until is not None

    @property
    def wish_last_moment(self) -> datetime | None:
        """A moment of the wish's last day: it ends at the midnight after."""
        return self.wish_until - timedelta(seconds=1) if self.wish_until is not None else None


ABSENCE_STATUSES = ("open", "reassigned", "cancelled")


class TutorAbsence(Base):
    """A tutor cannot hold a session ("Je ne peux pas assurer cette séance"), until the
    coordinator gives the session to another tutor or cancels it. The reason is for the centre only."""

    __tablename__ = "tutor_absence"
    __table_args__ = (
        CheckConstraint(f"status IN {ABSENCE_STATUSES}", name="status"),
        # One open absence per session.
        Index("uq_tutor_absence_open_slot_id", "slot_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"))
    tutor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(12), default="open")
    new_tutor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    slot: Mapped[Slot] = relationship()
    tutor: Mapped[User] = relationship(foreign_keys=[tutor_id])
