"""The outbound client against a real loopback HTTP server that answers as a partner might."""

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.standards.multiformats import encode_ed25519_public_key
from exchange import http_signatures as hs
from exchange import transport
from institutions.selectors import active_signing_key
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db

PEER_KEY = Ed25519PrivateKey.generate()
PEER_KEY_ID = "did:web:uni-b.example:institutions:uni-b#key-1"
PEER_KEYS = [
    {"id": PEER_KEY_ID, "publicKeyMultibase": encode_ed25519_public_key(PEER_KEY.public_key())}
]
JSON = {"Content-Type": "application/json"}

# What the partner answers: (status, headers, body, sign it?) for the request it received.
Behaviour = Callable[[hs.Message], tuple[int, dict[str, str], bytes, bool]]


class Partner(BaseHTTPRequestHandler):
    behaviour: Behaviour
    port: int

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = hs.Message(
            method=self.command,
            target_uri=f"http://127.0.0.1:{self.port}{self.path}",
            headers=dict(self.headers.items()),
            body=self.rfile.read(length),
        )
        status, headers, body, sign = self.behaviour(request)
        if sign:
            headers = {
                **headers,
                **hs.sign_response(
                    hs.Response(status=status, headers=headers, body=body),
                    request=request,
                    private_key=PEER_KEY,
                    key_id=PEER_KEY_ID,
                    created=int(time.time()),
                    nonce="answer",
                ),
            }
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        # The client may give up reading, as it should past its cap.
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def partner_node(settings) -> Iterator[Callable[[Behaviour], str]]:
    """Starts a loopback server answering with the given behaviour; yields its URL maker."""
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True
    servers: list[ThreadingHTTPServer] = []

    def start(behaviour: Behaviour) -> str:
        handler: type[Partner] = type("Handler", (Partner,), {"behaviour": staticmethod(behaviour)})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        port = int(server.server_address[1])
        handler.port = port
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{port}/exchange/v1/uni-b/inbox"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def send(url: str, **kwargs):
    return transport.signed_request(
        institution=kwargs.pop("institution", None) or InstitutionFactory(),
        method="POST",
        url=url,
        payload={"credential": "x"},
        peer_keys=kwargs.pop("peer_keys", PEER_KEYS),
        **kwargs,
    )


def test_a_signed_answer_is_returned_with_its_json_and_latency(partner_node):
    seen: list[hs.Message] = []

    def echo(request):
        seen.append(request)
        return 201, JSON, request.body, True

    reply = send(partner_node(echo))
    assert reply.status == 201
    assert reply.json() == {"credential": "x"}
    assert reply.headers["content-digest"] == hs.content_digest(b'{"credential":"x"}')
    assert reply.latency_ms >= 0
    assert seen[0].header("content-type") == "application/json"
    assert 'nonce="' in (seen[0].header("signature-input") or "")


def test_the_request_reaches_the_partner_signed_by_the_institutions_active_key(partner_node):
    institution = InstitutionFactory()
    key = active_signing_key(institution=institution)
    # Read before the server thread runs: it cannot see the test's transaction.
    keys = {key.verification_method: key.private_key.public_key()}
    results: list[hs.Verification] = []

    def check(request):
        results.append(
            hs.verify_request(
                request,
                public_key_for=keys.get,
                now=int(time.time()),
                seen_nonce=lambda key_id, nonce: False,
            )
        )
        return 200, JSON, b"{}", True

    transport.signed_request(
        institution=institution,
        method="POST",
        url=partner_node(check),
        payload={"ping": "é"},
        peer_keys=PEER_KEYS,
    )
    assert results[0].ok, results[0]
    assert results[0].key_id.startswith(institution.did + "#key-")


def test_a_304_answer_is_returned_without_a_body(partner_node):
    reply = send(partner_node(lambda request: (304, {}, b"", True)))
    assert (reply.status, reply.body, reply.json()) == (304, b"", None)


