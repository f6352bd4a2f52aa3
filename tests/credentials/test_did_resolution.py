"""did:web URLs, address vetting, the pinned HTTPS fetcher, the resolver and DID document checks.

Only loopback is ever connected to: public addresses are tested through the vetting function.
"""

import datetime
import ipaddress
import json
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from credentials.standards import didkey
from credentials.standards.did_resolution import (
    CACHE_KEY_PREFIX,
    DidResolver,
    ResolutionError,
    ResolutionFailure,
    assertion_key_in,
    did_web_to_url,
    fetch_json_https,
    find_verification_method,
    is_public_address,
    resolve_host_with_dns,
    url_to_did_web,
    vet_address,
)
from credentials.standards.multiformats import encode_ed25519_public_key, multibase_encode
from institutions.did_documents import PublishedKey, build_did_document

DID = "did:web:uni-a.example:institutions:uni-a"


# ---------------------------------------------------------------- did:web <-> URL


@pytest.mark.parametrize(
    ("did", "url"),
    [
        # The did:web method specification's own examples.
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
        (
            "did:web:host%3A8000:institutions:uni-a",
            "https://host:8000/institutions/uni-a/did.json",
        ),
        ("did:web:127.0.0.1%3A8000", "https://127.0.0.1:8000/.well-known/did.json"),
        ("did:web:uni-a.example:a%20b", "https://uni-a.example/a%20b/did.json"),
    ],
)
def test_a_did_web_maps_to_the_https_url_of_its_document(did, url):
    assert did_web_to_url(did) == url


@pytest.mark.parametrize(
    "did",
    [
        "did:web:",
        "did:web:host:",
        "did:web:host::a",
        "did:web:host%3A",
        "did:web:host%3A0",
        "did:web:host%3A99999",
        "did:web:host%3Aabc",
        "did:web:host%3A80%3A81",
        "did:web:host/path",
        "did:web:host:a/b",
        "did:web:host:..",
        "did:web:host:%2E%2E",
        "did:web:host:a%2Fb",
        "did:web:ho st",
        "did:web:user@host",
        "did:web:host#key-1",
        "did:web:host?service=x",
        "did:web:-bad.example",
        "did:web:bad..example",
        "did:web:h%C3%A9st.example",
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "web:host",
    ],
)
def test_a_malformed_did_web_is_refused(did):
    with pytest.raises(ResolutionError) as raised:
        did_web_to_url(did)
    assert raised.value.reason == ResolutionFailure.MALFORMED_DID


@pytest.mark.parametrize(
    ("base_url", "segments", "did"),
    [
        ("https://host:8000", ["institutions", "uni-a"], "did:web:host%3A8000:institutions:uni-a"),
        ("https://uni-a.example", [], "did:web:uni-a.example"),
        ("https://Uni-A.Example:443/", [], "did:web:uni-a.example"),
        ("http://127.0.0.1:8000", ["issuers", "x"], "did:web:127.0.0.1%3A8000:issuers:x"),
        (
            "https://portal.example/meshe",
            ["institutions", "u"],
            "did:web:portal.example:meshe:institutions:u",
        ),
        ("https://portal.example", ["uni a", "é~"], "did:web:portal.example:uni%20a:%C3%A9%7E"),
    ],
)
def test_a_base_url_and_path_map_to_a_did_web_with_the_port_percent_encoded(
    base_url, segments, did
):
    assert url_to_did_web(base_url, segments) == did


@pytest.mark.parametrize(
    ("base_url", "segments"),
    [
        ("ftp://host", []),
        ("https://user@host", []),
        ("https://host?x=1", []),
        ("https://", []),
        ("https://ex ample.org", []),
        ("https://host:99999", []),
        ("https://host", [""]),
        ("https://host", [".."]),
        ("https://host", ["a/b"]),
    ],
)
def test_a_base_url_or_segment_that_cannot_make_a_did_web_is_refused(base_url, segments):
    with pytest.raises(ResolutionError):
        url_to_did_web(base_url, segments)


