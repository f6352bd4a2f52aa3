"""OpenID for Verifiable Credential Issuance 1.0 over plain values: issuer and authorization
server metadata, the credential offer, the credential request and its JWT key proof.

Only the pre-authorized code flow is offered, with a transaction code (PIN), a Nonce Endpoint and
one key proof per request (no batch issuance, no encryption, no deferred issuance).

1.0 is the contract. What wallets written against the drafts send is also understood where it
means the same thing: a single `proof` object is one element of `proofs`, and the answers that
ask for a fresh c_nonce carry one, as drafts up to 13 expected (see docs/oid4vci.md).
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from joserfc.errors import JoseError

from credentials.standards import didkey, jose, sd_jwt_vc, strict_json
from credentials.standards.multiformats import base64url_decode
from credentials.standards.ob3 import CREDENTIAL_TYPE, CREDENTIALS_V2_CONTEXT, OB3_CONTEXT
from credentials.standards.signing import CRYPTOSUITE

PRE_AUTHORIZED_CODE_GRANT: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME: Final = "openid-credential-offer://"
PROOF_TYPE: Final = "openid4vci-proof+jwt"
PIN_LENGTH: Final = 6
LDP_VC: Final = "eu_micro_credential_ldp_vc"
SD_JWT: Final = "eu_micro_credential_dc_sd_jwt"
CONFIGURATIONS: Final = {LDP_VC: "ldp_vc", SD_JWT: sd_jwt_vc.FORMAT}
# A proof's `iat` may be this far ahead of our clock, and at most this old.
PROOF_LEEWAY_SECONDS: Final = 60
PROOF_MAX_AGE_SECONDS: Final = 300


class OAuthError(Exception):
    """An error response as OAuth 2.0 / OpenID4VCI name it; `error` is the registered code."""

    def __init__(
        self, error: str, description: str, *, status: int = 400, wants_fresh_nonce: bool = False
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        # The wallet can mend this request with a new c_nonce (a missing, used or stale one).
        self.wants_fresh_nonce = wants_fresh_nonce or error == "invalid_nonce"
        self.fresh_nonce: dict[str, Any] = {}

    def attach_fresh_nonce(self, c_nonce: str, expires_in: int) -> None:
        """Answer with a new c_nonce too: 1.0 wallets fetch one from the Nonce Endpoint, and
        wallets of the drafts up to 13 take it from this error (harmless to the others)."""
        self.fresh_nonce = {"c_nonce": c_nonce, "c_nonce_expires_in": expires_in}

    def as_json(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description, **self.fresh_nonce}


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where one credential issuer (an institution) answers; all absolute URLs."""

    credential_issuer: str
    token: str
    nonce: str
    credential: str
    vct: str


def issuer_metadata(
    *, endpoints: Endpoints, name: str, logo_url: str | None = None
) -> dict[str, Any]:
    """Return the Credential Issuer Metadata (§12.2): both formats of the EU micro-credential."""
    display: dict[str, Any] = {"name": name, "locale": "en"}
    if logo_url:
        display["logo"] = {"uri": logo_url, "alt_text": name}
    proof_types = {"jwt": {"proof_signing_alg_values_supported": list(jose.HOLDER_ALGORITHMS)}}
    credential_display = [
        {"name": sd_jwt_vc.NAME, "locale": "en", "description": sd_jwt_vc.DESCRIPTION}
    ]
    return {
        "credential_issuer": endpoints.credential_issuer,
        "credential_endpoint": endpoints.credential,
        "nonce_endpoint": endpoints.nonce,
        "display": [display],
        "credential_configurations_supported": {
            LDP_VC: {
                "format": "ldp_vc",
                "cryptographic_binding_methods_supported": ["did:key", "did:jwk"],
                "credential_signing_alg_values_supported": [CRYPTOSUITE],
                "proof_types_supported": proof_types,
                "credential_definition": {
                    "@context": [CREDENTIALS_V2_CONTEXT, OB3_CONTEXT],
                    "type": list(CREDENTIAL_TYPE),
                },
                "credential_metadata": {"display": credential_display},
            },
            SD_JWT: {
                "format": sd_jwt_vc.FORMAT,
                "vct": endpoints.vct,
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": [jose.SIGNING_ALGORITHM],
                "proof_types_supported": proof_types,
                "credential_metadata": {
                    "display": credential_display,
                    "claims": sd_jwt_vc.issuer_metadata_claims(),
                },
            },
        },
    }


