"""HTTP Message Signatures (RFC 9421) with Ed25519, and Content-Digest (RFC 9530).

Pure: it takes plain values (a method, a URL, headers, a body, keys, the current time) and runs
no queries. The replay guard and the key lookup are injected, so the Django side can back them
with the cache and the partner's pinned keys.

Only what the exchange protocol needs is supported: derived components `@method`,
`@target-uri`, `@authority`, `@path` and `@query`, plain header fields (no component
parameters such as `;sf` or `;req`), and the algorithm `ed25519`. Structured field values are
parsed strictly (RFC 8941 subset: dictionaries of inner lists or byte sequences, with integer,
string, token and boolean parameters); anything else is refused as malformed.
"""

import base64
import binascii
import hashlib
import hmac
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM: Final = "ed25519"
DEFAULT_LABEL: Final = "sig1"
MAX_SKEW_SECONDS: Final = 300
DERIVED_COMPONENTS: Final = frozenset({"@method", "@target-uri", "@authority", "@path", "@query"})
# What a request carrying a body signs, in this order.
REQUEST_COMPONENTS: Final = ("@method", "@target-uri", "content-type", "content-digest")
REQUEST_COMPONENTS_WITHOUT_BODY: Final = ("@method", "@target-uri")
_DIGESTS: Final = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}

# RFC 8941 grammar pieces.
_KEY: Final = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN: Final = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_INTEGER: Final = re.compile(r"-?[0-9]{1,15}")
_BASE64: Final = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_FIELD_NAME: Final = re.compile(r"[a-z0-9!#$%&'*+\-.^_`|~]+")

ParamValue = int | str | bool | bytes
Params = tuple[tuple[str, ParamValue], ...]
PublicKeyLookup = Callable[[str], Ed25519PublicKey | None]
NonceSeen = Callable[[str], bool]


class Token(str):
    """An RFC 8941 token parameter value (serialised bare, not quoted)."""

    __slots__ = ()


class Failure(StrEnum):
    """Why a signed message was refused."""

    MISSING_SIGNATURE = "missing-signature"
    MALFORMED_SIGNATURE = "malformed-signature"
    UNKNOWN_LABEL = "unknown-label"
    UNSUPPORTED_ALGORITHM = "unsupported-algorithm"
    MISSING_PARAMETER = "missing-parameter"
    UNSUPPORTED_COMPONENT = "unsupported-component"
    COMPONENT_NOT_COVERED = "component-not-covered"
    MISSING_COMPONENT = "missing-component"
    CLOCK_SKEW = "clock-skew"
    EXPIRED = "expired"
    MISSING_DIGEST = "missing-digest"
    MALFORMED_DIGEST = "malformed-digest"
    DIGEST_MISMATCH = "digest-mismatch"
    UNKNOWN_KEY = "unknown-key"
    BAD_SIGNATURE = "bad-signature"
    MISSING_NONCE = "missing-nonce"
    REPLAYED_NONCE = "replayed-nonce"


@dataclass(frozen=True, slots=True)
class Message:
    """An HTTP request as signed: method, absolute target URI, header fields and body."""

    method: str
    target_uri: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The field's value with surrounding whitespace trimmed; None when absent."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value.strip(" \t")
        return None


@dataclass(frozen=True, slots=True)
class SignatureParams:
    """The signature parameters this module writes, in the order it writes them."""

    created: int
    keyid: str
    nonce: str | None = None
    alg: str | None = ALGORITHM
    tag: str | None = None
    expires: int | None = None

    def as_params(self) -> Params:
        pairs: list[tuple[str, ParamValue]] = [("created", self.created)]
        if self.expires is not None:
            pairs.append(("expires", self.expires))
        pairs.append(("keyid", self.keyid))
        for name, value in (("nonce", self.nonce), ("alg", self.alg), ("tag", self.tag)):
            if value is not None:
                pairs.append((name, value))
        return tuple(pairs)


