"""The VC-API's verification never answers with Python's own words: a status list or DID
document that cannot be had is "could not be fetched" / "could not be resolved", the details
going to the log."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.standards import didkey, proof_sets, signing, status_list
from credentials.standards.did_resolution import DidResolver
from tests.credentials.proofs import CREATED

V1 = "https://www.w3.org/2018/credentials/v1"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
STATUS_LIST = "https://uni-x.example/status/1"
PYTHON_WORDS = ("Error:", "[Errno", "KeyError")


def vc11(issuer: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": [V1, EXAMPLES],
        "id": "urn:uuid:7d3c1b2a-4e5f-4a6b-9c8d-0e1f2a3b4c5d",
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ana", "achievement": "Data Literacy"},
        **extra,
    }


def signed_with_status() -> dict[str, Any]:
    key = Ed25519PrivateKey.generate()
    entry = {
        "id": f"{STATUS_LIST}#7",
        "type": status_list.STATUS_LIST_ENTRY_TYPE,
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": STATUS_LIST,
    }
    return signing.sign_document(
        vc11(didkey.did_key_for(key.public_key()), credentialStatus=entry),
        private_key=key,
        verification_method=didkey.verification_method_id_for(key.public_key()),
        created=CREATED,
    )


def answer(document: Any, *, resolver: Any, fetch_status_list: Any) -> str:
    result = proof_sets.verify_any_credential(
        document,
        resolver=resolver,
        fetch_status_list=fetch_status_list,
        issuer_directory=lambda did: None,
        now=datetime(2026, 6, 1, tzinfo=UTC),
    )
    return json.dumps(result.as_dict(), default=str)


def refused(url: str) -> Any:
    raise ConnectionRefusedError(111, "Connection refused")


def missing_term(url: str) -> Any:
    raise KeyError("@vocab")


@pytest.mark.parametrize("fetch", [refused, missing_term])
def test_a_status_list_that_cannot_be_had_is_named_without_pythons_words(fetch):
    text = answer(signed_with_status(), resolver=DidResolver(), fetch_status_list=fetch)
    assert f"The status list {STATUS_LIST} could not be fetched" in text
    assert not any(words in text for words in PYTHON_WORDS)


class FailingResolver:
    def resolve(self, did: str) -> Any:
        raise ConnectionRefusedError(111, "Connection refused")


def test_a_did_resolver_that_fails_is_named_without_pythons_words():
    text = answer(signed_with_status(), resolver=FailingResolver(), fetch_status_list=missing_term)
    assert "the DID resolver failed" in text
    assert not any(words in text for words in PYTHON_WORDS)