@given(
    host=st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,6}){1,2}", fullmatch=True),
    port=st.none() | st.integers(min_value=1, max_value=65535),
    segments=st.lists(
        st.text(alphabet="abcXYZ09._-~ é/", min_size=1, max_size=8).filter(
            lambda s: s not in (".", "..") and "/" not in s
        ),
        max_size=4,
    ),
)
def test_url_to_did_web_and_back_gives_the_document_url(host, port, segments):
    authority = host if port is None or port == 443 else f"{host}:{port}"
    did = url_to_did_web(f"https://{authority}", segments)
    url = did_web_to_url(did)
    prefix = f"https://{authority}/"
    assert url.startswith(prefix)
    assert url.endswith("/did.json")
    path = url.removeprefix(prefix).removesuffix("/did.json")
    if segments:
        assert [urllib.parse.unquote(part) for part in path.split("/")] == segments
    else:
        assert path == ".well-known"


# ---------------------------------------------------------------- address vetting


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "fe80::1",
        "fe80::1%eth0",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "169.254.169.254",
        "0.0.0.0",  # noqa: S104 - an address under test, not one this code binds to
        "::",
        "100.64.0.1",
        "224.0.0.1",
        "ff02::1",
        "240.0.0.1",
        "255.255.255.255",
        "198.18.0.1",
        "192.0.2.1",
        "fc00::1",
        "fd12:3456::1",
        "2001:db8::1",
        "2002:a00:1::1",
        "64:ff9b::7f00:1",
        "not-an-address",
    ],
)
def test_private_loopback_link_local_multicast_reserved_and_unspecified_addresses_are_refused(
    address,
):
    with pytest.raises(ResolutionError) as raised:
        vet_address(address)
    assert raised.value.reason == ResolutionFailure.FORBIDDEN_ADDRESS


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "1.1.1.1",
        "8.8.8.8",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
        "2a00:1450:4001:82b::200e",
        "::ffff:93.184.215.14",
        "64:ff9b::808:808",
    ],
)
def test_public_addresses_pass_vetting(address):
    assert is_public_address(vet_address(address))


def test_private_addresses_pass_vetting_only_when_allowed():
    assert vet_address("10.0.0.1", allow_private=True) == ipaddress.ip_address("10.0.0.1")
    assert vet_address("127.0.0.1", allow_loopback=True) == ipaddress.ip_address("127.0.0.1")
    assert vet_address("::1", allow_loopback=True) == ipaddress.ip_address("::1")
    with pytest.raises(ResolutionError):
        vet_address("10.0.0.1", allow_loopback=True)


def test_the_system_resolver_gives_loopback_for_localhost():
    addresses = resolve_host_with_dns("localhost", 443)
    assert addresses
    assert all(ipaddress.ip_address(address).is_loopback for address in addresses)


# ---------------------------------------------------------------- the fetcher, refusals before connecting


def must_not_resolve(host: str, port: int) -> list[str]:
    raise AssertionError(f"resolved {host}:{port} although the URL should have been refused")


@pytest.mark.parametrize(
    "url",
    ["http://uni-a.example/did.json", "ftp://uni-a.example/did.json", "file:///etc/passwd"],
)
def test_the_fetcher_refuses_anything_but_https(url):
    with pytest.raises(ResolutionError) as raised:
        fetch_json_https(url, resolve_host=must_not_resolve)
    assert raised.value.reason == ResolutionFailure.INSECURE_URL


@pytest.mark.parametrize(
    "url",
    ["https://user:pw@uni-a.example/did.json", "https:///did.json", "https://uni-a.example:x/"],
)
def test_the_fetcher_refuses_malformed_urls(url):
    with pytest.raises(ResolutionError) as raised:
        fetch_json_https(url, resolve_host=must_not_resolve)
    assert raised.value.reason == ResolutionFailure.MALFORMED_URL


@pytest.mark.parametrize(
    "addresses", [["10.0.0.1"], ["169.254.169.254"], ["93.184.215.14", "192.168.1.1"], ["::1"]]
)
def test_the_fetcher_refuses_a_host_that_resolves_to_any_private_address_without_connecting(
    addresses,
):
    with pytest.raises(ResolutionError) as raised:
        fetch_json_https("https://uni-a.example/did.json", resolve_host=lambda h, p: addresses)
    assert raised.value.reason == ResolutionFailure.FORBIDDEN_ADDRESS


