"""JAdES electronic seals of JSON documents (ETSI TS 119 182-1), the way the EU seals a European
Digital Credential: JWS JSON serialisation with an unencoded payload (RFC 7797), the e-seal
certificate chain in `x5c` and the signing time in `sigT`.

`seal` makes a baseline B-B seal: the signature, the certificate and the signer's claimed
signing time. B-T would add a timestamp token from a timestamp authority (`sigTst`) proving the
seal existed at that time; B-LT the certificate values and revocation data (`xVals`, `rVals`)
so it can be checked after the CA is gone; B-LTA archive timestamps over all of it (`arcTst`).
Each needs a remote timestamp authority or OCSP/CRL service, which MESHE cannot reach offline.

`verify` checks a seal against the operator's trust anchors and says in plain values what held,
what failed (one named reason) and what was present but not checked (timestamps, revocation
data). Certificates are judged at the signing time, as a seal outlives its certificate; that the
certificate has expired since is reported separately. Plain values in and out; no Django.
"""

import base64
import binascii
import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import NameOID

from credentials.standards import strict_json
from credentials.standards.multiformats import base64url_decode, base64url_encode

SealKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
CONTENT_TYPE: Final = "octet-stream"  # as the Commission's sealed sample says
TYPE: Final = "jose+json"
# Header names a verifier here understands, so they may be critical.
UNDERSTOOD_CRITICAL: Final = frozenset({"b64", "sigT", "adoTst"})
# Unsigned properties that prove time or validity later; present ones are named, not checked.
TIMESTAMPS: Final = ("adoTst", "sigTst", "arcTst")
VALIDATION_DATA: Final = ("xVals", "rVals", "axVals", "arVals")
MAX_CHAIN: Final = 6
# The signing time may run this far ahead of the verifier's clock (clocks differ).
CLOCK_SKEW: Final = timedelta(minutes=5)

_RSA_HASHES: Final[dict[str, hashes.HashAlgorithm]] = {
    "256": hashes.SHA256(),
    "384": hashes.SHA384(),
    "512": hashes.SHA512(),
}
# algorithm: (curve, hash, bytes of r and of s)
_EC_ALGORITHMS: Final[dict[str, tuple[str, hashes.HashAlgorithm, int]]] = {
    "ES256": ("secp256r1", hashes.SHA256(), 32),
    "ES384": ("secp384r1", hashes.SHA384(), 48),
    "ES512": ("secp521r1", hashes.SHA512(), 66),
}


class SealError(ValueError):
    """A key or certificate that cannot seal; str() says why in words safe to show."""


class Failure(StrEnum):
    """Why a seal does not hold; each view words it in the reader's language."""

    MALFORMED = "malformed"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    UNKNOWN_CRITICAL_HEADER = "unknown_critical_header"
    NO_CERTIFICATE = "no_certificate"
    CERTIFICATE_MISMATCH = "certificate_mismatch"
    SIGNATURE_INVALID = "signature_invalid"
    NO_SIGNING_TIME = "no_signing_time"
    SIGNING_TIME_IN_FUTURE = "signing_time_in_future"
    CERTIFICATE_NOT_VALID_AT_SIGNING = "certificate_not_valid_at_signing"
    KEY_USAGE = "key_usage"


class Trust(StrEnum):
    """Whether the certificate leads to a trust anchor the operator configured."""

    TRUSTED = "trusted"
    NO_ANCHORS = "no_anchors"  # the operator configured none
    UNTRUSTED = "untrusted"  # no path from the certificate to a configured anchor


