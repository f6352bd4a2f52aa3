"""OB 3.0 EndorsementCredentials: built, signed, checked against 1EdTech's schema and vc-js, and
embedded in the achievement of a credential that still validates and verifies."""

import copy
import dataclasses
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.standards import didkey, ob3, signing
from credentials.standards.achievement import StatusEntry
from credentials.standards.signing import Failure, Step
from tests.credentials import builder_samples as samples
from tests.credentials.validation import ENDORSEMENT_SCHEMA, schema_errors

OFFER_URL = "https://meshe.example/catalogue/offers/6b1d0c44-8f55-4d8c-9f4e-0c1f2a3b4c5d"
ENDORSER_KEY = Ed25519PrivateKey.generate()
ENDORSER = dataclasses.replace(
    samples.ISSUER,
    did=didkey.did_key_for(ENDORSER_KEY.public_key()),
    name="Baltic Technical University",
    url="https://btu.example.eu",
    country_code="LT",
    legal_identifier="LT-111950581",
)
ISSUER_KEY = Ed25519PrivateKey.generate()
ISSUER = dataclasses.replace(samples.ISSUER, did=didkey.did_key_for(ISSUER_KEY.public_key()))
ENDORSEMENT = ob3.Endorsement(
    credential_id="urn:uuid:0e4c9c2a-52a1-4d65-9a0f-7c3b5e1d2f10",
    subject_id=OFFER_URL,
    subject_name="Data Literacy for Public Administration",
    comment="Recognised at Baltic Technical University for 5 ECTS toward the MSc Data Science",
    issued_at=datetime(2025, 5, 2, 9, 30, tzinfo=UTC),
    status=StatusEntry(
        purpose="revocation", list_url="https://btu.example.eu/status/revocation/1", index=4211
    ),
)


def signed_by(document: dict, key: Ed25519PrivateKey) -> dict:
    return signing.sign_document(
        document,
        private_key=key,
        verification_method=didkey.verification_method_id_for(key.public_key()),
        created="2025-06-30T14:05:00Z",
    )


def signed_endorsement(*, with_status: bool = True) -> dict:
    endorsement = ENDORSEMENT if with_status else dataclasses.replace(ENDORSEMENT, status=None)
    unsigned = ob3.build_endorsement_credential(endorser=ENDORSER, endorsement=endorsement)
    return signed_by(unsigned, ENDORSER_KEY)


def endorsed_credential(*endorsements: dict, with_status: bool = True) -> dict:
    unsigned = ob3.build_achievement_credential(
        issuer=ISSUER,
        specification=samples.SPECIFICATION,
        holder=samples.HOLDER,
        award=dataclasses.replace(
            samples.AWARD, status=samples.AWARD.status[:1] if with_status else ()
        ),
        endorsements=endorsements,
    )
    return signed_by(unsigned, ISSUER_KEY)


def verified(document: dict) -> bool:
    return signing.verify_proof(document, public_key=didkey.public_key_for).verified


def test_a_signed_endorsement_validates_against_the_1edtech_endorsement_schema():
    assert schema_errors(signed_endorsement(), ENDORSEMENT_SCHEMA) == []


def test_the_endorsement_schema_check_rejects_an_endorsement_without_its_subject():
    broken = signed_endorsement()
    del broken["credentialSubject"]
    assert any(
        "'credentialSubject' is a required property" in error
        for error in schema_errors(broken, ENDORSEMENT_SCHEMA)
    )


def test_an_endorsement_names_the_offer_the_comment_and_the_endorser_by_its_did():
    document = ob3.build_endorsement_credential(endorser=ENDORSER, endorsement=ENDORSEMENT)
    assert document["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert document["credentialSubject"] == {
        "id": OFFER_URL,
        "type": ["EndorsementSubject"],
        "endorsementComment": ENDORSEMENT.comment,
    }
    assert (document["issuer"]["id"], document["issuer"]["name"]) == (
        ENDORSER.did,
        "Baltic Technical University",
    )
    assert document["credentialStatus"] == {
        "id": "https://btu.example.eu/status/revocation/1#4211",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "4211",
        "statusListCredential": "https://btu.example.eu/status/revocation/1",
    }


