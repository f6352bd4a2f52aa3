"""Work budgets of verification (issue 18): a poison corpus of blank-node graphs, each answered
by /api/v1/verify and /vc-api/credentials/verify with a named refusal in well under a second of
CPU, and signing refusing them too, while a legitimate credential with blank nodes verifies.

CPU is measured around the request (poisons.cpu_seconds): this process, where the test client runs
the view, and the canonicalising processes it sends costly work to, whatever else the machine is
doing.
"""

import copy
import functools
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.urls import reverse

from credentials import documents
from credentials.issuing import services as credential_services
from credentials.issuing import verifier
from credentials.models import IssuedCredential
from credentials.standards import proof_sets, signing
from institutions.models import AuditEvent
from learners.models import ImportedCredential
from tests.credentials.proofs import presentation
from tests.factories import (
    InstitutionFactory,
    MicroCredentialFactory,
    UserFactory,
    issue,
    make_token,
)
from tests.learners.holding import as_if_issued_elsewhere
from tests.security import hostile
from tests.security.poisons import (  # noqa: F401 (autouse fixtures)
    OB3,
    POISONS,
    V2,
    clique,
    fresh_rate_limits_and_shapes,
    no_errors_logged,
    poisoned,
    within_cpu_budget,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """An OB 3.0 credential shaped like this node's, without its proof."""
    return {
        "@context": [V2, OB3],
        "id": "urn:uuid:5c1e3f4a-9b7d-4e2a-8f6c-1a2b3c4d5e6f",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:example:issuer", "type": ["Profile"], "name": "Uni A"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "urn:uuid:0b5a1a3e-1c4e-4a47-9d56-1b0c1a4c2b10",
                "type": ["Achievement"],
                "name": "Data Literacy",
                "description": "Reading data.",
                "criteria": {"narrative": "Pass the exam."},
            },
        },
    }


@pytest.fixture
def signed_document() -> dict[str, Any]:
    """A real credential of this node, with its proof (the key resolves locally)."""
    return json.loads(issue().document)


def proof_detail(result: dict[str, Any]) -> str:
    (check,) = [check for check in result["checks"] if check["check"] == "proof"]
    assert check["ok"] is False
    return str(check.get("detail") or check.get("message") or check)


@pytest.mark.parametrize("name", POISONS)
def test_the_verify_api_refuses_each_poison_by_name_within_the_cpu_budget(signed_document, name):
    poison, words = POISONS[name]
    body = json.dumps(poisoned(signed_document, poison))
    assert len(body) < 512 * 1024  # under the size cap: only a work budget can stop it
    client = hostile.quiet_client()
    for _ in range(2):  # the second time, the shape is known: no costlier path either
        response = within_cpu_budget(
            lambda: client.post("/api/v1/verify", data=body, content_type="application/json")
        )
        assert response.status_code == 200
        result = hostile.json_body(response)
        assert result["verified"] is False
        assert words in proof_detail(result)


@pytest.mark.parametrize("name", ["clique-20", "dense-clique-25", "alike-ring-300", "chain-500"])
def test_a_poison_under_a_full_proof_set_is_refused_once_within_the_cpu_budget(
    signed_document, name
):
    # Each proof of a set canonicalises the document again; the first refusal answers for all.
    poison, words = POISONS[name]
    document = poisoned(signed_document, poison)
    document["proof"] = document["proof"] * proof_sets.MAX_PROOFS
    client = hostile.quiet_client()
    for path, body in (
        ("/api/v1/verify", json.dumps(document)),
        ("/vc-api/credentials/verify", json.dumps({"verifiableCredential": document})),
    ):

        def post(path: str = path, body: str = body) -> Any:
            return client.post(path, data=body, content_type="application/json")

        response = within_cpu_budget(post)
        assert words in response.content.decode()
        assert "proof 2: not checked: " in response.content.decode()


@pytest.mark.parametrize("name", POISONS)
def test_the_vc_api_refuses_each_poison_by_name_within_the_cpu_budget(signed_document, name):
    poison, words = POISONS[name]
    body = {"verifiableCredential": poisoned(signed_document, poison), "options": {}}
    response = within_cpu_budget(
        lambda: hostile.quiet_client().post(
            "/vc-api/credentials/verify", body, content_type="application/json"
        )
    )
    assert response.status_code == 400, response.content[:300]
    assert words in response.content.decode()


def test_the_issues_own_input_was_refused_after_seconds_and_now_within_the_budget(
    signed_document,
):
    # 165 blank nodes each related to all the others, about 430 KB: 18.5 s of CPU before.
    body = json.dumps(poisoned(signed_document, lambda d: clique(d, 165)))
    assert 400 * 1024 < len(body) < 512 * 1024
    response = within_cpu_budget(
        lambda: hostile.quiet_client().post(
            "/api/v1/verify", data=body, content_type="application/json"
        )
    )
    assert "too-large" in proof_detail(hostile.json_body(response))


