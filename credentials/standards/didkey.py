"""Local resolution of Ed25519 did:key identifiers (did:key v0.7), shaped as vc-js resolves them."""

from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credentials.standards.multiformats import (
    MultiformatError,
    decode_ed25519_public_key,
    encode_ed25519_public_key,
)

DID_KEY_PREFIX: Final = "did:key:"
# 'z' (base58btc) followed by the ed25519-pub multicodec header always spells "z6Mk".
ED25519_DID_KEY_PREFIX: Final = "did:key:z6Mk"
DID_CONTEXT_V1: Final = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT_V1: Final = "https://w3id.org/security/multikey/v1"
VERIFICATION_RELATIONSHIPS: Final = (
    "authentication",
    "assertionMethod",
    "capabilityDelegation",
    "capabilityInvocation",
)


class DidKeyError(ValueError):
    """Raised when a did:key identifier or DID URL is malformed or not an Ed25519 key."""


def did_key_for(public_key: Ed25519PublicKey) -> str:
    """Return the did:key identifier of an Ed25519 public key."""
    return DID_KEY_PREFIX + encode_ed25519_public_key(public_key)


def verification_method_id_for(public_key: Ed25519PublicKey) -> str:
    """Return the verification method id (did:key:z…#z…) of an Ed25519 public key."""
    multibase = encode_ed25519_public_key(public_key)
    return f"{DID_KEY_PREFIX}{multibase}#{multibase}"


def resolve_did_key(did: str) -> dict[str, Any]:
    """Return the DID document of an Ed25519 did:key without any I/O; raises DidKeyError."""
    public_key_multibase = _public_key_multibase(did)
    method_id = f"{did}#{public_key_multibase}"
    document: dict[str, Any] = {
        "@context": [DID_CONTEXT_V1, MULTIKEY_CONTEXT_V1],
        "id": did,
        "verificationMethod": [
            {
                "id": method_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": public_key_multibase,
            }
        ],
    }
    for relationship in VERIFICATION_RELATIONSHIPS:
        document[relationship] = [method_id]
    return document


def resolve_verification_method(did_url: str) -> dict[str, Any]:
    """Return the Multikey verification method a did:key DID URL names; raises DidKeyError."""
    did, public_key_multibase = _split_did_url(did_url)
    return {
        "@context": MULTIKEY_CONTEXT_V1,
        "id": did_url,
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": public_key_multibase,
    }


def public_key_for(did_url: str) -> Ed25519PublicKey:
    """Return the Ed25519 public key a did:key verification method id names; raises DidKeyError."""
    _, public_key_multibase = _split_did_url(did_url)
    return decode_ed25519_public_key(public_key_multibase)


def _split_did_url(did_url: str) -> tuple[str, str]:
    """Return (did, key multibase) of 'did:key:z…#z…' whose fragment is the key itself."""
    did, separator, fragment = did_url.partition("#")
    public_key_multibase = _public_key_multibase(did)
    if not separator or fragment != public_key_multibase:
        raise DidKeyError(
            f"a did:key verification method must end in '#{public_key_multibase}': {did_url!r}"
        )
    return did, public_key_multibase


def _public_key_multibase(did: str) -> str:
    """Return the key multibase of an Ed25519 did:key, after checking that it decodes."""
    if not isinstance(did, str) or not did.startswith(DID_KEY_PREFIX):
        raise DidKeyError(f"not a did:key identifier: {did!r}")
    if not did.startswith(ED25519_DID_KEY_PREFIX):
        raise DidKeyError(f"only Ed25519 did:key identifiers (z6Mk…) are supported: {did!r}")
    public_key_multibase = did.removeprefix(DID_KEY_PREFIX)
    try:
        decode_ed25519_public_key(public_key_multibase)
    except MultiformatError as exc:
        raise DidKeyError(f"malformed did:key {did!r}: {exc}") from exc
    return public_key_multibase