def test_the_fetcher_refuses_loopback_literals_and_localhost_by_default():
    for url in ("https://127.0.0.1:1/did.json", "https://[::1]:1/did.json", "https://localhost:1/"):
        with pytest.raises(ResolutionError) as raised:
            fetch_json_https(url)
        assert raised.value.reason == ResolutionFailure.FORBIDDEN_ADDRESS


def test_the_loopback_test_flag_does_not_allow_plain_http_to_a_public_address():
    with pytest.raises(ResolutionError) as raised:
        fetch_json_https(
            "http://uni-a.example/did.json",
            allow_insecure_loopback=True,
            resolve_host=lambda h, p: ["93.184.215.14"],
        )
    assert raised.value.reason == ResolutionFailure.INSECURE_URL


# ---------------------------------------------------------------- the fetcher against a loopback server


@dataclass
class LoopbackServer:
    port: int
    requests: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


DOCUMENT = {"id": DID, "name": "served"}
MAX = 2048


def make_handler(server_record: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):
            pass

        def send_body(self, body: bytes, *, status: int = 200, length: bool = True, **headers):
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            if length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            server_record.requests.append(
                (self.path, self.headers.get("Host"), self.headers.get("Accept-Encoding"))
            )
            if self.path == "/did.json":
                self.send_body(json.dumps(DOCUMENT).encode(), Content_Type="application/json")
            elif self.path == "/redirect":
                self.send_body(b"", status=302, Location="/did.json")
            elif self.path == "/permanent-redirect":
                self.send_body(b"", status=308, Location="https://uni-b.example/did.json")
            elif self.path == "/big":
                self.send_body(json.dumps({"pad": "x" * MAX}).encode())
            elif self.path == "/big-unannounced":
                # HTTP/1.0 without Content-Length: the body ends when the connection closes.
                self.close_connection = True
                self.send_body(json.dumps({"pad": "x" * MAX * 4}).encode(), length=False)
            elif self.path == "/text":
                self.send_body(b"<html>not json</html>", Content_Type="text/html")
            elif self.path == "/array":
                self.send_body(b"[1, 2, 3]")
            elif self.path == "/nan":
                self.send_body(b'{"n": NaN}')
            elif self.path == "/latin1":
                self.send_body('{"n": "é"}'.encode("latin-1"))
            elif self.path == "/slow":
                # Far beyond any timeout a test gives: a fetch that ends first gave up itself.
                time.sleep(30)
                self.send_body(b"{}")
            else:
                self.send_body(b"{}", status=404)

    return Handler


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # The fetcher hangs up on purpose (too large, too slow); that is not a server failure.
        pass


@pytest.fixture
def loopback_server() -> Iterator[LoopbackServer]:
    record = LoopbackServer(port=0)
    httpd = QuietServer(("127.0.0.1", 0), make_handler(record))
    record.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield record
    httpd.shutdown()
    httpd.server_close()


def fetch_loopback(url: str, **options):
    return fetch_json_https(url, allow_insecure_loopback=True, max_bytes=MAX, **options)


def test_the_fetcher_returns_the_json_object_a_loopback_test_server_serves(loopback_server):
    assert fetch_loopback(loopback_server.url("/did.json")) == DOCUMENT
    assert loopback_server.requests[0][2] == "identity"


def test_the_fetcher_connects_to_the_vetted_address_and_still_sends_the_host_name(
    loopback_server,
):
    # uni-a.example resolves nowhere: the only way to reach the server is the pinned address.
    resolved = []

    def resolve(host: str, port: int) -> list[str]:
        resolved.append(host)
        return ["127.0.0.1"]

    document = fetch_loopback(
        loopback_server.url("/did.json", host="uni-a.example"), resolve_host=resolve
    )
    assert document == DOCUMENT
    assert resolved == ["uni-a.example"]
    assert loopback_server.requests == [
        ("/did.json", f"uni-a.example:{loopback_server.port}", "identity")
    ]


@pytest.mark.parametrize("path", ["/redirect", "/permanent-redirect"])
def test_the_fetcher_refuses_redirects_and_does_not_follow_them(loopback_server, path):
    with pytest.raises(ResolutionError, match="redirect") as raised:
        fetch_loopback(loopback_server.url(path))
    assert raised.value.reason == ResolutionFailure.REDIRECT
    assert [request[0] for request in loopback_server.requests] == [path]


