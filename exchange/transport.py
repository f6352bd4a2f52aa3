"""The outbound side of the exchange: one signed request to a partner node, its answer checked.

Requests are signed with the sending institution's active key (RFC 9421, exchange.http_signatures)
and sent through the same vetted, address-pinned connection the DID resolver uses, so a partner
URL can never steer us to a private network. Answers must be signed by a pinned key of the
partner and bound to our request, except 429 and 5xx, which proxies may write.
"""

import email.utils
import functools
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.utils.datastructures import CaseInsensitiveMapping

from credentials.standards import strict_json
from credentials.standards.did_resolution import (
    KeptConnections,
    ResolutionError,
    ResolutionFailure,
    send_https,
)
from credentials.standards.multiformats import MultiformatError, decode_ed25519_public_key
from exchange import http_signatures as hs
from exchange.inbound import partner_keys_refresh
from exchange.models import Partner
from institutions.models import Institution, SigningKey
from institutions.selectors import active_signing_key

BAD_RESPONSE_SIGNATURE: Final = "bad-response-signature"
PROBLEM_CONTENT_TYPE: Final = "application/problem+json"
# Failures worth trying again later: the partner or the path to it may recover.
_RETRYABLE_FAILURES: Final = frozenset(
    {
        ResolutionFailure.CONNECTION_FAILED,
        ResolutionFailure.TIMEOUT,
        ResolutionFailure.TOO_LARGE,
        ResolutionFailure.UNRESOLVABLE_HOST,
    }
)


@dataclass(frozen=True, slots=True)
class Reply:
    """A partner's verified answer (2xx or 304); headers are looked up in any case."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    latency_ms: int

    def json(self) -> Any:
        """The body parsed as JSON; None when it is empty (a 304 or a 204)."""
        return strict_json.loads(self.body) if self.body else None


class TransportError(Exception):
    """A request that got no usable answer; retryable says whether trying later may help."""

    def __init__(
        self,
        *,
        reason: str,
        detail: str,
        status: int | None = None,
        retryable: bool,
        latency_ms: int = 0,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.status = status
        self.retryable = retryable
        self.latency_ms = latency_ms
        self.retry_after = retry_after


class Session:
    """Requests sent one after another by one worker (a batch of deliveries): connections to
    partners kept alive between them, and each sending institution's key read and opened once.
    Not for sharing between threads; close it (or use it as a context manager) when done. A
    session lives for one batch: a key rotated meanwhile signs from the next one on, and the
    rotated-out key still verifies until it is retired."""

    def __init__(self) -> None:
        self.connections = KeptConnections()
        self._keys: dict[int, tuple[SigningKey, Ed25519PrivateKey]] = {}

    def signing_key(self, institution: Institution) -> tuple[SigningKey, Ed25519PrivateKey]:
        """The institution's active key and its opened private half, read once a session."""
        if institution.pk not in self._keys:
            key = active_signing_key(institution=institution)
            self._keys[institution.pk] = (key, key.private_key)
        return self._keys[institution.pk]

    def close(self) -> None:
        self.connections.close()
        self._keys.clear()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _signing_key(
    institution: Institution, session: Session | None
) -> tuple[SigningKey, Ed25519PrivateKey]:
    if session is not None:
        return session.signing_key(institution)
    key = active_signing_key(institution=institution)
    return key, key.private_key


def signed_request(
    *,
    institution: Institution,
    method: str,
    url: str,
    payload: dict[str, Any] | None = None,
    extra_headers: Mapping[str, str] | None = None,
    peer_keys: Sequence[Mapping[str, Any]],
    refresh_keys: Callable[[], Sequence[Mapping[str, Any]]] | None = None,
    timeout: float = 10.0,
    max_bytes: int = 5_000_000,
    session: Session | None = None,
) -> Reply:
    """Send one signed request and return the partner's answer if one of peer_keys signed it
    for this request; raises TransportError otherwise (retryable for network trouble, 429, 5xx).
    An answer signed by a key not in peer_keys is checked once more against refresh_keys(),
    which sees a partner's key rotation in its DID document. With a session, the connection
    and the signing key are those of the session.
    """
    key, private_key = _signing_key(institution, session)
    body = b""
    headers = {**(extra_headers or {}), "Accept": "application/json"}
    if payload is not None:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    request = hs.Message(method=method.upper(), target_uri=url, headers=headers, body=body)
    signature = hs.sign_request(
        request,
        private_key=private_key,
        key_id=key.verification_method,
        created=int(time.time()),
        nonce=secrets.token_urlsafe(16),
    )
    request = replace(request, headers={**headers, **signature})

    started = time.monotonic()
    try:
        status, lines, answer = send_https(
            url,
            method=request.method,
            headers=request.headers,
            body=body,
            timeout=timeout,
            max_bytes=max_bytes,
            allow_insecure_loopback=settings.MESHE_OUTBOUND_ALLOW_LOOPBACK,
            connections=session.connections if session is not None else None,
        )
    except ResolutionError as exc:
        raise _unreachable(exc, started) from exc
    latency_ms = _since(started)
    response_headers = _combined(lines)

    if status == 429 or status >= 500:
        # Proxies and load balancers answer these too, unsigned: no signature is asked for.
        raise TransportError(
            reason=f"http-{status}",
            detail=_excerpt(answer),
            status=status,
            retryable=True,
            latency_ms=latency_ms,
            retry_after=_retry_after(response_headers.get("retry-after")),
        )

    def verify(keys: Sequence[Mapping[str, Any]]) -> hs.Verification:
        return hs.verify_response(
            hs.Response(status=status, headers=response_headers, body=answer),
            request=request,
            public_key_for=_key_lookup(keys),
            now=int(time.time()),
            # The answer is bound to our request's signature: its nonce need not be remembered.
            seen_nonce=lambda key_id, nonce: False,
        )

    verification = verify(peer_keys)
    if verification.failure == hs.Failure.UNKNOWN_KEY and refresh_keys is not None:
        verification = verify(refresh_keys())
    if not verification.ok:
        # An unsigned refusal (a proxy's 400, say) is named by its status; it is still final.
        signed_answer = 200 <= status < 300 or status == 304
        raise TransportError(
            reason=BAD_RESPONSE_SIGNATURE if signed_answer else f"http-{status}",
            detail=f"unsigned or badly signed answer ({verification.failure}: "
            f"{verification.detail}): {_excerpt(answer)}",
            status=status,
            retryable=False,
            latency_ms=latency_ms,
        )
    if 200 <= status < 300 or status == 304:
        return Reply(
            status=status,
            headers=CaseInsensitiveMapping(response_headers),
            body=answer,
            latency_ms=latency_ms,
        )
    raise TransportError(
        reason=_problem_reason(response_headers, answer) or f"http-{status}",
        detail=_excerpt(answer),
        status=status,
        retryable=False,
        latency_ms=latency_ms,
    )


