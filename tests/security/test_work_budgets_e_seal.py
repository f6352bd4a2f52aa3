"""Work budgets of sealed European Digital Credentials: the e-seal upload refuses a file that
asks for millions of key-derivation rounds before opening it, and a sealed EDC, the Commission's
sample or a sealed poison, is answered within the verifier's CPU budget.

CPU is measured with time.process_time() around the request (tests/security/poisons.py)."""

import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credentials.standards import edc_shapes, jades
from exchange.models import IncomingCredential
from institutions.models import ESealCertificate
from tests.credentials import e_seals
from tests.exchange.partners import two_partners
from tests.factories import MembershipFactory
from tests.security import hostile
from tests.security.poisons import (  # noqa: F401 (autouse fixtures)
    POISONS,
    fresh_rate_limits_and_shapes,
    no_errors_logged,
    within_cpu_budget,
)

pytestmark = pytest.mark.django_db


def pkcs12_asking_for(rounds_per_derivation: int) -> bytes:
    """A PKCS#12 file whose key derivations each ask for `rounds_per_derivation` rounds: made
    with 50,000 and the counts rewritten in place (the file then does not open; the budget is
    checked before opening)."""
    key = e_seals.p256_key()
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(50_000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(e_seals.PASSPHRASE.encode())
    )
    data = pkcs12.serialize_key_and_certificates(
        b"e-seal", key, e_seals.certificate(key), None, encryption
    )
    fifty_thousand = b"\x02\x03\x00\xc3\x50"
    assert fifty_thousand in data
    return data.replace(fifty_thousand, b"\x02\x03" + rounds_per_derivation.to_bytes(3, "big"))


def test_an_e_seal_file_asking_for_millions_of_rounds_is_refused_by_name_within_the_budget(
    logged_in,
):
    admin = MembershipFactory()
    url = reverse("institutions:e_seal", kwargs={"slug": admin.institution.slug})
    client = logged_in(admin.user)
    content = pkcs12_asking_for(8_000_000)

    response = within_cpu_budget(
        lambda: client.post(
            url,
            {"file": SimpleUploadedFile("seal.p12", content), "passphrase": e_seals.PASSPHRASE},
        )
    )

    assert "The file asks for too much work to open" in response.text
    assert not ESealCertificate.objects.exists()


def test_a_file_with_ordinary_rounds_still_opens(logged_in):
    admin = MembershipFactory()
    key = e_seals.rsa_key()
    url = reverse("institutions:e_seal", kwargs={"slug": admin.institution.slug})
    content = e_seals.pkcs12_file(key, [e_seals.certificate(key)])

    response = logged_in(admin.user).post(
        url, {"file": SimpleUploadedFile("seal.p12", content), "passphrase": e_seals.PASSPHRASE}
    )

    assert response.status_code == 302 and ESealCertificate.objects.exists()


def test_the_sealed_sample_is_verified_within_the_cpu_budget(client):
    edc_shapes.shapes()  # parsed once per process (0.4 s), not per request
    text = json.dumps(e_seals.sealed_sample())

    result = within_cpu_budget(
        lambda: client.post("/api/v1/verify", text, content_type="application/json")
    ).json()

    assert result["verified"]


def many_notes(payload: dict) -> dict:
    """The EDC with 3,000 notes on its subject: well over the 4,000 JSON values a document may
    hold, under the 512 KiB cap."""
    notes = [{"type": "Note", "noteLiteral": {"en": str(n)}} for n in range(3_000)]
    return {
        **payload,
        "credentialSubject": {**payload["credentialSubject"], "additionalNote": notes},
    }


SEALED_POISONS = {"blank-tree-600": POISONS["blank-tree-600"][0], "many-notes": many_notes}


@pytest.mark.parametrize("name", sorted(SEALED_POISONS))
def test_a_sealed_poison_is_refused_by_name_within_the_cpu_budget(client, name):
    edc_shapes.shapes()
    payload = SEALED_POISONS[name](json.loads(e_seals.sealed_sample()["payload"]))
    key = e_seals.rsa_key()
    sealed = jades.seal(
        json.dumps(payload),
        key=key,
        chain=[e_seals.certificate(key)],
        signing_time=datetime.now(UTC),
    )

    result = within_cpu_budget(
        lambda: client.post("/api/v1/verify", json.dumps(sealed), content_type="application/json")
    ).json()

    assert not result["verified"]
    assert result["error_code"] == "edc_shapes.too_complex"


@pytest.mark.parametrize("name", sorted(SEALED_POISONS))
def test_a_partners_sealed_poison_is_refused_at_the_inbox_within_the_cpu_budget(name, settings):
    edc_shapes.shapes()
    uni_a, uni_b, _a_to_b, _b_to_a = two_partners(base_url=settings.MESHE_BASE_URL)
    payload = SEALED_POISONS[name](json.loads(e_seals.sealed_sample()["payload"]))
    payload["issuer"] = {**payload["issuer"], "id": uni_a.did}  # the sender's own, as it must be
    key = e_seals.rsa_key()
    sealed = jades.seal(
        json.dumps(payload),
        key=key,
        chain=[e_seals.certificate(key)],
        signing_time=datetime.now(UTC),
    )
    body = json.dumps({"credential": sealed, "format": "sealed-edc"}).encode()

    response = within_cpu_budget(lambda: hostile.signed_exchange_post(uni_a, uni_b, "inbox", body))

    assert response.status_code == 422, response.content[:300]
    (shapes,) = [check for check in response.json()["checks"] if check["check"] == "edc_shapes"]
    assert shapes["code"] == "edc_shapes.too_complex"
    assert not IncomingCredential.objects.exists()