@pytest.mark.parametrize("path", ["/big", "/big-unannounced"])
def test_the_fetcher_refuses_a_body_over_the_size_cap(loopback_server, path):
    with pytest.raises(ResolutionError) as raised:
        fetch_loopback(loopback_server.url(path))
    assert raised.value.reason == ResolutionFailure.TOO_LARGE


@pytest.mark.parametrize("path", ["/text", "/array", "/nan", "/latin1"])
def test_the_fetcher_refuses_a_body_that_is_not_a_json_object(loopback_server, path):
    with pytest.raises(ResolutionError) as raised:
        fetch_loopback(loopback_server.url(path))
    assert raised.value.reason == ResolutionFailure.NOT_JSON


def test_the_fetcher_refuses_an_error_status(loopback_server):
    with pytest.raises(ResolutionError, match="HTTP 404") as raised:
        fetch_loopback(loopback_server.url("/missing"))
    assert raised.value.reason == ResolutionFailure.HTTP_ERROR


def test_the_fetcher_gives_up_at_its_timeout(loopback_server):
    with pytest.raises(ResolutionError) as raised:
        fetch_loopback(loopback_server.url("/slow"), timeout=0.3)
    assert raised.value.reason == ResolutionFailure.TIMEOUT


def test_the_fetcher_reports_a_refused_connection_as_a_resolution_error():
    with pytest.raises(ResolutionError) as raised:
        fetch_loopback("http://127.0.0.1:9/did.json")
    assert raised.value.reason == ResolutionFailure.CONNECTION_FAILED


# ---------------------------------------------------------------- pinned TLS


@dataclass
class TlsServer:
    port: int
    client_context: ssl.SSLContext
    server_names: list[str | None] = field(default_factory=list)
    hosts: list[str | None] = field(default_factory=list)


def self_signed_certificate(directory: Path, hostname: str) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    # Valid whatever the date: OpenSSL checks it against the real clock, even when this
    # process's clock is moved (MESHE_TEST_CLOCK_AHEAD_DAYS).
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
        .not_valid_after(datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
    (directory / "cert.pem").write_bytes(certificate_pem)
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return directory / "cert.pem", directory / "key.pem", certificate_pem


@pytest.fixture
def tls_server(tmp_path) -> Iterator[TlsServer]:
    certificate, key, certificate_pem = self_signed_certificate(tmp_path, "uni-a.example")
    client_context = ssl.create_default_context(cadata=certificate_pem.decode("ascii"))
    record = TlsServer(port=0, client_context=client_context)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):
            pass

        def do_GET(self):
            record.hosts.append(self.headers.get("Host"))
            body = json.dumps(DOCUMENT).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(certificate, key)
    server_context.sni_callback = lambda sock, name, context: record.server_names.append(name)
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.socket = server_context.wrap_socket(httpd.socket, server_side=True)
    record.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield record
    httpd.shutdown()
    httpd.server_close()


def test_https_to_a_pinned_address_keeps_sni_certificate_check_and_host_on_the_name(tls_server):
    document = fetch_json_https(
        f"https://uni-a.example:{tls_server.port}/did.json",
        allow_private=True,
        resolve_host=lambda host, port: ["127.0.0.1"],
        ssl_context=tls_server.client_context,
    )
    assert document == DOCUMENT
    assert tls_server.server_names == ["uni-a.example"]
    assert tls_server.hosts == [f"uni-a.example:{tls_server.port}"]


def test_https_fails_when_the_certificate_is_for_another_name(tls_server):
    with pytest.raises(ResolutionError) as raised:
        fetch_json_https(
            f"https://uni-b.example:{tls_server.port}/did.json",
            allow_private=True,
            resolve_host=lambda host, port: ["127.0.0.1"],
            ssl_context=tls_server.client_context,
        )
    assert raised.value.reason == ResolutionFailure.CONNECTION_FAILED
    assert tls_server.hosts == []


