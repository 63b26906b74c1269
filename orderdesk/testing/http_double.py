"""A loopback JSON HTTP double: the base of every provider and store double in the tests.

An HTTP server in a thread on 127.0.0.1 that records each request and lets a subclass answer
it the way the real peer does (`answer(request)`; a payload that is an iterator of bytes is
streamed, for large files). `fail_next(...)` and `stall_next(...)` script
faults for the next requests, in order; subclasses may script their own (`script(...)`), which
their `answer` finds in `request.scripted`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    """One request as the double saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    # The scripted entry this request drew (a subclass's own kind of fault), if any.
    scripted: tuple | None = None

    def json(self):
        return json.loads(self.body)


class HttpDouble:
    """Base: records every request, plays scripted faults, else asks `answer(request)`."""

    def __init__(self):
        self.requests: list[Received] = []
        self._script: list[tuple] = []
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", 0) or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Received(
                    method=method,
                    path=parts.path,
                    query={k: v[0] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                    request.form = {
                        k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()
                    }
                with double._lock:
                    double.requests.append(request)
                    scripted = double._script.pop(0) if double._script else None
                if scripted and scripted[0] == "fail":
                    _, status, payload, headers = scripted
                    return self._reply(status, payload, headers)
                request.scripted = scripted
                status, payload, headers = double.answer(request)
                if scripted and scripted[0] == "stall":
                    # The peer did the work, but answers after the client may have given up.
                    time.sleep(scripted[1])
                self._reply(status, payload, headers)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_PUT(self):
                self._handle("PUT")

            def _reply(self, status, payload, headers=None):
                if isinstance(payload, Iterator):
                    return self._reply_streamed(status, payload, headers)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _reply_streamed(self, status, chunks, headers=None):
                """A body of unknown length (a large file made as it is sent): no Content-Length,
                the connection's close ends it (HTTP/1.0)."""
                try:
                    self.send_response(status)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for chunk in chunks:
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def script(self, *entry) -> None:
        """Queue a scripted entry for the next request that has none yet."""
        with self._lock:
            self._script.append(entry)

    def fail_next(self, status: int, payload, headers: dict | None = None) -> None:
        """The next request gets this answer without being processed."""
        self.script("fail", status, payload, headers or {})

    def stall_next(self, seconds: float) -> None:
        """The next request is processed, but answered only after `seconds`."""
        self.script("stall", seconds)

    def answer(self, request: Received) -> tuple[int, object, dict]:
        raise NotImplementedError