@dataclasses.dataclass(frozen=True)
class Certificate:
    """What a reader needs to know of an e-seal certificate."""

    subject: str  # the organisation (or common name) that holds it
    subject_dn: str
    issuer_dn: str
    not_before: datetime
    not_after: datetime
    self_signed: bool
    key_usage: tuple[str, ...]  # "digitalSignature", "nonRepudiation", …
    fingerprint: str  # SHA-256 of the DER, hex

    def expired(self, now: datetime) -> bool:
        return now > self.not_after


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What `verify` found. `failure` is None when the seal holds (signature, certificate at the
    signing time, key usage); `trust` is judged only then."""

    failure: Failure | None
    payload: str = ""
    certificate: Certificate | None = None
    signing_time: datetime | None = None
    trust: Trust = Trust.UNTRUSTED
    expired_since: bool = False  # the certificate has expired after the seal was made
    not_checked: tuple[str, ...] = ()  # timestamps and revocation data present, not checked
    algorithm: str = ""

    @property
    def sealed(self) -> bool:
        return self.failure is None


# ---------------------------------------------------------------- sealing


def seal(
    payload: str, *, key: SealKey, chain: Sequence[x509.Certificate], signing_time: datetime
) -> dict[str, Any]:
    """Return the JAdES B-B seal of `payload` (the JSON text, signed as it is) as a JSON-
    serialised JWS; `chain` starts with the key's own certificate. Raises SealError."""
    if not chain:
        raise SealError("A seal needs the certificate of its key.")
    leaf = chain[0]
    algorithm = seal_algorithm(key)
    if not _same_public_key(leaf.public_key(), key.public_key()):
        raise SealError("The certificate does not belong to this key.")
    protected = {
        "alg": algorithm,
        "cty": CONTENT_TYPE,
        "typ": TYPE,
        "kid": base64.b64encode(_issuer_serial(leaf)).decode("ascii"),
        "x5t#S256": base64url_encode(_der_digest(leaf)),
        "x5c": [base64.b64encode(_der(certificate)).decode("ascii") for certificate in chain],
        "sigT": signing_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "b64": False,
        "crit": ["b64", "sigT"],
    }
    encoded = base64url_encode(json.dumps(protected, separators=(",", ":")).encode())
    signature = _sign(key, algorithm, _signing_input(encoded, payload))
    return {
        "payload": payload,
        "signatures": [{"protected": encoded, "signature": base64url_encode(signature)}],
    }


def seal_algorithm(key: SealKey) -> str:
    """The JWS algorithm this project seals with for `key`: RS256 for RSA (as the Commission's
    sample), ES256 for P-256; raises SealError for any other key."""
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise SealError("An RSA e-seal key must have at least 2048 bits.")
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        return "ES256"
    raise SealError("Only RSA (2048 bits or more) and P-256 e-seal keys can seal.")