# ---------------------------------------------------------------- the resolver


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def did_document(*keys: Ed25519PrivateKey, did: str = DID) -> dict:
    return build_did_document(
        did=did,
        keys=[
            PublishedKey(
                fragment=f"key-{n}",
                public_key_multibase=encode_ed25519_public_key(key.public_key()),
                active=n == 1,
            )
            for n, key in enumerate(keys, start=1)
        ],
    )


class FakeFetch:
    def __init__(self, documents: dict[str, object]) -> None:
        self.documents = documents
        self.urls: list[str] = []

    def __call__(self, url: str) -> dict:
        self.urls.append(url)
        document = self.documents[url]
        if isinstance(document, Exception):
            raise document
        return document  # type: ignore[return-value]


class DictCache:
    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self.timeouts: dict[str, int] = {}

    def get(self, key: str) -> object:
        return self.values.get(key)

    def set(self, key: str, value: object, timeout: int) -> None:
        self.values[key] = value
        self.timeouts[key] = timeout


def refuse_fetch(url: str) -> dict:
    raise AssertionError(f"fetched {url}")


def test_a_did_key_resolves_without_any_fetch():
    key = new_key()
    did = didkey.did_key_for(key.public_key())
    document = DidResolver(fetch=refuse_fetch).resolve(did)
    assert document == didkey.resolve_did_key(did)


def test_a_did_hosted_on_this_node_resolves_through_local_without_http():
    document = did_document(new_key())
    resolver = DidResolver(local={DID: document}.get, fetch=refuse_fetch)
    assert resolver.resolve(DID) == document


def test_a_remote_did_web_is_fetched_from_its_document_url():
    document = did_document(new_key())
    fetch = FakeFetch({did_web_to_url(DID): document})
    resolver = DidResolver(local=lambda did: None, fetch=fetch)
    assert resolver.resolve(DID) == document
    assert fetch.urls == ["https://uni-a.example/institutions/uni-a/did.json"]


def test_a_remote_did_document_is_cached_for_the_ttl_and_served_from_the_cache():
    document = did_document(new_key())
    fetch = FakeFetch({did_web_to_url(DID): document})
    cache = DictCache()
    resolver = DidResolver(fetch=fetch, cache=cache, cache_ttl=60)
    assert resolver.resolve(DID) == document
    assert resolver.resolve(DID) == document
    assert len(fetch.urls) == 1
    [key] = cache.values
    assert key.startswith(CACHE_KEY_PREFIX)
    assert cache.timeouts[key] == 60


def test_a_cached_document_for_another_did_is_ignored():
    document = did_document(new_key())
    fetch = FakeFetch({did_web_to_url(DID): document})
    cache = DictCache()
    DidResolver(fetch=fetch, cache=cache).resolve(DID)
    [key] = cache.values
    cache.values[key] = {"id": "did:web:evil.example"}
    assert DidResolver(fetch=fetch, cache=cache).resolve(DID) == document
    assert len(fetch.urls) == 2


@pytest.mark.parametrize("source", ["local", "fetch"])
def test_a_did_document_whose_id_is_another_did_is_refused(source):
    other = did_document(new_key(), did="did:web:uni-b.example")
    if source == "local":
        resolver = DidResolver(local={DID: other}.get, fetch=refuse_fetch)
    else:
        resolver = DidResolver(fetch=FakeFetch({did_web_to_url(DID): other}))
    with pytest.raises(ResolutionError) as raised:
        resolver.resolve(DID)
    assert raised.value.reason == ResolutionFailure.ID_MISMATCH


def test_a_fetcher_failure_of_any_kind_becomes_a_resolution_error():
    fetch = FakeFetch({did_web_to_url(DID): RuntimeError("database is down")})
    with pytest.raises(ResolutionError, match="could not be reached") as raised:
        DidResolver(fetch=fetch).resolve(DID)
    assert raised.value.reason == ResolutionFailure.CONNECTION_FAILED
    assert "database is down" not in raised.value.message


@pytest.mark.parametrize("did", ["did:example:123", "https://uni-a.example", "did:key:z6LSbad"])
def test_other_did_methods_and_malformed_dids_are_refused(did):
    with pytest.raises(ResolutionError):
        DidResolver(fetch=refuse_fetch).resolve(did)


# ---------------------------------------------------------------- verification methods


