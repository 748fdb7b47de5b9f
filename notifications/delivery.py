"""What every channel raises when a message cannot be handed over."""

from __future__ import annotations


class DeliveryError(Exception):
    """A channel could not hand a message to the provider.

    ``permanent`` says whether sending the same message again can ever work
    (an SMTP 5xx answer, a refused request) or may work later (4xx, timeouts,
    a server that is down). ``maybe_delivered`` is set when the provider may
    have accepted the message before the failure (an HTTP answer that never
    came): SMS are sent at most once, so the outbox must not retry those.
    """

    def __init__(self, reason: str, permanent: bool, *, maybe_delivered: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.maybe_delivered = maybe_delivered

    def __repr__(self) -> str:
        return (
            f"DeliveryError({self.reason!r}, permanent={self.permanent}, "
            f"maybe_delivered={self.maybe_delivered})"
        )