def test_an_endorsement_without_a_comment_or_with_a_suspension_entry_is_refused():
    with pytest.raises(ValueError, match="comment"):
        dataclasses.replace(ENDORSEMENT, comment="  ")
    suspension = StatusEntry(purpose="suspension", list_url="https://btu.example.eu/s/1", index=1)
    with pytest.raises(ValueError, match="revocation"):
        dataclasses.replace(ENDORSEMENT, status=suspension)


def test_the_facts_of_an_endorsement_are_read_back_and_another_credential_is_refused():
    facts = ob3.endorsement_facts(signed_endorsement())
    assert facts == ob3.EndorsementFacts(
        credential_id=ENDORSEMENT.credential_id,
        endorser_id=ENDORSER.did,
        endorser_name="Baltic Technical University",
        subject_id=OFFER_URL,
        comment=ENDORSEMENT.comment,
    )
    with pytest.raises(ValueError):
        ob3.endorsement_facts(endorsed_credential())


def test_a_signed_endorsement_verifies_and_a_changed_comment_does_not():
    endorsement = signed_endorsement()
    assert verified(endorsement)
    endorsement["credentialSubject"]["endorsementComment"] = "Recognised for 50 ECTS"
    result = signing.verify_proof(endorsement, public_key=didkey.public_key_for)
    assert (result.verified, result.failed_step, result.failure) == (
        False,
        Step.CHECK_SIGNATURE,
        Failure.BAD_SIGNATURE,
    )


def test_a_credential_carrying_two_endorsements_validates_against_the_achievement_schema():
    other = dataclasses.replace(
        ENDORSEMENT, credential_id="urn:uuid:3d0f1e7a-2b6c-4f8e-8a1d-5c9b7e6f4a32", status=None
    )
    second = signed_by(
        ob3.build_endorsement_credential(endorser=ENDORSER, endorsement=other), ENDORSER_KEY
    )
    credential = endorsed_credential(signed_endorsement(), second)
    assert schema_errors(credential) == []
    assert ob3.embedded_endorsements(credential) == [signed_endorsement(), second]


def test_a_credential_without_endorsements_has_no_endorsement_member():
    credential = endorsed_credential()
    assert "endorsement" not in credential["credentialSubject"]["achievement"]
    assert ob3.embedded_endorsements(credential) == []


def test_the_credential_and_its_embedded_endorsement_verify_each_with_its_own_key():
    credential = endorsed_credential(signed_endorsement())
    assert verified(credential)
    (embedded,) = ob3.embedded_endorsements(credential)
    assert verified(embedded)


def test_a_changed_embedded_endorsement_breaks_both_signatures():
    credential = endorsed_credential(signed_endorsement())
    tampered = copy.deepcopy(credential)
    (embedded,) = ob3.embedded_endorsements(tampered)
    embedded["credentialSubject"]["endorsementComment"] = "Recognised for 50 ECTS"
    assert not verified(tampered)
    assert not verified(embedded)


def write_json(path, document: dict):
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def vc_js_verifies(interop, path) -> bool:
    result = interop.run("verify.mjs", str(path))
    report = json.loads(result.stdout)
    return result.returncode == 0 and report["verified"] is True


# Status lists are the two-node tests' part (tests/twonode/test_endorsements.py): vc-js reads
# them from a running node; here the documents carry none, so the signatures alone are checked.


def test_vc_js_verifies_an_endorsement_we_signed(interop, tmp_path):
    endorsement = signed_endorsement(with_status=False)
    assert vc_js_verifies(interop, write_json(tmp_path / "endorsement.json", endorsement))


def test_vc_js_verifies_a_credential_carrying_an_endorsement_and_the_endorsement_itself(
    interop, tmp_path
):
    credential = endorsed_credential(signed_endorsement(with_status=False), with_status=False)
    (embedded,) = ob3.embedded_endorsements(credential)
    assert vc_js_verifies(interop, write_json(tmp_path / "credential.json", credential))
    assert vc_js_verifies(interop, write_json(tmp_path / "embedded.json", embedded))
    embedded["credentialSubject"]["endorsementComment"] = "Recognised for 50 ECTS"
    assert not vc_js_verifies(interop, write_json(tmp_path / "tampered.json", embedded))
