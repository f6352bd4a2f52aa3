"""Work budgets of the doors beyond single-credential verification (issue 18): a presentation
carrying many costly credentials, a partner's signed inbox message carrying a poisoned one, a
partner's catalogue page at its caps, and OpenID4VCI credential requests and key proofs. Each is
answered, or refused by name, within a second of process CPU, and nothing is stored half-way.

CPU is measured around the call (poisons.cpu_seconds): this process, where the test client runs the
view, and the canonicalising processes it sends costly work to, whatever else the machine is doing.
"""

import base64
import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.standards import elm_offer, jose, oid4vci, signing
from exchange import catalogue_elm, catalogue_feed
from exchange.models import Delivery, IncomingCredential, Partner
from institutions.models import AuditEvent
from tests.credentials import builder_samples
from tests.credentials.proofs import presentation
from tests.exchange.partners import issue as partner_issue
from tests.exchange.partners import two_partners
from tests.factories import issue
from tests.security import hostile
from tests.security.poisons import (  # noqa: F401 (autouse fixtures)
    POISONS,
    fresh_rate_limits_and_shapes,
    no_errors_logged,
    poisoned,
    within_cpu_budget,
)

pytestmark = pytest.mark.django_db

EXCHANGE_ROWS = (IncomingCredential, Delivery, Partner, AuditEvent)


# Presentations ------------------------------------------------------------------------------

# Poisons small enough that 16 fit in one presentation under the 512 KiB body cap.
SMALL_POISONS = ["clique-20", "dense-clique-25", "alike-ring-300", "blank-tree-600"]


@pytest.mark.parametrize("name", SMALL_POISONS)
def test_a_presentation_of_sixteen_poisons_is_refused_within_one_requests_budget(name):
    signed = json.loads(issue().document)
    legitimate = presentation(signed, Ed25519PrivateKey.generate(), challenge="c-1")
    document = {
        **legitimate,
        "verifiableCredential": [poisoned(signed, POISONS[name][0]) for _ in range(16)],
    }
    body = json.dumps({"verifiablePresentation": document, "options": {"challenge": "c-1"}})
    assert len(body) < 512 * 1024  # under the size cap: only a work budget can stop it
    response = within_cpu_budget(
        lambda: hostile.quiet_client().post(
            "/vc-api/presentations/verify", body, content_type="application/json"
        )
    )
    assert response.status_code == 400, response.content[:300]
    result = response.json()
    assert result["verified"] is False
    refusals = json.dumps(result)
    # The first poisons are refused for what they are, the rest for the request's budget.
    assert POISONS[name][1] in refusals
    assert "the request as a whole needs more work than this node allows" in refusals


def test_a_presentation_of_several_credentials_within_the_budget_verifies():
    credentials = [json.loads(issue().document) for _ in range(3)]
    document = presentation(credentials, Ed25519PrivateKey.generate(), challenge="c-2")
    response = within_cpu_budget(
        lambda: hostile.quiet_client().post(
            "/vc-api/presentations/verify",
            {"verifiablePresentation": document, "options": {"challenge": "c-2"}},
            content_type="application/json",
        )
    )
    assert response.status_code == 200, response.content[:500]
    assert response.json()["verified"] is True


def test_the_request_budget_refuses_once_spent_and_is_restored_after_the_block():
    signed = json.loads(issue().document)
    unsecured = {name: value for name, value in signed.items() if name != "proof"}
    poison = POISONS["dense-clique-25"][0](unsecured)
    assert signing.canonicalize(unsecured)  # no budget outside a block
    with signing.request_work_budget(units=2 * signing.MAX_DOCUMENT_WORK):
        for _ in range(2):
            with pytest.raises(signing.CanonicalizationError, match="too alike"):
                signing.canonicalize(poison)
        # Two refusals spent the budget: even a legitimate document is refused, before any work.
        with pytest.raises(signing.CanonicalizationError, match="as a whole") as refused:
            signing.canonicalize(unsecured)
        assert refused.value.failure is signing.Failure.TOO_COMPLEX
        with signing.request_work_budget(units=signing.MAX_DOCUMENT_WORK):
            assert signing.canonicalize(unsecured)  # an inner block has its own budget
        with pytest.raises(signing.CanonicalizationError, match="as a whole"):
            signing.canonicalize(unsecured)  # and the outer one is restored after it
    assert signing.canonicalize(unsecured)


