"""Shared pieces of the hostile-input tests (tests/security/test_hostile_*.py).

No tests here: the payloads, Hypothesis strategies, an error-log watch and row counts that
prove a refused input stored nothing.
"""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db.models import Model
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# One string that breaks out of text, of a double- and of a single-quoted attribute.
XSS = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
# What the payload looks like when a page let it through as markup.
UNESCAPED = ("<script>alert(1)", "<img src=x onerror", "'><img")

# Text a person can type that trips naive code: control characters, a right-to-left
# override, a zero-width joiner, emoji, combining marks and a NUL.
AWKWARD_TEXTS = [
    "Ana\x00Kowalska",
    "Ana\x07\x1b[31mKowalska",
    "Ana\u202eakswolaK",
    "Ana \U0001f469\u200d\U0001f393 Kowalska",
    "A\u0301na\u0308",
    "\ufeffAna",
    "Ana\r\nKowalska",
    "Ana\u2028Kowalska",
    "Ana\U0010ffff",
]

# Hypothesis: few examples, no deadline (signing a credential takes a few milliseconds on an
# idle machine, a lot more on a shared one), and function-scoped fixtures are fine because
# each example checks its own counts.
BOUNDED = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

# Any text, including surrogate-free control characters, bidi overrides and emoji.
hostile_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=60
) | st.sampled_from([*AWKWARD_TEXTS, XSS, '=HYPERLINK("http://x")', "@SUM(1)", "-1+1"])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=12,
)
# Objects shaped like a credential, with every member possibly of the wrong type.
credential_like = st.fixed_dictionaries(
    {},
    optional={
        "@context": json_values
        | st.just(["https://www.w3.org/ns/credentials/v2", "https://evil.example/context.jsonld"]),
        "type": json_values | st.just(["VerifiableCredential", "OpenBadgeCredential"]),
        "id": json_values,
        "issuer": json_values | st.fixed_dictionaries({"id": json_values, "name": json_values}),
        "name": json_values,
        "validFrom": json_values | st.just("2026-01-01T00:00:00Z"),
        "validUntil": json_values,
        "credentialSubject": json_values,
        "credentialStatus": json_values,
        "proof": json_values,
    },
)


def deeply_nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def huge_json(size: int) -> bytes:
    """A valid JSON object a little over `size` bytes."""
    return json.dumps({"padding": "x" * size}).encode()


@contextmanager
def nothing_logged_at_error(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fails the test when anything, django.request (a 500) included, logs an ERROR."""
    caplog.set_level(logging.ERROR)
    caplog.set_level(logging.ERROR, logger="django.request")
    yield
    errors = [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR
    ]
    assert errors == [], "errors were logged"


def counts(*models: type[Model]) -> dict[str, int]:
    """Row counts, to compare before and after a refused input."""
    return {model.__name__: model._default_manager.count() for model in models}


def quiet_client() -> Client:
    """A client that answers a server error with a 500 instead of raising it, as in production."""
    return Client(raise_request_exception=False)


def assert_no_markup(html: str, *, page: str) -> None:
    """The XSS payload shows only as text on `page`."""
    found = [marker for marker in UNESCAPED if marker in html]
    assert not found, f"{page} shows {found} unescaped"


def json_body(response: Any) -> Any:
    assert response["Content-Type"].split(";")[0].endswith("json"), response["Content-Type"]
    return json.loads(response.content)


def signed_exchange_post(sender: Any, receiver: Any, name: str, body: bytes) -> Any:
    """POSTs body to the receiver's exchange endpoint `name`, signed with the sender's active
    key as a partner node would, through a client that answers errors as production does."""
    from tests.exchange.partners import send

    response, _request = send(
        quiet_client(), sender=sender, slug=receiver.slug, name=name, body=body
    )
    return response
