"""A signed, deeply nested body to every exchange endpoint that takes a body answers 400 with a
problem document, never a 500. (The catalogue feed is GET only: it reads no body.)"""

import pytest

from tests.exchange.partners import partnership, reason, send

pytestmark = pytest.mark.django_db

ENDPOINTS = ["partnership", "echo", "inbox", "notices"]
DEPTH = 100_000
BODIES = {
    "a deep array": b"[" * DEPTH + b"]" * DEPTH,
    "a deep member": b'{"type": "request", "x": ' + b"[" * DEPTH + b"]" * DEPTH + b"}",
    "past the cap": b'{"x": ' + b"[" * 64 + b"]" * 64 + b"}",
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_signed_deeply_nested_body_is_a_400_problem(client, endpoint, body):
    partner, sender = partnership()
    response, _request = send(
        client, sender=sender, slug=partner.institution.slug, name=endpoint, body=body
    )
    assert response.status_code == 400, response.content[:300]
    assert reason(response) == "invalid-message"
    assert "nested more than 64 levels" in response.json()["detail"] or (
        response.json()["detail"] == "The body is not JSON."
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_signed_body_with_a_repeated_key_or_nan_is_a_400_problem(client, endpoint):
    partner, sender = partnership()
    for body in (b'{"type": "request", "type": "end"}', b'{"ping": NaN}'):
        response, _request = send(
            client, sender=sender, slug=partner.institution.slug, name=endpoint, body=body
        )
        assert response.status_code == 400, response.content[:300]
        assert reason(response) == "invalid-message"