def test_an_unsigned_200_is_refused(partner_node):
    with pytest.raises(transport.TransportError) as caught:
        send(partner_node(lambda request: (200, JSON, b"{}", False)))
    assert caught.value.reason == "bad-response-signature"
    assert (caught.value.status, caught.value.retryable) == (200, False)


def test_an_answer_signed_by_a_key_that_is_not_pinned_is_refused(partner_node):
    other = [{"id": PEER_KEY_ID, "publicKeyMultibase": encode_ed25519_public_key(
        Ed25519PrivateKey.generate().public_key()
    )}]  # fmt: skip
    with pytest.raises(transport.TransportError) as caught:
        send(partner_node(lambda request: (200, JSON, b"{}", True)), peer_keys=other)
    assert caught.value.reason == "bad-response-signature"
    assert "bad-signature" in caught.value.detail


def test_a_signed_problem_gives_its_reason_and_is_not_retried(partner_node):
    problem = b'{"type":"urn:x","title":"No","status":403,"reason":"not-a-partner"}'
    headers = {"Content-Type": "application/problem+json"}
    with pytest.raises(transport.TransportError) as caught:
        send(partner_node(lambda request: (403, headers, problem, True)))
    assert (caught.value.reason, caught.value.status) == ("not-a-partner", 403)
    assert caught.value.retryable is False


def test_a_signed_4xx_that_is_not_a_problem_is_named_by_its_status(partner_node):
    with pytest.raises(transport.TransportError) as caught:
        send(partner_node(lambda request: (404, {"Content-Type": "text/plain"}, b"no", True)))
    assert (caught.value.reason, caught.value.retryable) == ("http-404", False)


def test_an_unsigned_4xx_is_final_and_named_by_its_status(partner_node):
    with pytest.raises(transport.TransportError) as caught:
        send(partner_node(lambda request: (400, JSON, b"{}", False)))
    assert (caught.value.reason, caught.value.status) == ("http-400", 400)
    assert caught.value.retryable is False
    assert "unsigned or badly signed answer" in caught.value.detail


def test_an_unsigned_500_is_retryable(partner_node):
    with pytest.raises(transport.TransportError) as caught:
        send(partner_node(lambda request: (500, {}, b"oops", False)))
    assert (caught.value.reason, caught.value.status, caught.value.retryable) == (
        "http-500",
        500,
        True,
    )
    assert caught.value.detail == "oops"


def test_a_429_is_retryable_after_what_it_says(partner_node):
    with pytest.raises(transport.TransportError) as caught:
        send(partner_node(lambda request: (429, {"Retry-After": "120"}, b"", False)))
    assert (caught.value.reason, caught.value.retryable, caught.value.retry_after) == (
        "http-429",
        True,
        120,
    )


@pytest.mark.date_sensitive
def test_a_retry_after_given_as_a_date_is_turned_into_seconds(partner_node, frozen_clock):
    from email.utils import formatdate

    later = formatdate(time.time() + 90, usegmt=True)
    with pytest.raises(transport.TransportError) as caught:
        send(partner_node(lambda request: (429, {"Retry-After": later}, b"", False)))
    assert caught.value.retry_after == 90


def test_an_answer_larger_than_the_cap_is_refused_and_retryable(partner_node):
    # No Content-Length: the body runs until the connection closes, so the read cap must hold.
    big = b"x" * 5000
    with pytest.raises(transport.TransportError) as caught:
        send(partner_node(lambda request: (200, {}, big, False)), max_bytes=1000)
    assert (caught.value.reason, caught.value.retryable) == ("too-large", True)


def test_a_partner_that_does_not_answer_in_time_is_retryable(partner_node):
    def slow(request):
        time.sleep(30)  # far beyond the timeout: a send that ends first gave up itself
        return 200, JSON, b"{}", True

    with pytest.raises(transport.TransportError) as caught:
        send(partner_node(slow), timeout=0.5)
    assert (caught.value.reason, caught.value.retryable) == ("timeout", True)


def test_a_closed_port_is_a_retryable_connection_failure(settings):
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True
    with pytest.raises(transport.TransportError) as caught:
        send("http://127.0.0.1:9/exchange/v1/uni-b/inbox")
    assert (caught.value.reason, caught.value.retryable) == ("connection-failed", True)


