"""HTTP Message Signatures (RFC 9421) with Ed25519 and Content-Digest (RFC 9530), as the
exchange protocol uses them, on the maintained `http-message-signatures` library.

Pure: it takes plain values (a method, a URL, headers, a body, keys, the current time) and runs
no queries. The key lookup and the replay guard are injected, so the Django side can back them
with pinned partner keys and SeenNonce rows. The library builds signature bases, signs and
verifies; this module decides which components a message must cover and names each refusal.
"""

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)
from http_message_signatures.structures import get_header_fields

ALGORITHM: Final = algorithms.ED25519.algorithm_id
LABEL: Final = "sig1"
MAX_SKEW_SECONDS: Final = 300
# An answer covers the signature of the request it answers (RFC 9421 §2.4), so it cannot be
# replayed for another request.
REQUEST_SIGNATURE: Final = f'"signature";req;key="{LABEL}"'
REQUEST_COMPONENTS: Final = ("@method", "@target-uri")
BODY_COMPONENTS: Final = ("content-type", "content-digest")

PublicKeyLookup = Callable[[str], Ed25519PublicKey | None]
# seen_nonce(key_id, nonce): True when the nonce was seen before; records it otherwise.
NonceSeen = Callable[[str, str], bool]


class Failure(StrEnum):
    """Why a signed message was refused; the values are the protocol's problem reasons."""

    MISSING_SIGNATURE = "missing-signature"
    MALFORMED_SIGNATURE = "malformed-signature"
    COMPONENT_NOT_COVERED = "component-not-covered"
    MISSING_NONCE = "missing-nonce"
    CLOCK_SKEW = "clock-skew"
    DIGEST_MISMATCH = "digest-mismatch"
    UNKNOWN_KEY = "unknown-key"
    BAD_SIGNATURE = "bad-signature"
    REPLAYED_NONCE = "replayed-nonce"


@dataclass(frozen=True, slots=True)
class Message:
    """An HTTP request as signed: method, absolute target URI, header fields and body."""

    method: str
    target_uri: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The field's value (repeated lines combined); None when absent."""
        return get_header_fields(self.headers).get(name)


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP answer as signed: status, header fields and body. The request it answers is
    passed beside it to sign_response and verify_response."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The field's value (repeated lines combined); None when absent."""
        return get_header_fields(self.headers).get(name)


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of verify_request or verify_response; ok only when every check passed."""

    ok: bool
    failure: Failure | None = None
    detail: str = ""
    key_id: str = ""
    created: int | None = None
    nonce: str | None = None


# ---------------------------------------------------------------- the library's message shape


@dataclass
class _LibraryRequest:
    """A request as the library's component resolver reads it."""

    method: str
    url: str
    headers: dict[str, str]


@dataclass
class _LibraryResponse:
    """A response as the library's component resolver reads it, with the request it answers."""

    status_code: int
    headers: dict[str, str]
    request: _LibraryRequest


def _library_message(
    message: Message | Response, request: Message | None
) -> _LibraryRequest | _LibraryResponse:
    if isinstance(message, Message):
        return _LibraryRequest(message.method, message.target_uri, dict(message.headers))
    if request is None:
        raise ValueError("a response is signed and verified with the request it answers")
    return _LibraryResponse(
        message.status,
        dict(message.headers),
        _LibraryRequest(request.method, request.target_uri, dict(request.headers)),
    )


class _OneKey(HTTPSignatureKeyResolver):
    """The key the caller already chose for the keyid; the library asks for it by keyid."""

    def __init__(
        self,
        *,
        private_key: Ed25519PrivateKey | None = None,
        public_key: Ed25519PublicKey | None = None,
    ) -> None:
        self._private_key = private_key
        self._public_key = public_key

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey | None:
        return self._private_key

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey | None:
        return self._public_key


class _Verifier(HTTPMessageVerifier):
    """The library's verifier, judging created and expires by the caller's clock."""

    def __init__(self, *, public_key: Ed25519PublicKey, now: int, max_skew: int) -> None:
        super().__init__(
            signature_algorithm=algorithms.ED25519, key_resolver=_OneKey(public_key=public_key)
        )
        self.now = now
        self.max_skew = max_skew

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        problem = _time_problem(sig_input.params, now=self.now, max_skew=self.max_skew)
        if problem:
            raise InvalidSignature(problem)


# ---------------------------------------------------------------- Content-Digest (RFC 9530)


def content_digest(body: bytes) -> str:
    """The Content-Digest field value for body: `sha-256=:…:`."""
    return ContentDigest.create(body)


# ---------------------------------------------------------------- signing


def request_components(message: Message) -> tuple[str, ...]:
    """What a request signs: method and target, and with a body its type and digest."""
    return REQUEST_COMPONENTS + (BODY_COMPONENTS if message.body else ())


