"""Proof sets and chains (W3C Data Integrity 1.0 §4.4): every proof is verified, a chained
proof's previousProof must resolve, the credential is verified by a proof of the issuer's key,
and the other signers are reported as witnesses, in the result's `proofs` and its signers line.

The chain documents are the W3C eddsa test suite's own (tests/standards/vectors/di-proof-chains),
and the proofs made here come from the test-only implementation in tests/credentials/proofs.py
as well as from MESHE's add_proof, so the verifier is not checked only against itself.
"""

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.issuing import verifier
from credentials.standards import didkey, proof_sets, signing
from credentials.standards.did_resolution import DidResolver
from institutions import selectors as institution_selectors
from institutions import services as institution_services
from tests.credentials.proofs import CREATED, V2, make_proof
from tests.credentials.standards_paths import STANDARDS_DIR, read_json
from tests.factories import InstitutionFactory, issue

pytestmark = pytest.mark.django_db

CHAINS = STANDARDS_DIR / "vectors" / "di-proof-chains"
# In the suite's documents the issuer signs second, chained to a first proof by another did:key.
SUITE_ISSUER = "did:key:z6MkhWqdDBPojHA7cprTGTt5yHv5yUi1B8cnXn8ReLumkw6E"
SUITE_WITNESS = "did:key:z6MktgKTsu1QhX6QPbyqG6geXdw6FQCZBPq7uQpieWbiQiG7"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


def suite_document(name: str) -> dict[str, Any]:
    return read_json(CHAINS / f"2.0-{name}-SimpleSigned2.json")


def verify_offline(document: Any):
    """The VC-API's verification, with did:key resolved in-process and no status lists."""
    return proof_sets.verify_any_credential(
        document,
        resolver=DidResolver(),
        fetch_status_list=lambda url: {},
        issuer_directory=lambda did: None,
        now=NOW,
    )


def vc_api_verify(client, credential: Any):
    return client.post(
        "/vc-api/credentials/verify",
        {"verifiableCredential": credential, "options": {}},
        content_type="application/json",
    )


