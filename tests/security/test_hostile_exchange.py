"""Hostile bodies on the exchange endpoints, properly signed by a confirmed partner: the
signature is fine, the content is not. Each gets a signed RFC 9457 problem (or, for a body
that is a real delivery, a normal answer), never a 500, and nothing is stored half-way."""

import json
import secrets
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from exchange import http_signatures as hs
from exchange.models import Delivery, IncomingCredential, Partner, SeenNonce
from institutions.models import AuditEvent
from institutions.selectors import active_signing_key
from tests.exchange.partners import issue, two_partners
from tests.factories import InstitutionFactory
from tests.security import hostile

pytestmark = pytest.mark.django_db

ENDPOINTS = ("inbox", "notices", "partnership")
EXCHANGE_ROWS = (IncomingCredential, Delivery, Partner, AuditEvent)


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    with hostile.nothing_logged_at_error(caplog):
        yield


@pytest.fixture
def world():
    uni_a, uni_b, _a_to_b, _b_to_a = two_partners()
    return uni_a, uni_b


signed_post = hostile.signed_exchange_post


def assert_problem(response, *statuses: int) -> str:
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/problem+json"
    # A body too large to read cannot be bound to the request's signature, so that one
    # refusal goes unsigned.
    assert response.status_code == 413 or "Signature" in response.headers, "unsigned refusal"
    body = json.loads(response.content)
    assert body["detail"]
    return body["reason"]


@hostile.BOUNDED
@given(body=st.binary(max_size=200), endpoint=st.sampled_from(ENDPOINTS))
def test_signed_junk_bytes_get_a_signed_problem(world, body: bytes, endpoint: str):
    uni_a, uni_b = world
    before = hostile.counts(*EXCHANGE_ROWS)
    assert_problem(signed_post(uni_a, uni_b, endpoint, body), 400, 409, 422)
    assert hostile.counts(*EXCHANGE_ROWS) == before


@hostile.BOUNDED
@given(value=hostile.json_values, endpoint=st.sampled_from(ENDPOINTS))
def test_signed_json_of_any_shape_gets_a_signed_problem(world, value, endpoint: str):
    uni_a, uni_b = world
    before = hostile.counts(*EXCHANGE_ROWS)
    response = signed_post(uni_a, uni_b, endpoint, json.dumps(value).encode())
    assert_problem(response, 400, 404, 409, 422)
    assert hostile.counts(*EXCHANGE_ROWS) == before


@hostile.BOUNDED
@given(
    credential=hostile.credential_like,
    learner=hostile.json_values,
    note=hostile.json_values,
)
def test_a_signed_inbox_message_with_a_hostile_credential_is_refused_whole(
    world, credential, learner, note
):
    uni_a, uni_b = world
    credential.setdefault("id", "urn:uuid:1")
    before = hostile.counts(*EXCHANGE_ROWS)
    body = json.dumps({"credential": credential, "learner": learner, "note": note}).encode()
    assert_problem(signed_post(uni_a, uni_b, "inbox", body), 400, 422)
    assert hostile.counts(*EXCHANGE_ROWS) == before


@hostile.BOUNDED
@given(
    kind=st.sampled_from(["decision", "status"]) | hostile.json_values,
    decision=hostile.json_values,
    ects=hostile.json_values,
    reason=hostile.json_values,
    status=hostile.json_values,
)
def test_a_signed_notice_with_hostile_members_is_refused(
    world, kind, decision, ects, reason, status
):
    uni_a, uni_b = world
    credential = issue(uni_b, holder_name="Ana")
    before = hostile.counts(*EXCHANGE_ROWS)
    body = {
        "type": kind,
        "credentialId": credential.credential_id,
        "decision": decision,
        "ects": ects,
        "reason": reason,
        "status": status,
    }
    response = signed_post(uni_a, uni_b, "notices", json.dumps(body).encode())
    assert response.status_code < 500
    if response.status_code >= 400:
        assert_problem(response, 400, 404, 409, 422)
        assert hostile.counts(*EXCHANGE_ROWS) == before


@pytest.mark.parametrize(
    "body",
    [
        hostile.deeply_nested(100_000),
        b'{"credential": ' + hostile.deeply_nested(50_000) + b"}",
        hostile.huge_json(6 * 1024 * 1024),
        b'{"credential": {"id": "x"}, "credential": {"id": "y"}}',
        b'{"credential": {"id": "' + b"x" * 501 + b'"}}',
        b'{"credential": {"id": "urn:uuid:1", "@context": ["https://evil.example/c"]}}',
        json.dumps({"credential": {"id": "urn:uuid:1"}, "learner": {"name": "\x00" * 10}}).encode(),
        b"\xef\xbb\xbf{}",
    ],
    ids=[
        "deep",
        "deep-credential",
        "huge",
        "dup-credential",
        "long-id",
        "remote-context",
        "nul",
        "bom",
    ],
)
def test_the_inbox_refuses_malformed_huge_and_deep_bodies(world, body: bytes):
    uni_a, uni_b = world
    before = hostile.counts(*EXCHANGE_ROWS)
    assert_problem(signed_post(uni_a, uni_b, "inbox", body), 400, 413, 422)
    assert hostile.counts(*EXCHANGE_ROWS) == before


