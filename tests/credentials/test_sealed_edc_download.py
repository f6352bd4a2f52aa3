"""The EDC download: sealed with the institution's e-seal (once, stored verbatim), checked by
MESHE's verifier, by jwcrypto and against the Commission's shapes; unsealed and labelled so
without a certificate."""

import json
from datetime import UTC, datetime

import pytest
from jwcrypto import jwk, jws
from jwcrypto.common import JWSEHeaderParameter

from credentials.models import CredentialEvent
from credentials.standards import edc_shapes, jades
from institutions import e_seals as institution_e_seals
from institutions import services as institution_services
from tests.credentials import e_seals
from tests.factories import MicroCredentialFactory, issue

pytestmark = pytest.mark.django_db

JADES_HEADERS = {"sigT": JWSEHeaderParameter("JAdES claimed signing time", True, True, None)}


def install(institution, key=None, *, name="Universitas Exempli", reason=""):
    key = key or e_seals.p256_key()
    chain = (e_seals.certificate(key, name=name),)
    institution_services.e_seal_install(
        actor=None,
        institution=institution,
        e_seal=institution_e_seals.ESeal(key=key, chain=chain),
        reason=reason,
    )
    return chain[0]


def download(client, credential) -> str:
    response = client.get(f"/credentials/{credential.public_id}/edc.json")
    assert response.status_code == 200
    return response.content.decode()


def test_the_edc_download_is_sealed_and_verifies_here_with_jwcrypto_and_against_the_shapes(
    client,
):
    credential = issue()
    certificate = install(credential.institution, e_seals.rsa_key())

    document = json.loads(download(client, credential))

    verdict = jades.verify(document, trust_anchors=[certificate], now=datetime.now(UTC))
    assert verdict.sealed and verdict.trust == "trusted"
    payload = json.loads(verdict.payload)
    assert payload["id"] == f"urn:uuid:{credential.public_id}"
    assert edc_shapes.check(payload).conforms
    token = jws.JWS(header_registry=JADES_HEADERS)
    token.deserialize(json.dumps(document))
    token.verify(jwk.JWK.from_pyca(certificate.public_key()))


def test_a_sealed_edc_is_stored_verbatim_and_served_again_without_sealing_again(client):
    credential = issue()
    install(credential.institution)

    first, second = download(client, credential), download(client, credential)

    credential.refresh_from_db()
    assert first == second == credential.sealed_edc
    assert CredentialEvent.objects.filter(credential=credential, action="sealed").count() == 1


def test_a_new_certificate_seals_the_credential_again_on_its_next_download(client):
    credential = issue()
    install(credential.institution)
    first = json.loads(download(client, credential))
    second_certificate = install(
        credential.institution, name="Second Seal", reason="The CA re-issued it."
    )

    again = json.loads(download(client, credential))

    verdict = jades.verify(again, trust_anchors=[second_certificate], now=datetime.now(UTC))
    assert verdict.sealed and verdict.certificate is not None
    assert verdict.certificate.subject == "Second Seal"
    assert again != first
    assert CredentialEvent.objects.filter(credential=credential, action="sealed").count() == 2


def test_without_a_certificate_the_edc_is_unsealed_and_the_pages_say_so(client, logged_in):
    credential = issue(MicroCredentialFactory(institution__name="Unsealed University"))

    document = json.loads(download(client, credential))
    page = client.get(credential.get_absolute_url()).content.decode()

    assert "@context" in document and "signatures" not in document
    assert "not sealed: this institution has no e-seal certificate" in page


def test_with_a_certificate_the_pages_name_who_seals(client):
    credential = issue()
    install(credential.institution, name="Sealing Office")

    page = client.get(credential.get_absolute_url()).content.decode()

    assert "sealed by Sealing Office" in page


def test_a_meshe_sealed_edc_verifies_on_the_verify_page_when_its_certificate_is_pinned(
    client, settings, tmp_path
):
    credential = issue()
    certificate = install(credential.institution, name="Sealing Office")
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(e_seals.pem_of(certificate))
    settings.MESHE_EDC_TRUST_ANCHORS = str(anchors)
    text = download(client, credential)

    result = client.post("/api/v1/verify", text, content_type="application/json").json()
    page = client.post("/verify", {"document": text}).content.decode()

    assert (result["verified"], result["trust"]) == (True, "known_issuer")
    assert [c["outcome"] for c in result["checks"]] == ["passed"] * 5
    assert "Sealed by Sealing Office" in page


def test_a_link_to_a_sealed_edc_of_this_node_verifies_the_sealed_document(client, settings):
    credential = issue()
    install(credential.institution, name="Sealing Office")
    download(client, credential)
    link = f"{settings.MESHE_BASE_URL}/credentials/{credential.public_id}/edc.json"

    page = client.post("/verify", {"url": link}).content.decode()

    assert "Seal valid, sealer not confirmed" in page
