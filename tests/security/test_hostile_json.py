"""Hostile JSON at every door that takes it: /api/v1/verify, the issuer API, the VC-API and the
learner's import. Each answer is a clear 4xx (or a failed verdict), never a 500; nothing is
stored half-way; nothing is logged as an error."""

import copy
import json
from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credentials.exceptions import CredentialUnsignable
from credentials.issuing import verifier
from credentials.models import (
    BulkIssueRow,
    CredentialEvent,
    IssuedCredential,
    MicroCredentialVersion,
    StatusList,
)
from credentials.standards.verification import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH
from institutions.models import AuditEvent
from learners.models import ImportedCredential, LearnerEvent
from tests.factories import MicroCredentialFactory, UserFactory, issue, make_token
from tests.learners.holding import as_if_issued_elsewhere
from tests.security import hostile

pytestmark = pytest.mark.django_db

ISSUED_ROWS = (
    IssuedCredential,
    CredentialEvent,
    MicroCredentialVersion,
    StatusList,
    AuditEvent,
    BulkIssueRow,
)


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    with hostile.nothing_logged_at_error(caplog):
        yield


@pytest.fixture
def signed_document() -> dict:
    """A real credential of this node, as issued, with a learner name full of surprises."""
    credential = issue(holder_name="Ana \u202eakswolaK \U0001f469\u200d\U0001f393")
    return json.loads(credential.document)


def post_json(client, path: str, body: bytes | str, **headers: str):
    return client.post(path, data=body, content_type="application/json", headers=headers)


# /api/v1/verify ------------------------------------------------------------------------------


def verify_api(body: bytes | str):
    response = post_json(hostile.quiet_client(), "/api/v1/verify", body)
    assert response.status_code == 200, response.content[:300]
    return hostile.json_body(response)


@hostile.BOUNDED
@given(body=st.binary(max_size=300))
def test_verify_api_answers_any_bytes_with_a_failed_verdict(body: bytes):
    result = verify_api(body)
    assert result["verified"] is False
    assert result["errors"]


@hostile.BOUNDED
@given(document=hostile.credential_like)
def test_verify_api_answers_credential_shaped_junk_with_a_failed_verdict(document: dict):
    result = verify_api(json.dumps(document))
    assert result["verified"] is False
    assert {check["check"] for check in result["checks"]} >= {"json"}


@hostile.BOUNDED
@given(value=hostile.json_values)
def test_verify_api_answers_any_json_value_with_a_failed_verdict(value):
    assert verify_api(json.dumps(value))["verified"] is False


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (hostile.deeply_nested(100_000), "deep"),
        (hostile.deeply_nested(DEFAULT_MAX_DEPTH + 1), "deep"),
        (hostile.huge_json(DEFAULT_MAX_BYTES + 1), "large"),
        (hostile.huge_json(6 * 1024 * 1024), "large"),
        (b'{"a": NaN}', "JSON"),
        (b'{"a": 1, "a": 2}', "twice"),
        (b"\xff\xfe{}", ""),
        (b"", ""),
    ],
    ids=[
        "nested-100k",
        "nested-limit",
        "over-limit",
        "over-upload-limit",
        "nan",
        "dup",
        "utf16",
        "empty",
    ],
)
def test_verify_api_refuses_malformed_huge_and_deep_json_in_plain_words(body: bytes, words: str):
    result = verify_api(body)
    assert result["verified"] is False
    assert words.lower() in " ".join(result["errors"]).lower()


CONTEXT_TRICKS = {
    "remote context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/ctx.jsonld"],
    "unknown context first": ["https://evil.example/ctx.jsonld"],
    "inline redefinition": [
        "https://www.w3.org/ns/credentials/v2",
        {"name": "https://evil.example/name", "@vocab": "https://evil.example/"},
    ],
    "null context": None,
    "context as number": 7,
    "context object only": {"@vocab": "https://evil.example/"},
    "protected term override": [
        "https://www.w3.org/ns/credentials/v2",
        {"@version": 1.1, "VerifiableCredential": "https://evil.example/VC"},
    ],
    "file url": ["file:///etc/passwd"],
    "loopback url": ["https://www.w3.org/ns/credentials/v2", "http://127.0.0.1:9/ctx"],
    "import": ["https://www.w3.org/ns/credentials/v2", {"@import": "https://evil.example/c"}],
}


