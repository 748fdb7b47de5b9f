"""A local stand-in for Brevo's transactional SMS API, answering as its documentation says
(POST /v3/transactionalSMS/send -> 201 {"messageId": …}) and recording every request."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class FakeBrevo:
    """Answers like Brevo's transactional SMS API and records each request."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 201
    answer: dict[str, Any] = field(default_factory=lambda: {"messageId": 1511882900176220})
    delay: float = 0.0

    def settings(self) -> dict[str, str]:
        """Lien's settings that send every SMS through this stand-in."""
        return {"SMS_PROVIDER": "brevo", "SMS_BREVO_API_KEY": "xkeysib-test", "SMS_SENDER": "Lien",
                "SMS_BREVO_BASE_URL": self.url}


@pytest.fixture
def brevo() -> Iterator[FakeBrevo]:
    fake = FakeBrevo(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            fake.requests.append({
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "json": json.loads(self.rfile.read(length)),
            })
            time.sleep(fake.delay)
            body = json.dumps(fake.answer).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v3"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
