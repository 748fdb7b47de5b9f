"""Video rooms for Lien: unguessable Jitsi room names and signed links to join them.

Pure library: plain values in, plain values out; no Flask, no database."""

from .names import new_room_name
from .settings import JitsiSettings
from .tokens import Participant, fragment_values, make_token, sign_join_url, verify_token

__all__ = [
    "JitsiSettings",
    "Participant",
    "fragment_values",
    "make_token",
    "new_room_name",
    "sign_join_url",
    "verify_token",
]