@pytest.mark.parametrize("trick", CONTEXT_TRICKS, ids=list(CONTEXT_TRICKS))
def test_verify_api_never_fetches_or_trusts_a_context_it_does_not_bundle(signed_document, trick):
    # pytest-socket refuses every connection but loopback, and a port 9 listener is absent:
    # a fetch would raise, not verify.
    document = copy.deepcopy(signed_document)
    document["@context"] = CONTEXT_TRICKS[trick]
    result = verify_api(json.dumps(document))
    assert result["verified"] is False


def test_verify_api_still_verifies_the_untouched_credential(signed_document):
    assert verify_api(json.dumps(signed_document))["verified"] is True


def first_proof(document: dict) -> dict:
    proof = document["proof"]
    return proof[0] if isinstance(proof, list) else proof


@pytest.mark.parametrize(
    "change",
    [
        "proof set with a forged copy",
        "proof chain to a missing proof",
        "proof chain to itself",
        "proof as a string",
        "proof list of junk",
        "empty proof list",
        "hundred proofs",
    ],
)
def test_verify_api_refuses_forged_proof_sets_and_chains(signed_document, change: str):
    document = copy.deepcopy(signed_document)
    proof = first_proof(document)
    forged = {**proof, "proofValue": "z" + "1" * 86}
    if change == "proof set with a forged copy":
        document["proof"] = [forged]
    elif change == "proof chain to a missing proof":
        document["proof"] = {**forged, "id": "urn:uuid:b", "previousProof": "urn:uuid:nowhere"}
    elif change == "proof chain to itself":
        document["proof"] = [{**forged, "id": "urn:uuid:a", "previousProof": "urn:uuid:a"}]
    elif change == "proof as a string":
        document["proof"] = "trust me"
    elif change == "proof list of junk":
        document["proof"] = [1, None, "x", []]
    elif change == "empty proof list":
        document["proof"] = []
    else:
        document["proof"] = [forged] * 100
    assert verify_api(json.dumps(document))["verified"] is False


def test_a_valid_proof_next_to_a_forged_one_does_not_make_the_set_verify(signed_document):
    document = copy.deepcopy(signed_document)
    proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
    document["proof"] = [*proofs, {**proofs[0], "proofValue": "z" + "1" * 86}]
    result = verify_api(json.dumps(document))
    assert result["verified"] is False


# The issuer API ------------------------------------------------------------------------------


@pytest.fixture
def issuer():
    micro_credential = MicroCredentialFactory()
    return micro_credential, make_token(micro_credential.institution)


def issuer_api(path: str, body: bytes | str, token: str):
    return post_json(hostile.quiet_client(), path, body, Authorization=f"Bearer {token}")


def assert_refused(response, *statuses: int) -> dict:
    assert response.status_code in statuses, (response.status_code, response.content[:400])
    error = hostile.json_body(response)["error"]
    assert error["code"] and error["message"]
    return error


@hostile.BOUNDED
@given(body=st.binary(max_size=200) | hostile.json_values.map(json.dumps).map(str.encode))
def test_the_issuer_api_refuses_junk_bodies_with_a_json_error_and_stores_nothing(issuer, body):
    _micro_credential, token = issuer
    before = hostile.counts(*ISSUED_ROWS)
    for path in ("/api/v1/credentials", "/api/v1/credentials/batch"):
        assert_refused(issuer_api(path, body, token), 400, 413, 422)
    assert hostile.counts(*ISSUED_ROWS) == before


@hostile.BOUNDED
@given(
    holder_name=st.one_of(hostile.json_values, hostile.hostile_text),
    holder_email=hostile.json_values,
    awarded_date=hostile.json_values,
    grade=hostile.json_values,
    evidence_url=hostile.json_values,
    evidence_narrative=hostile.json_values,
)
def test_the_issuer_api_either_issues_a_credential_that_verifies_or_refuses_it_whole(
    issuer, holder_name, holder_email, awarded_date, grade, evidence_url, evidence_narrative
):
    micro_credential, token = issuer
    before = hostile.counts(*ISSUED_ROWS)
    learner = {
        "holder_name": holder_name,
        "holder_email": holder_email,
        "awarded_date": awarded_date,
        "grade": grade,
        "evidence_url": evidence_url,
        "evidence_narrative": evidence_narrative,
    }
    body = json.dumps({"micro_credential": str(micro_credential.public_id), **learner})
    response = issuer_api("/api/v1/credentials", body, token)
    if response.status_code == 201:
        document = hostile.json_body(response)["document"]
        assert verifier.verify(document)["verified"]
    else:
        assert_refused(response, 422)
        assert hostile.counts(*ISSUED_ROWS) == before


