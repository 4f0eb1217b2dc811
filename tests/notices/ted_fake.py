"""A local stand-in for the TED Search API v3: answers POST /v3/notices/search with pages of
the recorded shape (`notices` with `publication-number`, `publication-date`, `links.xml.MUL`,
`totalNoticeCount`, `iterationNextToken`) and serves each notice's XML from the fixtures."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"

# Pages as TED would return them for the Swedish query: (publication number, date, fixture).
PAGES: list[list[tuple[str, str, str]]] = [
    [
        ("700001-2026", "2026-11-20+01:00", "se_cn_reserved_lulea.xml"),
        ("700002-2026", "2026-11-20+01:00", "se_cn_two_lots_norrbotten.xml"),
    ],
    [
        ("700003-2026", "2026-11-21+01:00", "se_pin_dalarna.xml"),
        ("700004-2026", "2026-11-21+01:00", "eforms-sdk/cn_24_minimal.xml"),
    ],
    [("700101-2026", "2026-11-27+01:00", "se_cn_change_lulea.xml")],
]


@dataclass
class FakeTed:
    """The server's state: the pages it serves, what it was asked, and failures to play."""

    pages: list[list[tuple[str, str, str]]] = field(default_factory=lambda: list(PAGES))
    searches: list[dict[str, Any]] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    # Answer 503 to the search for this page index (once), to play TED going down mid-run.
    fail_page_once: int | None = None
    # Answer 400 to any request carrying an iteration token (an expired token).
    reject_tokens: bool = False
    port: int = 0

    @property
    def search_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3/notices/search"

    def page_body(self, index: int) -> dict[str, Any]:
        hits = self.pages[index]
        more = index + 1 < len(self.pages)
        return {
            "notices": [
                {
                    "publication-number": number,
                    "publication-date": published,
                    "notice-type": "cn-standard",
                    "links": {
                        "xml": {"MUL": f"http://127.0.0.1:{self.port}/en/notice/{number}/xml"},
                        "html": {"SWE": f"https://ted.europa.eu/sv/notice/-/detail/{number}"},
                    },
                }
                for number, published, _ in hits
            ],
            "totalNoticeCount": sum(len(page) for page in self.pages),
            "iterationNextToken": f"token-{index + 1}" if more else None,
            "timedOut": False,
        }

    def fixture_of(self, number: str) -> Path | None:
        for page in self.pages:
            for found, _, name in page:
                if found == number:
                    return FIXTURES / name
        return None


def _handler(fake: FakeTed) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            request = json.loads(self.rfile.read(length))
            fake.searches.append(request)
            token = request.get("iterationNextToken")
            if token is not None and fake.reject_tokens:
                self._send(400, b'{"message": "invalid iteration token"}', "application/json")
                return
            index = 0 if token is None else int(str(token).removeprefix("token-"))
            if fake.fail_page_once == index:
                fake.fail_page_once = None
                self._send(503, b"down for maintenance", "text/plain")
                return
            self._send(200, json.dumps(fake.page_body(index)).encode(), "application/json")

        def do_GET(self) -> None:
            number = self.path.split("/")[-2] if self.path.endswith("/xml") else ""
            fake.downloads.append(number)
            path = fake.fixture_of(number)
            if path is None:
                self._send(404, b"no such notice", "text/plain")
                return
            self._send(200, path.read_bytes(), "application/xml")

    return Handler


@pytest.fixture(name="ted")
def fake_ted_fixture() -> Iterator[FakeTed]:
    """The fake TED on a free loopback port, for the length of one test."""
    fake = FakeTed()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