def test_plain_http_and_loopback_are_refused_unless_settings_allow_them(settings):
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = False
    with pytest.raises(transport.TransportError) as caught:
        send("http://127.0.0.1:9/exchange/v1/uni-b/inbox")
    assert (caught.value.reason, caught.value.retryable) == ("insecure-url", False)
    with pytest.raises(transport.TransportError) as caught:
        send("https://127.0.0.1:9/exchange/v1/uni-b/inbox")
    assert (caught.value.reason, caught.value.retryable) == ("forbidden-address", False)


class KeptAlivePartner(Partner):
    """Answers over HTTP/1.1 keep-alive; records the client port of each request and, when
    asked, closes the connection after answering (as a server whose keep-alive ran out)."""

    protocol_version = "HTTP/1.1"
    ports: list[int]
    close_after_answer: bool
    closed: threading.Event

    def _answer(self) -> None:
        self.ports.append(self.client_address[1])
        super()._answer()
        if self.close_after_answer:
            self.close_connection = True

    def finish(self) -> None:
        super().finish()
        if self.close_after_answer:
            # Closed now, not when the server gets to it: the client sees it before its next try.
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        self.closed.set()


@pytest.fixture
def kept_alive_node(settings) -> Iterator[Callable[..., tuple[str, type[KeptAlivePartner]]]]:
    settings.MESHE_OUTBOUND_ALLOW_LOOPBACK = True
    servers: list[ThreadingHTTPServer] = []

    def start(*, close_after_answer: bool = False) -> tuple[str, type[KeptAlivePartner]]:
        def answer(request: hs.Message) -> tuple[int, dict[str, str], bytes, bool]:
            return 201, {**JSON, "Content-Length": "2"}, b"{}", True

        handler: type[KeptAlivePartner] = type(
            "Handler",
            (KeptAlivePartner,),
            {
                "behaviour": staticmethod(answer),
                "ports": [],
                "close_after_answer": close_after_answer,
                "closed": threading.Event(),
            },
        )
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        handler.port = int(server.server_address[1])
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{handler.port}/exchange/v1/uni-b/inbox", handler

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_session_sends_its_requests_over_one_kept_alive_connection(kept_alive_node):
    url, handler = kept_alive_node()
    institution = InstitutionFactory()
    with transport.Session() as session:
        for _ in range(3):
            reply = send(url, session=session, institution=institution)
            assert reply.status == 201
    assert len(handler.ports) == 3 and len(set(handler.ports)) == 1


def test_without_a_session_each_request_opens_its_own_connection(kept_alive_node):
    url, handler = kept_alive_node()
    send(url)
    send(url)
    assert len(set(handler.ports)) == 2


def test_a_session_opens_a_new_connection_when_the_partner_closed_the_kept_one(
    kept_alive_node,
):
    url, handler = kept_alive_node(close_after_answer=True)
    institution = InstitutionFactory()
    with transport.Session() as session:
        assert send(url, session=session, institution=institution).status == 201
        assert handler.closed.wait(timeout=10)  # the server is done with that connection
        assert send(url, session=session, institution=institution).status == 201
    assert len(handler.ports) == 2 and len(set(handler.ports)) == 2


def test_a_session_reads_the_signing_key_once_per_institution(
    kept_alive_node, django_assert_num_queries
):
    url, _handler = kept_alive_node()
    institution = InstitutionFactory()
    with transport.Session() as session:
        send(url, session=session, institution=institution)
        with django_assert_num_queries(0):
            send(url, session=session, institution=institution)


def test_a_kept_connection_carries_at_most_its_number_of_requests(kept_alive_node):
    url, handler = kept_alive_node()
    institution = InstitutionFactory()
    with transport.Session() as session:
        session.connections.max_requests = 2
        for _ in range(5):
            send(url, session=session, institution=institution)
    first, second, third, fourth, fifth = handler.ports
    assert first == second != third == fourth != fifth
