"""Selective Disclosure for JWTs (RFC 9901 SD-JWT) over plain values: issuing with top-level
disclosable claims, and reading one back (for tests and the portal's own checks).

An issued SD-JWT is `<issuer-signed JWT>~<disclosure>~…~`; each disclosure is base64url of the
JSON array [salt, claim name, value], and the JWT's `_sd` lists their SHA-256 digests in sorted
order (so the order says nothing about which claim is which).
"""

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.errors import JoseError

from credentials.standards import jose, strict_json
from credentials.standards.multiformats import base64url_decode, base64url_encode

SD_ALG: Final = "sha-256"
SEPARATOR: Final = "~"
# Claims a verifier must always see in the clear (SD-JWT VC §3.2.2.2 and RFC 9901 §4.1).
NEVER_DISCLOSABLE: Final = frozenset(
    {"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "_sd", "_sd_alg", "..."}
)


class SdJwtError(ValueError):
    """Raised when an SD-JWT is malformed, its signature fails, or a disclosure is not bound."""


@dataclass(frozen=True, slots=True)
class Disclosure:
    salt: str
    name: str
    value: Any

    @property
    def encoded(self) -> str:
        array = [self.salt, self.name, self.value]
        return base64url_encode(json.dumps(array, ensure_ascii=False).encode())


def digest(encoded_disclosure: str) -> str:
    """Return the base64url SHA-256 digest of a disclosure as the issuer lists it in `_sd`."""
    return base64url_encode(hashlib.sha256(encoded_disclosure.encode("ascii")).digest())


def issue(
    *,
    claims: Mapping[str, Any],
    disclosable: Iterable[str],
    header: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
) -> str:
    """Return the issued SD-JWT (ending in "~"); the `disclosable` top-level claims travel as
    disclosures, the rest in the clear. Raises ValueError for a claim that must stay clear."""
    hidden = [name for name in disclosable if name in claims]
    if forbidden := NEVER_DISCLOSABLE.intersection(hidden):
        raise ValueError(f"these claims may not be selectively disclosable: {sorted(forbidden)}")
    disclosures = [
        Disclosure(salt=base64url_encode(secrets.token_bytes(16)), name=name, value=claims[name])
        for name in hidden
    ]
    payload = {name: value for name, value in claims.items() if name not in hidden}
    if disclosures:
        payload["_sd"] = sorted(digest(d.encoded) for d in disclosures)
        payload["_sd_alg"] = SD_ALG
    jwt = jose.sign_compact(header, payload, private_key)
    return SEPARATOR.join([jwt, *(d.encoded for d in disclosures)]) + SEPARATOR


@dataclass(frozen=True, slots=True)
class Verified:
    header: dict[str, Any]
    # The claims with every presented disclosure put back and `_sd`, `_sd_alg` removed.
    claims: dict[str, Any]
    disclosed: tuple[str, ...]
    key_binding_jwt: str | None


def verify(
    sd_jwt: str, *, public_jwk: Mapping[str, Any], algorithms: tuple[str, ...] = ("EdDSA",)
) -> Verified:
    """Check the issuer's signature and that every disclosure is one the issuer listed; return
    the claims as disclosed. Raises SdJwtError. A key binding JWT is returned, not checked."""
    parts = sd_jwt.split(SEPARATOR)
    if len(parts) < 2:
        raise SdJwtError("an SD-JWT has at least one '~'")
    jwt, encoded_disclosures, key_binding = parts[0], parts[1:-1], parts[-1] or None
    try:
        header, payload_bytes = jose.verify_compact(jwt, public_jwk, algorithms=algorithms)
        payload = strict_json.loads(payload_bytes)
    except (JoseError, ValueError) as exc:
        raise SdJwtError(f"the issuer-signed JWT does not verify: {exc}") from exc
    if not isinstance(payload, dict):
        raise SdJwtError("the JWT payload is not an object")
    listed = payload.pop("_sd", [])
    sd_alg = payload.pop("_sd_alg", SD_ALG)
    if sd_alg != SD_ALG:
        raise SdJwtError(f"unsupported _sd_alg {sd_alg!r}")
    disclosed = []
    for encoded in encoded_disclosures:
        if digest(encoded) not in listed:
            raise SdJwtError("a disclosure is not listed in the issuer-signed JWT")
        try:
            salt, name, value = strict_json.loads(base64url_decode(encoded))
        except ValueError as exc:
            raise SdJwtError(f"malformed disclosure: {exc}") from exc
        if not isinstance(salt, str) or not isinstance(name, str) or name in payload:
            raise SdJwtError(f"disclosure of {name!r} is malformed or repeats a claim")
        payload[name] = value
        disclosed.append(name)
    return Verified(
        header=header, claims=payload, disclosed=tuple(disclosed), key_binding_jwt=key_binding
    )