def test_a_legitimate_document_is_charged_its_own_work_only():
    unsecured = {k: v for k, v in json.loads(issue().document).items() if k != "proof"}
    signing.canonicalize(unsecured)
    cost = signing.last_canonicalization_work()
    assert 0 < cost < signing.MAX_DOCUMENT_WORK
    # A budget of exactly n documents' cost lets n through and refuses the next.
    with signing.request_work_budget(units=3 * cost):
        for _ in range(3):
            signing.canonicalize(unsecured)
        with pytest.raises(signing.CanonicalizationError, match="as a whole"):
            signing.canonicalize(unsecured)


# Exchange messages ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["clique-20", "dense-clique-25", "alike-ring-300", "chain-500"])
def test_a_partners_signed_delivery_of_a_poison_is_refused_within_the_budget(name, settings):
    uni_a, uni_b, _a_to_b, _b_to_a = two_partners(base_url=settings.MESHE_BASE_URL)
    signed = json.loads(partner_issue(uni_a).document)
    credential = poisoned(signed, POISONS[name][0])
    body = json.dumps({"credential": credential, "learner": {"name": "Ana"}}).encode()
    assert len(body) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    before = hostile.counts(*EXCHANGE_ROWS)
    response = within_cpu_budget(lambda: hostile.signed_exchange_post(uni_a, uni_b, "inbox", body))
    assert response.status_code == 422, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    (proof,) = [check for check in response.json()["checks"] if check["check"] == "proof"]
    assert POISONS[name][1] in proof["detail"]  # the sender learns why
    assert hostile.counts(*EXCHANGE_ROWS) == before


def feed_page(items: list[Any]) -> bytes:
    return json.dumps({"items": items, "next": None, "watermark": "2026-01-01T00:00:00Z"}).encode()


def feed_item(index: int, padding: int) -> dict[str, Any]:
    return {
        "id": f"https://partner.example/offers/{index}",
        "status": "published",
        "modified": "2026-01-01T00:00:00Z",
        "summary": {"title": f"Offer {index}", "stacksInto": []},
        "achievement": {"description": "x" * padding},
    }


