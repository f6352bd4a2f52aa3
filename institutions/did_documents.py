"""DID documents of institutions (did:web), built from plain values."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


@dataclass(frozen=True)
class PublishedKey:
    fragment: str
    public_key_multibase: str
    active: bool


def build_did_document(*, did: str, keys: Sequence[PublishedKey]) -> dict[str, Any]:
    """Every key may assert credentials (retired ones keep old credentials verifiable);
    only the active key authenticates, so only it can sign server-to-server requests."""
    methods = [
        {
            "id": f"{did}#{key.fragment}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_key_multibase,
        }
        for key in keys
    ]
    active = [f"{did}#{key.fragment}" for key in keys if key.active]
    return {
        "@context": DID_CONTEXTS,
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
        "authentication": active,
        "capabilityInvocation": active,
    }
