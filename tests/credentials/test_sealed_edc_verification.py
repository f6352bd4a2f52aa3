"""Sealed European Digital Credentials at the verifier: the pure pipeline and every door."""

import io
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command

from credentials.standards import jades, verification
from tests.credentials import e_seals

NOW = datetime.now(UTC)


class NoDids:
    """A sealed EDC names no DID: the pipeline must never ask."""

    def resolve(self, did: str) -> dict:
        raise AssertionError(f"resolved {did}")


def no_status_lists(url: str) -> dict:
    raise AssertionError(f"fetched {url}")


def verify(document, anchors=()):
    return verification.verify_credential(
        json.dumps(document),
        resolver=NoDids(),
        fetch_status_list=no_status_lists,
        issuer_directory=lambda issuer: None,
        now=NOW,
        edc_trust_anchors=tuple(anchors),
    )


def tampered_sample() -> dict:
    document = e_seals.sealed_sample()
    document["payload"] = document["payload"].replace("ORGANIZACION TEST", "ORGANIZACION FALSA")
    return document


def anchors_file(tmp_path, *certificates) -> str:
    path = tmp_path / "edc-trust-anchors.pem"
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates))
    return str(path)


def test_the_commissions_sealed_sample_verifies_and_meets_the_shapes_but_its_sealer_is_unconfirmed():
    result = verify(e_seals.sealed_sample())

    assert result.verified
    assert result.trust is verification.Trust.UNKNOWN_ISSUER
    assert [c.check for c in result.checks] == [
        "json",
        "seal",
        "seal_certificate",
        "edc_shapes",
        "issuer_known",
    ]
    assert result.check("edc_shapes").code == "edc_shapes.ok"
    assert result.check("issuer_known").code == "issuer_known.seal_no_anchors"
    assert result.summary.format == "edc"
    assert result.as_dict()["seal"]["certificate"]["subject"] == "ORGANIZACION TEST"


def test_the_sample_is_confirmed_by_the_name_in_its_certificate_when_its_ca_is_an_anchor():
    result = verify(e_seals.sealed_sample(), anchors=[e_seals.sample_ca()])

    assert result.verified and result.trust is verification.Trust.KNOWN_ISSUER
    assert result.issuer_name == "ORGANIZACION TEST"
    assert result.check("issuer_known").code == "issuer_known.seal_trusted"


def test_the_sample_names_what_it_carries_that_was_not_checked_offline():
    check = verify(e_seals.sealed_sample()).check("seal_certificate")

    assert "not checked offline: adoTst, sigTst, arcTst, xVals, rVals" in check.detail


def test_a_tampered_sample_is_invalid_and_ticks_nothing_after_the_seal():
    result = verify(tampered_sample(), anchors=[e_seals.sample_ca()])

    assert not result.verified and result.trust is verification.Trust.INVALID
    assert result.first_failure().code == "seal.signature_invalid"
    assert [c.outcome for c in result.checks[2:]] == ["not_checked"] * 3
    assert result.summary is None


def test_a_sealed_document_that_breaks_the_shapes_is_not_verified():
    key = e_seals.rsa_key()
    leaf = e_seals.certificate(key)
    payload = json.loads(e_seals.sealed_sample()["payload"])
    del payload["issued"]
    document = jades.seal(json.dumps(payload), key=key, chain=[leaf], signing_time=NOW)

    result = verify(document, anchors=[leaf])

    assert not result.verified
    assert result.first_failure().code == "edc_shapes.violations"


@pytest.mark.django_db
def test_every_door_takes_the_sealed_sample_and_confirms_it_with_the_configured_anchor(
    client, settings, tmp_path
):
    settings.MESHE_EDC_TRUST_ANCHORS = anchors_file(tmp_path, e_seals.sample_ca())
    text = json.dumps(e_seals.sealed_sample())

    api = client.post("/api/v1/verify", text, content_type="application/json").json()
    page = client.post("/verify", {"document": text}).content.decode()
    vc_api = client.post(
        "/vc-api/credentials/verify",
        json.dumps({"verifiableCredential": e_seals.sealed_sample()}),
        content_type="application/json",
    )

    assert (api["verified"], api["trust"]) == (True, "known_issuer")
    assert api["summary"]["issuer"]["name"] == "ORGANIZACION TEST"
    assert "Sealed by ORGANIZACION TEST" in page
    assert "are not checked here" in page
    assert vc_api.status_code == 200
    assert (vc_api.json()["verified"], vc_api.json()["trust"]) == (True, "known_issuer")
    path = tmp_path / "sealed.json"
    path.write_text(text)
    call_command("verify_credential", str(path), stdout=io.StringIO())


@pytest.mark.django_db
def test_without_anchors_the_doors_say_the_sealer_is_unconfirmed_and_a_tampered_copy_fails(
    client, settings
):
    settings.MESHE_EDC_TRUST_ANCHORS = ""
    sealed = client.post(
        "/api/v1/verify", json.dumps(e_seals.sealed_sample()), content_type="application/json"
    ).json()
    tampered = client.post("/verify", {"document": json.dumps(tampered_sample())})

    assert (sealed["verified"], sealed["trust"]) == (True, "unknown_issuer")
    assert (
        "Seal valid, sealer not confirmed"
        in client.post(
            "/verify", {"document": json.dumps(e_seals.sealed_sample())}
        ).content.decode()
    )
    assert "The seal does not match" in tampered.content.decode()