def unsigned(issuer: str) -> dict[str, Any]:
    return {
        "@context": [V2, EXAMPLES],
        "id": "urn:uuid:8a1e6f0c-2b7d-4c3e-9f5a-6d7c8b9a0e1f",
        "type": ["VerifiableCredential", "ExampleAchievement"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ana", "achievement": "Data Literacy"},
    }


def method_of(key: Ed25519PrivateKey) -> str:
    return didkey.verification_method_id_for(key.public_key())


def signatures(result: dict[str, Any]) -> str:
    """The sentence /verify shows for a result."""
    labelled = verifier.labelled(result)
    assert labelled is not None
    return str(labelled["signatures"])


def check(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(each for each in result["checks"] if each["check"] == name)


@pytest.mark.parametrize("name", ["previousProofStringOk", "previousProofArrayOk"])
def test_the_eddsa_suites_chain_verifies_by_the_issuer_with_a_witness(client, name):
    document = suite_document(name)
    response = vc_api_verify(client, document)
    assert response.status_code == 200, response.json()
    result = response.json()
    witness, by_issuer = result["proofs"]
    assert (witness["signer"], witness["role"], witness["valid"]) == (SUITE_WITNESS, "other", True)
    assert (by_issuer["signer"], by_issuer["role"], by_issuer["valid"]) == (
        SUITE_ISSUER,
        "issuer",
        True,
    )
    assert by_issuer["previousProof"] == [document["proof"][0]["id"]]
    assert by_issuer["purpose"] == "assertionMethod"
    signers = check(result, "signers")
    assert {key: signers[key] for key in ("check", "ok", "detail")} == {
        "check": "signers",
        "ok": True,
        "detail": f"Signed by the issuer, and also by {SUITE_WITNESS} (a witness); "
        "both signatures valid",
    }


@pytest.mark.parametrize(
    "name",
    [
        "previousProofStringMissingFail",
        "previousProofArrayMissingFail",
        "previousProofMissingFail",
        "previousProofNotStringFail",
    ],
)
def test_the_eddsa_suites_broken_chains_fail(client, name):
    response = vc_api_verify(client, suite_document(name))
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("The proofs do not all verify:")


def test_a_dangling_previous_proof_fails_and_says_which():
    document = suite_document("previousProofStringOk")
    document["proof"][1]["previousProof"] = "urn:uuid:not-in-the-set"
    result = verify_offline(document)
    assert not result.verified
    assert "the previous proof urn:uuid:not-in-the-set is not in the proof set" in (
        result.check("proof").detail
    )
    # The first proof still verifies; the chained one is the one reported as failing.
    assert [proof.valid for proof in result.proofs] == [True, False]


def test_a_chained_proof_signed_without_its_previous_proof_fails():
    issuer, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    document = unsigned(didkey.did_key_for(issuer.public_key()))
    root = make_proof(document, key=witness, method=method_of(witness), id="urn:uuid:p-1")
    # Over the bare document: the chain's second proof must cover the first (§4.4).
    loose = make_proof(document, key=issuer, method=method_of(issuer), previousProof="urn:uuid:p-1")
    result = verify_offline({**document, "proof": [root, loose]})
    assert not result.verified
    assert [proof.valid for proof in result.proofs] == [True, False]


def test_a_forged_witness_proof_fails_the_whole_though_the_issuers_verifies():
    issuer, witness, forger = (Ed25519PrivateKey.generate() for _ in range(3))
    document = unsigned(didkey.did_key_for(issuer.public_key()))
    issuers = make_proof(document, key=issuer, method=method_of(issuer))
    # Claims to be the witness's, signed by another key.
    forged = make_proof(document, key=forger, method=method_of(witness))
    result = verify_offline({**document, "proof": [issuers, forged]})
    assert not result.verified
    assert [(proof.role, proof.valid) for proof in result.proofs] == [
        ("issuer", True),
        ("other", False),
    ]
    assert result.check("signers").detail == (
        f"The signature by {didkey.did_key_for(witness.public_key())} is not valid"
    )
    assert result.errors[0].startswith("The proofs do not all verify: proof 2:")


def test_a_forged_second_proof_in_the_suites_chain_fails():
    document = suite_document("previousProofStringOk")
    forger = Ed25519PrivateKey.generate()
    first = document["proof"][0]
    forged = make_proof(
        {**{k: v for k, v in document.items() if k != "proof"}, "proof": [first]},
        key=forger,
        method=document["proof"][1]["verificationMethod"],
        previousProof=first["id"],
    )
    result = verify_offline({**document, "proof": [first, forged]})
    assert not result.verified
    assert not result.check("proof").ok


def test_a_set_of_two_valid_proofs_without_a_chain_verifies_with_a_witness(client):
    institution = InstitutionFactory()
    key = institution_selectors.active_signing_key(institution=institution)
    witness = Ed25519PrivateKey.generate()
    document = unsigned(institution.did)
    proofs = [
        make_proof(document, key=witness, method=method_of(witness)),
        make_proof(document, key=key.private_key, method=key.verification_method),
    ]
    response = vc_api_verify(client, {**document, "proof": proofs})
    assert response.status_code == 200, response.json()
    result = response.json()
    assert [(p["role"], p["valid"], p["previousProof"]) for p in result["proofs"]] == [
        ("other", True, []),
        ("issuer", True, []),
    ]
    assert check(result, "issuer_key")["detail"] == (
        f"Signed by {institution.did} with key {key.verification_method}"
    )


def test_a_set_without_a_proof_by_the_issuer_fails():
    issuer, one, other = (Ed25519PrivateKey.generate() for _ in range(3))
    document = unsigned(didkey.did_key_for(issuer.public_key()))
    proofs = [make_proof(document, key=k, method=method_of(k)) for k in (one, other)]
    result = verify_offline({**document, "proof": proofs})
    assert not result.verified
    assert result.check("proof").ok
    assert result.check("issuer_key").detail.startswith("No proof is by the issuer's key")
    assert [proof.role for proof in result.proofs] == ["other", "other"]


def test_add_proof_makes_the_same_set_and_chain_as_an_independent_implementation():
    issuer, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    document = unsigned(didkey.did_key_for(issuer.public_key()))
    ours = proof_sets.add_proof(
        document,
        private_key=witness,
        verification_method=method_of(witness),
        created=CREATED,
        proof_id="urn:uuid:p-1",
    )
    ours = proof_sets.add_proof(
        ours,
        private_key=issuer,
        verification_method=method_of(issuer),
        created=CREATED,
        previous_proof="urn:uuid:p-1",
    )
    root = make_proof(document, key=witness, method=method_of(witness), id="urn:uuid:p-1")
    chained = make_proof(
        {**document, "proof": [root]},
        key=issuer,
        method=method_of(issuer),
        previousProof="urn:uuid:p-1",
    )
    # Ed25519 is deterministic: the same bytes signed give the same proofValue.
    assert ours == {**document, "proof": [root, chained]}
    assert verify_offline(ours).verified
    with pytest.raises(ValueError, match="urn:uuid:p-9"):
        proof_sets.add_proof(
            ours,
            private_key=issuer,
            verification_method=method_of(issuer),
            created=CREATED,
            previous_proof="urn:uuid:p-9",
        )


def test_a_single_proof_credential_takes_the_one_proof_path_exactly_as_before(monkeypatch):
    def no_proof_sets(*args, **kwargs):
        raise AssertionError("a single proof must not go through the proof set path")

    monkeypatch.setattr(proof_sets, "verify_proof_set", no_proof_sets)
    credential = issue()
    result = verifier.verify(credential.document)
    assert result["verified"], result
    assert "proofs" not in result
    assert [each["check"] for each in result["checks"]] == [
        "json",
        "data_model",
        "contexts",
        "proof",
        "issuer_key",
        "validity",
        "status",
        "issuer_known",
    ]


def test_the_verify_page_says_who_signed_a_chain_in_a_sentence(client):
    response = client.post(
        "/verify", {"document": json.dumps(suite_document("previousProofStringOk"))}
    )
    assert response.status_code == 200
    # The suite's issuer is a did:key: valid, but not an issuer this portal knows.
    assert "Signature valid, issuer not confirmed" in response.text
    assert "exactly one" not in response.text
    assert (
        f"Signed by the issuer, and also by {SUITE_WITNESS} (a witness); both signatures valid."
        in response.text
    )


def test_the_public_verifier_reports_a_forged_witness(client):
    institution = InstitutionFactory()
    key = institution_selectors.active_signing_key(institution=institution)
    witness, forger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    document = unsigned(institution.did)
    proofs = [
        make_proof(document, key=key.private_key, method=key.verification_method),
        make_proof(document, key=forger, method=method_of(witness)),
    ]
    result = client.post(
        "/api/v1/verify", {**document, "proof": proofs}, content_type="application/json"
    ).json()
    assert result["verified"] is False
    assert [p["valid"] for p in result["proofs"]] == [True, False]
    sentence = signatures(result)
    assert sentence == (
        f"The signature by {didkey.did_key_for(witness.public_key())} is not valid."
    )


def test_two_keys_of_the_issuer_sign_one_credential():
    institution = InstitutionFactory()
    first = institution_selectors.active_signing_key(institution=institution)
    institution_services.signing_key_rotate(actor=None, institution=institution)
    second = institution_selectors.active_signing_key(institution=institution)
    first.refresh_from_db()
    signed = signing.sign_document(
        unsigned(institution.did),
        private_key=first.private_key,
        verification_method=first.verification_method,
        created=CREATED,
    )
    both = proof_sets.add_proof(
        signed,
        private_key=second.private_key,
        verification_method=second.verification_method,
        created=CREATED,
    )
    result = verifier.verify(both)
    assert result["verified"], result
    assert signatures(result) == ("Signed 2 times by the issuer; all signatures valid.")


def test_a_tampered_credential_with_a_valid_chain_fails():
    document = copy.deepcopy(suite_document("previousProofStringOk"))
    document["credentialSubject"]["alumniOf"] = "Another School"
    result = verify_offline(document)
    assert not result.verified
    assert [proof.valid for proof in result.proofs] == [False, False]
