"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1), which keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from notifications import SmtpChannel, SmtpSettings

SENDER = "Lien <lien@centre.example.org>"


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it receives, and can refuse recipients."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    peers: list[tuple[str, int]] = field(default_factory=list)  # one per connection
    refuse: dict[str, str] = field(default_factory=dict)
    close_at_next_mail: bool = False
    delay: float = 0.0  # seconds to take over each message, for tests that stop a sender midway

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.close_at_next_mail:  # as Postfix does when a connection stayed idle too long
            self.close_at_next_mail = False
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.4.2 Error: timeout exceeded"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if session.peer not in self.peers:
            self.peers.append(session.peer)
        return "250 Message accepted for delivery"

    def all_parsed(self) -> list[EmailMessage]:
        return [self.parsed(index) for index in range(len(self.messages))]

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for one address, oldest first."""
        return [self.parsed(i) for i, (_, rcpts, _) in enumerate(self.messages) if address in rcpts]

    def parsed(self, index: int = -1) -> EmailMessage:
        return email.message_from_bytes(self.messages[index][2], policy=email.policy.default)  # type: ignore[return-value]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox

    def channel(self, **settings: Any) -> SmtpChannel:
        ssl_context = settings.pop("ssl_context", None)
        return SmtpChannel(SmtpSettings(sender=SENDER, host="127.0.0.1", port=self.port, **settings),
                           ssl_context=ssl_context)


@pytest.fixture
def start_smtp() -> Iterator[Any]:
    controllers: list[Controller] = []

    def start(port: int | None = None, **options: Any) -> SmtpServer:
        server = SmtpServer(port or free_port(), Mailbox())
        controller = Controller(server.mailbox, hostname="127.0.0.1", port=server.port, **options)
        controller.start()
        controllers.append(controller)
        return server

    yield start
    for controller in controllers:
        controller.stop()


