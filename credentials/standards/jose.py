"""JOSE glue over joserfc: compact JWS with the institution's Ed25519 key, public JWKs, thumbprints
and did:key / did:jwk names for holder keys. Plain values in and out; no queries."""

import json
from collections.abc import Mapping
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwa import EdDSAAlgorithm
from joserfc.jwk import ECKey, OKPKey
from joserfc.jws import JWSRegistry

from credentials.standards import didkey
from credentials.standards.multiformats import base64url_encode

# What holder keys may sign proofs with: Ed25519 under either name, and P-256.
HOLDER_ALGORITHMS: Final = ("EdDSA", "Ed25519", "ES256")
SIGNING_ALGORITHM: Final = "EdDSA"


class _EdDSA(EdDSAAlgorithm):
    # RFC 9864 prefers "Ed25519" to "EdDSA", which joserfc warns about on every use; SD-JWT VC
    # and OpenID4VCI wallets still sign and expect "EdDSA", so we use it on purpose.
    security_warning = ""


class _Registry(JWSRegistry):
    algorithms = {**JWSRegistry.algorithms, "EdDSA": _EdDSA()}


def registry(algorithms: tuple[str, ...]) -> JWSRegistry:
    """A JWS registry that allows exactly `algorithms` and lets unknown headers through (a
    proof may carry e.g. key_attestation, which we ignore)."""
    return _Registry(algorithms=algorithms, strict_check_header=False)


def sign_compact(
    header: Mapping[str, Any], payload: Mapping[str, Any], private_key: Ed25519PrivateKey
) -> str:
    """Return a compact JWS (alg EdDSA) of the JSON payload, signed with an Ed25519 key."""
    return jws.serialize_compact(
        {**header, "alg": SIGNING_ALGORITHM},
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(),
        OKPKey.import_key(private_key),
        registry=registry((SIGNING_ALGORITHM,)),
    )


def verify_compact(
    token: str, public_jwk: Mapping[str, Any], *, algorithms: tuple[str, ...]
) -> tuple[dict[str, Any], bytes]:
    """Return (protected header, payload bytes) of a compact JWS; raises JoseError or
    ValueError when it is malformed or the signature does not verify."""
    key = import_public_jwk(public_jwk)
    signature = jws.deserialize_compact(token, key, registry=registry(algorithms))
    return dict(signature.headers()), signature.payload


def import_public_jwk(jwk: Mapping[str, Any]) -> OKPKey | ECKey:
    """Return a verifying key for a public Ed25519 (OKP) or P-256 (EC) JWK; raises ValueError."""
    if not isinstance(jwk, Mapping) or "d" in jwk:
        raise ValueError("a public JWK object is needed, without private key material")
    try:
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            return OKPKey.import_key(dict(jwk))
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            return ECKey.import_key(dict(jwk))
    except (JoseError, ValueError, TypeError) as exc:
        raise ValueError(f"malformed JWK: {exc}") from exc
    raise ValueError("only Ed25519 (OKP) and P-256 (EC) keys are supported")


def public_jwk(key: Ed25519PublicKey | Ed25519PrivateKey) -> dict[str, str]:
    """Return the public JWK of an Ed25519 key."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return {k: str(v) for k, v in OKPKey.import_key(key).as_dict(private=False).items()}


def minimal_jwk(jwk: Mapping[str, Any]) -> dict[str, str]:
    """Return the JWK's required public members only (RFC 7638), as they are bound into a
    credential: nothing the wallet added (kid, alg, use) travels along."""
    key = import_public_jwk(jwk)
    members = ("crv", "kty", "x") if key.key_type == "OKP" else ("crv", "kty", "x", "y")
    return {name: str(jwk[name]) for name in members}


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """Return the RFC 7638 SHA-256 thumbprint of a public JWK."""
    return import_public_jwk(jwk).thumbprint()


def holder_did(jwk: Mapping[str, Any]) -> str:
    """Return the DID of a holder key: did:key for Ed25519, did:jwk for anything else."""
    key = import_public_jwk(jwk)
    if key.key_type == "OKP":
        public = key.get_op_key("verify")
        assert isinstance(public, Ed25519PublicKey)  # import_public_jwk admits only Ed25519 OKP
        return didkey.did_key_for(public)
    text = json.dumps(minimal_jwk(jwk), separators=(",", ":"), sort_keys=True)
    return "did:jwk:" + base64url_encode(text.encode())


def jwk_from_did_key(did_url: str) -> dict[str, str]:
    """Return the public JWK of an Ed25519 did:key (with or without its fragment); raises
    didkey.DidKeyError."""
    did, _, fragment = did_url.partition("#")
    method = f"{did}#{fragment or did.removeprefix(didkey.DID_KEY_PREFIX)}"
    return public_jwk(didkey.public_key_for(method))
