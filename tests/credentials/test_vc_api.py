"""The W3C VC-API endpoints, and the proof sets, chains, VC 1.1 credentials and presentations
they verify (credentials.standards.proof_sets).

Proofs for sets, chains and presentations are made here by an independent, test-only
implementation of the Data Integrity algorithms, so the verifier is not checked against itself.
"""

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from credentials.standards import didkey, proof_sets, signing
from credentials.standards.did_resolution import DidResolver
from credentials.standards.multiformats import decode_ed25519_public_key
from institutions import selectors as institution_selectors
from institutions import services as institution_services
from institutions.models import ApiScope, AuditEvent, SigningKey
from tests.credentials.proofs import CREATED, V2, make_proof, presentation
from tests.credentials.standards_paths import W3C_EDDSA_VECTORS, read_json
from tests.factories import InstitutionFactory, MicroCredentialFactory, issue, make_token

pytestmark = pytest.mark.django_db

V1 = "https://www.w3.org/2018/credentials/v1"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


def unsigned(issuer: Any, **extra: Any) -> dict[str, Any]:
    return {
        "@context": [V2, EXAMPLES],
        "id": "urn:uuid:5c1e3f4a-9b7d-4e2a-8f6c-1a2b3c4d5e6f",
        "type": ["VerifiableCredential", "ExampleAchievement"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ana", "achievement": "Data Literacy"},
        **extra,
    }


def two_keys(institution) -> tuple[SigningKey, SigningKey]:
    """The institution's first key (now retired, still an assertion key) and its new one."""
    first = institution_selectors.active_signing_key(institution=institution)
    institution_services.signing_key_rotate(actor=None, institution=institution)
    second = institution_selectors.active_signing_key(institution=institution)
    first.refresh_from_db()
    return first, second


def verify(client: Client, credential: Any) -> Any:
    return client.post(
        "/vc-api/credentials/verify",
        {"verifiableCredential": credential, "options": {}},
        content_type="application/json",
    )


def vc_issue(client: Client, token: str, credential: Any, **body: Any) -> Any:
    return client.post(
        "/vc-api/credentials/issue",
        {"credential": credential, **body},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.fixture
def institution():
    return InstitutionFactory()


@pytest.fixture
def token(institution) -> str:
    return make_token(institution)


# ---------------------------------------------------------------- issuing


def test_a_credential_issued_through_the_vc_api_verifies_through_it(client, institution, token):
    response = vc_issue(client, token, unsigned(institution.did), options={})
    assert response.status_code == 201
    credential = response.json()["verifiableCredential"]
    key = institution_selectors.active_signing_key(institution=institution)
    assert credential["proof"][0]["verificationMethod"] == key.verification_method
    assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert AuditEvent.objects.filter(action="vc_api.credential_signed").count() == 1
    result = verify(client, credential)
    assert result.status_code == 200
    assert result.json()["verified"] is True
    checks = {check["check"]: check["ok"] for check in result.json()["checks"]}
    assert checks["proof"] and checks["issuer_key"] and checks["issuer_known"]


def test_issuing_in_the_name_of_another_issuer_is_refused(client, institution, token):
    response = vc_issue(client, token, unsigned("did:web:elsewhere.example:institutions:x"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "issuer_mismatch"
    response = vc_issue(client, token, unsigned({"id": "did:example:someone"}))
    assert response.json()["error"]["code"] == "issuer_mismatch"


def test_a_term_that_no_context_defines_is_refused(client, institution, token):
    credential = unsigned(institution.did)
    credential["@context"] = [V2]
    credential["credentialSubject"] = {"id": "did:example:ana", "favouriteColour": "blue"}
    response = vc_issue(client, token, credential)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "undefined_term"
    assert "favouriteColour" in response.json()["error"]["message"]
    assert not AuditEvent.objects.filter(action="vc_api.credential_signed").exists()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            lambda c: c.update({"@context": [V2, "https://evil.example/ctx.json"]}),
            "unknown_context",
        ),
        (lambda c: c.update({"@context": ["https://example.org/v9"]}), "invalid_credential"),
        (lambda c: c.update({"proof": {"type": "DataIntegrityProof"}}), "already_signed"),
        (lambda c: c.update({"type": ["Achievement"]}), "invalid_credential"),
        (lambda c: c.update({"credentialSubject": {}}), "invalid_credential"),
        (lambda c: c.update({"validFrom": "yesterday"}), "invalid_credential"),
    ],
    ids=["unknown-context", "not-a-vc", "signed", "no-vc-type", "empty-subject", "bad-date"],
)
def test_an_unfit_credential_is_refused_with_400(client, institution, token, change, code):
    credential = unsigned(institution.did)
    change(credential)
    response = vc_issue(client, token, credential)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{oops", "malformed_json"),
        ("[]", "invalid_body"),
        (json.dumps({"credential": "a string"}), "invalid_request"),
        (json.dumps({"credential": {}, "extra": 1}), "invalid_request"),
        (json.dumps({"credential": {}, "options": []}), "invalid_request"),
        (
            json.dumps({"credential": {}, "options": {"mandatoryPointers": ["/id"]}}),
            "unsupported_option",
        ),
    ],
    ids=[
        "malformed",
        "not-an-object",
        "credential-not-object",
        "extra-member",
        "options-list",
        "unsupported-option",
    ],
)
def test_a_malformed_issue_request_is_400(client, token, body, code):
    response = client.post(
        "/vc-api/credentials/issue",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


# ---------------------------------------------------------------- verifying credentials


def test_a_portal_credential_verifies_and_a_tampered_one_is_400_with_the_checks(client):
    credential = json.loads(issue().document)
    assert verify(client, credential).status_code == 200
    credential["credentialSubject"]["achievement"]["name"] = "Something grander"
    response = verify(client, credential)
    assert response.status_code == 400
    body = response.json()
    assert body["verified"] is False
    assert body["error"]["code"] == "not_verified"
    assert next(c for c in body["checks"] if c["check"] == "proof")["ok"] is False


@pytest.mark.parametrize(
    "body",
    ["{", json.dumps({"credential": {}}), json.dumps({"verifiableCredential": [1]})],
    ids=["malformed", "wrong-member", "not-an-object"],
)
def test_a_malformed_verify_request_is_400(client, body):
    response = client.post("/vc-api/credentials/verify", body, content_type="application/json")
    assert response.status_code == 400
    assert "verified" not in response.json()


def test_a_did_key_credential_is_resolved_locally_and_verifies(client):
    key = Ed25519PrivateKey.generate()
    did = didkey.did_key_for(key.public_key())
    credential = signing.sign_document(
        unsigned(did),
        private_key=key,
        verification_method=didkey.verification_method_id_for(key.public_key()),
        created=CREATED,
    )
    response = verify(client, credential)
    assert response.status_code == 200, response.json()
    # Known to this portal it is not: a warning, not a failure.
    assert response.json()["warnings"]


# ---------------------------------------------------------------- proof sets and chains


def test_a_proof_set_by_two_keys_verifies_and_a_tampered_one_fails(client, institution):
    first, second = two_keys(institution)
    document = unsigned(institution.did)
    proofs = [
        make_proof(document, key=first.private_key, method=first.verification_method),
        make_proof(document, key=second.private_key, method=second.verification_method),
    ]
    response = verify(client, {**document, "proof": proofs})
    assert response.status_code == 200, response.json()
    proof_check = next(c for c in response.json()["checks"] if c["check"] == "proof")
    assert "2 valid" in proof_check["detail"]

    tampered = copy.deepcopy({**document, "proof": proofs})
    tampered["credentialSubject"]["achievement"] = "Everything"
    assert verify(client, tampered).status_code == 400

    one_bad = copy.deepcopy({**document, "proof": proofs})
    one_bad["proof"][1]["created"] = "2026-01-02T00:00:00Z"
    response = verify(client, one_bad)
    assert response.status_code == 400
    assert "proof 2" in response.json()["error"]["message"]


def test_a_proof_set_with_another_key_verifies_and_reports_it_as_a_witness(client, institution):
    key = institution_selectors.active_signing_key(institution=institution)
    stranger = Ed25519PrivateKey.generate()
    document = unsigned(institution.did)
    proofs = [
        make_proof(document, key=key.private_key, method=key.verification_method),
        make_proof(
            document,
            key=stranger,
            method=didkey.verification_method_id_for(stranger.public_key()),
        ),
    ]
    response = verify(client, {**document, "proof": proofs})
    assert response.status_code == 200, response.json()
    assert [(p["role"], p["valid"]) for p in response.json()["proofs"]] == [
        ("issuer", True),
        ("other", True),
    ]


def test_a_proof_chain_verifies_and_a_broken_link_fails(client, institution):
    first, second = two_keys(institution)
    document = unsigned(institution.did)
    root = make_proof(
        document, key=first.private_key, method=first.verification_method, id="urn:uuid:p-1"
    )
    chained = make_proof(
        {**document, "proof": [root]},
        key=second.private_key,
        method=second.verification_method,
        id="urn:uuid:p-2",
        previousProof="urn:uuid:p-1",
    )
    assert verify(client, {**document, "proof": [root, chained]}).status_code == 200

    # Signed over the bare document, the second proof does not cover the first.
    unchained = make_proof(
        document,
        key=second.private_key,
        method=second.verification_method,
        id="urn:uuid:p-2",
        previousProof="urn:uuid:p-1",
    )
    assert verify(client, {**document, "proof": [root, unchained]}).status_code == 400
    missing = {**chained, "previousProof": "urn:uuid:p-9"}
    response = verify(client, {**document, "proof": [root, missing]})
    assert response.status_code == 400
    assert "urn:uuid:p-9" in response.json()["error"]["message"]


def test_the_w3c_vector_verifies_alone_and_in_a_set_with_another_proof():
    vector = read_json(W3C_EDDSA_VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json")
    resolver = DidResolver()

    def public_key(method: str):
        return decode_ed25519_public_key(method.rpartition("#")[2])

    assert proof_sets.verify_proof_set(vector, public_key=public_key).verified
    other = Ed25519PrivateKey.generate()
    unsecured = {name: value for name, value in vector.items() if name != "proof"}
    extra = make_proof(
        unsecured, key=other, method=didkey.verification_method_id_for(other.public_key())
    )
    pair = {**unsecured, "proof": [vector["proof"], extra]}
    result = proof_sets.verify_proof_set(pair, public_key=public_key)
    assert result.verified
    assert len(result.proofs) == 2
    tampered = copy.deepcopy(pair)
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    assert not proof_sets.verify_proof_set(tampered, public_key=public_key).verified
    # Through the whole verification the proofs hold; the vector's issuer is not its key's DID.
    verdict = proof_sets.verify_any_credential(
        {**unsecured, "proof": [vector["proof"], extra]},
        resolver=resolver,
        fetch_status_list=lambda url: {},
        issuer_directory=lambda did: None,
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert verdict.check("proof").ok
    assert not verdict.check("issuer_key").ok


# ---------------------------------------------------------------- VC 1.1


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


def test_a_vc_1_1_credential_signed_here_verifies(client, institution):
    key = institution_selectors.active_signing_key(institution=institution)
    credential = signing.sign_document(
        vc11(institution.did),
        private_key=key.private_key,
        verification_method=key.verification_method,
        created=CREATED,
    )
    response = verify(client, credential)
    assert response.status_code == 200, response.json()
    data_model = next(c for c in response.json()["checks"] if c["check"] == "data_model")
    assert "1.1" in data_model["detail"]
    credential["credentialSubject"]["achievement"] = "Everything"
    assert verify(client, credential).status_code == 400


def test_an_expired_vc_1_1_credential_does_not_verify(client, institution):
    key = institution_selectors.active_signing_key(institution=institution)
    credential = signing.sign_document(
        vc11(institution.did, expirationDate="2026-02-01T00:00:00Z"),
        private_key=key.private_key,
        verification_method=key.verification_method,
        created=CREATED,
    )
    response = verify(client, credential)
    assert response.status_code == 400
    validity = next(c for c in response.json()["checks"] if c["check"] == "validity")
    assert validity["ok"] is False
    assert "Expired" in validity["detail"]


def test_the_vc_api_issues_a_vc_1_1_credential_with_an_issuance_date(client, institution, token):
    credential = vc11(institution.did)
    del credential["issuanceDate"]
    response = vc_issue(client, token, credential)
    assert response.status_code == 201
    signed = response.json()["verifiableCredential"]
    assert signed["issuanceDate"]
    assert signed["@context"][-1] == signing.DATA_INTEGRITY_V2_CONTEXT
    assert verify(client, signed).status_code == 200


def test_a_vc_1_1_credential_without_an_issuance_date_does_not_verify(client, institution):
    key = institution_selectors.active_signing_key(institution=institution)
    credential = vc11(institution.did)
    del credential["issuanceDate"]
    signed = signing.sign_document(
        credential,
        private_key=key.private_key,
        verification_method=key.verification_method,
        created=CREATED,
    )
    response = verify(client, signed)
    assert response.status_code == 400
    assert "issuanceDate" in response.json()["error"]["message"]


# ---------------------------------------------------------------- presentations


def verify_presentation(client: Client, document: Any, **options: Any) -> Any:
    return client.post(
        "/vc-api/presentations/verify",
        {"verifiablePresentation": document, "options": options},
        content_type="application/json",
    )


def test_a_presentation_for_the_right_challenge_and_domain_verifies(client):
    credential = json.loads(issue().document)
    holder = Ed25519PrivateKey.generate()
    document = presentation(credential, holder, challenge="c-123", domain="verifier.example")
    response = verify_presentation(client, document, challenge="c-123", domain="verifier.example")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["verified"] is True
    assert body["credentials"][0]["verified"] is True


@pytest.mark.parametrize(
    "options",
    [
        {"challenge": "c-999", "domain": "verifier.example"},
        {"challenge": "c-123", "domain": "x.example"},
    ],
    ids=["wrong-challenge", "wrong-domain"],
)
def test_a_presentation_for_another_challenge_or_domain_fails(client, options):
    credential = json.loads(issue().document)
    document = presentation(
        credential, Ed25519PrivateKey.generate(), challenge="c-123", domain="verifier.example"
    )
    response = verify_presentation(client, document, **options)
    assert response.status_code == 400
    assert response.json()["verified"] is False
    wrong = "challenge" if options["challenge"] != "c-123" else "domain"
    assert f"not made for this {wrong}" in response.json()["error"]["message"]


def test_a_presentation_of_a_revoked_credential_fails(client, institution, token):
    issued = issue(MicroCredentialFactory(institution=institution))
    document = presentation(
        json.loads(issued.document), Ed25519PrivateKey.generate(), challenge="c"
    )
    assert verify_presentation(client, document, challenge="c").status_code == 200
    set_status(client, token, issued.credential_id, "revocation", True)
    response = verify_presentation(client, document, challenge="c")
    assert response.status_code == 400
    assert response.json()["credentials"][0]["verified"] is False


def test_a_presentation_signed_by_someone_other_than_its_holder_fails(client):
    credential = json.loads(issue().document)
    document = presentation(credential, Ed25519PrivateKey.generate(), challenge="c")
    document["holder"] = "did:example:somebody-else"
    proofless = {name: value for name, value in document.items() if name != "proof"}
    thief = Ed25519PrivateKey.generate()
    document["proof"] = make_proof(
        proofless,
        key=thief,
        method=didkey.verification_method_id_for(thief.public_key()),
        purpose="authentication",
        challenge="c",
    )
    response = verify_presentation(client, document, challenge="c")
    assert response.status_code == 400
    holder_key = next(c for c in response.json()["checks"] if c["check"] == "holder_key")
    assert holder_key["ok"] is False


# ---------------------------------------------------------------- status


def set_status(client: Client, token: str, credential_id: str, purpose: str, value: Any) -> Any:
    return client.post(
        "/vc-api/credentials/status",
        {
            "credentialId": credential_id,
            "credentialStatus": [
                {"type": "BitstringStatusListEntry", "statusPurpose": purpose, "status": value}
            ],
        },
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_revoking_through_the_vc_api_makes_verification_fail(client, institution, token):
    issued = issue(MicroCredentialFactory(institution=institution))
    document = json.loads(issued.document)
    assert verify(client, document).status_code == 200
    response = set_status(client, token, issued.credential_id, "revocation", True)
    assert response.status_code == 200
    assert response.json()["credentialStatus"][0] == {
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "status": True,
    }
    result = verify(client, document)
    assert result.status_code == 400
    status = next(c for c in result.json()["checks"] if c["check"] == "status")
    assert "Revoked" in status["detail"]
    assert set_status(client, token, issued.credential_id, "revocation", False).status_code == 409


def test_suspending_and_reinstating_through_the_vc_api(client, institution, token):
    issued = issue(MicroCredentialFactory(institution=institution))
    document = json.loads(issued.document)
    assert (
        set_status(client, token, str(issued.public_id), "suspension", "suspended").status_code
        == 200
    )
    assert verify(client, document).status_code == 400
    assert set_status(client, token, issued.credential_id, "suspension", False).status_code == 200
    assert verify(client, document).status_code == 200
    issued.refresh_from_db()
    assert [event.action for event in issued.events.all()][-2:] == ["suspended", "reinstated"]


@pytest.mark.parametrize(
    ("entry", "status"),
    [
        ({"statusPurpose": "revocation", "status": "maybe"}, 400),
        ({"statusPurpose": "refresh", "status": True}, 400),
        ({"type": "StatusList2021Entry", "statusPurpose": "revocation", "status": True}, 400),
        ("revoked", 400),
    ],
    ids=["unreadable-status", "unknown-purpose", "other-type", "not-an-object"],
)
def test_an_unreadable_status_update_is_400_and_changes_nothing(
    client, institution, token, entry, status
):
    issued = issue(MicroCredentialFactory(institution=institution))
    response = client.post(
        "/vc-api/credentials/status",
        {"credentialId": issued.credential_id, "credentialStatus": [entry]},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == status
    issued.refresh_from_db()
    assert issued.status == "issued"


def test_a_status_update_for_an_unknown_credential_is_404(client, token):
    response = set_status(
        client, token, "urn:uuid:00000000-0000-4000-8000-000000000000", "revocation", True
    )
    assert response.status_code == 404
    assert (
        set_status(client, token, "https://elsewhere.example/vc/1", "revocation", True).status_code
        == 404
    )


def test_the_status_endpoint_needs_the_status_scope(client, institution):
    issued = issue(MicroCredentialFactory(institution=institution))
    reader = make_token(institution, scopes=[ApiScope.READ, ApiScope.ISSUE])
    assert set_status(client, reader, issued.credential_id, "revocation", True).status_code == 403


def nested(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"deeper": [value]}
    return value


@pytest.mark.parametrize("first_context", [V1, V2], ids=["vc-1.1", "proof-set"])
def test_a_deeply_nested_credential_is_400_not_a_crash(client, first_context):
    credential = {
        "@context": [first_context],
        "type": ["VerifiableCredential"],
        "credentialSubject": nested(400),
        "proof": [{"type": "DataIntegrityProof"}, {"type": "DataIntegrityProof"}],
    }
    response = verify(client, credential)
    assert response.status_code == 400
    assert "nested" in response.json()["error"]["message"]


def test_a_deeply_nested_presentation_is_400_not_a_crash(client):
    document = {"@context": [V2], "type": ["VerifiablePresentation"], "holder": nested(400)}
    response = verify_presentation(client, document)
    assert response.status_code == 400
    assert "nested" in response.json()["error"]["message"]