@dataclass(frozen=True, slots=True)
class SignatureHeaders:
    """The header fields to add to a message: Signature-Input and Signature."""

    signature_input: str
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {"Signature-Input": self.signature_input, "Signature": self.signature}


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of verify_message. `ok` is True only when every check passed."""

    ok: bool
    failure: Failure | None = None
    detail: str = ""
    label: str = ""
    key_id: str = ""
    created: int | None = None
    nonce: str | None = None
    tag: str | None = None
    components: tuple[str, ...] = ()


class MalformedFieldError(ValueError):
    """A structured field value this module cannot parse."""


# ---------------------------------------------------------------- Content-Digest (RFC 9530)


def content_digest(body: bytes, *, algorithm: str = "sha-256") -> str:
    """The Content-Digest field value for body, such as `sha-256=:X48E…=:`."""
    digest = _DIGESTS[algorithm](body).digest()
    return f"{algorithm}={serialize_byte_sequence(digest)}"


def content_digest_matches(value: str, body: bytes) -> bool:
    """Whether a Content-Digest value holds a known digest and every known digest matches body.

    Raises MalformedFieldError when the value is not a dictionary of byte sequences.
    """
    known = 0
    for algorithm, (item, _params) in parse_dictionary(value).items():
        if not isinstance(item, bytes):
            raise MalformedFieldError("Content-Digest members must be byte sequences")
        if algorithm not in _DIGESTS:
            continue
        known += 1
        if not hmac.compare_digest(item, _DIGESTS[algorithm](body).digest()):
            return False
    return known > 0


# ---------------------------------------------------------------- signing


def signature_base(message: Message, components: Sequence[str], params: Params) -> str:
    """The signature base (RFC 9421 §2.5) for covered components and signature parameters.

    Raises MalformedFieldError for an unsupported or duplicated component, or one the message
    lacks.
    """
    if len(set(components)) != len(components):
        raise MalformedFieldError("a component is covered twice")
    lines = [f"{serialize_string(name)}: {component_value(message, name)}" for name in components]
    lines.append(f'"@signature-params": {serialize_inner_list(components, params)}')
    return "\n".join(lines)


def component_value(message: Message, name: str) -> str:
    """The value of one covered component; raises MalformedFieldError when it cannot be had."""
    if name.startswith("@"):
        if name not in DERIVED_COMPONENTS:
            raise MalformedFieldError(f"unsupported derived component {name}")
        parts = urllib.parse.urlsplit(message.target_uri)
        if not parts.scheme or not parts.netloc:
            raise MalformedFieldError("the target URI must be absolute")
        if name == "@method":
            return message.method
        if name == "@target-uri":
            return message.target_uri
        if name == "@authority":
            return _authority(parts)
        if name == "@path":
            return parts.path or "/"
        return "?" + parts.query
    if not _FIELD_NAME.fullmatch(name):
        raise MalformedFieldError(f"unsupported component {name!r}")
    value = message.header(name)
    if value is None:
        raise MalformedFieldError(f"the message has no {name} field")
    return value


def sign_message(
    message: Message,
    *,
    private_key: Ed25519PrivateKey,
    params: SignatureParams,
    components: Sequence[str] | None = None,
    label: str = DEFAULT_LABEL,
) -> SignatureHeaders:
    """Signature-Input and Signature values for message.

    components defaults to REQUEST_COMPONENTS when the message has a body (it must then carry
    Content-Type and Content-Digest) and REQUEST_COMPONENTS_WITHOUT_BODY otherwise.
    """
    if components is None:
        components = REQUEST_COMPONENTS if message.body else REQUEST_COMPONENTS_WITHOUT_BODY
    if not _KEY.fullmatch(label):
        raise MalformedFieldError(f"bad signature label {label!r}")
    as_params = params.as_params()
    base = signature_base(message, components, as_params)
    signature = private_key.sign(base.encode("utf-8"))
    return SignatureHeaders(
        signature_input=f"{label}={serialize_inner_list(components, as_params)}",
        signature=f"{label}={serialize_byte_sequence(signature)}",
    )


# ---------------------------------------------------------------- verification


def verify_message(
    message: Message,
    *,
    public_key_for: PublicKeyLookup,
    now: int,
    seen_nonce: NonceSeen,
    label: str | None = None,
    require_nonce: bool = True,
    max_skew: int = MAX_SKEW_SECONDS,
) -> Verification:
    """Check one signature of message and report why it is refused, if it is.

    Refuses missing or malformed signature fields, an algorithm other than ed25519, a
    `created` more than max_skew seconds away from now (either way), an `expires` in the past,
    a signature that leaves out @method, the target (@target-uri, or @authority + @path, and
    @query when there is one) or, when there is a body, content-digest; a body whose digest
    does not match, a key public_key_for does not know, a bad signature, and a nonce that is
    missing (when required) or that seen_nonce has seen. seen_nonce is asked last, only for
    an otherwise valid signature, so forgeries cannot use up nonces.
    """
    signature_input = message.header("signature-input")
    signature_field = message.header("signature")
    if not signature_input or not signature_field:
        return _refuse(Failure.MISSING_SIGNATURE, "Signature-Input or Signature is missing")
    try:
        inputs = parse_dictionary(signature_input)
        signatures = parse_dictionary(signature_field)
    except MalformedFieldError as exc:
        return _refuse(Failure.MALFORMED_SIGNATURE, str(exc))

    if label is None:
        label = next((name for name in inputs if name in signatures), None)
        if label is None:
            return _refuse(Failure.UNKNOWN_LABEL, "no signature label in both fields")
    if label not in inputs or label not in signatures:
        return _refuse(Failure.UNKNOWN_LABEL, f"no signature labelled {label}")
    covered, params = inputs[label]
    signature, _ = signatures[label]
    if not isinstance(covered, tuple) or not isinstance(signature, bytes):
        return _refuse(Failure.MALFORMED_SIGNATURE, "Signature-Input or Signature is malformed")
    found = dict(params)
    components = tuple(covered)

    created, expires, key_id = found.get("created"), found.get("expires"), found.get("keyid")
    nonce, tag, alg = found.get("nonce"), found.get("tag"), found.get("alg")
    context: dict[str, Any] = {"label": label, "components": components}
    if alg is not None and alg != ALGORITHM:
        return _refuse(Failure.UNSUPPORTED_ALGORITHM, f"alg {alg!r} is not ed25519", **context)
    if not _is_int(created) or not isinstance(key_id, str) or not key_id:
        return _refuse(Failure.MISSING_PARAMETER, "created and keyid are required", **context)
    if expires is not None and not _is_int(expires):
        return _refuse(Failure.MALFORMED_SIGNATURE, "expires must be an integer", **context)
    if (nonce is not None and not isinstance(nonce, str)) or (
        tag is not None and not isinstance(tag, str)
    ):
        return _refuse(Failure.MALFORMED_SIGNATURE, "nonce and tag must be strings", **context)
    assert isinstance(created, int)
    context |= {"key_id": key_id, "created": created, "nonce": nonce, "tag": tag}

    missing = _uncovered(message, components)
    if missing:
        return _refuse(Failure.COMPONENT_NOT_COVERED, f"{missing} must be signed", **context)
    if abs(now - created) > max_skew:
        return _refuse(Failure.CLOCK_SKEW, f"created is {created - now:+d}s from now", **context)
    if isinstance(expires, int) and now > expires:
        return _refuse(Failure.EXPIRED, "the signature has expired", **context)

    digest = message.header("content-digest")
    if message.body and digest is None:
        return _refuse(Failure.MISSING_DIGEST, "a body needs Content-Digest", **context)
    if digest is not None:
        try:
            matches = content_digest_matches(digest, message.body)
        except MalformedFieldError as exc:
            return _refuse(Failure.MALFORMED_DIGEST, str(exc), **context)
        if not matches:
            return _refuse(Failure.DIGEST_MISMATCH, "the body does not match", **context)

    try:
        base = signature_base(message, components, params)
    except MalformedFieldError as exc:
        failure = (
            Failure.UNSUPPORTED_COMPONENT
            if any(c.startswith("@") and c not in DERIVED_COMPONENTS for c in components)
            or not all(c.startswith("@") or _FIELD_NAME.fullmatch(c) for c in components)
            else Failure.MISSING_COMPONENT
        )
        return _refuse(failure, str(exc), **context)

    public_key = public_key_for(key_id)
    if public_key is None:
        return _refuse(Failure.UNKNOWN_KEY, f"no pinned key {key_id}", **context)
    try:
        public_key.verify(signature, base.encode("utf-8"))
    except InvalidSignature:
        return _refuse(Failure.BAD_SIGNATURE, "the signature does not verify", **context)

    if nonce is None:
        if require_nonce:
            return _refuse(Failure.MISSING_NONCE, "a nonce is required", **context)
    elif seen_nonce(nonce):
        return _refuse(Failure.REPLAYED_NONCE, "this nonce was used before", **context)
    return Verification(ok=True, **context)


def _refuse(failure: Failure, detail: str, **context: Any) -> Verification:
    return Verification(ok=False, failure=failure, detail=detail, **context)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _uncovered(message: Message, components: Iterable[str]) -> str:
    """The first component this protocol requires that the signature leaves out, or ''."""
    covered = set(components)
    if "@method" not in covered:
        return "@method"
    if "@target-uri" not in covered:
        for name in ("@authority", "@path"):
            if name not in covered:
                return "@target-uri or " + name
        if urllib.parse.urlsplit(message.target_uri).query and "@query" not in covered:
            return "@query"
    if (message.body or message.header("content-digest") is not None) and (
        "content-digest" not in covered
    ):
        return "content-digest"
    return ""


def _authority(parts: urllib.parse.SplitResult) -> str:
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = {"https": 443, "http": 80}.get(parts.scheme.lower())
    try:
        port = parts.port
    except ValueError as exc:
        raise MalformedFieldError("bad port in the target URI") from exc
    return host if port is None or port == default_port else f"{host}:{port}"


# ---------------------------------------------------------------- structured fields (RFC 8941)


def serialize_string(value: str) -> str:
    if any(not 0x20 <= ord(char) <= 0x7E for char in value):
        raise MalformedFieldError("strings must be printable ASCII")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_byte_sequence(value: bytes) -> str:
    return ":" + base64.b64encode(value).decode("ascii") + ":"


def serialize_params(params: Params) -> str:
    return "".join(f";{name}{_serialize_param_value(value)}" for name, value in params)


def serialize_inner_list(items: Sequence[str], params: Params) -> str:
    return "(" + " ".join(map(serialize_string, items)) + ")" + serialize_params(params)


def _serialize_param_value(value: ParamValue) -> str:
    if value is True:
        return ""
    if value is False:
        return "=?0"
    if isinstance(value, int):
        return f"={value}"
    if isinstance(value, bytes):
        return "=" + serialize_byte_sequence(value)
    if isinstance(value, Token):
        return f"={value}"
    return "=" + serialize_string(value)


Item = tuple[str, ...] | bytes
Dictionary = dict[str, tuple[Item, Params]]


def parse_dictionary(text: str) -> Dictionary:
    """Parse the subset of an RFC 8941 dictionary this module uses: members are inner lists of
    strings (without parameters) or byte sequences, each with parameters.

    Raises MalformedFieldError for anything else.
    """
    parser = _Parser(text)
    members: Dictionary = {}
    parser.skip(" ")
    while True:
        key = parser.key()
        if not parser.take("="):
            raise MalformedFieldError(f"member {key} has no value")
        members[key] = (parser.item(), parser.params())
        parser.skip(" \t")
        if parser.done():
            return members
        if not parser.take(","):
            raise MalformedFieldError("expected a comma between members")
        parser.skip(" \t")
        if parser.done():
            raise MalformedFieldError("trailing comma")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def done(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if not self.done() else ""

    def take(self, char: str) -> bool:
        if self.peek() == char:
            self.pos += 1
            return True
        return False

    def skip(self, chars: str) -> None:
        while not self.done() and self.text[self.pos] in chars:
            self.pos += 1

    def match(self, pattern: re.Pattern[str], what: str) -> str:
        found = pattern.match(self.text, self.pos)
        if found is None or not found.group():
            raise MalformedFieldError(f"expected {what} at {self.pos}")
        self.pos = found.end()
        return found.group()

    def key(self) -> str:
        return self.match(_KEY, "a key")

    def item(self) -> Item:
        if self.take("("):
            items: list[str] = []
            while True:
                self.skip(" ")
                if self.take(")"):
                    return tuple(items)
                items.append(self.string())
                if self.peek() == ";":
                    raise MalformedFieldError("component parameters are not supported")
                if self.peek() not in (" ", ")"):
                    raise MalformedFieldError("inner list items need a space between them")
        if self.take(":"):
            return self.byte_sequence()
        raise MalformedFieldError(f"expected an inner list or byte sequence at {self.pos}")

    def byte_sequence(self) -> bytes:
        end = self.text.find(":", self.pos)
        if end < 0:
            raise MalformedFieldError("unterminated byte sequence")
        encoded = self.text[self.pos : end]
        self.pos = end + 1
        if not _BASE64.fullmatch(encoded):
            raise MalformedFieldError("bad base64 in a byte sequence")
        try:
            return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except binascii.Error as exc:
            raise MalformedFieldError("bad base64 in a byte sequence") from exc

    def string(self) -> str:
        if not self.take('"'):
            raise MalformedFieldError(f"expected a string at {self.pos}")
        chars: list[str] = []
        while not self.done():
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\"):
                    raise MalformedFieldError("bad escape in a string")
                chars.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(chars)
            elif not 0x20 <= ord(char) <= 0x7E:
                raise MalformedFieldError("strings must be printable ASCII")
            else:
                chars.append(char)
        raise MalformedFieldError("unterminated string")

    def params(self) -> Params:
        pairs: list[tuple[str, ParamValue]] = []
        seen: set[str] = set()
        while self.take(";"):
            self.skip(" ")
            name = self.key()
            if name in seen:
                raise MalformedFieldError(f"parameter {name} appears twice")
            seen.add(name)
            pairs.append((name, self.param_value() if self.take("=") else True))
        return tuple(pairs)

    def param_value(self) -> ParamValue:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == ":":
            self.pos += 1
            return self.byte_sequence()
        if char == "?":
            self.pos += 1
            flag = self.match(re.compile(r"[01]"), "a boolean")
            return flag == "1"
        if char == "-" or char.isdigit():
            number = self.match(_INTEGER, "an integer")
            if self.peek() == ".":
                raise MalformedFieldError("decimal parameters are not supported")
            return int(number)
        return Token(self.match(_TOKEN, "a token"))