@pytest.mark.parametrize("name", [*hostile.AWKWARD_TEXTS, hostile.XSS])
def test_the_issuer_api_issues_or_refuses_awkward_names_and_never_half_stores(issuer, name):
    micro_credential, token = issuer
    before = hostile.counts(*ISSUED_ROWS)
    body = {
        "micro_credential": str(micro_credential.public_id),
        "holder_name": name,
        "holder_email": "ana@example.eu",
        "awarded_date": "2026-01-20",
        "evidence_narrative": name,
    }
    response = issuer_api("/api/v1/credentials", json.dumps(body), token)
    if response.status_code == 201:
        credential = IssuedCredential.objects.get(public_id=hostile.json_body(response)["id"])
        assert credential.holder_name == name.strip()
        assert verifier.verify(credential.document)["verified"]
    else:
        error = assert_refused(response, 422)
        assert "holder_name" in error.get("fields", {}) or error["code"] == "unsignable"
        assert hostile.counts(*ISSUED_ROWS) == before


def test_a_batch_with_one_bad_learner_issues_nobody(issuer):
    micro_credential, token = issuer
    before = hostile.counts(*ISSUED_ROWS)
    good = {"holder_name": "Ana", "holder_email": "ana@example.eu", "awarded_date": "2026-01-20"}
    bad = {**good, "holder_email": "ben@example.eu", "holder_name": "Ben\x00"}
    body = {"micro_credential": str(micro_credential.public_id), "recipients": [good, bad]}
    error = assert_refused(issuer_api("/api/v1/credentials/batch", json.dumps(body), token), 422)
    assert "recipients[1].holder_name" in error["fields"]
    assert hostile.counts(*ISSUED_ROWS) == before


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (hostile.huge_json(3 * 1024 * 1024), 413),
        (hostile.deeply_nested(100_000), 400),
        (b'{"micro_credential": {"$gt": ""}}', 422),
        (b'{"recipients": ' + b"[{}]" * 1 + b"}", 422),
        (json.dumps({"recipients": [{}] * 101}).encode(), 422),
        (b'{"a": Infinity}', 400),
    ],
    ids=["huge", "deep", "object-for-uuid", "empty-learner", "too-many", "infinity"],
)
def test_the_issuer_api_refuses_huge_deep_and_mistyped_bodies(issuer, body, status):
    _micro_credential, token = issuer
    before = hostile.counts(*ISSUED_ROWS)
    assert_refused(issuer_api("/api/v1/credentials/batch", body, token), status)
    assert hostile.counts(*ISSUED_ROWS) == before


# The VC-API ----------------------------------------------------------------------------------


def vc_credential(did: str, **changes) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "credentialSubject": {"id": "did:example:ana", "name": "Ana"},
        **changes,
    }


@hostile.BOUNDED
@given(credential=hostile.credential_like)
def test_the_vc_api_issuer_refuses_credential_shaped_junk_without_a_500(issuer, credential):
    _micro_credential, token = issuer
    before = hostile.counts(AuditEvent)
    response = issuer_api(
        "/vc-api/credentials/issue", json.dumps({"credential": credential}), token
    )
    assert response.status_code < 500
    if response.status_code != 201:
        assert_refused(response, 400, 422)
        assert hostile.counts(AuditEvent) == before


@pytest.mark.parametrize("trick", CONTEXT_TRICKS, ids=list(CONTEXT_TRICKS))
def test_the_vc_api_issuer_signs_nothing_under_an_unknown_or_tricked_context(issuer, trick):
    micro_credential, token = issuer
    credential = vc_credential(micro_credential.institution.did)
    context = CONTEXT_TRICKS[trick]
    credential["@context"] = context
    before = hostile.counts(AuditEvent)
    response = issuer_api(
        "/vc-api/credentials/issue", json.dumps({"credential": credential}), token
    )
    assert_refused(response, 400)
    assert hostile.counts(AuditEvent) == before


@pytest.mark.parametrize("name", [*hostile.AWKWARD_TEXTS, hostile.XSS])
def test_the_vc_api_issuer_signs_awkward_text_that_then_verifies_or_refuses_it(issuer, name):
    micro_credential, token = issuer
    credential = vc_credential(
        micro_credential.institution.did,
        credentialSubject={"id": "did:example:ana", "name": name},
    )
    response = issuer_api(
        "/vc-api/credentials/issue", json.dumps({"credential": credential}), token
    )
    if response.status_code == 201:
        signed = hostile.json_body(response)["verifiableCredential"]
        assert signed["credentialSubject"]["name"] == name
        assert verifier.verify(signed)["checks"][0]["ok"]
    else:
        assert_refused(response, 400)