def authorization_server_metadata(*, endpoints: Endpoints) -> dict[str, Any]:
    """Return RFC 8414 metadata: the credential issuer is its own authorization server, and
    only the pre-authorized code grant, for anonymous clients, is offered."""
    return {
        "issuer": endpoints.credential_issuer,
        "token_endpoint": endpoints.token,
        "response_types_supported": [],
        "grant_types_supported": [PRE_AUTHORIZED_CODE_GRANT],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
    }


def credential_offer(*, credential_issuer: str, pre_authorized_code: str) -> dict[str, Any]:
    """Return a Credential Offer (§4.1.1) for both formats with a 6-digit e-mailed PIN."""
    return {
        "credential_issuer": credential_issuer,
        "credential_configuration_ids": list(CONFIGURATIONS),
        "grants": {
            PRE_AUTHORIZED_CODE_GRANT: {
                "pre-authorized_code": pre_authorized_code,
                "tx_code": {
                    "input_mode": "numeric",
                    "length": PIN_LENGTH,
                    "description": "The 6-digit PIN we e-mailed to you",
                },
            }
        },
    }


def offer_uri(offer: Mapping[str, Any]) -> str:
    """Return the offer by value as an openid-credential-offer:// link."""
    text = json.dumps(offer, separators=(",", ":"), ensure_ascii=False)
    return f"{OFFER_SCHEME}?credential_offer={quote(text, safe='')}"


@dataclass(frozen=True, slots=True)
class CredentialRequest:
    configuration_id: str
    proof_jwt: str


def parse_credential_request(body: Any) -> CredentialRequest:
    """Return the configuration and the one JWT proof of a credential request; raises
    OAuthError with invalid_credential_request, unknown_credential_configuration or
    invalid_proof."""
    if not isinstance(body, dict):
        raise OAuthError("invalid_credential_request", "The body must be a JSON object.")
    configuration_id = body.get("credential_configuration_id")
    if configuration_id is None:
        if "credential_identifier" in body:
            raise OAuthError(
                "unknown_credential_identifier", "No credential identifiers were issued."
            )
        raise OAuthError("invalid_credential_request", "credential_configuration_id is required.")
    if configuration_id not in CONFIGURATIONS:
        raise OAuthError(
            "unknown_credential_configuration",
            f"Unknown credential configuration {configuration_id!r}.",
        )
    if "proof" in body:
        if "proofs" in body:
            raise OAuthError(
                "invalid_credential_request",
                "Send either 'proofs' (OpenID4VCI 1.0) or one 'proof' (earlier drafts), not both.",
            )
        return CredentialRequest(
            configuration_id=configuration_id, proof_jwt=_single_draft_proof(body["proof"])
        )
    proofs = body.get("proofs")
    if not isinstance(proofs, dict) or not proofs:
        raise OAuthError("invalid_proof", "A 'proofs' object with a 'jwt' proof is required.")
    if set(proofs) != {"jwt"}:
        raise OAuthError("invalid_proof", "Only the 'jwt' proof type is supported.")
    jwts = proofs["jwt"]
    if not isinstance(jwts, list) or len(jwts) != 1 or not isinstance(jwts[0], str):
        raise OAuthError("invalid_proof", "Exactly one JWT proof is required.")
    return CredentialRequest(configuration_id=configuration_id, proof_jwt=jwts[0])


def _single_draft_proof(proof: Any) -> str:
    """The JWT of a drafts' `proof` object ({"proof_type": "jwt", "jwt": "…"}), which means
    what `"proofs": {"jwt": ["…"]}` means in 1.0."""
    if not isinstance(proof, dict):
        raise OAuthError("invalid_proof", "'proof' must be an object with 'proof_type' and 'jwt'.")
    if proof.get("proof_type") != "jwt":
        raise OAuthError("invalid_proof", "Only the 'jwt' proof type is supported.")
    jwt = proof.get("jwt")
    if not isinstance(jwt, str):
        raise OAuthError("invalid_proof", "'proof.jwt' must be the key proof, a compact JWT.")
    return jwt


