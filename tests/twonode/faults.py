"""A loopback HTTP(S) proxy in front of a node that can be told to misbehave.

It stands on the node's public address (Node(behind_proxy=True): the node's gunicorn listens
elsewhere), so the partner's URLs, the node's DIDs and the `@target-uri` of signed requests all
stay what they would be without it. Switch modes while the test runs:

    proxy.mode = Mode.ERROR_500      # every request answered 500 (a problem document)
    proxy.mode = Mode.ERROR_503      # every request answered 503, as a node down for maintenance
    proxy.mode = Mode.ERROR_400      # every request answered 400 (reason invalid-message)
    proxy.mode = Mode.DROP           # the connection is closed without an answer
    proxy.hold(2.0)                  # requests wait 2 s, then go through
    proxy.pass_through()             # requests and answers go through untouched

Requests and answers are forwarded verbatim, Host header included. Every request is recorded
with its path and what the proxy answered, whatever the mode.
"""

import contextlib
import json
import socket
import ssl
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from http.client import HTTPConnection, HTTPSConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.twonode.nodes import Certificates

# Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are not forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


class Mode(StrEnum):
    PASS = "pass"
    ERROR_500 = "500"
    ERROR_503 = "503"
    ERROR_400 = "400"
    DROP = "drop"
    HOLD = "hold"


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # without the query
    mode: Mode
    status: int | None  # what the proxy answered; None when it dropped the connection
    # The request as it came, for a test that replays or tampers with it: target (path and
    # query), header lines in order (hop-by-hop ones too) and body.
    target: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


class FaultProxy:
    """Forwards to `upstream` (a node's web_url); with certificates it speaks HTTPS both ways.

    `port` 0 picks a free one; give a node's `port` to stand in front of a node made with
    behind_proxy=True. When the upstream does not answer the proxy says 502, as a real
    reverse proxy would.
    """

    def __init__(
        self, upstream: str, *, certificates: Certificates | None = None, port: int = 0
    ) -> None:
        parts = urllib.parse.urlsplit(upstream)
        self.upstream = upstream.rstrip("/")
        self._upstream_tls = parts.scheme == "https"
        self._upstream_netloc = parts.netloc
        self._client_context = certificates.client_context() if certificates else None
        self._server_context = certificates.server_context() if certificates else None
        self.mode = Mode.PASS
        self.hold_seconds = 0.0
        self._seen: list[Seen] = []
        self._arrived: list[str] = []  # paths of requests as they come in, before any answer
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), _handler_for(self))
        self._server.tls = self._server_context
        self.port = int(self._server.server_address[1])
        scheme = "https" if self._server_context else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fault-proxy", daemon=True
        )

    def __enter__(self) -> "FaultProxy":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str) -> str:
        return self.base_url + path

    def hold(self, seconds: float) -> None:
        """Each request waits `seconds` before it is forwarded."""
        self.hold_seconds = seconds
        self.mode = Mode.HOLD

    def pass_through(self) -> None:
        self.mode = Mode.PASS

    # -- what the proxy saw

    @property
    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def counts(self) -> Counter[str]:
        """Requests seen per path, in every mode."""
        return Counter(seen.path for seen in self.seen)

    def count(self, path: str, *, status: int | None = None) -> int:
        """Requests seen for path, or only those answered with `status`."""
        return sum(
            1
            for seen in self.seen
            if seen.path == path and (status is None or seen.status == status)
        )

    def arrived(self, path: str) -> int:
        """Requests for path that came in, answered or not yet (a held one is counted here
        before it is forwarded, and in `seen` only once answered)."""
        with self._lock:
            return self._arrived.count(path)

    def requests(self, path: str, *, method: str = "POST") -> list[Seen]:
        """The requests seen for path with that method, in order, as they came."""
        return [seen for seen in self.seen if seen.path == path and seen.method == method]

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
            self._arrived.clear()

    # -- internals

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self._seen.append(seen)

    def _forward(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection: HTTPConnection
        if self._upstream_tls:
            connection = HTTPSConnection(
                self._upstream_netloc, timeout=60, context=self._client_context
            )
        else:
            connection = HTTPConnection(self._upstream_netloc, timeout=60)
        try:
            # skip_host: the client's Host header goes through as it was sent.
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders(body or None)
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs in the connection's own thread, not in the accept loop.
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hang up (timeouts, dropped connections on purpose): not a proxy failure.
        pass


def _problem(status: int, title: str, reason: str) -> bytes:
    return json.dumps(
        {"type": "about:blank", "title": title, "status": status, "reason": reason}
    ).encode()


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def handle_one_request(self) -> None:
            # One request per connection keeps the bookkeeping simple; clients reconnect.
            self.close_connection = True
            try:
                self.raw_requestline = self.rfile.readline(65537)
            except (OSError, ssl.SSLError):
                return
            if not self.raw_requestline or not self.parse_request():
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            self._serve(body)

        def _serve(self, body: bytes) -> None:
            mode, hold = proxy.mode, proxy.hold_seconds
            path = urllib.parse.urlsplit(self.path).path
            with proxy._lock:
                proxy._arrived.append(path)
            answer: tuple[int, list[tuple[str, str]], bytes] | None = None
            if mode is Mode.ERROR_500:
                answer = (500, [], _problem(500, "Internal Server Error", "fault"))
            elif mode is Mode.ERROR_503:
                answer = (503, [], _problem(503, "Service Unavailable", "maintenance"))
            elif mode is Mode.ERROR_400:
                answer = (400, [], _problem(400, "Bad Request", "invalid-message"))
            elif mode is not Mode.DROP:
                if mode is Mode.HOLD:
                    time.sleep(hold)
                headers = [
                    (name, value)
                    for name, value in self.headers.items()
                    if name.lower() not in HOP_BY_HOP
                ]
                try:
                    answer = proxy._forward(self.command, self.path, headers, body)
                except OSError as exc:
                    answer = (502, [], _problem(502, "Bad Gateway", str(exc)))
            # Recorded before the client hears back, so a test that has its answer also
            # finds it in `seen`, and the next test's reset cannot be overtaken by it.
            proxy._record(
                Seen(
                    self.command,
                    path,
                    mode,
                    answer[0] if answer else None,
                    target=self.path,
                    headers=tuple(self.headers.items()),
                    body=body,
                )
            )
            if answer is None:
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            # The client may have gone meanwhile (a killed worker).
            with contextlib.suppress(OSError):
                self._answer(*answer)

        def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            # send_response_only: no Server or Date of the proxy's own beside the node's.
            self.send_response_only(status)
            if not headers:
                headers = [("Content-Type", "application/problem+json")]
            for name, value in headers:
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

    return Handler
