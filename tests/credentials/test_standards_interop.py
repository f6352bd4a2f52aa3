"""Our signatures against an independent implementation: vc-js, through MESHE's harness tests/vcjs.

Set MESHE_INTEROP_DIR to a copy of tests/vcjs in which `npm ci` has run (`make interop` makes
var/interop).
"""

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.standards import didkey, proof_sets, signing
from credentials.standards.signing import Failure, Step


def credential_issued_by(issuer: str) -> dict:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:0b3f1c2e-7d7a-4c1e-9a53-2f5f0c9d8e11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Université d'Exemple"},
        "validFrom": "2024-01-01T00:00:00Z",
        "name": "Interoperability Badge",
        "credentialSubject": {
            "id": "did:example:learner-1",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "urn:uuid:6c1b8a4e-1111-4a2b-8c3d-123456789abc",
                "type": ["Achievement"],
                "name": "Interoperability",
                "description": "Signed in Python, checked by vc-js.",
                "criteria": {"narrative": "Zoë showed the same bytes in two languages ✓"},
            },
        },
    }


def write_json(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def test_vc_js_verifies_a_credential_we_signed_under_a_did_key_issuer(interop, tmp_path):
    key = Ed25519PrivateKey.generate()
    signed = signing.sign_document(
        credential_issued_by(didkey.did_key_for(key.public_key())),
        private_key=key,
        verification_method=didkey.verification_method_id_for(key.public_key()),
        created="2024-05-01T12:00:00Z",
    )
    result = interop.run("verify.mjs", str(write_json(tmp_path / "signed.json", signed)))
    report = json.loads(result.stdout)
    assert (result.returncode, report["verified"], report["mode"]) == (0, True, "credential"), (
        result.stdout
    )


def test_vc_js_rejects_a_tampered_copy_of_a_credential_we_signed(interop, tmp_path):
    key = Ed25519PrivateKey.generate()
    signed = signing.sign_document(
        credential_issued_by(didkey.did_key_for(key.public_key())),
        private_key=key,
        verification_method=didkey.verification_method_id_for(key.public_key()),
        created="2024-05-01T12:00:00Z",
    )
    signed["name"] = "Interoperability Badgf"
    result = interop.run("verify.mjs", str(write_json(tmp_path / "tampered.json", signed)))
    report = json.loads(result.stdout)
    assert (result.returncode, report["verified"]) == (1, False)
    assert "Invalid signature." in report["errors"]


def test_we_verify_a_credential_vc_js_signed_with_a_fresh_key_and_reject_a_tampered_copy(
    interop, tmp_path
):
    keygen = interop.run("keygen.mjs", "key")
    assert keygen.returncode == 0, keygen.stderr
    key_file = tmp_path / "key.json"
    key_file.write_text(keygen.stdout, encoding="utf-8")
    did = "did:key:" + json.loads(keygen.stdout)["publicKeyMultibase"]
    unsigned = write_json(tmp_path / "unsigned.json", credential_issued_by(did))
    out = tmp_path / "signed.json"
    sign = interop.run("sign.mjs", str(unsigned), "--key", str(key_file), "--out", str(out))
    assert sign.returncode == 0, sign.stderr

    signed = json.loads(out.read_text(encoding="utf-8"))
    result = signing.verify_proof(signed, public_key=didkey.public_key_for)
    assert result.verified, result
    assert result.verification_method == signed["proof"]["verificationMethod"]

    signed["credentialSubject"]["achievement"]["name"] = "Interoperabilitz"
    tampered = signing.verify_proof(signed, public_key=didkey.public_key_for)
    assert (tampered.verified, tampered.failed_step, tampered.failure) == (
        False,
        Step.CHECK_SIGNATURE,
        Failure.BAD_SIGNATURE,
    )


def test_vc_js_verifies_a_proof_set_we_signed(interop, tmp_path):
    # vc-js 7 (jsonld-signatures 11) verifies sets, not chains: it has no previousProof, and
    # rejects the W3C suite's own chain document too; chains are checked in test_proof_chains.
    key = Ed25519PrivateKey.generate()
    method = didkey.verification_method_id_for(key.public_key())
    signed = signing.sign_document(
        credential_issued_by(didkey.did_key_for(key.public_key())),
        private_key=key,
        verification_method=method,
        created="2024-05-01T12:00:00Z",
    )
    both = proof_sets.add_proof(
        signed, private_key=key, verification_method=method, created="2024-06-01T12:00:00Z"
    )
    result = interop.run("verify.mjs", str(write_json(tmp_path / "set.json", both)))
    report = json.loads(result.stdout)
    assert (result.returncode, report["verified"]) == (0, True), result.stdout
    assert [proof["verified"] for proof in report["proofs"]] == [True, True]