def describe(certificate: x509.Certificate) -> Certificate:
    """Return what a reader needs to know of a certificate."""
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        key_usage = tuple(
            name
            for name, attribute in (
                ("digitalSignature", "digital_signature"),
                ("nonRepudiation", "content_commitment"),
                ("keyEncipherment", "key_encipherment"),
                ("keyCertSign", "key_cert_sign"),
                ("cRLSign", "crl_sign"),
            )
            if getattr(usage, attribute)
        )
    except x509.ExtensionNotFound:
        key_usage = ()
    return Certificate(
        subject=_holder_name(certificate.subject),
        subject_dn=certificate.subject.rfc4514_string(),
        issuer_dn=certificate.issuer.rfc4514_string(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        self_signed=_issued_by(certificate, certificate),
        key_usage=key_usage,
        fingerprint=_der_digest(certificate).hex(),
    )


def may_seal(certificate: x509.Certificate) -> bool:
    """Whether the certificate's key usage allows sealing (digitalSignature or
    nonRepudiation); a certificate that states no key usage does not."""
    usage = describe(certificate).key_usage
    return "digitalSignature" in usage or "nonRepudiation" in usage


# ---------------------------------------------------------------- verifying


def verify(
    document: Mapping[str, Any], *, trust_anchors: Sequence[x509.Certificate], now: datetime
) -> Verdict:
    """Check a JSON-serialised JAdES seal (one signature) and return the verdict."""
    try:
        payload, protected_segment, protected, signature, unprotected = _parts(document)
    except (ValueError, TypeError, KeyError, binascii.Error):
        return Verdict(Failure.MALFORMED)
    algorithm = protected.get("alg")
    if not isinstance(algorithm, str) or not _supported(algorithm):
        return Verdict(Failure.UNSUPPORTED_ALGORITHM, payload=payload)
    critical = protected.get("crit", [])
    if not isinstance(critical, list) or not set(critical) <= UNDERSTOOD_CRITICAL:
        return Verdict(Failure.UNKNOWN_CRITICAL_HEADER, payload=payload, algorithm=algorithm)
    if protected.get("b64") is False and "b64" not in critical:
        return Verdict(Failure.MALFORMED, payload=payload, algorithm=algorithm)
    try:
        chain = _chain(protected)
    except (KeyError, TypeError, ValueError):
        return Verdict(Failure.NO_CERTIFICATE, payload=payload, algorithm=algorithm)
    if not chain:
        return Verdict(Failure.NO_CERTIFICATE, payload=payload, algorithm=algorithm)
    leaf = chain[0]
    found = Verdict(None, payload=payload, algorithm=algorithm, certificate=describe(leaf))

    def failed(failure: Failure) -> Verdict:
        return dataclasses.replace(found, failure=failure)

    thumbprint = protected.get("x5t#S256")
    if thumbprint is not None and thumbprint != base64url_encode(_der_digest(leaf)):
        return failed(Failure.CERTIFICATE_MISMATCH)
    signed = _signing_input(protected_segment, payload, encoded=protected.get("b64") is not False)
    if not _signature_holds(leaf.public_key(), algorithm, signature, signed):
        return failed(Failure.SIGNATURE_INVALID)
    signing_time = _signing_time(protected.get("sigT"))
    if signing_time is None:
        return failed(Failure.NO_SIGNING_TIME)
    found = dataclasses.replace(found, signing_time=signing_time)
    if signing_time > now + CLOCK_SKEW:
        return failed(Failure.SIGNING_TIME_IN_FUTURE)
    if not _valid_at(leaf, signing_time):
        return failed(Failure.CERTIFICATE_NOT_VALID_AT_SIGNING)
    if not may_seal(leaf):
        return failed(Failure.KEY_USAGE)
    unsigned = _unsigned_properties(unprotected)
    present: list[str] = [name for name in TIMESTAMPS if name in protected]
    present += [name for name in (*TIMESTAMPS, *VALIDATION_DATA) if name in unsigned]
    intermediates = chain[1:] + _certificate_values(unsigned)
    return dataclasses.replace(
        found,
        trust=_trust(leaf, intermediates, trust_anchors, signing_time),
        expired_since=leaf.not_valid_after_utc < now,
        not_checked=tuple(dict.fromkeys(present)),
    )


def payload_text(document: Mapping[str, Any]) -> str:
    """The payload of a JSON-serialised JAdES seal as text, unverified (what a reader needs
    before the seal is checked, such as the credential's id); raises ValueError when the
    document is not one seal."""
    try:
        return _parts(document)[0]
    except (TypeError, KeyError, ValueError) as exc:
        raise ValueError("not a JSON-serialised seal") from exc


def load_trust_anchors(pem: bytes) -> list[x509.Certificate]:
    """The certificates of a PEM file of trust anchors; raises ValueError when it holds none."""
    return x509.load_pem_x509_certificates(pem)


def _parts(document: Mapping[str, Any]) -> tuple[str, str, dict[str, Any], bytes, dict[str, Any]]:
    """(payload text, protected segment, protected header, signature, unprotected header)."""
    signatures = document["signatures"]
    if not isinstance(signatures, list) or len(signatures) != 1:
        raise ValueError("one signature is expected")
    member = signatures[0]
    segment = member["protected"]
    # Strictly, depth capped: the header is inside a string, so no reader of the body saw it.
    protected = strict_json.loads(base64url_decode(segment))
    payload = document["payload"]
    if not isinstance(protected, dict) or not isinstance(payload, str):
        raise ValueError("malformed")
    if protected.get("b64", True) is True:
        payload = base64url_decode(payload).decode("utf-8")
    unprotected = member.get("header", {})
    if not isinstance(unprotected, dict):
        raise ValueError("malformed")
    return payload, segment, protected, base64url_decode(member["signature"]), unprotected


def _chain(protected: Mapping[str, Any]) -> list[x509.Certificate]:
    """The certificates of `x5c` (standard base64 DER, the signer's own first)."""
    items = protected["x5c"]
    if not isinstance(items, list):
        raise ValueError("x5c is a list")
    return [x509.load_der_x509_certificate(base64.b64decode(i, validate=True)) for i in items]


def _unsigned_properties(unprotected: Mapping[str, Any]) -> dict[str, Any]:
    """The JAdES unsigned properties (etsiU): each item is a JSON object, clear or base64url."""
    properties: dict[str, Any] = {}
    items = unprotected.get("etsiU", [])
    for item in items if isinstance(items, list) else []:
        try:
            value = item if isinstance(item, dict) else strict_json.loads(base64url_decode(item))
        except (ValueError, TypeError, binascii.Error):
            continue
        if isinstance(value, dict):
            properties.update(value)
    return properties


def _certificate_values(unsigned: Mapping[str, Any]) -> list[x509.Certificate]:
    """The certificates of an etsiU xVals: candidates for a path, trusted only via an anchor."""
    values = unsigned.get("xVals", [])
    certificates = []
    for value in values if isinstance(values, list) else []:
        try:
            der = base64.b64decode(value["x509Cert"]["val"], validate=True)
            certificates.append(x509.load_der_x509_certificate(der))
        except (KeyError, TypeError, ValueError):
            continue
    return certificates


def _trust(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    at: datetime,
) -> Trust:
    """Whether a path leads from `leaf` to an anchor, each certificate valid at `at` and each
    issuer a CA allowed to sign certificates. An anchor may be the leaf itself (pinning)."""
    if not anchors:
        return Trust.NO_ANCHORS
    anchor_der = {_der(anchor) for anchor in anchors}
    current = leaf
    for _ in range(MAX_CHAIN):
        if _der(current) in anchor_der:
            return Trust.TRUSTED
        issuers = [
            candidate
            for candidate in (*anchors, *intermediates)
            if _der(candidate) != _der(current)
            and _issued_by(current, candidate)
            and _valid_at(candidate, at)
            and _may_issue(candidate)
        ]
        if not issuers:
            return Trust.UNTRUSTED
        # An anchor that issued it ends the path; otherwise climb to the intermediate.
        current = next((i for i in issuers if _der(i) in anchor_der), issuers[0])
    return Trust.UNTRUSTED


# ---------------------------------------------------------------- helpers


def _signing_input(protected_segment: str, payload: str, *, encoded: bool = False) -> bytes:
    body = base64url_encode(payload.encode("utf-8")) if encoded else payload
    return f"{protected_segment}.{body}".encode()


def _supported(algorithm: str) -> bool:
    return algorithm in _EC_ALGORITHMS or (
        algorithm[:2] in ("RS", "PS") and algorithm[2:] in _RSA_HASHES
    )


def _sign(key: SealKey, algorithm: str, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    _, digest, size = _EC_ALGORITHMS[algorithm]
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest)))
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _signature_holds(public_key: Any, algorithm: str, signature: bytes, data: bytes) -> bool:
    try:
        if algorithm in _EC_ALGORITHMS:
            curve, digest, size = _EC_ALGORITHMS[algorithm]
            if not isinstance(public_key, ec.EllipticCurvePublicKey):
                return False
            if public_key.curve.name != curve or len(signature) != 2 * size:
                return False
            r, s = int.from_bytes(signature[:size]), int.from_bytes(signature[size:])
            public_key.verify(encode_dss_signature(r, s), data, ec.ECDSA(digest))
            return True
        if not isinstance(public_key, rsa.RSAPublicKey):
            return False
        digest = _RSA_HASHES[algorithm[2:]]
        scheme = (
            padding.PKCS1v15()
            if algorithm.startswith("RS")
            else padding.PSS(padding.MGF1(digest), padding.PSS.DIGEST_LENGTH)
        )
        public_key.verify(signature, data, scheme, digest)
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        return False
    return True