def test_a_real_delivery_with_awkward_learner_text_is_received_once(world):
    uni_a, uni_b = world
    credential = issue(uni_a, holder_name="Ana \u202eakswolaK \U0001f469\u200d\U0001f393")
    body = json.dumps(
        {
            "credential": json.loads(credential.document),
            "learner": {"name": hostile.XSS},
            "note": "\u202e" + hostile.XSS,
        }
    ).encode()
    assert signed_post(uni_a, uni_b, "inbox", body).status_code == 201
    assert signed_post(uni_a, uni_b, "inbox", body).status_code == 200
    incoming = IncomingCredential.objects.get()
    assert incoming.learner_name == hostile.XSS
    assert incoming.verified


@pytest.mark.parametrize(
    "body",
    [
        {"type": "request", "note": hostile.XSS * 1000},
        {"type": "request", "name": "\x00", "country": "<script>"},
        {"type": 5},
        {"type": "request", "base_url": "javascript:alert(1)"},
    ],
)
def test_a_partnership_request_from_a_stranger_with_hostile_members_is_refused_or_kept_as_text(
    body,
):
    receiver, stranger = InstitutionFactory(), InstitutionFactory()
    response = signed_post(stranger, receiver, "partnership", json.dumps(body).encode())
    assert response.status_code < 500
    if response.status_code >= 400:
        assert_problem(response, 400, 403, 409, 422)
    assert SeenNonce.objects.exists()


def test_the_catalogue_feed_answers_hostile_query_strings_with_a_problem(world):
    uni_a, uni_b = world
    key = active_signing_key(institution=uni_a)
    client = Client(raise_request_exception=False)
    for query in (
        "since=%00",
        "since=9999-99-99",
        "since=" + "9" * 5000,
        "cursor=%ff%fe",
        "limit=-1",
    ):
        path = f"/exchange/v1/{uni_b.slug}/catalogue?{query}"
        message = hs.Message("GET", settings.MESHE_BASE_URL + path, {}, b"")
        added = hs.sign_request(
            message,
            private_key=key.private_key,
            key_id=key.verification_method,
            created=int(time.time()),
            nonce=secrets.token_urlsafe(16),
        )
        response = client.get(path, headers=added)
        assert response.status_code < 500, (query, response.content[:300])


@pytest.mark.parametrize(
    ("learner", "note"),
    [("Ana\x00", ""), ("", "MSc\x00"), ("Ana\x07", ""), ("Ana\nKowalska", "")],
    ids=["nul-name", "nul-note", "bell-name", "newline-name"],
)
def test_a_real_delivery_with_control_characters_in_its_texts_is_refused(world, learner, note):
    # PostgreSQL cannot store NUL in text: refused as a message, never a 500 at the database.
    uni_a, uni_b = world
    credential = issue(uni_a)
    body = json.dumps(
        {"credential": json.loads(credential.document), "learner": {"name": learner}, "note": note}
    ).encode()
    before = hostile.counts(*EXCHANGE_ROWS)
    assert assert_problem(signed_post(uni_a, uni_b, "inbox", body), 400) == "invalid-message"
    assert hostile.counts(*EXCHANGE_ROWS) == before


@pytest.mark.parametrize(("programme", "reason"), [("MSc\x00", ""), ("", "No\x00"), ("M\nSc", "")])
def test_a_decision_with_control_characters_is_refused(world, programme, reason):
    uni_a, uni_b = world
    credential = issue(uni_b)
    body = {
        "type": "decision",
        "credentialId": credential.credential_id,
        "decision": "declined",
        "programme": programme,
        "reason": reason or "Not equivalent",
        "decidedAt": "2026-01-20T10:00:00+00:00",
    }
    response = signed_post(uni_a, uni_b, "notices", json.dumps(body).encode())
    assert assert_problem(response, 400) == "invalid-message"


def test_a_partnership_request_note_with_a_nul_is_kept_without_it():
    receiver, stranger = InstitutionFactory(), InstitutionFactory()
    body = {"type": "request", "note": "Hello\x00 there"}
    response = signed_post(stranger, receiver, "partnership", json.dumps(body).encode())
    assert response.status_code < 500
    partner = Partner.objects.filter(institution=receiver).first()
    if partner is not None:
        assert "\x00" not in partner.request_note
