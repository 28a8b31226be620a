"""A local stand-in for GitHub's REST API: replies from recorded payloads, records every request.

Payloads in tests/data/github/ are shaped like the examples in GitHub's REST documentation;
their https://api.github.com links are rewritten to this server so github3.py follows them here.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

PAYLOADS = Path(__file__).resolve().parent / "data" / "github"
API = "https://api.github.com"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    body: Any


@dataclass
class Reply:
    status: int
    payload: str | None  # a file in tests/data/github/, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)


class FakeGitHub:
    """Routes (method, path) to queued replies; an unrouted request gets a 599 and is recorded."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.routes: dict[tuple[str, str], deque[Reply]] = defaultdict(deque)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reply(
        self,
        method: str,
        path: str,
        payload: str | None,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Queue a reply for the next request to method path (replies are used up in order)."""
        self.routes[(method, path)].append(Reply(status, payload, headers or {}))

    def calls(self) -> list[tuple[str, str, Any]]:
        """(method, path, JSON body) of every request, in order."""
        return [(r.method, r.path, r.body) for r in self.requests]

    def payload(self, name: str) -> Any:
        return json.loads(self._text(name))

    def _text(self, name: str) -> str:
        return (PAYLOADS / name).read_text(encoding="utf-8").replace(API, self.url)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                path = unquote(parts.path)
                fake.requests.append(Request(self.command, path, parts.query, body))
                queue = fake.routes.get((self.command, path))
                if not queue:
                    self._send(599, b'{"message": "no reply recorded for this request"}', {})
                    return
                reply = queue.popleft()
                data = fake._text(reply.payload).encode() if reply.payload else b""
                self._send(reply.status, data, reply.headers)

            def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:  # quiet test output
                pass

        return Handler