@pytest.mark.parametrize(
    ("body", "refusal"),
    [
        # 500 items of about 9.9 KB: the largest page a partner may send, read in full.
        (feed_page([feed_item(i, 9_800) for i in range(500)]), None),
        (feed_page([feed_item(i, 10) for i in range(501)]), "items must be a list"),
        (feed_page([feed_item(0, 4_900_000)]), "too large"),
        (feed_page([feed_item(i, 10) for i in range(499)] + [feed_item(1, 10)]), "twice"),
        (b'{"items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "not JSON"),
        (feed_page([{"achievement": {"a": [{}] * 1_200_000}}]), "too large"),
    ],
    ids=["largest", "too-many-items", "one-huge-item", "duplicate", "deep", "wide"],
)
def test_a_partners_catalogue_page_is_read_or_refused_within_the_budget(body, refusal):
    assert len(body) <= catalogue_feed.MAX_PAGE_BYTES or refusal == "too large"
    if refusal is None:
        page = within_cpu_budget(lambda: catalogue_feed.parse_page(body), pure=True)
        assert len(page.items) == 500
        return
    with pytest.raises(catalogue_feed.FeedError, match=refusal):
        within_cpu_budget(lambda: catalogue_feed.parse_page(body), pure=True)


ELM_SIZE = 0  # set below, once the sample exists


def elm_opportunity(index: int, padding: int) -> dict[str, Any]:
    """A LearningOpportunity as this node writes one, padded to about padding bytes more."""
    document = copy.deepcopy(ELM_OPPORTUNITY)
    document["id"] = f"https://partner.example/offers/{index}"
    document["description"] = {"en": "x" * padding}
    return document


def elm_page(items: list[Any]) -> bytes:
    return json.dumps({"items": items, "next": None}).encode()


# The smallest offer this node publishes (about 7.7 KB), so that 500 fit in a page.
ELM_OPPORTUNITY = elm_offer.build_learning_opportunity(
    issuer=builder_samples.minimal_issuer(),
    specification=builder_samples.minimal_specification(),
    offer=elm_offer.Offer(
        url="https://partner.example/offers/0",
        language="en",
        modified=datetime(2026, 1, 1, tzinfo=UTC),
    ),
)
ELM_SIZE = len(json.dumps(ELM_OPPORTUNITY))


@pytest.mark.parametrize(
    ("body", "refusal"),
    [
        # 500 opportunities of about 9.9 KB: the largest ELM page a partner may send.
        (elm_page([elm_opportunity(i, 9_900 - ELM_SIZE) for i in range(500)]), None),
        (elm_page([elm_opportunity(i, 10) for i in range(501)]), "at most 500"),
        (elm_page([elm_opportunity(0, 4_900_000)]), "too large"),
        (elm_page([elm_opportunity(1, 10), elm_opportunity(1, 10)]), "twice"),
        (b'{"items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "not JSON"),
        (
            elm_page([{**ELM_OPPORTUNITY, "title": {f"x{i}": "t" for i in range(400_000)}}]),
            "too large",
        ),
        (b'{"items": [' + b",".join([b"{}"] * 1_500_000) + b"]}", "too large"),
    ],
    ids=["largest", "too-many-items", "one-huge-item", "duplicate", "deep", "wide", "objects"],
)
def test_a_partners_elm_catalogue_page_is_read_or_refused_within_the_budget(body, refusal):
    assert len(body) <= catalogue_feed.MAX_PAGE_BYTES or refusal == "too large"
    now = datetime(2026, 12, 7, tzinfo=UTC)
    if refusal is None:
        page = within_cpu_budget(lambda: catalogue_elm.parse_page(body, fetched_at=now), pure=True)
        assert len(page.items) == 500
        return
    with pytest.raises(catalogue_feed.FeedError, match=refusal):
        within_cpu_budget(lambda: catalogue_elm.parse_page(body, fetched_at=now), pure=True)


# OpenID4VCI ----------------------------------------------------------------------------------


def b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def compact(header: bytes, payload: bytes = b"{}", signature: bytes = b"x" * 64) -> str:
    return f"{b64(header)}.{b64(payload)}.{b64(signature)}"


KEY = jose.public_jwk(Ed25519PrivateKey.generate())
HOSTILE_PROOFS = {
    "deep-header": compact(hostile.deeply_nested(1_000_000)),
    "wide-header": compact(json.dumps({f"k{i}": i for i in range(200_000)}).encode()),
    "huge-number": compact(b'{"typ": ' + b"9" * 1_000_000 + b"}"),
    "huge-key": compact(
        json.dumps(
            {"typ": oid4vci.PROOF_TYPE, "alg": "EdDSA", "jwk": {**KEY, "x": "A" * 3_000_000}}
        ).encode()
    ),
    "huge-payload": compact(
        json.dumps({"typ": oid4vci.PROOF_TYPE, "alg": "EdDSA", "jwk": KEY}).encode(),
        payload=json.dumps({"nonce": "n" * 3_000_000}).encode(),
    ),
    "huge-signature": compact(
        json.dumps({"typ": oid4vci.PROOF_TYPE, "alg": "EdDSA", "jwk": KEY}).encode(),
        signature=b"s" * 3_000_000,
    ),
    "many-dots": "." * 4_000_000,
}


@pytest.mark.parametrize("name", HOSTILE_PROOFS)
def test_a_hostile_key_proof_is_refused_within_the_budget(name):
    token = HOSTILE_PROOFS[name]
    assert len(token) < 5 * 1024 * 1024  # under the body cap of the credential endpoint
    with pytest.raises(oid4vci.OAuthError) as refused:
        within_cpu_budget(
            lambda: oid4vci.verify_proof(token, audience="https://issuer.example", now=0),
            pure=True,
        )
    assert refused.value.error == "invalid_proof"


@pytest.mark.parametrize(
    "proofs",
    [
        {"jwt": ["x"] * 500_000},
        {f"t{i}": [] for i in range(200_000)},
        {"jwt": [["x"] * 500_000]},
    ],
    ids=["many-jwts", "many-types", "nested-list"],
)
def test_a_credential_request_with_many_proofs_is_refused_within_the_budget(proofs):
    configuration = next(iter(oid4vci.CONFIGURATIONS))
    body = {"credential_configuration_id": configuration, "proofs": proofs}
    with pytest.raises(oid4vci.OAuthError) as refused:
        within_cpu_budget(lambda: oid4vci.parse_credential_request(body), pure=True)
    assert refused.value.error == "invalid_proof"
