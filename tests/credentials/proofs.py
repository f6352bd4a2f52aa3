"""Data Integrity proofs and presentations made in tests, exactly as given, with the
project's canonicaliser: for proof sets, chains and presentations the VC-API must accept."""

import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.standards import didkey, signing
from credentials.standards.multiformats import multibase_encode

V2 = "https://www.w3.org/ns/credentials/v2"
CREATED = "2026-01-01T00:00:00Z"


def make_proof(
    document: dict[str, Any],
    *,
    key: Ed25519PrivateKey,
    method: str,
    purpose: str = "assertionMethod",
    **options: Any,
) -> dict[str, Any]:
    """A Data Integrity eddsa-rdfc-2022 proof over `document` exactly as given (so for a chain,
    pass the document holding the previous proofs)."""
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": CREATED,
        "verificationMethod": method,
        "proofPurpose": purpose,
        **options,
    }
    configuration = signing.canonicalize({"@context": document["@context"], **proof})
    signed = (
        hashlib.sha256(configuration.encode()).digest()
        + hashlib.sha256(signing.canonicalize(document).encode()).digest()
    )
    return {**proof, "proofValue": multibase_encode(key.sign(signed))}


def presentation(
    credential: dict[str, Any] | list[dict[str, Any]],
    holder_key: Ed25519PrivateKey,
    **proof_options: Any,
):
    """A presentation of the credential (or credentials) signed by the holder's did:key."""
    holder = didkey.did_key_for(holder_key.public_key())
    document = {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": holder,
        "verifiableCredential": credential if isinstance(credential, list) else [credential],
    }
    proof = make_proof(
        document,
        key=holder_key,
        method=didkey.verification_method_id_for(holder_key.public_key()),
        purpose="authentication",
        **proof_options,
    )
    return {**document, "proof": proof}