def test_the_assertion_key_of_an_institution_document_is_found_by_absolute_id():
    first, second = new_key(), new_key()
    resolver = DidResolver(local={DID: did_document(first, second)}.get, fetch=refuse_fetch)
    key = resolver.assertion_key(DID + "#key-2")
    assert key.method_id == DID + "#key-2"
    assert key.controller == DID
    assert key.public_key.public_bytes_raw() == second.public_key().public_bytes_raw()


def test_the_assertion_key_of_a_did_key_is_its_own_key():
    key = new_key()
    method = didkey.verification_method_id_for(key.public_key())
    found = DidResolver(fetch=refuse_fetch).assertion_key(method)
    assert found.controller == didkey.did_key_for(key.public_key())
    assert found.public_key.public_bytes_raw() == key.public_key().public_bytes_raw()


def multikey(key: Ed25519PrivateKey, **fields) -> dict:
    return {
        "id": "#key-1",
        "type": "Multikey",
        "controller": DID,
        "publicKeyMultibase": encode_ed25519_public_key(key.public_key()),
        **fields,
    }


def test_relative_ids_in_the_document_match_an_absolute_method_id():
    key = new_key()
    document = {"id": DID, "verificationMethod": [multikey(key)], "assertionMethod": ["#key-1"]}
    assert assertion_key_in(document, DID + "#key-1").method_id == DID + "#key-1"


def test_a_method_embedded_under_assertion_method_is_accepted():
    key = new_key()
    document = {"id": DID, "assertionMethod": [multikey(key, id=DID + "#key-1")]}
    assert assertion_key_in(document, DID + "#key-1").controller == DID


def test_an_ed25519_verification_key_2020_is_accepted():
    key = new_key()
    document = {
        "id": DID,
        "verificationMethod": [multikey(key, type="Ed25519VerificationKey2020")],
        "assertionMethod": [DID + "#key-1"],
    }
    assert assertion_key_in(document, DID + "#key-1").public_key is not None


def x25519_multibase() -> str:
    raw = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return multibase_encode(b"\xec\x01" + raw)


@pytest.mark.parametrize(
    ("method", "assertion", "reason"),
    [
        (multikey(new_key()), ["#key-2"], ResolutionFailure.NOT_ASSERTION_METHOD),
        (multikey(new_key()), [], ResolutionFailure.NOT_ASSERTION_METHOD),
        (
            multikey(new_key(), controller="did:web:uni-b.example"),
            ["#key-1"],
            ResolutionFailure.CONTROLLER_MISMATCH,
        ),
        (
            multikey(new_key(), type="JsonWebKey2020", publicKeyMultibase=None, publicKeyJwk={}),
            ["#key-1"],
            ResolutionFailure.UNSUPPORTED_KEY_TYPE,
        ),
        (
            multikey(new_key(), publicKeyMultibase=None),
            ["#key-1"],
            ResolutionFailure.UNSUPPORTED_KEY_TYPE,
        ),
        (
            multikey(new_key(), publicKeyMultibase=x25519_multibase()),
            ["#key-1"],
            ResolutionFailure.MALFORMED_KEY,
        ),
        (
            multikey(new_key(), publicKeyMultibase="z6Mk0OIl"),
            ["#key-1"],
            ResolutionFailure.MALFORMED_KEY,
        ),
        (multikey(new_key(), id="#key-9"), ["#key-1"], ResolutionFailure.METHOD_NOT_FOUND),
    ],
)
def test_a_key_that_may_not_assert_for_the_did_is_refused_with_a_named_reason(
    method, assertion, reason
):
    document = {"id": DID, "verificationMethod": [method], "assertionMethod": assertion}
    with pytest.raises(ResolutionError) as raised:
        assertion_key_in(document, DID + "#key-1")
    assert raised.value.reason == reason


def test_a_method_listed_only_for_authentication_is_found_but_cannot_assert():
    key = new_key()
    document = {"id": DID, "authentication": [multikey(key)]}
    assert find_verification_method(document, DID + "#key-1")["type"] == "Multikey"
    with pytest.raises(ResolutionError) as raised:
        assertion_key_in(document, DID + "#key-1")
    assert raised.value.reason == ResolutionFailure.NOT_ASSERTION_METHOD
