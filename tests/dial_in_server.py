"""A local stand-in for the two services of Jitsi's dial-in, answering as jitsi-meet's client
expects (react/features/invite/_utils.ts and reducer.ts): GET <path>?conference=<room>@<muc>
-> the conference mapper's {"message", "id", "conference"}, and the numbers list as an array of
{"countryCode", "tollFree", "formattedNumber"} (or the older {"numbers": {…}, "numbersEnabled"})."""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

NUMBERS = [
    {"countryCode": "us", "tollFree": False, "formattedNumber": "+1 512 402 2718"},
    {"countryCode": "fr", "tollFree": False, "formattedNumber": "+33 1 87 21 00 05"},
    {"countryCode": "fr", "tollFree": True, "formattedNumber": "0 805 08 01 12"},
]


@dataclass
class FakeDialIn:
    url: str = ""
    requests: list[str] = field(default_factory=list)
    numbers: Any = field(default_factory=lambda: list(NUMBERS))
    status: int = 200

    @property
    def numbers_url(self) -> str:
        return f"{self.url}/phoneNumberList"

    @property
    def code_url(self) -> str:
        return f"{self.url}/conferenceMapper"

    @staticmethod
    def code_of(conference: str) -> int:
        """The mapper's id for a conference: stable, seven digits or so."""
        return 1000000 + zlib.crc32(conference.encode()) % 9000000


@pytest.fixture
def dial_in_server() -> Iterator[FakeDialIn]:
    fake = FakeDialIn()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.requests.append(self.path)
            parts = urlsplit(self.path)
            conference = parse_qs(parts.query).get("conference", [""])[0]
            if fake.status != 200:
                self.send_response(fake.status)
                self.end_headers()
                return
            if parts.path == "/conferenceMapper":
                body: Any = {"message": "Successfully retrieved conference mapping",
                             "id": FakeDialIn.code_of(conference), "conference": conference}
            elif parts.path == "/phoneNumberList":
                body = fake.numbers
            else:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    thread.join(timeout=10)
