"""DID resolution for did:key and did:web, and the checks that make a DID document's key usable.

did:key documents are derived in-process. did:web documents come from an injected `local`
callable (DIDs this node hosts) or an injected `fetch` callable; the default fetcher,
fetch_json_https, refuses to reach private networks, pins the address it vetted, follows no
redirects and caps what it reads.
"""

import hashlib
import http.client
import ipaddress
import re
import select
import socket
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credentials.standards import strict_json
from credentials.standards.didkey import DID_KEY_PREFIX, DidKeyError, resolve_did_key
from credentials.standards.multiformats import MultiformatError, decode_ed25519_public_key

DID_WEB_PREFIX: Final = "did:web:"
ASSERTION_METHOD: Final = "assertionMethod"
ED25519_METHOD_TYPES: Final = ("Multikey", "Ed25519VerificationKey2020")
DEFAULT_TIMEOUT: Final = 5.0
DEFAULT_MAX_BYTES: Final = 256 * 1024
DEFAULT_CACHE_TTL: Final = 300
CACHE_KEY_PREFIX: Final = "meshe:did-document:"
_READ_CHUNK: Final = 16 * 1024
_ACCEPT: Final = (
    "application/did+ld+json, application/did+json, application/ld+json, application/json"
)
# DID Core idchar: ALPHA / DIGIT / "." / "-" / "_" / pct-encoded.
_ID_SEGMENT: Final = re.compile(r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+")
_HOST_LABEL: Final = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_PORT: Final = re.compile(r"[0-9]{1,5}")
_DID_WEB_URL_PATH_SAFE: Final = re.compile(r"[A-Za-z0-9._-]")
# Where a DID document may define (embed) a verification method.
_METHOD_SECTIONS: Final = (
    "verificationMethod",
    ASSERTION_METHOD,
    "authentication",
    "capabilityInvocation",
    "capabilityDelegation",
    "keyAgreement",
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Maps a DID hosted on this node to its document, or to None when it is not hosted here.
LocalDocuments = Callable[[str], Mapping[str, Any] | None]
JsonFetcher = Callable[[str], Mapping[str, Any]]
HostResolver = Callable[[str, int], Sequence[str]]


class DocumentCache(Protocol):
    """The part of Django's cache API the resolver uses, so any such cache can be injected."""

    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any, timeout: int) -> None: ...


class ResolutionFailure(StrEnum):
    """Why a DID, a DID document, a fetch or a verification method was refused."""

    MALFORMED_DID = "malformed-did"
    UNSUPPORTED_DID_METHOD = "unsupported-did-method"
    MALFORMED_URL = "malformed-url"
    INSECURE_URL = "insecure-url"
    UNRESOLVABLE_HOST = "unresolvable-host"
    FORBIDDEN_ADDRESS = "forbidden-address"
    CONNECTION_FAILED = "connection-failed"
    TIMEOUT = "timeout"
    REDIRECT = "redirect"
    HTTP_ERROR = "http-error"
    TOO_LARGE = "too-large"
    NOT_JSON = "not-json"
    NOT_FOUND = "not-found"
    ID_MISMATCH = "id-mismatch"
    METHOD_NOT_FOUND = "method-not-found"
    NOT_ASSERTION_METHOD = "not-assertion-method"
    CONTROLLER_MISMATCH = "controller-mismatch"
    UNSUPPORTED_KEY_TYPE = "unsupported-key-type"
    MALFORMED_KEY = "malformed-key"


class ResolutionError(LookupError):
    """Raised for every failure to resolve a DID or use its document; `reason` names it."""

    def __init__(self, reason: ResolutionFailure, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """An Ed25519 key found in a DID document, with the method id (absolute) and its controller."""

    method_id: str
    controller: Any
    public_key: Ed25519PublicKey


# ---------------------------------------------------------------- did:web <-> URL


def did_web_to_url(did: str) -> str:
    """Return the HTTPS URL of a did:web DID's document (did:web spec §3.2); raises ResolutionError."""
    host, port, segments = _parse_did_web(did)
    authority = f"{host}:{port}" if port is not None else host
    path = "/".join(segments) if segments else ".well-known"
    return f"https://{authority}/{path}/did.json"


def url_to_did_web(base_url: str, path_segments: Sequence[str] = ()) -> str:
    """Return the did:web DID for base_url + path_segments (port as %3A); raises ResolutionError."""
    try:
        parts = urllib.parse.urlsplit(base_url)
        port = parts.port
    except ValueError as exc:
        raise ResolutionError(
            ResolutionFailure.MALFORMED_URL, f"bad base URL {base_url!r}: {exc}"
        ) from exc
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or parts.username or parts.password:
        raise ResolutionError(
            ResolutionFailure.MALFORMED_URL,
            f"base URL must be http(s)://host[:port][/path]: {base_url!r}",
        )
    if parts.query or parts.fragment or not _is_host(host):
        raise ResolutionError(
            ResolutionFailure.MALFORMED_URL,
            f"base URL must be http(s)://host[:port][/path]: {base_url!r}",
        )
    default_port = 443 if parts.scheme == "https" else 80
    authority = host if port is None or port == default_port else f"{host}%3A{port}"
    segments = [urllib.parse.unquote(s) for s in parts.path.split("/") if s]
    segments.extend(path_segments)
    if any(not segment or segment in (".", "..") or "/" in segment for segment in segments):
        raise ResolutionError(
            ResolutionFailure.MALFORMED_URL, f"path segments must be non-empty names: {segments!r}"
        )
    return DID_WEB_PREFIX + ":".join([authority, *map(_encode_segment, segments)])


def _encode_segment(segment: str) -> str:
    """Return segment with every character outside DID idchar percent-encoded (UTF-8)."""
    return "".join(
        char
        if _DID_WEB_URL_PATH_SAFE.fullmatch(char)
        else "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
        for char in segment
    )


def _parse_did_web(did: str) -> tuple[str, int | None, list[str]]:
    """Return (host, port, path segments) of a did:web DID; raises ResolutionError if malformed."""
    if not isinstance(did, str) or not did.startswith(DID_WEB_PREFIX):
        raise ResolutionError(ResolutionFailure.MALFORMED_DID, f"not a did:web DID: {did!r}")
    parts = did.removeprefix(DID_WEB_PREFIX).split(":")
    if not all(_ID_SEGMENT.fullmatch(part) for part in parts):
        raise ResolutionError(ResolutionFailure.MALFORMED_DID, f"malformed did:web DID: {did!r}")
    host, percent, port_text = parts[0].partition("%3A")
    if not percent:
        host, percent, port_text = parts[0].partition("%3a")
    port = None
    if percent:
        if not _PORT.fullmatch(port_text) or not 0 < int(port_text) < 65536:
            raise ResolutionError(
                ResolutionFailure.MALFORMED_DID, f"bad port in did:web DID: {did!r}"
            )
        port = int(port_text)
    if not _is_host(host):
        raise ResolutionError(ResolutionFailure.MALFORMED_DID, f"bad host in did:web DID: {did!r}")
    segments = parts[1:]
    for segment in segments:
        decoded = urllib.parse.unquote(segment)
        if decoded in (".", "..") or any(char in decoded for char in "/?#\\"):
            raise ResolutionError(
                ResolutionFailure.MALFORMED_DID,
                f"bad path segment {segment!r} in did:web DID: {did!r}",
            )
    return host, port, segments


def _is_host(host: str) -> bool:
    """Return True for a DNS name of LDH labels or a dotted IPv4 address (ASCII only)."""
    if not host or len(host) > 253:
        return False
    return all(_HOST_LABEL.fullmatch(label) for label in host.split("."))


# ---------------------------------------------------------------- address vetting


def is_public_address(address: IPAddress) -> bool:
    """Return True only for a globally routable unicast address (embedded IPv4 is judged itself)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
    return (
        address.is_global
        and not address.is_private
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
    )


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv4-mapped, 6to4 or NAT64 (64:ff9b::/96) address leads to."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in ipaddress.IPv6Network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def vet_address(
    address: str, *, allow_private: bool = False, allow_loopback: bool = False
) -> IPAddress:
    """Return the parsed address if we may connect to it; raises ResolutionError otherwise."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError as exc:
        raise ResolutionError(
            ResolutionFailure.FORBIDDEN_ADDRESS, f"not an IP address: {address!r}"
        ) from exc
    if allow_private or is_public_address(parsed):
        return parsed
    if allow_loopback and _is_loopback(parsed):
        return parsed
    raise ResolutionError(
        ResolutionFailure.FORBIDDEN_ADDRESS,
        f"refusing to connect to {parsed}: not a public internet address",
    )


def _is_loopback(address: IPAddress) -> bool:
    """Return True for 127.0.0.0/8, ::1 and IPv4-mapped loopback."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def resolve_host_with_dns(host: str, port: int) -> list[str]:
    """Return every address the system resolver gives for host (TCP); raises ResolutionError."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ResolutionError(
            ResolutionFailure.UNRESOLVABLE_HOST, f"cannot resolve {host}: no such server name"
        ) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# ---------------------------------------------------------------- HTTPS fetching


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a vetted address; the Host header still names the host."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._pinned_address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._pinned_address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to a vetted address; SNI, certificate check and Host name the host."""

    def __init__(
        self, host: str, port: int, *, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._pinned_address = address
        self._pinned_context = context

    def connect(self) -> None:
        # Connecting to the vetted address, not re-resolving the name, closes the DNS-rebinding
        # window between the check and the connection.
        sock = socket.create_connection((self._pinned_address, self.port), self.timeout)
        try:
            self.sock = self._pinned_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def fetch_json_https(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_private: bool = False,
    allow_insecure_loopback: bool = False,
    resolve_host: HostResolver = resolve_host_with_dns,
    ssl_context: ssl.SSLContext | None = None,
) -> dict[str, Any]:
    """Return the JSON object at a public https URL, no redirects, ≤ max_bytes; raises ResolutionError.

    allow_insecure_loopback (tests) also allows loopback addresses, and plain http to them only.
    """
    body = fetch_bytes_https(
        url,
        timeout=timeout,
        max_bytes=max_bytes,
        allow_private=allow_private,
        allow_insecure_loopback=allow_insecure_loopback,
        resolve_host=resolve_host,
        ssl_context=ssl_context,
    )
    return parse_json_object(body, what=url)


def fetch_bytes_https(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_private: bool = False,
    allow_insecure_loopback: bool = False,
    resolve_host: HostResolver = resolve_host_with_dns,
    ssl_context: ssl.SSLContext | None = None,
    accept: str | None = None,
) -> bytes:
    """Return the body at a public https URL, as fetch_json_https vets it, without parsing it
    (a credential link may point at a badge image); raises ResolutionError."""
    deadline = time.monotonic() + timeout
    scheme, host, port, target, vetted = _vetted_target(
        url,
        allow_private=allow_private,
        allow_insecure_loopback=allow_insecure_loopback,
        resolve_host=resolve_host,
    )
    context = ssl_context if ssl_context is not None else default_tls_context()
    last_error: ResolutionError | None = None
    for address in vetted:
        try:
            return _fetch_from(
                scheme,
                host,
                port,
                target,
                address=str(address),
                context=context,
                deadline=deadline,
                max_bytes=max_bytes,
                url=url,
                accept=accept or _ACCEPT,
            )
        except ResolutionError as exc:
            if exc.reason not in (ResolutionFailure.CONNECTION_FAILED, ResolutionFailure.TIMEOUT):
                raise
            last_error = exc
    assert last_error is not None  # the loop ran at least once and only left by raising
    raise last_error


def _vetted_target(
    url: str, *, allow_private: bool, allow_insecure_loopback: bool, resolve_host: HostResolver
) -> tuple[str, str, int, str, list[IPAddress]]:
    """(scheme, host, port, request target, addresses) of a URL we may connect to; raises
    ResolutionError. Every address must pass, or a name with one public and one private record
    could be steered to the private one."""
    scheme, host, port, target = _split_fetch_url(
        url, allow_insecure_loopback=allow_insecure_loopback
    )
    addresses = resolve_host(host, port)
    if not addresses:
        raise ResolutionError(ResolutionFailure.UNRESOLVABLE_HOST, f"{host} has no address")
    vetted = [
        vet_address(address, allow_private=allow_private, allow_loopback=allow_insecure_loopback)
        for address in addresses
    ]
    if scheme == "http" and not all(_is_loopback(address) for address in vetted):
        raise ResolutionError(
            ResolutionFailure.INSECURE_URL, f"plain http is only allowed to loopback: {url}"
        )
    return scheme, host, port, target, vetted


def _split_fetch_url(url: str, *, allow_insecure_loopback: bool) -> tuple[str, str, int, str]:
    """Return (scheme, host, port, request target) of a URL we may fetch; raises ResolutionError."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except (ValueError, TypeError, AttributeError) as exc:
        raise ResolutionError(ResolutionFailure.MALFORMED_URL, f"not a URL: {url!r}") from exc
    allowed = ("https", "http") if allow_insecure_loopback else ("https",)
    if parts.scheme not in allowed:
        raise ResolutionError(
            ResolutionFailure.INSECURE_URL, f"only https URLs are fetched, not {url!r}"
        )
    if parts.username is not None or parts.password is not None or not parts.hostname:
        raise ResolutionError(
            ResolutionFailure.MALFORMED_URL, f"URL must name a host without credentials: {url!r}"
        )
    if any(char in url for char in "\r\n\t "):
        raise ResolutionError(ResolutionFailure.MALFORMED_URL, f"URL contains whitespace: {url!r}")
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return parts.scheme, parts.hostname, port, target


def _fetch_from(
    scheme: str,
    host: str,
    port: int,
    target: str,
    *,
    address: str,
    context: ssl.SSLContext,
    deadline: float,
    max_bytes: int,
    url: str,
    accept: str,
) -> bytes:
    """Return the body a GET of target gives from one pinned address; raises ResolutionError."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ResolutionError(ResolutionFailure.TIMEOUT, f"timed out fetching {url}")
    connection: http.client.HTTPConnection
    if scheme == "https":
        connection = _PinnedHTTPSConnection(
            host, port, address=address, timeout=remaining, context=context
        )
    else:
        connection = _PinnedHTTPConnection(host, port, address=address, timeout=remaining)
    try:
        connection.request(
            "GET",
            target,
            headers={
                "Accept": accept,
                "Accept-Encoding": "identity",
                "User-Agent": "MESHE-verifier",
            },
        )
        response = connection.getresponse()
        _check_response(response, url=url, max_bytes=max_bytes)
        body = _read_capped(response, connection, deadline=deadline, max_bytes=max_bytes, url=url)
    except ResolutionError:
        raise
    except TimeoutError as exc:
        raise ResolutionError(ResolutionFailure.TIMEOUT, f"timed out fetching {url}") from exc
    except ssl.SSLError as exc:
        raise ResolutionError(
            ResolutionFailure.CONNECTION_FAILED,
            f"the secure connection (TLS) to {url} failed: its certificate or protocol was refused",
        ) from exc
    except (OSError, http.client.HTTPException) as exc:
        # The socket's own words ("[Errno 111] Connection refused") are no sentence for a reader.
        raise ResolutionError(
            ResolutionFailure.CONNECTION_FAILED,
            f"could not fetch {url}: the server could not be reached",
        ) from exc
    finally:
        connection.close()
    return body


def _check_response(response: http.client.HTTPResponse, *, url: str, max_bytes: int) -> None:
    """Raise ResolutionError for a redirect, a non-200 status or an announced oversized body."""
    if 300 <= response.status < 400:
        location = response.getheader("Location", "")
        raise ResolutionError(
            ResolutionFailure.REDIRECT,
            f"{url} redirects (HTTP {response.status} to {location!r}); redirects are not followed",
        )
    if response.status != 200:
        raise ResolutionError(
            ResolutionFailure.HTTP_ERROR, f"{url} answered HTTP {response.status}"
        )
    length = response.getheader("Content-Length")
    if length is not None and length.strip().isdigit() and int(length) > max_bytes:
        raise ResolutionError(
            ResolutionFailure.TOO_LARGE, f"{url} is larger than {max_bytes} bytes"
        )


def _read_capped(
    response: http.client.HTTPResponse,
    connection: http.client.HTTPConnection,
    *,
    deadline: float,
    max_bytes: int,
    url: str,
) -> bytes:
    """Return the body, reading at most max_bytes + 1 bytes before the deadline; raises ResolutionError."""
    chunks: list[bytes] = []
    received = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ResolutionError(ResolutionFailure.TIMEOUT, f"timed out reading {url}")
        if connection.sock is not None:
            connection.sock.settimeout(remaining)
        chunk = response.read(min(_READ_CHUNK, max_bytes + 1 - received))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        received += len(chunk)
        if received > max_bytes:
            raise ResolutionError(
                ResolutionFailure.TOO_LARGE, f"{url} is larger than {max_bytes} bytes"
            )


def parse_json_object(body: bytes, *, what: str) -> dict[str, Any]:
    """Return body parsed as a UTF-8 JSON object; raises ResolutionError(NOT_JSON) otherwise."""
    try:
        return strict_json.load_object(body)
    except strict_json.JsonRefused as exc:
        if exc.problem is strict_json.Problem.NOT_OBJECT:
            raise ResolutionError(
                ResolutionFailure.NOT_JSON, f"{what} is JSON but not an object"
            ) from None
        raise ResolutionError(ResolutionFailure.NOT_JSON, f"{what} is not JSON: {exc}") from None


# ---------------------------------------------------------------- the resolver


class DidResolver:
    """Resolves did:key locally and did:web through injected `local`, `fetch` and `cache`."""

    def __init__(
        self,
        *,
        local: LocalDocuments | None = None,
        fetch: JsonFetcher = fetch_json_https,
        cache: DocumentCache | None = None,
        cache_ttl: int = DEFAULT_CACHE_TTL,
    ) -> None:
        self._local = local
        self._fetch = fetch
        self._cache = cache
        self._cache_ttl = cache_ttl

    def resolve(self, did: str) -> dict[str, Any]:
        """Return the DID document of did, whose `id` is did; raises ResolutionError."""
        if not isinstance(did, str):
            raise ResolutionError(
                ResolutionFailure.MALFORMED_DID, f"a DID must be a string, got {did!r}"
            )
        if did.startswith(DID_KEY_PREFIX):
            try:
                return resolve_did_key(did)
            except DidKeyError as exc:
                raise ResolutionError(ResolutionFailure.MALFORMED_DID, str(exc)) from exc
        if did.startswith(DID_WEB_PREFIX):
            return self._resolve_did_web(did)
        method = ":".join(did.split(":")[:2]) if did.startswith("did:") else did[:40]
        raise ResolutionError(
            ResolutionFailure.UNSUPPORTED_DID_METHOD,
            f"only did:key and did:web are supported, not {method!r}",
        )

    def verification_key(self, method_id: str) -> VerificationKey:
        """Return method_id's Ed25519 key from anywhere in its DID document; raises ResolutionError."""
        method = find_verification_method(self.resolve(did_of(method_id)), method_id)
        return VerificationKey(
            method_id=method_id,
            controller=method.get("controller"),
            public_key=public_key_of(method),
        )

    def assertion_key(self, method_id: str) -> VerificationKey:
        """Return method_id's key after checking it may assert for its DID; raises ResolutionError."""
        did = did_of(method_id)
        return assertion_key_in(self.resolve(did), method_id)

    def _resolve_did_web(self, did: str) -> dict[str, Any]:
        """Return a did:web document from local, the cache or fetch, checking its id."""
        url = did_web_to_url(did)
        if self._local is not None:
            local = self._local(did)
            if local is not None:
                return _checked_document(local, did, source="this node")
        cache_key = CACHE_KEY_PREFIX + hashlib.sha256(did.encode("utf-8")).hexdigest()
        if self._cache is not None:
            cached = self._cache.get(cache_key)
            if isinstance(cached, Mapping) and cached.get("id") == did:
                return dict(cached)
        try:
            fetched = self._fetch(url)
        except ResolutionError:
            raise
        except Exception as exc:
            # The fetcher is injected; whatever it raises is still a failure to resolve.
            raise ResolutionError(
                ResolutionFailure.CONNECTION_FAILED,
                f"could not fetch {url}: the server could not be reached",
            ) from exc
        document = _checked_document(fetched, did, source=url)
        if self._cache is not None:
            self._cache.set(cache_key, document, self._cache_ttl)
        return document


def _checked_document(document: Any, did: str, *, source: str) -> dict[str, Any]:
    """Return document as a dict if it is an object whose id is did; raises ResolutionError."""
    if not isinstance(document, Mapping):
        raise ResolutionError(
            ResolutionFailure.NOT_JSON, f"the DID document from {source} is not a JSON object"
        )
    if document.get("id") != did:
        raise ResolutionError(
            ResolutionFailure.ID_MISMATCH,
            f"the DID document from {source} has id {document.get('id')!r}, expected {did!r}",
        )
    return dict(document)


# ---------------------------------------------------------------- DID document checks


def did_of(method_id: str) -> str:
    """Return the DID of an absolute DID URL ('did:…#frag' → 'did:…'); raises ResolutionError."""
    if not isinstance(method_id, str) or not method_id.startswith("did:"):
        raise ResolutionError(
            ResolutionFailure.UNSUPPORTED_DID_METHOD,
            f"the verification method must be a DID URL (did:key or did:web), got {method_id!r}",
        )
    did, _, fragment = method_id.partition("#")
    if not fragment or any(char in did for char in "/?"):
        raise ResolutionError(
            ResolutionFailure.MALFORMED_DID,
            f"a verification method must be 'DID#fragment', got {method_id!r}",
        )
    return did


def find_verification_method(document: Mapping[str, Any], method_id: str) -> Mapping[str, Any]:
    """Return the method whose id (absolute or '#frag') is method_id; raises ResolutionError."""
    did = document.get("id")
    for section in _METHOD_SECTIONS:
        for entry in _as_list(document.get(section)):
            if isinstance(entry, Mapping) and _absolute(entry.get("id"), did) == method_id:
                return entry
    raise ResolutionError(
        ResolutionFailure.METHOD_NOT_FOUND,
        f"the DID document of {did} has no verification method {method_id}",
    )


def assertion_key_in(document: Mapping[str, Any], method_id: str) -> VerificationKey:
    """Return method_id's key if listed under assertionMethod and controlled by the DID; raises ResolutionError."""
    did = document.get("id")
    method = find_verification_method(document, method_id)
    listed = any(
        _absolute(entry.get("id") if isinstance(entry, Mapping) else entry, did) == method_id
        for entry in _as_list(document.get(ASSERTION_METHOD))
    )
    if not listed:
        raise ResolutionError(
            ResolutionFailure.NOT_ASSERTION_METHOD,
            f"key {method_id} is not listed under assertionMethod in the DID document of {did}",
        )
    if method.get("controller") != did:
        raise ResolutionError(
            ResolutionFailure.CONTROLLER_MISMATCH,
            f"key {method_id} is controlled by {method.get('controller')!r}, not by {did}",
        )
    return VerificationKey(method_id=method_id, controller=did, public_key=public_key_of(method))


def public_key_of(method: Mapping[str, Any]) -> Ed25519PublicKey:
    """Return the key of a Multikey or Ed25519VerificationKey2020 method; raises ResolutionError."""
    method_type = method.get("type")
    if method_type not in ED25519_METHOD_TYPES:
        raise ResolutionError(
            ResolutionFailure.UNSUPPORTED_KEY_TYPE,
            f"verification method type {method_type!r} is not supported (Multikey or Ed25519VerificationKey2020 only)",
        )
    multibase = method.get("publicKeyMultibase")
    if not isinstance(multibase, str):
        raise ResolutionError(
            ResolutionFailure.UNSUPPORTED_KEY_TYPE,
            "the verification method has no publicKeyMultibase",
        )
    try:
        return _decoded_public_key(multibase)
    except (MultiformatError, ValueError) as exc:
        raise ResolutionError(
            ResolutionFailure.MALFORMED_KEY, f"publicKeyMultibase is not an Ed25519 key: {exc}"
        ) from exc


# The same few keys sign most of what a node verifies; decoding base58 costs more than the
# signature check. Keys are immutable, and failures are not cached.
@lru_cache(maxsize=1)
def default_tls_context() -> ssl.SSLContext:
    """The system's trust store, loaded once per process: loading it reads every CA
    certificate (tens of milliseconds), which each outbound request would otherwise pay.
    An SSLContext is safe to share between threads; a new trust store needs a restart."""
    return ssl.create_default_context()


_decoded_public_key = lru_cache(maxsize=1024)(decode_ed25519_public_key)


def _absolute(method_id: Any, did: Any) -> Any:
    """Return a relative '#frag' method id made absolute against did; other values unchanged."""
    if isinstance(method_id, str) and method_id.startswith("#") and isinstance(did, str):
        return did + method_id
    return method_id


def _as_list(value: Any) -> list[Any]:
    """Return a JSON value as a list (absent → [])."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------- any request, same vetting


class KeptConnections:
    """Connections kept open between the requests of one sender, one per (scheme, host, port,
    vetted address), so that many requests to a partner's node pay for one TCP and TLS
    handshake (on both sides) instead of one each. Not for sharing between threads: one per
    worker thread, closed when its work is done. A connection the server closed meanwhile (its
    keep-alive ran out) is noticed before it is used, and a new one is opened.

    A connection carries at most `max_requests` requests: a server of several processes
    gives each connection to one of them, so a connection kept for ever would pin this
    sender's load on one process while another idles.
    """

    def __init__(self, *, max_requests: int = 10) -> None:
        self.max_requests = max_requests
        self._open: dict[tuple[str, str, int, str], http.client.HTTPConnection] = {}
        self._used: dict[int, int] = {}  # id(connection) -> requests it carried

    def take(self, key: tuple[str, str, int, str]) -> http.client.HTTPConnection | None:
        """The open connection for key, removed from the kept ones; None when there is none
        or the server closed it."""
        connection = self._open.pop(key, None)
        if connection is not None and _closed_by_server(connection):
            self._forget(connection)
            return None
        return connection

    def keep(self, key: tuple[str, str, int, str], connection: http.client.HTTPConnection) -> None:
        """Keeps the connection, which just carried a request, for the next request to key;
        closes it instead once it carried max_requests."""
        used = self._used.get(id(connection), 0) + 1
        if used >= self.max_requests:
            self._forget(connection)
            return
        previous = self._open.pop(key, None)
        if previous is not None and previous is not connection:
            self._forget(previous)
        self._used[id(connection)] = used
        self._open[key] = connection

    def close(self) -> None:
        """Closes every kept connection."""
        for connection in list(self._open.values()):
            self._forget(connection)
        self._open.clear()

    def _forget(self, connection: http.client.HTTPConnection) -> None:
        self._used.pop(id(connection), None)
        connection.close()

    def __enter__(self) -> "KeptConnections":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _closed_by_server(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle connection can no longer carry a request: no socket, or the socket is
    readable, which between requests means the server closed it (or sent what no request asked
    for: a connection not to trust either)."""
    sock = connection.sock
    if sock is None:
        return True
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        readable, _writable, _errors = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def send_https(
    url: str,
    *,
    method: str,
    headers: Mapping[str, str],
    body: bytes = b"",
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_private: bool = False,
    allow_insecure_loopback: bool = False,
    resolve_host: HostResolver = resolve_host_with_dns,
    ssl_context: ssl.SSLContext | None = None,
    connections: KeptConnections | None = None,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send one request as fetch_json_https fetches (vetted, pinned address, no redirects
    followed, ≤ max_bytes read, one deadline) and return (status, header lines, body) whatever
    the status; raises ResolutionError for everything that is not an answer.

    Only a failure to connect moves on to the host's next address: once a request is sent it
    is never sent again. With `connections`, an open connection to one of the vetted addresses
    is used if there is one, and the connection is kept there after a whole answer that does
    not close it.
    """
    deadline = time.monotonic() + timeout
    scheme, host, port, target, vetted = _vetted_target(
        url,
        allow_private=allow_private,
        allow_insecure_loopback=allow_insecure_loopback,
        resolve_host=resolve_host,
    )
    context = ssl_context if ssl_context is not None else default_tls_context()
    connection: http.client.HTTPConnection | None = None
    key: tuple[str, str, int, str] | None = None
    if connections is not None:
        for address in vetted:
            key = (scheme, host, port, str(address))
            connection = connections.take(key)
            if connection is not None:
                break
    last_error: Exception | None = None
    if connection is None:
        for address in vetted:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            candidate: http.client.HTTPConnection
            if scheme == "https":
                candidate = _PinnedHTTPSConnection(
                    host, port, address=str(address), timeout=remaining, context=context
                )
            else:
                candidate = _PinnedHTTPConnection(
                    host, port, address=str(address), timeout=remaining
                )
            try:
                candidate.connect()
            except (OSError, ssl.SSLError) as exc:
                candidate.close()
                last_error = exc
                continue
            connection, key = candidate, (scheme, host, port, str(address))
            break
    if connection is None:
        reason = (
            ResolutionFailure.TIMEOUT
            if last_error is None or isinstance(last_error, TimeoutError)
            else ResolutionFailure.CONNECTION_FAILED
        )
        raise ResolutionError(reason, f"could not connect to {url}: {last_error}")
    kept = False
    try:
        if connection.sock is not None:
            connection.sock.settimeout(max(deadline - time.monotonic(), 0.001))
        connection.request(
            method, target, body=body or None, headers={"Accept-Encoding": "identity", **headers}
        )
        response = connection.getresponse()
        length = response.getheader("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > max_bytes:
            raise ResolutionError(
                ResolutionFailure.TOO_LARGE, f"{url} is larger than {max_bytes} bytes"
            )
        answer = _read_capped(response, connection, deadline=deadline, max_bytes=max_bytes, url=url)
        if connections is not None and key is not None and not response.will_close:
            connections.keep(key, connection)
            kept = True
        return response.status, response.getheaders(), answer
    except ResolutionError:
        raise
    except TimeoutError as exc:
        raise ResolutionError(ResolutionFailure.TIMEOUT, f"timed out sending to {url}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise ResolutionError(
            ResolutionFailure.CONNECTION_FAILED,
            f"could not send to {url}: {type(exc).__name__}: {exc}",
        ) from exc
    finally:
        if not kept:
            connection.close()
