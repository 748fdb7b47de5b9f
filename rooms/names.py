"""Room names that say nothing about who meets in them."""

import base64
import re
import secrets

# 20 bytes = 160 bits, comfortably above the 128 bits DESIGN.md asks for, and a multiple of
# 5 bytes so base32 needs no "=" padding: 32 characters from [a-z2-7].
_RANDOM_BYTES = 20

# Jitsi lower-cases the room part of the URL before comparing it with the token's `room`
# claim, and `-`/`_` are mangled by some clients, so only lowercase letters and digits pass.
_ROOM_NAME = re.compile(r"[a-z0-9]+")


def new_room_name() -> str:
    """Return a fresh, unguessable room name: 160 random bits as 32 lowercase base32 characters."""
    raw = secrets.token_bytes(_RANDOM_BYTES)
    return base64.b32encode(raw).decode("ascii").lower()


def check_room_name(room: str) -> None:
    """Raise ValueError unless `room` is a non-empty string of lowercase letters and digits."""
    if not isinstance(room, str) or not _ROOM_NAME.fullmatch(room):
        raise ValueError(f"room name must be lowercase letters and digits only, got {room!r}")