@hostile.BOUNDED
@given(body=hostile.json_values)
def test_the_vc_api_verifiers_answer_junk_with_a_4xx(body):
    client = hostile.quiet_client()
    for path, member in (
        ("/vc-api/credentials/verify", "verifiableCredential"),
        ("/vc-api/presentations/verify", "verifiablePresentation"),
    ):
        response = post_json(client, path, json.dumps({member: body}))
        assert 400 <= response.status_code < 500, (path, response.content[:300])


# Import into the wallet ----------------------------------------------------------------------


@pytest.fixture
def learner_client():
    client = hostile.quiet_client()
    # The learner signed_document is issued to (ana@example.eu): the wallet takes only its
    # owner's credentials. Signed in first, so the credential is not attached to it already.
    user = UserFactory(email="ana@example.eu")
    client.force_login(user)
    return client


IMPORT_ROWS = (ImportedCredential, LearnerEvent)


@hostile.BOUNDED
@given(document=hostile.credential_like | hostile.json_values)
def test_importing_junk_says_why_and_keeps_nothing(learner_client, document):
    before = hostile.counts(*IMPORT_ROWS)
    response = learner_client.post("/wallet/import/", {"document": json.dumps(document)})
    if response.status_code == 302:
        # A document that says it is a credential is kept with its (failed) verdict.
        imported = ImportedCredential.objects.order_by("-pk").first()
        assert imported is not None and not imported.verified
        imported.delete()
    else:
        assert response.status_code == 400
        assert b"errorlist" in response.content or b"error" in response.content
        assert hostile.counts(*IMPORT_ROWS) == before


@pytest.mark.parametrize(
    "text",
    [
        "\x00" * 10,
        "[" * 100_000 + "]" * 100_000,
        json.dumps({"type": ["VerifiableCredential"], "name": "x" * 10_000}),
        json.dumps(
            {
                "type": ["VerifiableCredential"],
                "name": "Ana\x00",
                "issuer": {"id": "did:web:x", "name": "\x00" * 400},
                "credentialSubject": {"achievement": {"creditsAvailable": "9" * 400}},
            }
        ),
        json.dumps(
            {
                "@context": ["http://data.europa.eu/snb/model/context/edc-ap"],
                "type": ["EuropeanDigitalCredential"],
                "issuer": {"id": "x" * 2000, "legalName": {"en": "\x00" + "y" * 2000}},
                "credentialSubject": {
                    "hasClaim": {"title": {"en": hostile.XSS}, "specifiedBy": {"eqfLevel": 7}}
                },
            }
        ),
    ],
    ids=["nul", "deep", "long-name", "nul-in-fields", "edc-long"],
)
def test_importing_a_hostile_document_never_fails_with_a_500(learner_client, text):
    response = learner_client.post("/wallet/import/", {"document": text})
    assert response.status_code in (302, 400)


def test_importing_a_file_over_the_limit_is_refused_before_it_is_read(learner_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = hostile.counts(*IMPORT_ROWS)
    upload = SimpleUploadedFile("big.json", hostile.huge_json(DEFAULT_MAX_BYTES * 4))
    response = learner_client.post("/wallet/import/", {"upload": upload})
    assert response.status_code == 400
    assert b"larger than" in response.content
    assert hostile.counts(*IMPORT_ROWS) == before


def test_a_credential_with_awkward_text_imports_and_verifies(learner_client, signed_document):
    as_if_issued_elsewhere()
    response = learner_client.post("/wallet/import/", {"document": json.dumps(signed_document)})
    assert response.status_code == 302
    assert ImportedCredential.objects.get().verified


def test_the_issuing_service_refuses_unsignable_text_in_words_and_stores_nothing():
    # What the API's control-character check guards against: canonical N-Quads cannot
    # carry them, and the service says so rather than failing with a 500.
    micro_credential = MicroCredentialFactory()
    before = hostile.counts(*ISSUED_ROWS)
    with pytest.raises(CredentialUnsignable, match="could not be signed"):
        issue(micro_credential, holder_name="Ana\x07", awarded_date=date(2026, 1, 1))
    assert hostile.counts(IssuedCredential)["IssuedCredential"] == before["IssuedCredential"]