def test_a_legitimate_credential_with_blank_nodes_still_verifies(signed_document):
    dataset = signing._SafeProcessor().to_rdf(
        {k: v for k, v in signed_document.items() if k != "proof"},
        {"documentLoader": signing.load_document, "base": None},
    )
    blank_nodes = {
        quad[position]["value"]
        for quad in dataset["@default"]
        for position in ("subject", "object")
        if quad[position]["type"] == "blank node"
    }
    assert len(blank_nodes) >= 10  # alignments, identifiers, the subject: a realistic graph
    body = json.dumps(signed_document)
    for path in ("/api/v1/verify", "/vc-api/credentials/verify"):
        payload: Any = (
            body if path == "/api/v1/verify" else {"verifiableCredential": signed_document}
        )
        response = within_cpu_budget(
            functools.partial(
                hostile.quiet_client().post, path, payload, content_type="application/json"
            )
        )
        assert response.status_code == 200, response.content[:300]
        assert response.json()["verified"] is True


@pytest.mark.parametrize("name", ["dense-clique-25", "alike-ring-300", "blank-tree-600"])
def test_signing_refuses_a_poison_with_a_named_reason_instead_of_hanging(template, name):
    poison, words = POISONS[name]
    with pytest.raises(signing.CanonicalizationError, match=words):
        within_cpu_budget(
            lambda: signing.sign_document(
                poison(template),
                private_key=Ed25519PrivateKey.generate(),
                verification_method="did:example:issuer#key-1",
                created="2026-01-01T00:00:00Z",
            )
        )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("dense-clique-25", "too_complex"),
        ("chain-500", "too_complex"),
        ("blank-tree-600", "too_many_blank_nodes"),
        ("wide-list-10000", "too_large"),
    ],
)
def test_the_vc_api_refuses_to_sign_a_poison_with_a_stable_code_within_the_cpu_budget(
    template, name, code
):
    institution = InstitutionFactory()
    token = make_token(institution)
    poison, words = POISONS[name]
    credential = {**poison(template), "issuer": {**template["issuer"], "id": institution.did}}
    response = within_cpu_budget(
        lambda: hostile.quiet_client().post(
            "/vc-api/credentials/issue",
            {"credential": credential},
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == code
    assert words in error["message"]
    assert not AuditEvent.objects.filter(action="vc_api.credential_signed").exists()


@pytest.mark.parametrize("name", ["dense-clique-25", "chain-500", "split-list-500"])
def test_a_presentation_carrying_a_poison_is_refused_within_the_cpu_budget(signed_document, name):
    # Signed over a legitimate credential, then given the poisoned one: the verifier must
    # canonicalise the presentation (and the credential) before it can tell.
    legitimate = presentation(
        signed_document, Ed25519PrivateKey.generate(), challenge="c-1", domain="v.example"
    )
    document = {
        **legitimate,
        "verifiableCredential": [poisoned(signed_document, POISONS[name][0])],
    }
    response = within_cpu_budget(
        lambda: hostile.quiet_client().post(
            "/vc-api/presentations/verify",
            {"verifiablePresentation": document, "options": {"challenge": "c-1"}},
            content_type="application/json",
        )
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["verified"] is False
    assert POISONS[name][1] in response.content.decode()


@pytest.mark.parametrize("name", ["dense-clique-25", "alike-ring-300", "blank-tree-600"])
def test_a_wallet_import_of_a_poison_is_kept_unverified_with_the_reason_within_the_cpu_budget(
    signed_document, logged_in, name
):
    # Its learner (the wallet takes only its owner's credentials), whose wallet does not hold
    # the original: else the import stops at "already in your wallet" before verifying.
    learner = UserFactory(email="ana@example.eu")
    client = logged_in(learner)
    IssuedCredential.objects.filter(holder=learner).update(holder=None)
    as_if_issued_elsewhere()
    document = json.dumps(poisoned(signed_document, POISONS[name][0]))
    within_cpu_budget(lambda: client.post(reverse("learners:import"), {"document": document}))
    imported = ImportedCredential.objects.get(owner=learner)
    assert imported.verified is False
    assert POISONS[name][1] in json.dumps(imported.verification)


@pytest.mark.parametrize("name", ["dense-clique-25", "chain-500", "split-list-500"])
def test_the_verify_page_refuses_a_poison_by_name_within_the_cpu_budget(signed_document, name):
    poison, words = POISONS[name]
    document = json.dumps(poisoned(signed_document, poison))
    response = within_cpu_budget(
        lambda: hostile.quiet_client().post("/verify", {"document": document})
    )
    assert response.status_code == 200
    assert words in response.content.decode()


def test_endorsements_carried_by_a_credential_are_checked_within_one_budget_and_never_called_invalid(
    signed_document,
):
    # Ten poisoned endorsements: together they get one request's budget; once it is spent the
    # rest are refused before any work, and each is listed as not checked, never as invalid.
    offer = MicroCredentialFactory()
    endorsement = json.loads(
        credential_services.endorsement_issue(
            actor=None,
            institution=InstitutionFactory(),
            subject_id=documents.offer_url(offer),
            subject_name=offer.title,
            comment="Recognised for 5 ECTS",
        ).document
    )
    document = copy.deepcopy(signed_document)
    document["credentialSubject"]["achievement"]["endorsement"] = [
        poisoned(endorsement, POISONS["dense-clique-25"][0])
    ] * verifier.MAX_ENDORSEMENTS_CHECKED
    response = within_cpu_budget(
        lambda: hostile.quiet_client().post(
            "/api/v1/verify", data=json.dumps(document), content_type="application/json"
        )
    )
    result = hostile.json_body(response)
    assert [each["state"] for each in result["endorsements"]["checked"]] == [
        "unchecked"
    ] * verifier.MAX_ENDORSEMENTS_CHECKED