@dataclass(frozen=True, slots=True)
class Proof:
    """What a verified key proof established: the holder's key and the nonce it signed."""

    jwk: dict[str, str]
    did: str
    nonce: str


def verify_proof(token: str, *, audience: str, now: int) -> Proof:
    """Verify a JWT key proof (§F.1): typ, alg, one of jwk / did:key kid, the signature with
    that key, aud and iat. Raises OAuthError("invalid_proof"). The nonce is returned for the
    caller to check against the ones it issued (invalid_nonce)."""
    header = _unverified_header(token)
    if header.get("typ") != PROOF_TYPE:
        raise _invalid_proof(f"typ must be {PROOF_TYPE!r}")
    if header.get("alg") not in jose.HOLDER_ALGORITHMS:
        raise _invalid_proof(f"alg must be one of {', '.join(jose.HOLDER_ALGORITHMS)}")
    if ("jwk" in header) == ("kid" in header):
        raise _invalid_proof("exactly one of 'jwk' and 'kid' is required")
    if "x5c" in header or "trust_chain" in header:
        raise _invalid_proof("only 'jwk' and did:key 'kid' name holder keys here")
    try:
        if "jwk" in header:
            jwk = jose.minimal_jwk(header["jwk"])
        else:
            kid = header["kid"]
            if not isinstance(kid, str) or not kid.startswith(didkey.DID_KEY_PREFIX):
                raise _invalid_proof("a 'kid' must be a did:key DID URL")
            jwk = jose.jwk_from_did_key(kid)
    except (ValueError, TypeError) as exc:
        raise _invalid_proof(f"the holder key cannot be used: {exc}") from exc
    expected_kty = "EC" if header["alg"] == "ES256" else "OKP"
    if jwk["kty"] != expected_kty:
        raise _invalid_proof("alg does not match the key type")
    try:
        _header, payload_bytes = jose.verify_compact(token, jwk, algorithms=(header["alg"],))
        payload = strict_json.loads(payload_bytes)
    except (JoseError, ValueError) as exc:
        raise _invalid_proof("the signature does not verify with the proof's key") from exc
    if not isinstance(payload, dict):
        raise _invalid_proof("the payload must be a JSON object")
    audiences = payload.get("aud")
    if audience != audiences and not (isinstance(audiences, list) and audience in audiences):
        raise _invalid_proof(f"aud must be the credential issuer {audience}")
    issued = payload.get("iat")
    if isinstance(issued, bool) or not isinstance(issued, int | float):
        raise _invalid_proof("iat is required")
    if issued > now + PROOF_LEEWAY_SECONDS:
        raise _invalid_proof("iat is in the future")
    if issued < now - PROOF_MAX_AGE_SECONDS:
        raise _invalid_proof(
            "the proof is too old; make a new one with a fresh nonce", wants_fresh_nonce=True
        )
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise _invalid_proof(
            "a c_nonce from the Nonce Endpoint is required", wants_fresh_nonce=True
        )
    return Proof(jwk=jwk, did=jose.holder_did(jwk), nonce=nonce)


def _unverified_header(token: Any) -> dict[str, Any]:
    if not isinstance(token, str) or token.count(".") != 2:
        raise _invalid_proof("the proof is not a compact JWT")
    try:
        header = strict_json.loads(base64url_decode(token.split(".", 1)[0]))
    except ValueError as exc:
        raise _invalid_proof("the proof's header is not base64url JSON") from exc
    if not isinstance(header, dict):
        raise _invalid_proof("the proof's header is not a JSON object")
    return header


def _invalid_proof(description: str, *, wants_fresh_nonce: bool = False) -> OAuthError:
    return OAuthError(
        "invalid_proof",
        f"The key proof is not valid: {description}.",
        wants_fresh_nonce=wants_fresh_nonce,
    )