def public_get(
    url: str,
    *,
    accept: str,
    timeout: float = 10.0,
    max_bytes: int = 5_000_000,
) -> Reply:
    """GET a public, unsigned document (a partner's ELM catalogue) through the same vetted
    fetcher as signed requests: https only (loopback http when settings allow it), no private
    addresses, no redirects, at most max_bytes. Raises TransportError unless the answer is 2xx
    (retryable for network trouble, 429 and 5xx)."""
    started = time.monotonic()
    try:
        status, lines, answer = send_https(
            url,
            method="GET",
            headers={"Accept": accept},
            timeout=timeout,
            max_bytes=max_bytes,
            allow_insecure_loopback=settings.MESHE_OUTBOUND_ALLOW_LOOPBACK,
        )
    except ResolutionError as exc:
        raise _unreachable(exc, started) from exc
    headers = _combined(lines)
    if not 200 <= status < 300:
        raise TransportError(
            reason=f"http-{status}",
            detail=_excerpt(answer),
            status=status,
            retryable=status == 429 or status >= 500,
            latency_ms=_since(started),
            retry_after=_retry_after(headers.get("retry-after")),
        )
    return Reply(
        status=status,
        headers=CaseInsensitiveMapping(headers),
        body=answer,
        latency_ms=_since(started),
    )


def partner_request(*, partner: Partner, method: str, url: str, **options: Any) -> Reply:
    """signed_request from our institution to a partner, checked against its pinned keys and,
    when it has rotated, the keys its DID document lists now."""
    return signed_request(
        institution=partner.institution,
        method=method,
        url=url,
        peer_keys=partner.pinned_keys,
        refresh_keys=functools.partial(partner_keys_refresh, partner=partner),
        **options,
    )


def _unreachable(exc: ResolutionError, started: float) -> TransportError:
    """The TransportError for a request that got no answer: the address, the connection or TLS."""
    return TransportError(
        reason=str(exc.reason),
        detail=exc.message,
        retryable=exc.reason in _RETRYABLE_FAILURES,
        latency_ms=_since(started),
    )


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _combined(lines: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Header lines as one lower-case name each, repeated lines joined as RFC 9110 allows."""
    headers: dict[str, str] = {}
    for name, value in lines:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _key_lookup(peer_keys: Sequence[Mapping[str, Any]]) -> hs.PublicKeyLookup:
    def public_key_for(key_id: str) -> Ed25519PublicKey | None:
        for entry in peer_keys:
            if entry.get("id") == key_id:
                try:
                    return decode_ed25519_public_key(str(entry.get("publicKeyMultibase", "")))
                except (MultiformatError, ValueError):
                    return None
        return None

    return public_key_for


def _retry_after(value: str | None) -> int | None:
    """Seconds to wait from a Retry-After of delay-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int(when.timestamp() - time.time()))


def _problem_reason(headers: Mapping[str, str], body: bytes) -> str | None:
    """The `reason` of an RFC 9457 problem answer, if that is what the body is."""
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != PROBLEM_CONTENT_TYPE:
        return None
    try:
        problem = strict_json.loads(body)
    except strict_json.JsonRefused:
        return None
    reason = problem.get("reason") if isinstance(problem, dict) else None
    return reason if isinstance(reason, str) and reason else None


def _excerpt(body: bytes) -> str:
    """The start of an answer's body, for logs and the outbox's last error."""
    return body[:500].decode("utf-8", errors="replace")
