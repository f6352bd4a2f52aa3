"""A sealed European Digital Credential in the wallet: imported with the verifier's verdict on
its seal, checkable again, and a tampered copy kept as not verified."""

import json

import pytest
from django.urls import reverse

from learners.models import ImportedCredential
from tests.credentials import e_seals
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

IMPORT = reverse("learners:import")


def test_the_sealed_sample_is_imported_with_its_seal_verified_and_can_be_checked_again(
    logged_in, settings, tmp_path
):
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(e_seals.pem_of(e_seals.sample_ca()))
    settings.MESHE_EDC_TRUST_ANCHORS = str(anchors)
    learner = UserFactory()
    client = logged_in(learner)

    response = client.post(IMPORT, {"document": json.dumps(e_seals.sealed_sample())}, follow=True)

    imported = ImportedCredential.objects.get(owner=learner)
    assert imported.format == "edc" and imported.checkable
    assert imported.verified is True and imported.verification is not None
    assert imported.verification["trust"] == "known_issuer"
    assert imported.credential_id == "urn:credential:1018d05f-21d5-4555-b7f0-8fabfd22ca75"
    assert "its seal cannot be checked here" not in response.text


def test_a_tampered_sealed_edc_is_kept_as_not_verified_with_the_reason(logged_in):
    learner = UserFactory()
    document = e_seals.sealed_sample()
    document["payload"] = document["payload"].replace("ORGANIZACION TEST", "ORGANIZACION FALSA")

    logged_in(learner).post(IMPORT, {"document": json.dumps(document)})

    imported = ImportedCredential.objects.get(owner=learner)
    assert imported.verified is False and imported.verification is not None
    assert imported.verification["error_code"] == "seal.signature_invalid"