def response_components(response: Response) -> tuple[str, ...]:
    """What an answer signs: status, type (when it has one), digest and the request's signature."""
    content_type = ("content-type",) if response.header("content-type") is not None else ()
    return ("@status", *content_type, "content-digest", REQUEST_SIGNATURE)


def sign_request(
    message: Message, *, private_key: Ed25519PrivateKey, key_id: str, created: int, nonce: str
) -> dict[str, str]:
    """The header fields to add to a request: Content-Digest (with a body), Signature-Input
    and Signature, label sig1. A body needs a Content-Type field."""
    return sign_components(
        message,
        components=request_components(message),
        private_key=private_key,
        key_id=key_id,
        created=created,
        nonce=nonce,
    )


def sign_response(
    response: Response,
    *,
    request: Message,
    private_key: Ed25519PrivateKey,
    key_id: str,
    created: int,
    nonce: str,
) -> dict[str, str]:
    """The header fields to add to an answer to request (which must carry its sig1 signature):
    Content-Digest, Signature-Input and Signature."""
    return sign_components(
        response,
        request=request,
        components=response_components(response),
        private_key=private_key,
        key_id=key_id,
        created=created,
        nonce=nonce,
    )


def sign_components(
    message: Message | Response,
    *,
    components: Sequence[str],
    private_key: Ed25519PrivateKey,
    key_id: str,
    created: int,
    nonce: str | None = None,
    label: str = LABEL,
    include_alg: bool = True,
    request: Message | None = None,
) -> dict[str, str]:
    """The header fields signing the given components adds (Content-Digest when it is covered
    and absent); raises HTTPMessageSignaturesException for a component the message lacks."""
    target = _library_message(message, request)
    before = dict(target.headers)
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519, key_resolver=_OneKey(private_key=private_key)
    )
    signer.sign(
        target,
        include_alg=include_alg,
        **_signing_options(message, components, key_id, created, nonce, label),
    )
    return {name: value for name, value in target.headers.items() if before.get(name) != value}


def signature_base(
    message: Message | Response,
    *,
    components: Sequence[str],
    key_id: str,
    created: int,
    nonce: str | None = None,
    include_alg: bool = True,
    request: Message | None = None,
) -> str:
    """The signature base (RFC 9421 §2.5) the library builds for these components."""
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519)
    prepared = signer.prepare(
        _library_message(message, request),
        include_alg=include_alg,
        **_signing_options(message, components, key_id, created, nonce, LABEL),
    )
    return prepared.signature_base.decode("ascii")


def _signing_options(
    message: Message | Response,
    components: Sequence[str],
    key_id: str,
    created: int,
    nonce: str | None,
    label: str,
) -> dict[str, Any]:
    covers_digest = any(_identity(c) == ("content-digest", frozenset()) for c in components)
    return {
        "key_id": key_id,
        "created": datetime.datetime.fromtimestamp(created, tz=datetime.UTC),
        "nonce": nonce,
        "label": label,
        "covered_component_ids": tuple(components),
        # Passing the body makes the library write Content-Digest, or check one already there.
        "body": message.body if covers_digest else None,
        "use_existing_digest": message.header("content-digest") is not None,
    }


# ---------------------------------------------------------------- verification


def verify_request(
    message: Message,
    *,
    public_key_for: PublicKeyLookup,
    now: int,
    seen_nonce: NonceSeen,
    max_skew: int = MAX_SKEW_SECONDS,
) -> Verification:
    """Check a request's sig1 signature as the protocol requires and say why it is refused.

    seen_nonce is asked last, only for an otherwise valid signature, so forgeries cannot use
    up nonces.
    """
    return _verify(
        _library_message(message, None),
        headers=message.headers,
        body=message.body,
        required=request_components(message),
        public_key_for=public_key_for,
        now=now,
        seen_nonce=seen_nonce,
        max_skew=max_skew,
    )


def verify_response(
    response: Response,
    *,
    request: Message,
    public_key_for: PublicKeyLookup,
    now: int,
    seen_nonce: NonceSeen,
    max_skew: int = MAX_SKEW_SECONDS,
) -> Verification:
    """Check an answer's sig1 signature, which must cover request's signature; as
    verify_request otherwise."""
    return _verify(
        _library_message(response, request),
        headers=response.headers,
        body=response.body,
        required=response_components(response),
        public_key_for=public_key_for,
        now=now,
        seen_nonce=seen_nonce,
        max_skew=max_skew,
    )