def _signing_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.endswith("Z"):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _valid_at(certificate: x509.Certificate, at: datetime) -> bool:
    return certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _may_issue(certificate: x509.Certificate) -> bool:
    try:
        if not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return False
    except x509.ExtensionNotFound:
        return False
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    except x509.ExtensionNotFound:
        return True  # RFC 5280 allows a CA without the extension


def _same_public_key(one: Any, other: Any) -> bool:
    return bool(
        one.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == other.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def _der_digest(certificate: x509.Certificate) -> bytes:
    return hashlib.sha256(_der(certificate)).digest()


def _holder_name(name: x509.Name) -> str:
    for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        attributes = name.get_attributes_for_oid(oid)
        if attributes:
            return str(attributes[0].value)
    return name.rfc4514_string()


def _issuer_serial(certificate: x509.Certificate) -> bytes:
    """DER of the RFC 5035 IssuerSerial of a certificate, the JAdES `kid`:
    SEQUENCE { GeneralNames { [4] directoryName }, INTEGER serial }."""
    names = _der_item(0x30, _der_item(0xA4, certificate.issuer.public_bytes()))
    serial = certificate.serial_number
    serial_bytes = serial.to_bytes(serial.bit_length() // 8 + 1, "big")
    return _der_item(0x30, names + _der_item(0x02, serial_bytes))


def _der_item(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content