def _verify(
    target: _LibraryRequest | _LibraryResponse,
    *,
    headers: Mapping[str, str],
    body: bytes,
    required: Sequence[str],
    public_key_for: PublicKeyLookup,
    now: int,
    seen_nonce: NonceSeen,
    max_skew: int,
) -> Verification:
    fields = get_header_fields(headers)
    if not fields.get("signature-input") or not fields.get("signature"):
        return _refuse(Failure.MISSING_SIGNATURE, "Signature-Input or Signature is missing")
    try:
        inputs = _parse_dictionary(fields["signature-input"])
        signatures = _parse_dictionary(fields["signature"])
    except (ValueError, TypeError, UnicodeError) as exc:
        return _refuse(Failure.MALFORMED_SIGNATURE, f"unparsable signature field: {exc}")
    # One signature, labelled as the protocol says: no choosing among several.
    if set(inputs) != {LABEL} or set(signatures) != {LABEL}:
        return _refuse(Failure.MALFORMED_SIGNATURE, f"expected one signature labelled {LABEL}")
    covered, params = inputs[LABEL]
    signature = signatures[LABEL][0]
    if not isinstance(covered, list) or not isinstance(signature, bytes):
        return _refuse(Failure.MALFORMED_SIGNATURE, "Signature-Input or Signature is malformed")
    problem = _parameter_problem(params)
    if problem:
        return _refuse(Failure.MALFORMED_SIGNATURE, problem)
    key_id, created, nonce = params["keyid"], params["created"], params.get("nonce")
    context: dict[str, Any] = {"key_id": key_id, "created": created, "nonce": nonce}
    if not nonce:
        return _refuse(Failure.MISSING_NONCE, "a nonce is required", **context)

    signed = {(str(value), frozenset(item_params.items())) for value, item_params in covered}
    missing = [component for component in required if _identity(component) not in signed]
    if missing:
        return _refuse(
            Failure.COMPONENT_NOT_COVERED, f"must be signed: {', '.join(missing)}", **context
        )
    problem = _time_problem(params, now=now, max_skew=max_skew)
    if problem:
        return _refuse(Failure.CLOCK_SKEW, problem, **context)
    if body or "content-digest" in fields:
        try:
            ContentDigest.verify(fields.get("content-digest", ""), body)
        except (InvalidSignature, HTTPMessageSignaturesException) as exc:
            return _refuse(Failure.DIGEST_MISMATCH, str(exc), **context)

    public_key = public_key_for(key_id)
    if public_key is None:
        return _refuse(Failure.UNKNOWN_KEY, f"no usable key {key_id}", **context)
    verifier = _Verifier(public_key=public_key, now=now, max_skew=max_skew)
    try:
        verifier.verify(target, max_age=None, require_components=required, body=body)
    except InvalidSignature as exc:
        detail = f"the signature does not verify: {exc}".removesuffix(": ")
        return _refuse(Failure.BAD_SIGNATURE, detail, **context)
    except HTTPMessageSignaturesException as exc:
        return _refuse(Failure.MALFORMED_SIGNATURE, str(exc), **context)

    if seen_nonce(key_id, nonce):
        return _refuse(Failure.REPLAYED_NONCE, "this nonce was used before", **context)
    return Verification(ok=True, **context)


def _refuse(failure: Failure, detail: str, **context: Any) -> Verification:
    return Verification(ok=False, failure=failure, detail=detail, **context)


def _parse_dictionary(value: str) -> dict[str, Any]:
    def reject_duplicate(key: str, context: str) -> None:
        if context == "dictionary":
            raise ValueError(f"label {key} appears twice")

    parsed = http_sf.parse(
        value.encode("ascii"), tltype="dictionary", on_duplicate_key=reject_duplicate
    )
    if not isinstance(parsed, dict):
        raise ValueError("not a dictionary")
    return parsed


def _parameter_problem(params: Mapping[str, Any]) -> str:
    """What is wrong with the signature parameters, or ''."""
    if type(params.get("created")) is not int or not isinstance(params.get("keyid"), str):
        return "created (an integer) and keyid (a string) are required"
    if not params["keyid"]:
        return "keyid is empty"
    if "expires" in params and type(params["expires"]) is not int:
        return "expires must be an integer"
    for name in ("alg", "nonce", "tag"):
        if name in params and not isinstance(params[name], str):
            return f"{name} must be a string"
    if params.get("alg", ALGORITHM) != ALGORITHM:
        return f"alg must be {ALGORITHM}"
    return ""


def _time_problem(params: Mapping[str, Any], *, now: int, max_skew: int) -> str:
    """Why created or expires is unacceptable at now, or ''."""
    created = params.get("created")
    if type(created) is not int:
        return "created is required"
    if abs(now - created) > max_skew:
        return f"created is {created - now:+d}s from now (at most {max_skew}s allowed)"
    expires = params.get("expires")
    if expires is not None and (type(expires) is not int or expires < now):
        return "the signature has expired"
    return ""


def _identity(component: str) -> tuple[str, frozenset[tuple[str, Any]]]:
    """A component's name and parameters, however they are ordered."""
    text = component if component.startswith('"') else http_sf.ser(component)
    parsed = http_sf.parse(text.encode("ascii"), tltype="item")
    assert isinstance(parsed, tuple)  # an item parses to (value, parameters)
    value, params = parsed
    return str(value), frozenset(params.items())
